"""Benchmark: a warm call through a mock API Gateway stage against a direct warm Invoke.

One mock account; the admission function deployed as the series deploys it (catch_up), behind
the 2017 REST API (non-proxy integration with its request template, the 400 mapping, an API key
in a usage plan); and a one-line echo function behind a proxy integration, the harsher case
because its own run costs almost nothing. For each function, N calls through the stage (with
``requests``) and N direct Invokes (boto3, signed, through the same server), interleaved call by
call so that the machine's noise hits both alike, after warming both paths up. Printed: the
medians and the ratio stage/direct (goal <= 2.0, issue 13).

The usage plan here allows 10,000 requests/s (burst 5,000) and a quota of 1,000,000 a day: the
2017 plan's 10/s would throttle a benchmark, which is what it is for.

Results are also written to benchmarks/results/bench_api_stage.json.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

RESULTS = ROOT / "benchmarks" / "results" / "bench_api_stage.json"
CALLS = 200
WARM_UP = 10
GOAL = 2.0
REQUEST_TEMPLATE = (
    '{"gre": "$input.params(\'gre\')", "gpa": "$input.params(\'gpa\')", '
    '"rank": "$input.params(\'rank\')"}'
)
ERROR_TEMPLATE = (
    "#set($error = $util.parseJson($input.path('$.errorMessage')))\n"
    '{"errorType": "$error.errorType", "message": "$error.message"}'
)
ECHO = "def lambda_handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def _uri(region: str, function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


def _api(apigateway, lambda_client, account_id, region, function, arn, *, proxy: bool) -> str:
    """A REST API with GET /admit on the function, deployed to ``prod``: its id."""
    api_id = apigateway.create_rest_api(name=f"bench-{function}")["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    admit = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="admit")["id"]
    apigateway.put_method(
        restApiId=api_id,
        resourceId=admit,
        httpMethod="GET",
        authorizationType="NONE",
        apiKeyRequired=not proxy,
    )
    if proxy:
        integration = {"type": "AWS_PROXY"}
    else:
        integration = {"type": "AWS", "requestTemplates": {"application/json": REQUEST_TEMPLATE}}
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=admit,
        httpMethod="GET",
        integrationHttpMethod="POST",
        uri=_uri(region, arn),
        **integration,
    )
    if not proxy:
        for status, pattern, templates in (
            ("200", None, {}),
            ("400", '.*"httpStatus":400.*', {"application/json": ERROR_TEMPLATE}),
        ):
            apigateway.put_method_response(
                restApiId=api_id, resourceId=admit, httpMethod="GET", statusCode=status
            )
            extra = {"selectionPattern": pattern} if pattern else {}
            apigateway.put_integration_response(
                restApiId=api_id,
                resourceId=admit,
                httpMethod="GET",
                statusCode=status,
                responseTemplates=templates,
                **extra,
            )
    lambda_client.add_permission(
        FunctionName=function,
        StatementId=f"bench-{api_id}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account_id}:{api_id}/*/GET/admit",
    )
    apigateway.create_deployment(restApiId=api_id, stageName="prod")
    return api_id


def _key(apigateway, api_id: str) -> str:
    key = apigateway.create_api_key(name="bench", enabled=True)
    plan = apigateway.create_usage_plan(
        name="bench",
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        throttle={"rateLimit": 10000.0, "burstLimit": 5000},
        quota={"limit": 1_000_000, "period": "DAY"},
    )
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return key["value"]


def _compare(stage_call, direct_call) -> dict[str, float]:
    """Medians (ms) of CALLS interleaved stage and direct calls, after warming both up."""
    for _ in range(WARM_UP):
        stage_call()
        direct_call()
    stage_ms, direct_ms = [], []
    for index in range(CALLS):
        pair = [(stage_call, stage_ms), (direct_call, direct_ms)]
        for call, times in pair if index % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
    stage, direct = statistics.median(stage_ms), statistics.median(direct_ms)
    return {
        "stage_median_ms": round(stage, 3),
        "direct_invoke_median_ms": round(direct, 3),
        "ratio_stage_to_direct": round(stage / direct, 3),
    }


def main() -> int:
    import requests

    from helpers import session
    from helpers.catchup import catch_up

    os.environ["SERIES_MODE"] = "mock"
    account = session.connect()
    mock = account.mock
    catch_up("function", account)
    boto = mock.session()
    apigateway, lambda_client, iam = (boto.client(n) for n in ("apigateway", "lambda", "iam"))
    region, account_id = mock.region, mock.account_id

    admission = account.names.function_name
    admission_arn = lambda_client.get_function(FunctionName=admission)["Configuration"][
        "FunctionArn"
    ]
    admission_api = _api(
        apigateway, lambda_client, account_id, region, admission, admission_arn, proxy=False
    )
    key = _key(apigateway, admission_api)

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", ECHO)
    role_arn = iam.get_role(RoleName=account.names.role_name)["Role"]["Arn"]
    echo_arn = lambda_client.create_function(
        FunctionName="BenchEcho",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.lambda_handler",
        Code={"ZipFile": package.getvalue()},
    )["FunctionArn"]
    echo_api = _api(
        apigateway, lambda_client, account_id, region, "BenchEcho", echo_arn, proxy=True
    )

    base = mock.endpoint_url
    query = {"gre": "800", "gpa": "4", "rank": "1"}

    def admission_stage() -> None:
        reply = requests.get(
            f"{base}/restapis/{admission_api}/prod/_user_request_/admit",
            params=query,
            headers={"x-api-key": key},
        )
        assert reply.status_code == 200 and reply.json()["result"] is True, reply.text

    def admission_direct() -> None:
        reply = lambda_client.invoke(FunctionName=admission, Payload=json.dumps(query))
        assert json.loads(reply["Payload"].read())["result"] is True

    def echo_stage() -> None:
        reply = requests.get(f"{base}/restapis/{echo_api}/prod/_user_request_/admit")
        assert reply.status_code == 200 and reply.text == "ok", reply.text

    def echo_direct() -> None:
        reply = lambda_client.invoke(FunctionName="BenchEcho", Payload=b"{}")
        assert json.loads(reply["Payload"].read())["body"] == "ok"

    figures = {
        "admission_non_proxy_with_key": _compare(admission_stage, admission_direct),
        "echo_proxy": _compare(echo_stage, echo_direct),
        "calls_each": CALLS,
        "warm_up_calls": WARM_UP,
        "goal_ratio_at_most": GOAL,
    }
    session.disconnect()
    mock.stop()
    for case in ("admission_non_proxy_with_key", "echo_proxy"):
        result = figures[case]
        print(
            f"{case:30} stage {result['stage_median_ms']:8.2f} ms   direct Invoke "
            f"{result['direct_invoke_median_ms']:8.2f} ms   ratio {result['ratio_stage_to_direct']}"
        )
    worst = max(
        figures[c]["ratio_stage_to_direct"] for c in ("admission_non_proxy_with_key", "echo_proxy")
    )
    verdict = "PASS" if worst <= GOAL else "FAIL"
    print(
        f"{verdict}: a warm call through the stage costs at most {worst}x a direct Invoke (goal <= {GOAL}x)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
