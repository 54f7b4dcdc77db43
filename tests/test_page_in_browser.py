"""The page in headless Chromium against the mock account: S3 website, API Gateway stage, Lambda.

Everything is real except AWS: the page is served by the mock's S3 website endpoint
(``serverless-poc-site.s3-website-us-east-1.localhost``), the API by the mock's stage
(``127.0.0.1/restapis/…``), a different origin, so the browser applies CORS; the function runs
the R model. The tests change the API's CORS settings in turn, each stating the one it needs.
"""

from __future__ import annotations

import pytest

from helpers import api as admission_api
from helpers import browser, cors, web_page
from helpers.api import access
from helpers.catchup import catch_up
from helpers.session import connect, disconnect


def _browser_problem() -> str:
    try:
        browser.chromium_path()
        import playwright.sync_api  # noqa: F401
    except (browser.BrowserMissing, ImportError) as error:
        return str(error)
    return ""


pytestmark = pytest.mark.skipif(bool(_browser_problem()), reason=_browser_problem() or "-")


class Deployed:
    """The account with notebook 9's API and notebook 10's page, and the key's value."""

    def __init__(self) -> None:
        self.account = connect()
        catch_up("function", self.account)
        self.api = admission_api.ensure_admission_api(self.account)
        self.key = access.key_value(self.account, self.api.access.key_id)
        self.site = web_page.publish(self.account, self.api.url, self.key)

    def ask(self, gre, gpa, rank=None, *, url: str | None = None) -> browser.PageVisit:
        return browser.ask_page(url or self.site.url, gre, gpa, rank, screenshot=False)

    def cors(self, state: str) -> None:
        """``none``, ``2017`` (200 only) or ``full``."""
        if state == "none":
            cors.disable_cors(self.account, self.api.api_id)
        else:
            cors.enable_cors(self.account, self.api.api_id, error_responses=state == "full")


@pytest.fixture(scope="module")
def deployed(mock_account):
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("SERIES_MODE", "mock")
    monkeypatch.delenv("SERIES_PREFIX", raising=False)
    disconnect()
    try:
        yield Deployed()
    finally:
        disconnect()
        monkeypatch.undo()


def test_without_cors_the_browser_blocks_the_call_and_the_page_says_so(deployed):
    deployed.cors("none")
    visit = deployed.ask(800, 4, 1)
    assert visit.state == "blocked"
    assert visit.result == ""
    assert "CORS" in visit.message and "Access-Control-Allow-Origin" in visit.message
    (preflight,) = visit.preflights
    assert preflight.status == 403  # no OPTIONS method: API Gateway's Missing Authentication Token
    (call,) = visit.api_calls
    assert call.cors_error == "PreflightMissingAllowOriginHeader"
    assert any("blocked by CORS policy" in line for line in visit.console)


def test_with_cors_800_4_1_passes_after_a_preflight(deployed):
    deployed.cors("full")
    visit = deployed.ask(800, 4, 1)
    assert (visit.state, visit.result) == ("pass", "PASS")
    (preflight,) = visit.preflights
    origin = deployed.site.url
    assert preflight.method == "OPTIONS" and preflight.status == 200
    assert preflight.header("Origin", response=False) == origin
    assert preflight.header("Access-Control-Request-Method", response=False) == "GET"
    assert preflight.header("Access-Control-Request-Headers", response=False) == "x-api-key"
    assert preflight.header("Access-Control-Allow-Origin") == "*"
    assert "x-api-key" in preflight.header("Access-Control-Allow-Headers").split(",")
    assert "GET" in preflight.header("Access-Control-Allow-Methods").split(",")
    (call,) = visit.api_calls
    assert call.status == 200 and call.header("Access-Control-Allow-Origin") == "*"
    assert call.header("x-api-key", response=False) == deployed.key


def test_one_chromium_serves_every_visit_and_no_visit_inherits_a_preflight(deployed):
    """Chromium is started once per process, but each visit is a new private window: the second
    visit, within the 5 s Chromium caches a preflight, still makes its own."""
    deployed.cors("full")
    started = browser._BROWSER.run(lambda chromium: chromium)
    visits = [deployed.ask(800, 4, 1), deployed.ask(800, 4, 1)]
    assert [len(visit.preflights) for visit in visits] == [1, 1]
    assert [visit.result for visit in visits] == ["PASS", "PASS"]
    assert browser._BROWSER.run(lambda chromium: chromium) is started


def test_a_browser_that_went_away_is_started_again(deployed):
    deployed.cors("full")
    gone = browser._BROWSER.run(lambda chromium: chromium)
    browser._BROWSER.run(lambda chromium: chromium.close())
    assert deployed.ask(800, 4, 1).result == "PASS"
    assert browser._BROWSER.run(lambda chromium: chromium) is not gone


def test_with_cors_640_3_19_4_fails(deployed):
    deployed.cors("full")
    visit = deployed.ask(640, 3.19, 4)
    assert (visit.state, visit.result) == ("fail", "FAIL")


def test_bad_input_reads_the_apis_400_message(deployed):
    deployed.cors("full")
    visit = deployed.ask(900, 3.5, 2)
    assert visit.state == "invalid" and visit.result == ""
    assert "gre must be between 200 and 800" in visit.message
    (call,) = visit.api_calls
    assert call.status == 400 and call.header("Access-Control-Allow-Origin") == "*"
    assert call.cors_error == ""


def test_empty_input_is_caught_by_the_page_without_a_call(deployed):
    visit = deployed.ask("", 3.5, 2)
    assert visit.state == "invalid"
    assert visit.message == "Enter your GRE score."
    assert visit.api_calls == [] and visit.preflights == []


def test_2017_cors_on_200_only_hides_every_400(deployed):
    deployed.cors("2017")
    visit = deployed.ask(900, 3.5, 2)
    assert visit.state == "blocked"
    (call,) = visit.api_calls
    assert call.status == 400 and call.cors_error == "MissingAllowOriginHeader"
    assert deployed.ask(800, 4, 1).result == "PASS"  # the 200 still carries it


def test_proxy_integration_needs_only_the_preflight(deployed):
    """/admit-proxy: the function returns Access-Control-Allow-Origin itself, errors included."""
    deployed.cors("none")
    proxy_path = "/" + admission_api.proxy.PROXY_PATH
    cors.enable_cors(deployed.account, deployed.api.api_id, proxy_path)
    page = f"{deployed.site.url}/?api={deployed.api.proxy_url}"
    assert deployed.ask(800, 4, 1, url=page).result == "PASS"
    bad = deployed.ask(900, 3.5, 2, url=page)
    assert bad.state == "invalid" and "gre must be between 200 and 800" in bad.message
    cors.disable_cors(deployed.account, deployed.api.api_id, proxy_path)


def test_missing_chromium_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv(browser.CHROMIUM_VARIABLE, str(tmp_path / "no-chromium"))
    with pytest.raises(browser.BrowserMissing, match="apt-get install chromium-headless-shell"):
        browser.ask_page("http://127.0.0.1:1/", 800, 4, 1)


def test_exercise_allow_only_the_pages_origin(deployed):
    from helpers.exercises import ExerciseNotDone
    from helpers.exercises.page import check_page_origin

    site, api_id = deployed.site.url, deployed.api.api_id
    with pytest.raises(ExerciseNotDone, match="placeholder"):
        check_page_origin(deployed.account, api_id, site, ...)
    with pytest.raises(ExerciseNotDone, match="any origin"):
        check_page_origin(deployed.account, api_id, site, "*")
    with pytest.raises(ExerciseNotDone) as trailing_slash:
        check_page_origin(deployed.account, api_id, site, site + "/")
    assert "PreflightAllowOriginMismatch" in str(trailing_slash.value)
    assert "an origin has no path" in str(trailing_slash.value)
    port = int(site.rsplit(":", 1)[1])
    with pytest.raises(ExerciseNotDone, match=f"port: yours is {port + 1}"):
        check_page_origin(deployed.account, api_id, site, site.replace(str(port), str(port + 1)))
    assert check_page_origin(deployed.account, api_id, site, site).startswith("Done")
    visit = deployed.ask(640, 3.19, 4)
    assert visit.result == "FAIL"
    assert {seen.header("Access-Control-Allow-Origin") for seen in visit.api_calls} == {site}
