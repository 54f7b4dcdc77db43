"""Invoke runs the function's code in awslambdaric workers, with AWS's responses."""

from __future__ import annotations

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

COUNTER = """
import os, tempfile, uuid
CALLS = 0
ENVIRONMENT = uuid.uuid4().hex  # one per execution environment (pids repeat across sandboxes)

def lambda_handler(event, context):
    global CALLS
    CALLS += 1
    marker = os.path.join(tempfile.gettempdir(), "marker")
    existed = os.path.exists(marker)
    open(marker, "w").write("x")
    print("calls", CALLS)
    return {"calls": CALLS, "tmp_existed": existed, "tmp": tempfile.gettempdir(),
            "pid": ENVIRONMENT, "event": event, "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis()}
"""


def _invoke(client, name, payload=None, **kwargs):
    response = client.invoke(
        FunctionName=name, Payload=json.dumps(payload or {}).encode(), **kwargs
    )
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def test_invoke_runs_the_code_and_keeps_warm_state(mock_session, mock_function):
    client = mock_session.client("lambda")
    name = mock_function(COUNTER)
    first, one = _invoke(client, name, {"x": 1})
    _second, two = _invoke(client, name, {"x": 2})
    assert first["StatusCode"] == 200 and first["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in first
    assert one["event"] == {"x": 1} and two["event"] == {"x": 2}
    assert (one["calls"], two["calls"]) == (1, 2), "module globals survive while warm"
    assert (one["tmp_existed"], two["tmp_existed"]) == (False, True), "/tmp survives while warm"
    assert one["pid"] == two["pid"]
    assert 0 < one["remaining_ms"] <= 3000
    assert one["request_id"] != two["request_id"]


def test_parallel_environments_have_private_tmp(mock_account, mock_session, mock_function):
    name = mock_function(COUNTER.replace("print(", "import time; time.sleep(0.3); print("))
    client = mock_session.client("lambda")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = [r[1] for r in pool.map(lambda _: _invoke(client, name), range(2))]
    assert {r["pid"] for r in results} == {results[0]["pid"], results[1]["pid"]}
    assert results[0]["pid"] != results[1]["pid"]
    assert results[0]["tmp"] != results[1]["tmp"]
    assert not any(r["tmp_existed"] for r in results)
    assert mock_account.lambda_service.live_environment_count(name) == 2


def test_handler_in_a_package_and_code_from_s3(mock_session, mock_role, mock_zip, mock_name):
    s3 = mock_session.client("s3")
    bucket = mock_name("code-bucket")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket,
        Key="code.zip",
        Body=mock_zip(
            {
                "app/__init__.py": "",
                "app/main.py": "def run(event, context):\n    return {'ok': event['n'] * 2}\n",
            }
        ),
    )
    client = mock_session.client("lambda")
    name = mock_name("s3fn")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=mock_role(),
        Handler="app/main.run",
        Code={"S3Bucket": bucket, "S3Key": "code.zip"},
    )
    assert _invoke(client, name, {"n": 21})[1] == {"ok": 42}


def test_function_error_payload_and_log_tail(mock_session, mock_function):
    name = mock_function(
        "def lambda_handler(event, context):\n    print('about to fail')\n    raise ValueError('bad input: ' + str(event['v']))\n"
    )
    response, body = _invoke(mock_session.client("lambda"), name, {"v": 7}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input: 7"
    assert body["requestId"] and isinstance(body["stackTrace"], list)
    log = base64.b64decode(response["LogResult"]).decode()
    assert "about to fail" in log
    assert "[ERROR] ValueError: bad input: 7" in log
    assert log.splitlines()[0].startswith("START RequestId: ")
    assert "REPORT RequestId: " in log and "Max Memory Used: " in log


def test_log_tail_is_the_last_4_kb(mock_session, mock_function):
    name = mock_function(
        "def lambda_handler(event, context):\n    for i in range(500):\n        print('line %04d' % i)\n"
    )
    response, _ = _invoke(mock_session.client("lambda"), name, LogType="Tail")
    log = base64.b64decode(response["LogResult"])
    assert len(log) == 4096
    assert b"REPORT RequestId" in log and b"line 0499" in log and b"line 0000" not in log


def test_import_error_is_reported_like_lambda(mock_session, mock_function):
    name = mock_function("import no_such_module\n")
    response, body = _invoke(mock_session.client("lambda"), name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'handler'" in body["errorMessage"]


def test_published_version_and_alias_report_executed_version(mock_session, mock_function):
    client = mock_session.client("lambda")
    name = mock_function(
        "def lambda_handler(event, context):\n    return context.invoked_function_arn\n"
    )
    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    response, arn = _invoke(client, name, Qualifier=version)
    assert response["ExecutedVersion"] == version
    assert arn.endswith(f":function:{name}:{version}")
    assert _invoke(client, name, Qualifier="live")[0]["ExecutedVersion"] == version


def test_event_invocation_returns_202_and_runs_in_background(
    mock_session, mock_function, mock_role, mock_name
):
    s3 = mock_session.client("s3")
    bucket = mock_name("event-bucket")
    s3.create_bucket(Bucket=bucket)
    write = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        ],
    }
    source = f"""
    import boto3, json, time

    def lambda_handler(event, context):
        time.sleep(0.3)
        boto3.client("s3").put_object(Bucket="{bucket}", Key="done", Body=json.dumps(event))
    """
    name = mock_function(source, role=mock_role(inline=write))
    started = time.monotonic()
    response = mock_session.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"job": 5}'
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert time.monotonic() - started < 0.3, "the caller does not wait for the function"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=bucket, Key="done")["Body"].read()
            break
        except ClientError:
            time.sleep(0.05)
    else:
        pytest.fail("the Event invocation never ran")
    assert json.loads(body) == {"job": 5}


def test_dry_run_checks_only(mock_account, mock_session, mock_function):
    name = mock_function(COUNTER)
    response = mock_session.client("lambda").invoke(FunctionName=name, InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    assert mock_account.lambda_service.live_environment_count(name) == 0, "nothing ran"


def test_invalid_json_payload_is_rejected(mock_session, mock_function):
    name = mock_function(COUNTER)
    with pytest.raises(ClientError) as error:
        mock_session.client("lambda").invoke(FunctionName=name, Payload=b"not json")
    assert error.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_unknown_function_is_404(mock_session):
    with pytest.raises(ClientError) as error:
        mock_session.client("lambda").invoke(FunctionName="does-not-exist", Payload=b"{}")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_r_and_rpy2_come_from_the_environment(mock_session, mock_function):
    source = """
    import rpy2.robjects as ro

    def lambda_handler(event, context):
        return {"sum": float(ro.r("sum(1:10)")[0]), "version": str(ro.r("R.version.string")[0])}
    """
    name = mock_function(source, MemorySize=512, Timeout=30)
    response, body = _invoke(mock_session.client("lambda"), name)
    assert "FunctionError" not in response, body
    assert body["sum"] == 55.0 and body["version"].startswith("R version 4")
