"""The mock account serves a deployed API Gateway stage for real: the 2017 API end to end.

GET /admit?gre=…&gpa=…&rank=… on stage ``prod`` reaches the admission function deployed as the
series deploys it (catch_up: model in S3, role, zip function), through a non-proxy integration
with the 2017 request template, a 400 selected by ``.*"httpStatus":400.*`` whose template
unpacks the error JSON, an API key and a usage plan (10/s, burst 20, 500/day). Also here: what
is public and what stays behind the signature (the security boundary), and how unknown APIs,
stages and paths are answered. The builders below are shared with the other
test_mock_apigateway_* modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

REGION = "us-east-1"
REQUEST_TEMPLATE_2017 = (
    '{"gre": "$input.params(\'gre\')", "gpa": "$input.params(\'gpa\')", '
    '"rank": "$input.params(\'rank\')"}'
)
ERROR_TEMPLATE_2017 = r"""#set($error = $util.parseJson($input.path('$.errorMessage')))
{"errorType": "$error.errorType", "httpStatus": $error.httpStatus,
 "message": "$util.escapeJavaScript($error.message).replaceAll("\\'", "'")"}"""
"""The 400's template: the error JSON unpacked. escapeJavaScript escapes ' as \' (not valid in
JSON), which API Gateway's documentation undoes with replaceAll."""


# -- builders shared by the test_mock_apigateway_* modules -----------------------------------------
def lambda_uri(function_arn: str, region: str = REGION) -> str:
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


def new_api(apigateway: Any, name: str) -> tuple[str, str]:
    """A REST API: (api id, root resource id)."""
    api_id = apigateway.create_rest_api(name=name)["id"]
    root = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"])
    return api_id, root


def add_method(
    apigateway: Any,
    api_id: str,
    resource_id: str,
    http_method: str,
    integration: dict[str, Any],
    responses: list[dict[str, Any]],
    *,
    key_required: bool = False,
) -> None:
    """A method, its integration and, per response, a method and an integration response."""
    apigateway.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        authorizationType="NONE",
        apiKeyRequired=key_required,
    )
    apigateway.put_integration(
        restApiId=api_id, resourceId=resource_id, httpMethod=http_method, **integration
    )
    for response in responses:
        parameters = response.get("responseParameters", {})
        apigateway.put_method_response(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=http_method,
            statusCode=response["statusCode"],
            responseParameters={name: False for name in parameters},
        )
        apigateway.put_integration_response(
            restApiId=api_id, resourceId=resource_id, httpMethod=http_method, **response
        )


def allow_apigateway(
    lambda_client: Any, function: str, api_id: str, account_id: str, pattern: str
) -> None:
    """``aws lambda add-permission`` for API Gateway, scoped by SourceArn ``{api}/{pattern}``."""
    lambda_client.add_permission(
        FunctionName=function,
        StatementId=f"apigateway-{api_id}-{abs(hash(pattern))}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{account_id}:{api_id}/{pattern}",
    )


def key_and_plan(
    apigateway: Any, api_id: str, stage: str, throttle: dict[str, Any], quota: dict[str, Any]
) -> str:
    """An enabled API key in a usage plan for the API's stage: the key's value."""
    key = apigateway.create_api_key(name=f"key-{api_id}-{stage}", enabled=True)
    plan = apigateway.create_usage_plan(
        name=f"plan-{api_id}-{stage}",
        apiStages=[{"apiId": api_id, "stage": stage}],
        throttle=throttle,
        quota=quota,
    )
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return key["value"]


def stage_url(endpoint_url: str, api_id: str, stage: str, path: str) -> str:
    return f"{endpoint_url}/restapis/{api_id}/{stage}/_user_request_{path}"


def assert_gateway_error(reply: requests.Response, status: int, error_type: str, body: str):
    assert reply.status_code == status
    assert reply.headers["x-amzn-ErrorType"] == error_type
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["x-amzn-RequestId"]
    assert reply.text == body


# -- the 2017 API on the real admission function ---------------------------------------------------
@pytest.fixture(scope="module")
def admission_api(mock_account) -> Iterator[dict[str, Any]]:
    """The admission function deployed as the series deploys it, behind the 2017 REST API."""
    from helpers import session
    from helpers.catchup import catch_up

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SERIES_MODE", "mock")
        patch.delenv("SERIES_PREFIX", raising=False)
        session.disconnect()
        account = session.connect()
        assert account.mock is mock_account
        catch_up("function", account)
        boto = mock_account.session()
        apigateway, lambda_client = boto.client("apigateway"), boto.client("lambda")
        function_name = account.names.function_name
        function_arn = lambda_client.get_function(FunctionName=function_name)["Configuration"][
            "FunctionArn"
        ]
        api_id, root = new_api(apigateway, "ServerlessPOC")
        admit = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="admit")
        cors = {"method.response.header.Access-Control-Allow-Origin": "'*'"}
        add_method(
            apigateway,
            api_id,
            admit["id"],
            "GET",
            {
                "type": "AWS",
                "integrationHttpMethod": "POST",
                "uri": lambda_uri(function_arn),
                "requestTemplates": {"application/json": REQUEST_TEMPLATE_2017},
            },
            [
                {"statusCode": "200", "responseParameters": cors},
                {
                    "statusCode": "400",
                    "selectionPattern": '.*"httpStatus":400.*',
                    "responseTemplates": {"application/json": ERROR_TEMPLATE_2017},
                    "responseParameters": cors,
                },
            ],
            key_required=True,
        )
        allow_apigateway(
            lambda_client, function_name, api_id, mock_account.account_id, "*/GET/admit"
        )
        proxy = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="admit-proxy")
        add_method(
            apigateway,
            api_id,
            proxy["id"],
            "GET",
            {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(function_arn)},
            [],
        )
        allow_apigateway(
            lambda_client, function_name, api_id, mock_account.account_id, "*/GET/admit-proxy"
        )
        apigateway.create_deployment(restApiId=api_id, stageName="prod")
        key = key_and_plan(
            apigateway,
            api_id,
            "prod",
            {"rateLimit": 10.0, "burstLimit": 20},
            {"limit": 500, "period": "DAY"},
        )
        try:
            yield {
                "url": stage_url(mock_account.endpoint_url, api_id, "prod", "/admit"),
                "proxy_url": stage_url(mock_account.endpoint_url, api_id, "prod", "/admit-proxy"),
                "key": key,
                "api_id": api_id,
                "function": function_name,
            }
        finally:
            session.disconnect()


def test_admitted_and_refused_applicants_get_the_models_answer(admission_api):
    headers = {"x-api-key": admission_api["key"]}
    admitted = requests.get(
        admission_api["url"], params={"gre": 800, "gpa": 4, "rank": 1}, headers=headers
    )
    refused = requests.get(
        admission_api["url"], params={"gre": 640, "gpa": 3.19, "rank": 4}, headers=headers
    )
    assert admitted.status_code == 200, admitted.text
    assert admitted.json()["result"] is True and 0.5 < admitted.json()["probability"] < 1
    assert refused.status_code == 200 and refused.json()["result"] is False
    assert admitted.headers["Access-Control-Allow-Origin"] == "*"
    assert admitted.headers["Content-Type"] == "application/json"
    assert admitted.headers["x-amzn-RequestId"] != refused.headers["x-amzn-RequestId"]


def test_bad_input_is_the_400_the_selection_pattern_picks_with_the_error_unpacked(admission_api):
    reply = requests.get(
        admission_api["url"],
        params={"gre": "abc", "gpa": 4, "rank": 1},
        headers={"x-api-key": admission_api["key"]},
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()  # the template unpacked errorMessage's JSON: no escaped JSON inside
    assert error["errorType"] == "BadRequest" and error["httpStatus"] == 400
    assert "gre" in error["message"] and "abc" in error["message"]
    assert reply.headers["Access-Control-Allow-Origin"] == "*"  # the error path carries CORS


def test_the_stage_call_runs_through_the_lambda_service_and_its_logs(admission_api, mock_account):
    before = mock_account.lambda_service.environments(admission_api["function"])
    reply = requests.get(
        admission_api["url"],
        params={"gre": 700, "gpa": 3.5, "rank": 2},
        headers={"x-api-key": admission_api["key"]},
    )
    assert reply.status_code == 200
    after = mock_account.lambda_service.environments(admission_api["function"])
    assert sum(e.invocations for e in after) == sum(e.invocations for e in before) + 1
    logs = mock_account.session().client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{admission_api['function']}")
    assert any(e["message"].startswith("REPORT RequestId") for e in events["events"])


def test_without_a_key_or_with_a_wrong_one_the_stage_answers_forbidden(admission_api):
    query = {"gre": 800, "gpa": 4, "rank": 1}
    missing = requests.get(admission_api["url"], params=query)
    wrong = requests.get(admission_api["url"], params=query, headers={"x-api-key": "nope" * 10})
    for reply in (missing, wrong):
        assert_gateway_error(reply, 403, "ForbiddenException", '{"message":"Forbidden"}')


def test_unknown_paths_methods_apis_and_stages(admission_api, mock_account):
    key = {"x-api-key": admission_api["key"]}
    base = mock_account.endpoint_url
    no_resource = requests.get(admission_api["url"] + "ted", headers=key)
    no_method = requests.post(admission_api["url"], headers=key, data="{}")
    no_api = requests.get(stage_url(base, "abcdefghij", "prod", "/admit"), headers=key)
    no_stage = requests.get(stage_url(base, admission_api["api_id"], "dev", "/admit"), headers=key)
    for reply in (no_resource, no_method):
        assert_gateway_error(
            reply,
            403,
            "MissingAuthenticationTokenException",
            '{"message":"Missing Authentication Token"}',
        )
    for reply in (no_api, no_stage):
        assert_gateway_error(reply, 403, "ForbiddenException", '{"message":"Forbidden"}')


def test_only_stage_urls_are_public_everything_else_still_needs_a_signature(
    admission_api, mock_account
):
    base = mock_account.endpoint_url
    for path in (
        "/2015-03-31/functions",
        f"/2015-03-31/functions/{admission_api['function']}/invocations",
        "/restapis",
        f"/restapis/{admission_api['api_id']}/stages",
        f"/restapis/{admission_api['api_id']}/stages/prod",
        "/apikeys?includeValues=true",
        f"/restapis/{admission_api['api_id']}/prod/_user_request_x/admit",
    ):
        reply = requests.get(base + path)  # the door's refusal (it guesses the protocol)
        assert reply.status_code == 403, path
        assert "MissingAuthenticationToken" in reply.text or "AccessDenied" in reply.text, path
        assert admission_api["key"] not in reply.text
    invoke = requests.post(
        f"{base}/2015-03-31/functions/{admission_api['function']}/invocations", data="{}"
    )
    assert invoke.status_code == 403
    assert requests.get(f"{base}/moto-api/data.json").status_code == 404


def test_the_proxy_integration_gets_the_handlers_http_answer(admission_api):
    admitted = requests.get(admission_api["proxy_url"], params={"gre": 800, "gpa": 4, "rank": 1})
    bad = requests.get(admission_api["proxy_url"], params={"gre": 800, "gpa": "four", "rank": 1})
    assert admitted.status_code == 200, admitted.text
    assert admitted.json()["result"] is True
    assert bad.status_code == 400, bad.text
    assert "gpa" in bad.text
    for reply in (admitted, bad):  # the function's own headers, on the error path too
        assert reply.headers["Access-Control-Allow-Origin"]
        assert reply.headers["Content-Type"].startswith("application/json")
