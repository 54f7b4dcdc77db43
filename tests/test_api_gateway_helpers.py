"""Notebook 9's helpers (helpers.api): the 2017 REST API built idempotently in the mock account,
the Lambda permission, the key and usage plans, URLs, curl lines, cleanup, and the live opt-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from helpers import api, cleanup, costs, session
from helpers.api import access, calling, permission, proxy, rest_api, urls
from helpers.catchup import catch_up
from helpers.config import Settings, names_for
from helpers.ownership import NotOwned
from helpers.session import Account

REGION = "us-east-1"


def _creating_calls(account: Account) -> list[str]:
    """Record, from now on, the creating or changing calls of the account's API Gateway and
    Lambda clients (the ones the helpers use)."""
    seen: list[str] = []

    def note(model: Any, **_: Any) -> None:
        if session.is_creating(model.name) or model.name.startswith(("Delete", "Remove")):
            seen.append(model.name)

    for service in ("apigateway", "lambda"):
        account.client(service).meta.events.register(
            "before-call.*.*", note, unique_id=f"test-creating-{service}"
        )
    return seen


@pytest.fixture(scope="module")
def account(mock_account) -> Iterator[Account]:
    """A mock-mode account with the function deployed (catch-up, as notebook 9 starts)."""
    caller = mock_account.session().client("sts", region_name=REGION).get_caller_identity()
    settings = Settings(mode="mock", region=REGION, prefix="")
    connected = Account(
        settings,
        mock_account.session(),
        caller["Account"],
        caller["Arn"],
        names_for("mock"),
        mock_account,
    )
    catch_up("function", connected)
    yield connected


@pytest.fixture
def built(account) -> Iterator[api.AdmissionApi]:
    """The whole API, and afterwards cleanup of the API pieces (the function stays)."""
    yield api.ensure_admission_api(account)
    cleanup.delete_api(account)


def test_the_api_has_the_2017_shape(account, built):
    table = {
        row["path"]: row
        for row in rest_api.describe(account, rest_api.RestApi(built.api_id, "", ""))
    }
    admit = table["/admit"]
    assert admit["method"] == "GET" and admit["API key"] is True
    assert admit["integration"] == "AWS"
    assert admit["responses"] == "200, 400, 500"
    assert '400: .*"httpStatus":400.*' in admit["selected by"]
    assert "200: (default)" in admit["selected by"]
    assert table["/admit-proxy"]["integration"] == "AWS_PROXY"
    assert table["/admit-proxy"]["API key"] is True


def test_the_integration_calls_the_function_with_the_quoting_template(account, built):
    apigateway = account.client("apigateway")
    resource = next(
        item
        for item in apigateway.get_resources(restApiId=built.api_id)["items"]
        if item["path"] == "/admit"
    )
    integration = apigateway.get_integration(
        restApiId=built.api_id, resourceId=resource["id"], httpMethod="GET"
    )
    function_arn = rest_api.function_arn(account)
    assert integration["uri"] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )
    assert integration["httpMethod"] == "POST"  # Lambda's Invoke, whatever the method's verb
    template = integration["requestTemplates"]["application/json"]
    assert '"rank": "$input.params(\'rank\')"' in template
    assert '"gre": "$input.params(\'gre\')"' in template
    error = integration["integrationResponses"]["400"]
    assert error["responseTemplates"]["application/json"] == "$input.path('$.errorMessage')"


def test_the_stage_is_prod_and_the_urls_have_both_forms(account, built):
    stage = account.client("apigateway").get_stage(restApiId=built.api_id, stageName="prod")
    assert stage["stageName"] == "prod"
    endpoint = account.client("apigateway").meta.endpoint_url
    assert built.url == f"{endpoint}/restapis/{built.api_id}/prod/_user_request_/admit"
    assert built.proxy_url.endswith("/_user_request_/admit-proxy")
    assert urls.live_url("abc123defg", "eu-west-1") == (
        "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/admit"
    )


def test_the_permission_is_scoped_to_this_api_and_method(account, built):
    statements = {row["Sid"]: row for row in permission.api_gateway_statements(account)}
    expected = f"arn:aws:execute-api:{REGION}:{account.account_id}:{built.api_id}/*/GET/admit"
    assert statements[permission.STATEMENT_ID]["SourceArn"] == expected
    assert statements[permission.STATEMENT_ID]["Action"] == "lambda:InvokeFunction"
    assert statements[permission.PROXY_STATEMENT_ID]["SourceArn"] == expected + "-proxy"


def test_revoking_and_allowing_again_toggles_the_statement(account, built):
    assert permission.revoke(account) is True
    assert permission.statement(account) is None
    assert permission.revoke(account) is False
    assert permission.allow_api_gateway(account, built.api_id) is True
    assert permission.allow_api_gateway(account, built.api_id) is False
    assert permission.statement(account)["Principal"] == {"Service": "apigateway.amazonaws.com"}


def test_a_statement_for_another_api_is_replaced(account, built):
    permission.revoke(account)
    permission.allow_api_gateway(account, "oldapi0001")
    assert permission.allow_api_gateway(account, built.api_id) is True
    arns = [row["SourceArn"] for row in permission.api_gateway_statements(account)]
    assert not any("oldapi0001" in arn for arn in arns)


def test_the_usage_plan_is_2017s_and_holds_the_key(account, built):
    (plan,) = access.plan_table(account, account.names.usage_plan_name)
    assert (plan["rate/s"], plan["burst"], plan["quota"], plan["per"]) == (10.0, 20, 500, "DAY")
    assert plan["stages"] == "prod"
    assert plan["keys"] == account.names.api_key_name
    key = account.client("apigateway").get_api_key(apiKey=built.access.key_id)
    assert key["enabled"] is True and "value" not in key


def test_the_demo_plan_has_a_tiny_quota_on_the_same_stage(account, built):
    demo = access.ensure_demo_access(account, built.api_id, "prod")
    (plan,) = access.plan_table(account, account.names.demo_usage_plan_name)
    assert plan["quota"] == access.DEMO_QUOTA and plan["stages"] == "prod"
    assert plan["keys"] == account.names.demo_api_key_name
    assert demo.key_id != built.access.key_id


def test_a_changed_plan_is_brought_back_to_its_limits(account, built):
    account.client("apigateway").update_usage_plan(
        usagePlanId=built.access.plan_id,
        patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "7"}],
    )
    access.ensure_access(account, built.api_id, "prod")
    (plan,) = access.plan_table(account, account.names.usage_plan_name)
    assert plan["quota"] == 500


def test_building_again_creates_nothing(account, built):
    seen = _creating_calls(account)
    again = api.ensure_admission_api(account)
    assert again == built
    assert seen == []
    assert len(account.client("apigateway").get_rest_apis()["items"]) == 1
    assert len(account.client("apigateway").get_api_keys()["items"]) == 1


def test_a_change_is_deployed_and_no_change_is_not(account, built):
    apigateway = account.client("apigateway")
    before = len(apigateway.get_deployments(restApiId=built.api_id)["items"])
    api_state = rest_api.ensure_rest_api(account)
    rest_api.ensure_deployed(account, api_state)
    assert len(apigateway.get_deployments(restApiId=built.api_id)["items"]) == before
    rest_api.ensure_deployed(account, api_state, force=True)
    assert len(apigateway.get_deployments(restApiId=built.api_id)["items"]) == before + 1


def test_the_key_value_is_read_but_never_shown(account, built):
    value = access.key_value(account, built.access.key_id)
    assert len(value) >= 20
    shown = access.masked(value)
    assert value not in shown and value[-4:] not in shown
    line = calling.curl_command(built.url, {"gre": 800, "gpa": 4, "rank": 1})
    assert value not in line
    assert '-H "x-api-key: $API_KEY"' in line
    assert line.endswith("'" + built.url + "?gre=800&gpa=4&rank=1'")


def test_cleanup_deletes_plans_keys_permissions_and_the_api(account):
    built = api.ensure_admission_api(account)
    access.ensure_demo_access(account, built.api_id, "prod")
    found = set(cleanup.inventory(account)["kind"])
    assert {"REST API", "API key", "usage plan", "Lambda permission"} <= found
    deleted = cleanup.delete_api(account)
    assert set(deleted["result"]) == {"deleted"}, deleted
    apigateway = account.client("apigateway")
    assert apigateway.get_rest_apis()["items"] == []
    assert apigateway.get_api_keys()["items"] == []
    assert apigateway.get_usage_plans()["items"] == []
    assert permission.api_gateway_statements(account) == []
    again = cleanup.delete_api(account)
    assert set(again["result"]) == {"not found"}


def test_the_side_by_side_table_names_what_the_proxy_function_returns():
    table = proxy.side_by_side()
    assert "statusCode" in table.loc["the function returns", "proxy (AWS_PROXY, today)"]
    assert "502" in table.loc["a wrong return shape", "proxy (AWS_PROXY, today)"]


# --------------------------------------------------------------------------- live mode


def test_live_names_carry_the_prefix():
    names = names_for("live", "alice", "111122223333")
    assert (names.api_name, names.api_key_name, names.usage_plan_name) == (
        "AliceServerlessPOC",
        "AliceServerlessPOCKey",
        "AliceServerlessPOCPlan",
    )
    assert names.demo_usage_plan_name == "AliceServerlessPOCPlanQuotaDemo"


def _live_function(live, monkeypatch) -> None:
    from live_support import push_fake_image

    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    push_fake_image(live)
    catch_up("function", live)
    monkeypatch.delenv("SERIES_LIVE_CREATE")


def test_live_without_opt_in_creates_no_api(live, monkeypatch):
    _live_function(live, monkeypatch)
    with pytest.raises(session.LiveModeNotConfirmed, match="SERIES_LIVE_CREATE=yes") as refused:
        api.ensure_admission_api(live)
    assert "apigateway:CreateRestApi" in str(refused.value)
    assert live.client("apigateway").get_rest_apis()["items"] == []


def test_live_opted_in_tags_everything_and_another_owners_api_is_left_alone(live, monkeypatch):
    _live_function(live, monkeypatch)
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    apigateway = live.client("apigateway")
    built = api.ensure_admission_api(live)
    wanted = {"project": "serverless-poc", "owner": "alice"}
    assert apigateway.get_rest_api(restApiId=built.api_id)["tags"] == wanted
    assert apigateway.get_api_key(apiKey=built.access.key_id)["tags"] == wanted
    assert apigateway.get_usage_plan(usagePlanId=built.access.plan_id)["tags"] == wanted
    endpoint = apigateway.meta.endpoint_url  # live mode, but the stage is the mock endpoint's
    assert built.url == f"{endpoint}/restapis/{built.api_id}/prod/_user_request_/admit"

    cleanup.delete_api(live)
    other = apigateway.create_rest_api(name=live.names.api_name, tags={"owner": "bob"})
    with pytest.raises(NotOwned, match="not tagged"):
        api.ensure_admission_api(live)
    skipped = cleanup.delete_api(live)
    assert skipped.loc[f"REST API {live.names.api_name}", "result"].startswith("skipped")
    assert apigateway.get_rest_api(restApiId=other["id"])["name"] == live.names.api_name
    apigateway.delete_rest_api(restApiId=other["id"])


def test_live_cleanup_without_the_opt_in_detaches_and_deletes_every_plan_key_and_the_api(
    live, monkeypatch
):
    """Notebook 11 runs live without SERIES_LIVE_CREATE: detaching a usage plan from its stage
    (UpdateUsagePlan) is the one change it must make, and a refusal never stops the rest."""
    _live_function(live, monkeypatch)
    monkeypatch.setenv("SERIES_LIVE_CREATE", "yes")
    built = api.ensure_admission_api(live)
    access.ensure_demo_access(live, built.api_id, built.stage)
    monkeypatch.delenv("SERIES_LIVE_CREATE")
    result = cleanup.delete_api(live)["result"]
    assert not result.str.startswith("failed").any(), result.to_string()
    assert result[f"REST API {live.names.api_name}"] == "deleted"
    assert (result[result.index.str.startswith(("usage plan", "API key"))] == "deleted").all()
    apigateway = live.client("apigateway")
    assert apigateway.get_rest_apis()["items"] == []
    assert apigateway.get_usage_plans()["items"] == []
    assert apigateway.get_api_keys()["items"] == []


# --------------------------------------------------------------------------- front doors (nb 9)


def test_front_doors_are_priced_per_million_with_the_function_on_top():
    table = costs.front_door_costs(3_000_000, lambda_total=1.25)
    assert table.loc["REST API (2017's kind)", "front door $"] == pytest.approx(10.50)
    assert table.loc["HTTP API", "front door $"] == pytest.approx(3.00)
    assert table.loc["Lambda function URL", "front door $"] == 0.0
    assert (table["Lambda $"] == 1.25).all()
    assert table.loc["HTTP API", "total $"] == pytest.approx(4.25)


def test_front_doors_refuse_what_the_model_cannot_price():
    with pytest.raises(costs.CostModelError, match="first price tier"):
        costs.front_door_costs(400_000_000)
    with pytest.raises(costs.CostModelError, match="requests"):
        costs.front_door_costs(-1)


# --------------------------------------------------------------------------- over HTTP (mock stage)

APPLICANT = {"gre": 800, "gpa": 4, "rank": 1}


def test_the_built_api_answers_200_400_403_and_the_proxy_carries_cors(account, built):
    key = access.key_value(account, built.access.key_id)
    ok = calling.call(built.url, APPLICANT, key)
    assert ok.status == 200 and ok.body["result"] is True
    bad = calling.call(built.url, {**APPLICANT, "gre": "abc"}, key)
    assert bad.status == 400
    assert bad.body["errorType"] == "BadRequest" and "gre must be a number" in bad.body["message"]
    assert calling.call(built.url, APPLICANT).status == 403
    proxied = calling.call(built.proxy_url, {**APPLICANT, "rank": "5"}, key)
    assert proxied.status == 400
    assert proxied.headers["Access-Control-Allow-Origin"] == "*"


def test_without_the_permission_api_gateway_answers_its_own_500(account, built):
    key = access.key_value(account, built.access.key_id)
    permission.revoke(account)
    refused = calling.call(built.url, APPLICANT, key)
    assert (refused.status, refused.body) == (500, {"message": "Internal server error"})
    permission.allow_api_gateway(account, built.api_id)
    assert calling.call(built.url, APPLICANT, key).status == 200


def test_the_demo_key_gets_429_past_its_quota(account, built):
    demo = access.ensure_demo_access(account, built.api_id, "prod")
    key = access.key_value(account, demo.key_id)
    statuses = [
        calling.call(built.url, APPLICANT, key).status for _ in range(access.DEMO_QUOTA + 1)
    ]
    assert statuses == [200] * access.DEMO_QUOTA + [429]


@pytest.mark.skipif(not calling.curl_available(), reason="curl is not installed")
def test_curl_makes_the_same_call_with_the_key_from_the_environment(account, built):
    key = access.key_value(account, built.access.key_id)
    output = calling.run_curl(built.url, APPLICANT, key)
    assert output.endswith("HTTP 200") and '"result": true' in output
    assert calling.run_curl(built.url, APPLICANT).endswith("HTTP 403")


# --------------------------------------------------------------------------- the exercise


def _solution(account, built) -> str:
    return f"arn:aws:execute-api:{REGION}:{account.account_id}:{built.api_id}/*/GET/admit-proxy"


@pytest.mark.parametrize(
    "wrong, expected",
    [
        (..., "still the placeholder"),
        (42, "write the ARN as a string"),
        ("arn:aws:lambda:us-east-1:1:function:x", "not an execute-api ARN"),
        ("WILDCARD_API", "every API Gateway API in the account"),
        ("WRONG_PATH", "the proxy resource is admit-proxy"),
        ("ANY_VERB", "allow exactly GET"),
    ],
)
def test_the_exercise_fails_on_wrong_arns_and_adds_nothing(account, built, wrong, expected):
    from helpers.exercises import ExerciseNotDone, check_proxy_permission

    right = _solution(account, built)
    attempt = (
        {
            "WILDCARD_API": right.replace(built.api_id, "*"),
            "WRONG_PATH": right.replace("admit-proxy", "admit"),
            "ANY_VERB": right.replace("/GET/", "/*/"),
        }.get(wrong, wrong)
        if isinstance(wrong, str)
        else wrong
    )
    permission.revoke(account, permission.PROXY_STATEMENT_ID)
    key = access.key_value(account, built.access.key_id)
    with pytest.raises(ExerciseNotDone, match=re.escape(expected)):
        check_proxy_permission(account, built.api_id, attempt, key, built.proxy_url)
    assert permission.statement(account, permission.PROXY_STATEMENT_ID) is None


def test_the_exercise_passes_on_the_solution_and_the_proxy_answers(account, built):
    from helpers.exercises import check_proxy_permission

    permission.revoke(account, permission.PROXY_STATEMENT_ID)
    key = access.key_value(account, built.access.key_id)
    assert calling.call(built.proxy_url, APPLICANT, key).status == 500
    done = check_proxy_permission(
        account, built.api_id, _solution(account, built), key, built.proxy_url
    )
    assert done.startswith("Done")
    assert calling.call(built.proxy_url, APPLICANT, key).status == 200


def test_plan_mode_lists_the_api_resources_with_live_names():
    from helpers import plan

    table = plan.resources(names_for("live", "bob", "111122223333"))
    rows = table[table["notebook"] == 9]
    assert set(rows["kind"]) >= {"REST API", "API key", "usage plan", "Lambda permission"}
    assert "BobServerlessPOC" in set(rows["name"])
    assert "BobServerlessPOCPlan" in set(rows["name"])


def test_a_fault_is_a_500_through_both_integrations_not_a_200(account, built):
    """The 500 mapping (not in 2017): a missing model is the owner's fault, never a 200."""
    from helpers.deploy import wait_until_ready

    lam = account.client("lambda")
    name = account.names.function_name
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "MODEL_KEY": "missing.rds"}}
    )
    wait_until_ready(account, name)
    key = access.key_value(account, built.access.key_id)
    try:
        plain = calling.call(built.url, APPLICANT, key)
        proxied = calling.call(built.proxy_url, APPLICANT, key)
    finally:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
        wait_until_ready(account, name)
    assert plain.status == 500 and plain.body["errorType"] == "ModelUnavailable"
    assert "missing.rds does not exist" in plain.body["message"]
    assert proxied.status == 500 and proxied.headers["Access-Control-Allow-Origin"] == "*"
    assert calling.call(built.url, APPLICANT, key).status == 200
