"""The site (``make site``): the build's checks here, and the built site in a real browser.

The first tests need nothing but the standard library and run in ``make unit``. The browser tests
open ``build/site`` from ``file://`` in Debian's headless ``chromium`` driven by Playwright (both
in ``.venv-site``): ``make site-test`` runs them, in a network namespace without interfaces where
the machine allows. Elsewhere they are skipped, saying what is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from helpers import site

ROOT = site.PROJECT_ROOT


def _write(path: Path, notebook: dict) -> None:
    path.write_text(json.dumps(notebook), encoding="utf-8")


def _cleared(notebook: dict) -> dict:
    cleared = json.loads(json.dumps(notebook))
    for cell in cleared["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return cleared


# --------------------------------------------------------------------------- the build's checks


def test_every_notebook_has_its_outputs_stored():
    site.check_outputs(site.notebooks())


def test_prices_in_prose_are_not_read_as_formulas():
    """Jupyter and the site (README and docs pages too) read ``$…$`` as an inline formula: "$0.0004 per 1,000 and $3.50"
    rendered as one run of math. A dollar amount in a markdown cell must be written ``\\$``."""
    import re

    unescaped_amount = re.compile(r"(?<!\\)\$\d")
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = re.sub(r"`[^`]*`", "", page.read_text())
        found += [f"{page.name}: {m.group()}…" for m in unescaped_amount.finditer(text)]
    for path in site.notebooks():
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] != "markdown":
                continue
            text = re.sub(r"`[^`]*`", "", "".join(cell["source"]))  # code spans are literal
            found += [
                f"{path.name} cell {number}: {m.group()}…" for m in unescaped_amount.finditer(text)
            ]
    assert not found, "write these amounts as \\$ in markdown:\n" + "\n".join(found)


def test_a_notebook_without_outputs_is_named(tmp_path):
    for path in site.notebooks():
        shutil.copy(path, tmp_path / path.name)
    victim = site.notebooks(tmp_path)[1]
    _write(victim, _cleared(json.loads(victim.read_text())))
    with pytest.raises(site.SiteError) as raised:
        site.check_outputs(site.notebooks(tmp_path))
    message = str(raised.value)
    assert f"{victim.name}: has no stored outputs" in message
    assert "make notebooks" in message
    assert sum(path.name in message for path in site.notebooks(tmp_path)) == 1


def test_a_cell_added_but_never_run_is_named(tmp_path):
    notebook = json.loads(site.notebooks()[0].read_text())
    notebook["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "source": "1 + 1",
            "outputs": [],
            "execution_count": None,
        }
    )
    _write(tmp_path / "01_x.ipynb", notebook)
    with pytest.raises(site.SiteError, match=rf"01_x.ipynb: cells {len(notebook['cells'])} have"):
        site.check_outputs(site.notebooks(tmp_path))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_site_fails_before_building_and_names_the_notebook(tmp_path):
    for path in site.notebooks():
        shutil.copy(path, tmp_path / path.name)
    victim = site.notebooks(tmp_path)[-1]
    _write(victim, _cleared(json.loads(victim.read_text())))
    out = tmp_path / "site"
    done = subprocess.run(
        ["make", "-s", "site", f"SITE_NOTEBOOKS={tmp_path}", f"SITE_OUT={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert victim.name in done.stderr
    assert not out.exists()


def test_every_notebook_states_its_objectives_and_time():
    for path in site.notebooks():
        summary = site.summarize(path, json.loads(path.read_text()))
        assert summary.title[0].isdigit(), f"{path.name}: first cell should open with '# N. Title'"
        assert summary.minutes, f"{path.name}: first cell has no '**Time to learn**: N minutes'"
        assert summary.overview, f"{path.name}: first cell has no numbered '## Overview' list"


def test_staging_collapses_solutions_and_leaves_notebooks_alone(tmp_path):
    before = {path: path.read_bytes() for path in site.notebooks()}
    summaries = site.stage(site.notebooks(), tmp_path / "src")
    assert {path: path.read_bytes() for path in site.notebooks()} == before
    assert sum(s.solutions for s in summaries) > 0
    for path in site.notebooks():
        staged = json.loads((tmp_path / "src" / "notebooks" / path.name).read_text())
        for cell in staged["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            assert (site.SOLUTION_TAG in tags) == (site.HIDE_TAG in tags), path.name
    index = (tmp_path / "src" / "index.md").read_text()
    assert "{{" not in index
    for summary in summaries:
        assert f"({summary.docname}.ipynb)" in index
    assert (tmp_path / "src" / "setup.md").read_text().startswith("# Set-up and troubleshooting")


def test_assets_from_the_network_are_found(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example/x.js"></script><a href="https://aws.amazon.com/">ok</a>'
        '<link rel="stylesheet" href="//fonts.example/f.css"><script src="_static/y.js"></script>'
    )
    (tmp_path / "b.css").write_text("@font-face { src: url(https://fonts.example/f.woff2) }")
    found = site.external_assets(tmp_path)
    assert found == [
        "a.html: https://cdn.example/x.js",
        "a.html: //fonts.example/f.css",
        "b.css: https://fonts.example/f.woff2",
    ]


# --------------------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium")
INDEX = site.SITE_DIR / "index.html"
LOCAL_SCHEMES = {"file", "data", "blob", "about"}
SOLUTION_BLOCK = ".tag_solution > details.above-input"
"""myst-nb's collapsed ``hide-cell`` block (a solution's output may hold <details> of its own)."""


def _browser_missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed here: the browser tests run in .venv-site (`make site-test`)"
    if CHROMIUM is None:
        return "Debian's chromium is not installed (`apt-get install chromium`; `make site-test` does it)"
    if not INDEX.exists():
        return "no built site in build/site: run `make site` (`make site-test` builds it first)"
    return ""


browser = pytest.mark.skipif(bool(_browser_missing()), reason=_browser_missing() or "-")


def _expected_pages() -> list[str]:
    """Every page a reader must reach: index, the notebooks in order, the README page, docs."""
    return [
        "index.html",
        *(f"notebooks/{path.stem}.html" for path in site.notebooks()),
        "setup.html",
        *(f"docs/{path.stem}.html" for path in sorted(site.DOCS_DIR.glob("*.md"))),
    ]


def _solutions(stem: str) -> int:
    notebook = json.loads((site.NOTEBOOKS_DIR / f"{stem}.ipynb").read_text())
    return sum(
        site.SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in notebook["cells"]
    )


@pytest.fixture(scope="module")
def visit():
    """One walk through the site from its index along the *next* links, recording per page: its
    images' natural widths, MathJax containers, solution blocks, and every request and failure."""
    from playwright.sync_api import sync_playwright

    record: dict = {"requests": [], "failed": [], "errors": [], "pages": {}, "nav": []}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = chromium.new_context(offline=True)  # and, under make site-test, no interfaces
        context.on("request", lambda request: record["requests"].append(request.url))
        context.on(
            "requestfailed",
            lambda request: record["failed"].append(f"{request.url}: {request.failure}"),
        )
        page = context.new_page()
        page.on("pageerror", lambda error: record["errors"].append(str(error)))
        page.goto(INDEX.as_uri(), wait_until="load")
        record["title"] = page.title()
        record["index_text"] = page.inner_text("article")
        record["nav"] = page.eval_on_selector_all(
            "nav.bd-docs-nav a.reference.internal", "links => links.map(a => a.href)"
        )
        root = INDEX.parent.as_uri() + "/"
        for _ in range(len(_expected_pages()) + 5):
            relative = page.url.split("#")[0].removeprefix(root)
            is_notebook = relative.startswith("notebooks/")
            if relative == "notebooks/08_cost.html":
                page.wait_for_selector("mjx-container svg", timeout=20_000)
            solutions = page.locator(SOLUTION_BLOCK)
            record["pages"][relative] = {
                "h1": page.inner_text("article h1") if page.locator("article h1").count() else "",
                "images": page.eval_on_selector_all(
                    "article img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])"
                ),
                "math": page.locator("mjx-container svg").count(),
                "solutions": solutions.count(),
                "solutions_open": page.eval_on_selector_all(
                    SOLUTION_BLOCK, "ds => ds.filter(d => d.open).length"
                ),
                "solution_code_visible": sum(
                    page.locator(".tag_solution .cell_input").nth(i).is_visible()
                    for i in range(solutions.count())
                ),
                "solution_output_visible": sum(
                    page.locator(".tag_solution .cell_output").nth(i).is_visible()
                    for i in range(page.locator(".tag_solution .cell_output").count())
                ),
                "notebook": is_notebook,
            }
            if solutions.count():
                solutions.first.locator(":scope > summary").click()
                record["pages"][relative]["opens_on_click"] = page.locator(
                    ".tag_solution .cell_input"
                ).first.is_visible()
            following = page.locator("a.right-next")
            if not following.count():
                break
            following.first.click()
            page.wait_for_load_state("load")
        page.goto((INDEX.parent / "search.html").as_uri() + "?q=rpy2", wait_until="load")
        page.wait_for_selector("ul.search li", timeout=20_000)
        record["search"] = page.eval_on_selector_all(
            "ul.search li a", "links => links.map(a => a.textContent)"
        )
        chromium.close()
    return record


@browser
def test_the_index_loads_from_disk_and_says_how_to_start(visit):
    assert "R model behind AWS Lambda" in visit["title"]
    assert "How to start" in visit["index_text"]
    for path in site.notebooks():
        title = site.summarize(path, json.loads(path.read_text())).title
        assert title in visit["index_text"], f"the index does not list {path.name}"
    assert "min" in visit["index_text"]


@browser
def test_next_links_reach_every_notebook_and_docs_page_in_order(visit):
    expected = _expected_pages()
    visited = list(visit["pages"])
    assert visited == expected, "rebuild with `make site` if notebooks or docs changed since"
    for relative, seen in visit["pages"].items():
        assert seen["h1"], f"{relative} has no title"
    nav = {href.split("#")[0].rsplit("/site/", 1)[-1] for href in visit["nav"]}
    assert set(expected) - {"index.html"} <= nav, "the sidebar should link every page"


@browser
def test_search_works_from_disk(visit):
    assert any("The model in R" in title for title in visit["search"]), visit["search"]


@browser
def test_plots_render(visit):
    images = [img for seen in visit["pages"].values() for img in seen["images"]]
    broken = [src for src, width in images if not width]
    assert not broken, f"images that did not load: {broken}"
    plots = visit["pages"]["notebooks/02_model_in_r.html"]["images"]
    assert plots and all(width > 0 for _, width in plots)


@browser
def test_notebook_8_formula_is_typeset_by_local_mathjax(visit):
    assert visit["pages"]["notebooks/08_cost.html"]["math"] >= 1
    assert any("/_static/mathjax/" in url for url in visit["requests"])


@browser
def test_solutions_are_collapsed_until_clicked(visit):
    total = 0
    for relative, seen in visit["pages"].items():
        if not seen["notebook"]:
            continue
        stem = relative.removeprefix("notebooks/").removesuffix(".html")
        assert seen["solutions"] == _solutions(stem), f"{relative}: solution cells not collapsed"
        assert seen["solutions_open"] == 0, f"{relative}: a solution is open"
        assert seen["solution_code_visible"] == 0, f"{relative}: a solution's code shows"
        assert seen["solution_output_visible"] == 0, f"{relative}: a solution's output shows"
        if seen["solutions"]:
            assert seen["opens_on_click"], f"{relative}: a solution does not open when clicked"
        total += seen["solutions"]
    assert total > 0


@browser
def test_the_request_log_would_catch_a_remote_asset(tmp_path):
    """The guard's own check: a page that loads an image from the network shows up in the log."""
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "remote.html"
    page_file.write_text('<img src="http://192.0.2.1/plot.png"><img src="local.png">')
    requests: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = chromium.new_context(offline=True)
        context.on("request", lambda request: requests.append(request.url))
        context.new_page().goto(page_file.as_uri(), wait_until="load")
        chromium.close()
    assert "http://192.0.2.1/plot.png" in requests
    assert [url for url in requests if urlparse(url).scheme not in LOCAL_SCHEMES] == [
        "http://192.0.2.1/plot.png"
    ]


@browser
def test_no_request_leaves_the_machine(visit):
    assert visit["requests"], "no request was recorded at all"
    remote = [url for url in visit["requests"] if urlparse(url).scheme not in LOCAL_SCHEMES]
    assert not remote, f"requests that would leave the machine: {remote}"
    assert not visit["failed"], f"requests that failed (missing local files?): {visit['failed']}"
    assert not visit["errors"], f"JavaScript errors: {visit['errors']}"
