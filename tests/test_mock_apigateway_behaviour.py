"""API Gateway stage behaviour in the mock account, on small test functions.

The function's resource policy (missing, then added; a SourceArn for another method), the proxy
integration's event and reply (and the 502 for a malformed one), the MOCK integration answering
a CORS preflight, a template error and the next request after it, usage plans' quota and burst
(the backend's clock is replaced, so nothing sleeps or is timed), and routing by path
parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from test_mock_apigateway import (
    add_method,
    allow_apigateway,
    assert_gateway_error,
    key_and_plan,
    lambda_uri,
    new_api,
    stage_url,
)

PROXY_HANDLER = """
import json

def lambda_handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode")
    if mode == "malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    if mode == "extra":
        return {"statusCode": 200, "body": "x", "httpStatus": 200}
    if mode == "raise":
        raise ValueError("boom")
    return {
        "statusCode": 201,
        "headers": {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps({"event": event}),
    }
"""

ECHO_HANDLER = """
def lambda_handler(event, context):
    return {"event": event}
"""

INTERNAL = '{"message": "Internal server error"}'


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clients(mock_account) -> dict[str, Any]:
    boto = mock_account.session()
    return {name: boto.client(name) for name in ("apigateway", "lambda")}


@pytest.fixture
def clock(mock_account) -> Iterator[FakeClock]:
    fake = FakeClock()
    stages = mock_account.api_stages
    saved, stages.clock = stages.clock, fake
    try:
        yield fake
    finally:
        stages.clock = saved


def _function(mock_function, clients, source: str) -> tuple[str, str]:
    name = mock_function(source)
    arn = clients["lambda"].get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return name, arn


def _lambda_get(
    clients, mock_account, function_arn: str, path_part: str, template: str
) -> tuple[str, str]:
    """An API with GET /{path_part} integrated (non-proxy) with the function, deployed to
    ``test``: (api id, url)."""
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, f"api-{path_part}")
    resource = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart=path_part)
    add_method(
        apigateway,
        api_id,
        resource["id"],
        "GET",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(function_arn),
            "requestTemplates": {"application/json": template},
        },
        [{"statusCode": "200"}],
    )
    apigateway.create_deployment(restApiId=api_id, stageName="test")
    return api_id, stage_url(mock_account.endpoint_url, api_id, "test", f"/{path_part}")


# -- the function's resource policy ----------------------------------------------------------------
def test_without_permission_500_then_add_permission_makes_it_200(
    mock_account, clients, mock_function
):
    name, arn = _function(mock_function, clients, ECHO_HANDLER)
    api_id, url = _lambda_get(clients, mock_account, arn, "echo", '{"q": "$input.params(\'q\')"}')
    before = requests.get(url, params={"q": "1"})
    assert_gateway_error(before, 500, "InternalServerErrorException", INTERNAL)
    assert mock_account.lambda_service.environments(name) == []  # refused before any run
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/GET/echo")
    after = requests.get(url, params={"q": "1"})
    assert after.status_code == 200 and after.json() == {"event": {"q": "1"}}


def test_a_source_arn_for_another_method_or_api_is_not_enough(mock_account, clients, mock_function):
    name, arn = _function(mock_function, clients, ECHO_HANDLER)
    api_id, url = _lambda_get(clients, mock_account, arn, "scoped", "{}")
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/POST/scoped")
    allow_apigateway(clients["lambda"], name, "otherapi00", mock_account.account_id, "*/*/*")
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "dev/GET/scoped")
    assert_gateway_error(requests.get(url), 500, "InternalServerErrorException", INTERNAL)


# -- proxy integration -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def proxy_api(mock_account, clients, mock_zip) -> dict[str, Any]:
    """POST /items/{id} with an AWS_PROXY integration, permission given, stage ``v1``."""
    iam = mock_account.session().client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="proxyrole", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(
        RoleName="proxyrole",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    name = "proxyfunction"
    arn = clients["lambda"].create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": mock_zip({"handler.py": PROXY_HANDLER})},
    )["FunctionArn"]
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, "proxy")
    items = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    item = apigateway.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    add_method(
        apigateway,
        api_id,
        item["id"],
        "POST",
        {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(arn)},
        [],
    )
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/*/*")
    apigateway.create_deployment(restApiId=api_id, stageName="v1", variables={"tier": "gold"})
    return {
        "url": stage_url(mock_account.endpoint_url, api_id, "v1", "/items/42"),
        "api": api_id,
        "arn": arn,
    }


def test_proxy_event_and_reply(proxy_api, mock_account):
    reply = requests.post(
        proxy_api["url"] + "?tag=a&tag=b&single=1",
        data=json.dumps({"hello": "world"}),
        headers={"Content-Type": "application/json", "X-Custom": "yes"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["X-Multi"] == "a, b"  # two header lines, joined by requests
    event = reply.json()["event"]
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b", "single": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "single": ["1"]}
    assert event["headers"]["X-Custom"] == "yes"
    assert event["multiValueHeaders"]["X-Custom"] == ["yes"]
    assert event["stageVariables"] == {"tier": "gold"}
    assert json.loads(event["body"]) == {"hello": "world"} and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == mock_account.account_id
    assert context["apiId"] == proxy_api["api"] and context["stage"] == "v1"
    assert context["resourcePath"] == "/items/{id}" and context["path"] == "/v1/items/42"
    assert context["requestId"] == reply.headers["x-amzn-RequestId"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["apiKey"] is None


@pytest.mark.parametrize("mode", ["malformed", "extra", "raise"])
def test_a_malformed_proxy_reply_or_a_function_error_is_502(proxy_api, mode):
    reply = requests.post(proxy_api["url"], params={"mode": mode})
    assert_gateway_error(reply, 502, "InternalServerErrorException", INTERNAL)
    assert requests.post(proxy_api["url"]).status_code == 201  # and the stage goes on serving


def test_routing_unknown_path_or_method_is_missing_authentication_token(proxy_api):
    for reply in (
        requests.post(proxy_api["url"] + "/more"),
        requests.get(proxy_api["url"]),
        requests.post(proxy_api["url"].rsplit("/", 1)[0]),
    ):
        assert_gateway_error(
            reply,
            403,
            "MissingAuthenticationTokenException",
            '{"message":"Missing Authentication Token"}',
        )


# -- MOCK integration: a CORS preflight ------------------------------------------------------------
def test_options_through_a_mock_integration_answers_the_configured_cors_headers(
    mock_account, clients
):
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, "cors")
    admit = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="admit")
    cors = {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Api-Key'",
    }
    add_method(
        apigateway,
        api_id,
        admit["id"],
        "OPTIONS",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        [{"statusCode": "200", "responseParameters": cors}],
    )
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    reply = requests.options(
        stage_url(mock_account.endpoint_url, api_id, "prod", "/admit"),
        headers={
            "Origin": "http://example.localhost",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert reply.headers["Access-Control-Allow-Headers"] == "Content-Type,X-Api-Key"
    assert reply.content == b""


# -- templates -------------------------------------------------------------------------------------
def test_a_template_error_is_500_and_the_next_good_request_is_served(
    mock_account, clients, mock_function
):
    name, arn = _function(mock_function, clients, ECHO_HANDLER)
    template = "#set($doc = $util.parseJson($input.params('doc')))\n{\"a\": $doc.a}"
    api_id, url = _lambda_get(clients, mock_account, arn, "parse", template)
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/GET/parse")
    broken = requests.get(url, params={"doc": "not json"})
    assert_gateway_error(broken, 500, "InternalServerErrorException", INTERNAL)
    good = requests.get(url, params={"doc": '{"a": 7}'})
    assert good.status_code == 200 and good.json() == {"event": {"a": 7}}


def test_context_and_stage_variables_reach_a_request_template(mock_account, clients, mock_function):
    name, arn = _function(mock_function, clients, ECHO_HANDLER)
    template = (
        '{"stage": "$context.stage", "resource": "$context.resourcePath", '
        '"id": "$context.requestId", "b64": "$util.base64Encode(\'hi\')", '
        '"url": "$util.urlEncode(\'a b&c\')", "all": $input.json(\'$\')}'
    )
    api_id, url = _lambda_get(clients, mock_account, arn, "ctx", template)
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/GET/ctx")
    reply = requests.get(url, data=json.dumps({"x": [1, 2]}))
    assert reply.status_code == 200, reply.text
    assert reply.json()["event"] == {
        "stage": "test",
        "resource": "/ctx",
        "id": reply.headers["x-amzn-RequestId"],
        "b64": "aGk=",
        "url": "a+b%26c",
        "all": {"x": [1, 2]},
    }


# -- keys and usage plans --------------------------------------------------------------------------
def _keyed_mock_api(clients, mock_account, stage: str) -> tuple[str, str]:
    """GET /ping requiring a key, answered by a MOCK integration: (api id, url)."""
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, f"keyed-{stage}")
    ping = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="ping")
    add_method(
        apigateway,
        api_id,
        ping["id"],
        "GET",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        [{"statusCode": "200", "responseTemplates": {"application/json": '{"pong": true}'}}],
        key_required=True,
    )
    apigateway.create_deployment(restApiId=api_id, stageName=stage)
    return api_id, stage_url(mock_account.endpoint_url, api_id, stage, "/ping")


def test_quota_exhaustion_is_429_limit_exceeded_until_the_next_day(clients, mock_account, clock):
    api_id, url = _keyed_mock_api(clients, mock_account, "quota")
    key = key_and_plan(
        clients["apigateway"],
        api_id,
        "quota",
        {"rateLimit": 100.0, "burstLimit": 100},
        {"limit": 3, "period": "DAY"},
    )
    headers = {"x-api-key": key}
    assert [requests.get(url, headers=headers).status_code for _ in range(3)] == [200] * 3
    assert_gateway_error(
        requests.get(url, headers=headers),
        429,
        "LimitExceededException",
        '{"message":"Limit Exceeded"}',
    )
    clock.now += 24 * 3600
    assert requests.get(url, headers=headers).json() == {"pong": True}


def test_burst_exhaustion_is_429_too_many_requests_until_tokens_refill(
    clients, mock_account, clock
):
    api_id, url = _keyed_mock_api(clients, mock_account, "burst")
    key = key_and_plan(
        clients["apigateway"],
        api_id,
        "burst",
        {"rateLimit": 1.0, "burstLimit": 2},
        {"limit": 500, "period": "DAY"},
    )
    headers = {"x-api-key": key}
    assert [requests.get(url, headers=headers).status_code for _ in range(2)] == [200, 200]
    assert_gateway_error(
        requests.get(url, headers=headers),
        429,
        "TooManyRequestsException",
        '{"message":"Too Many Requests"}',
    )
    clock.now += 1.0  # one token back at 1 request/s
    assert requests.get(url, headers=headers).status_code == 200
    assert requests.get(url, headers=headers).status_code == 429


def test_a_disabled_key_or_a_plan_for_another_stage_is_forbidden(clients, mock_account, clock):
    apigateway = clients["apigateway"]
    api_id, url = _keyed_mock_api(clients, mock_account, "keys")
    other = key_and_plan(apigateway, api_id, "elsewhere", {}, {})
    disabled = apigateway.create_api_key(name="disabled", enabled=False)
    plan = apigateway.create_usage_plan(name="p", apiStages=[{"apiId": api_id, "stage": "keys"}])
    apigateway.create_usage_plan_key(
        usagePlanId=plan["id"], keyId=disabled["id"], keyType="API_KEY"
    )
    for value in (other, disabled["value"]):
        assert_gateway_error(
            requests.get(url, headers={"x-api-key": value}),
            403,
            "ForbiddenException",
            '{"message":"Forbidden"}',
        )
    apigateway.update_api_key(
        apiKey=disabled["id"],
        patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}],
    )
    assert requests.get(url, headers={"x-api-key": disabled["value"]}).status_code == 200


# -- deployments -----------------------------------------------------------------------------------
def test_a_stage_serves_what_was_deployed_until_the_next_deployment(mock_account, clients):
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, "versions")
    version = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="version")

    def answer(value: int) -> None:
        add_method(
            apigateway,
            api_id,
            version["id"],
            "GET",
            {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
            [{"statusCode": "200", "responseTemplates": {"application/json": f'{{"v": {value}}}'}}],
        )

    answer(1)
    first = apigateway.create_deployment(restApiId=api_id, stageName="prod")["id"]
    answer(2)  # changed, not deployed
    url = stage_url(mock_account.endpoint_url, api_id, "prod", "/version")
    assert requests.get(url).json() == {"v": 1}
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    assert requests.get(url).json() == {"v": 2}
    apigateway.create_stage(restApiId=api_id, stageName="old", deploymentId=first)
    old = stage_url(mock_account.endpoint_url, api_id, "old", "/version")
    assert requests.get(old).json() == {"v": 1}
    apigateway.delete_method(restApiId=api_id, resourceId=version["id"], httpMethod="GET")
    assert requests.get(url).json() == {"v": 2}  # deleted, not deployed: still served


def test_greedy_and_parameter_paths_and_literal_precedence(mock_account, clients):
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, "paths")
    mock = {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}}

    def resource(parent: str, part: str, answer: str) -> str:
        made = apigateway.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
        template = (
            '{"route": "' + answer + '", "id": "$input.params(\'id\')", '
            '"rest": "$input.params(\'rest\')", "resource": "$context.resourcePath"}'
        )
        add_method(
            apigateway,
            api_id,
            made,
            "ANY",
            mock,
            [{"statusCode": "200", "responseTemplates": {"application/json": template}}],
        )
        return made

    files = resource(root, "files", "files")
    resource(files, "latest", "literal")
    resource(files, "{id}", "parameter")
    resource(root, "{rest+}", "greedy")
    apigateway.create_deployment(restApiId=api_id, stageName="prod")

    def get(path: str) -> dict[str, str]:
        reply = requests.delete(stage_url(mock_account.endpoint_url, api_id, "prod", path))
        assert reply.status_code == 200, (path, reply.text)
        return reply.json()

    assert get("/files")["route"] == "files"
    assert get("/files/latest")["route"] == "literal"
    assert get("/files/7") == {
        "route": "parameter",
        "id": "7",
        "rest": "",
        "resource": "/files/{id}",
    }
    assert get("/a/b/c") == {"route": "greedy", "id": "", "rest": "a/b/c", "resource": "/{rest+}"}
    assert get("/files/7/more")["route"] == "greedy"


def test_gateway_responses_customize_the_gateways_own_errors(clients, mock_account, clock):
    apigateway = clients["apigateway"]
    api_id, url = _keyed_mock_api(clients, mock_account, "gateway")
    apigateway.put_gateway_response(
        restApiId=api_id,
        responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
    )
    apigateway.put_gateway_response(
        restApiId=api_id,
        responseType="MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseTemplates={
            "application/json": '{"error": $context.error.messageString, '
            '"type": "$context.error.responseType"}'
        },
    )
    before = requests.get(url)  # not deployed yet: the stage's deployment has none
    assert "Access-Control-Allow-Origin" not in before.headers
    apigateway.create_deployment(restApiId=api_id, stageName="gateway")
    no_key = requests.get(url)
    assert_gateway_error(no_key, 403, "ForbiddenException", '{"message":"Forbidden"}')
    assert no_key.headers["Access-Control-Allow-Origin"] == "*"
    unknown = requests.get(url + "/nowhere")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": "Missing Authentication Token",
        "type": "MISSING_AUTHENTICATION_TOKEN",
    }
    assert "Access-Control-Allow-Origin" not in unknown.headers  # the specific type wins


def test_a_proxy_event_names_the_api_key_the_request_was_admitted_with(
    proxy_api, mock_account, clients, clock
):
    apigateway = clients["apigateway"]
    api_id, root = new_api(apigateway, "keyed-proxy")
    keyed = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="keyed")
    add_method(
        apigateway,
        api_id,
        keyed["id"],
        "GET",
        {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(proxy_api["arn"])},
        [],
        key_required=True,
    )
    allow_apigateway(clients["lambda"], "proxyfunction", api_id, mock_account.account_id, "*/*/*")
    apigateway.create_deployment(restApiId=api_id, stageName="v1")
    key = key_and_plan(apigateway, api_id, "v1", {"rateLimit": 5.0, "burstLimit": 5}, {})
    reply = requests.get(
        stage_url(mock_account.endpoint_url, api_id, "v1", "/keyed"), headers={"x-api-key": key}
    )
    assert reply.status_code == 201, reply.text
    identity = reply.json()["event"]["requestContext"]["identity"]
    assert identity["apiKey"] == key and identity["apiKeyId"]
    assert reply.json()["event"]["headers"]["X-Api-Key"] == key


def test_the_source_arn_names_the_request_as_made_not_the_resource_template(
    mock_account, clients, mock_function
):
    apigateway = clients["apigateway"]
    name, arn = _function(mock_function, clients, ECHO_HANDLER)
    api_id, root = new_api(apigateway, "things")
    things = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="things")
    thing = apigateway.create_resource(restApiId=api_id, parentId=things["id"], pathPart="{id}")
    add_method(
        apigateway,
        api_id,
        thing["id"],
        "ANY",
        {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(arn)},
        [],
    )
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    url = stage_url(mock_account.endpoint_url, api_id, "prod", "/things/42")
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/ANY/things/*")
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/GET/things/{id}")
    assert_gateway_error(requests.get(url), 500, "InternalServerErrorException", INTERNAL)
    allow_apigateway(clients["lambda"], name, api_id, mock_account.account_id, "*/GET/things/*")
    assert requests.get(url).status_code == 502  # allowed now; the echo is no proxy reply
    assert requests.delete(url).status_code == 500  # DELETE is not allowed
