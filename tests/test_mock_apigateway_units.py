"""The API stage's pure parts, without a mock account: templates, ARN matching, proxy replies,
usage-plan periods."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from helpers.mock.apigateway.keys_and_plans import _period_start
from helpers.mock.apigateway.permissions import apigateway_may_invoke, arn_like, source_arn
from helpers.mock.apigateway.proxy import MalformedProxyResponse, proxy_response
from helpers.mock.apigateway.templates import (
    TemplateFailure,
    TemplateVariables,
    VelocityInput,
    VelocityUtil,
    render,
)

VARIABLES = TemplateVariables({"stage": "prod", "identity": {"sourceIp": "127.0.0.1"}}, {"a": "b"})


def _render(template: str, body: str = "", **query: str) -> str:
    return render(template, VelocityInput(body, {"id": "7"}, query, {"X-Api-Key": "k"}), VARIABLES)


def test_input_params_look_in_path_then_query_then_headers_case_insensitively():
    assert _render("$input.params('id')", id="query") == "7"
    assert _render("$input.params('gre')", gre="800") == "800"
    assert _render("$input.params('x-api-key')") == "k"
    assert _render("[$input.params('missing')]") == "[]"
    assert _render("$input.params().querystring.get('q')", q="1") == "1"


def test_input_json_and_path_follow_jsonpath():
    body = json.dumps({"a": {"b": [1, 2]}, "s": "text"})
    assert json.loads(_render("$input.json('$.a')", body)) == {"b": [1, 2]}
    assert _render("$input.path('$.s')", body) == "text"
    assert _render("$input.path('$.a.b').size()", body) == "2"
    assert _render("$input.body", body) == body


def test_util_functions_match_api_gateways():
    util = VelocityUtil()
    assert util.escapeJavaScript('say "hi"\n') == 'say \\"hi\\"\\n'
    assert util.escapeJavaScript("it's") == "it\\'s"  # API Gateway escapes ' too
    assert util.parseJson('{"x": 1}') == {"x": 1}
    assert util.urlEncode("a b&c") == "a+b%26c" and util.urlDecode("a+b%26c") == "a b&c"
    assert util.base64Encode("hi") == "aGk=" and util.base64Decode("aGk=") == "hi"


def test_context_and_stage_variables_render():
    assert _render("$context.stage $context.identity.sourceIp $stageVariables.a") == (
        "prod 127.0.0.1 b"
    )


@pytest.mark.parametrize(
    "template, body",
    [
        ("$util.parseJson('not json')", ""),
        ("$input.json('$.a')", "not json"),
        ("$util.base64Decode('***')", ""),
    ],
)
def test_template_failures_raise_template_failure(template, body):
    with pytest.raises(TemplateFailure):
        _render(template, body)


def test_arn_like_wildcards():
    arn = source_arn("us-east-1", "123456789012", "abc", "prod", "GET", "/admit")
    assert arn == "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/admit"
    assert arn_like("arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/admit", arn)
    assert arn_like("arn:aws:execute-api:*:*:abc/*", arn)
    assert arn_like("arn:aws:execute-api:us-east-1:123456789012:abc/pro?/GET/admit", arn)
    assert not arn_like("arn:aws:execute-api:us-east-1:123456789012:abc/*/POST/admit", arn)
    assert not arn_like("arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/admi", arn)


class _Function:
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"

    def __init__(self, *statements: dict) -> None:
        self.policy = type("Policy", (), {"statements": list(statements)})()


def _statement(**overrides) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": _Function.function_arn,
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc/*"}
        },
    }
    statement.update(overrides)
    return statement


def test_the_resource_policy_must_name_api_gateway_the_action_and_the_source():
    arn = source_arn("us-east-1", "123456789012", "abc", "prod", "GET", "/admit")
    account = "123456789012"
    assert apigateway_may_invoke(_Function(_statement()), arn, account)
    assert not apigateway_may_invoke(_Function(), arn, account)
    assert not apigateway_may_invoke(
        _Function(_statement(Principal={"Service": "events.amazonaws.com"})), arn, account
    )
    assert not apigateway_may_invoke(
        _Function(_statement(Action="lambda:GetFunction")), arn, account
    )
    other_source = {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:1:other/*"}}
    assert not apigateway_may_invoke(_Function(_statement(Condition=other_source)), arn, account)
    with_account = {"StringEquals": {"AWS:SourceAccount": "999999999999"}}
    assert not apigateway_may_invoke(_Function(_statement(Condition=with_account)), arn, account)
    assert apigateway_may_invoke(_Function(_statement(Condition={})), arn, account)


@pytest.mark.parametrize(
    "reply",
    [
        {"statusCode": 200, "body": {"an": "object"}},
        {"statusCode": 200, "body": "x", "httpStatus": 200},
        {"body": "no status"},
        {"statusCode": "two hundred"},
        {"statusCode": 200, "headers": ["not", "a", "map"]},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        ["not", "an", "object"],
    ],
)
def test_malformed_proxy_replies(reply):
    with pytest.raises(MalformedProxyResponse):
        proxy_response(json.dumps(reply).encode())


def test_a_proxy_reply_becomes_the_http_response():
    reply = proxy_response(
        json.dumps(
            {
                "statusCode": 400,
                "headers": {"Access-Control-Allow-Origin": "*", "X-Count": 2},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                "body": "aGk=",
                "isBase64Encoded": True,
            }
        ).encode()
    )
    assert reply.status == 400 and reply.body == b"hi"
    assert ("Set-Cookie", "a=1") in reply.headers and ("Set-Cookie", "b=2") in reply.headers
    assert reply.header("X-Count") == "2" and reply.header("Content-Type") == "application/json"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_quota_periods_start_at_utc_midnight_sunday_and_the_first():
    assert _period_start(_epoch("2026-11-29T23:59:59"), "DAY", 0) != _period_start(
        _epoch("2026-11-30T00:00:00"), "DAY", 0
    )
    # 2026-11-29 is a Sunday: a WEEK (offset 0) starts then; offset 1 starts on Monday
    assert _period_start(_epoch("2026-11-28T12:00:00"), "WEEK", 0) != _period_start(
        _epoch("2026-11-29T12:00:00"), "WEEK", 0
    )
    assert _period_start(_epoch("2026-11-29T12:00:00"), "WEEK", 1) == _period_start(
        _epoch("2026-11-24T12:00:00"), "WEEK", 1
    )
    assert _period_start(_epoch("2026-11-30T12:00:00"), "MONTH", 0) == _period_start(
        _epoch("2026-11-01T00:00:00"), "MONTH", 0
    )
    assert _period_start(_epoch("2026-12-01T00:00:00"), "MONTH", 0) != _period_start(
        _epoch("2026-11-30T00:00:00"), "MONTH", 0
    )


METHOD_REQUEST_PASSTHROUGH = r"""#set($allParams = $input.params())
{
"body-json" : $input.json('$'),
"params" : {
#foreach($type in $allParams.keySet())
    #set($params = $allParams.get($type))
"$type" : {
    #foreach($paramName in $params.keySet())
    "$paramName" : "$util.escapeJavaScript($params.get($paramName))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage-variables" : {
#foreach($key in $stageVariables.keySet())
"$key" : "$util.escapeJavaScript($stageVariables.get($key))"
    #if($foreach.hasNext),#end
#end
},
"context" : {
    "stage" : "$context.stage",
    "source-ip" : "$context.identity.sourceIp",
    "api-key" : "$context.identity.apiKey"
    }
}
"""
"""The console's "Method Request passthrough" template (abridged context), a stress test of the
engine: maps, keySet, $foreach.hasNext, nested #set."""


def test_the_consoles_method_request_passthrough_template_renders_valid_json():
    rendered = _render(METHOD_REQUEST_PASSTHROUGH, '{"a": 1}', gre="800", gpa="4")
    assert json.loads(rendered) == {
        "body-json": {"a": 1},
        "params": {
            "path": {"id": "7"},
            "querystring": {"gre": "800", "gpa": "4"},
            "header": {"X-Api-Key": "k"},
        },
        "stage-variables": {"a": "b"},
        "context": {"stage": "prod", "source-ip": "127.0.0.1", "api-key": ""},
    }
