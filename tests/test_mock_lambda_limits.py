"""Lambda's limits in the mock account: validation, timeout, memory, crashes, concurrency, lifecycle."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ECHO = "def lambda_handler(event, context):\n    return event\n"
SLOW_ECHO = "import time\n\ndef lambda_handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return event\n"


def _error(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["Error"].get("Message", ""),
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def _create(client, mock_role, mock_zip, mock_name, *, package=None, **overrides):
    kwargs = {
        "FunctionName": mock_name("fn"),
        "Runtime": "python3.12",
        "Role": mock_role(),
        "Handler": "handler.lambda_handler",
        "Code": {"ZipFile": package if package is not None else mock_zip({"handler.py": ECHO})},
    }
    kwargs.update(overrides)
    return lambda: client.create_function(**kwargs)


# -- validation -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "code", "fragment"),
    [
        (
            {"Timeout": 901},
            "ValidationException",
            "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
        ),
        (
            {"MemorySize": 10_241},
            "ValidationException",
            "Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
        ),
        (
            {"Runtime": "python3.99"},
            "ValidationException",
            "Value 'python3.99' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set",
        ),
        (
            {"Runtime": "python2.7"},
            "InvalidParameterValueException",
            "The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime",
        ),
        (
            {"Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}},
            "InvalidParameterValueException",
            "Reserved keys used in this request: AWS_REGION",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
    ],
    ids=["timeout", "memory", "unknown-runtime", "python2.7", "reserved-variable", "4kb-variables"],
)
def test_configuration_validation(
    mock_session, mock_role, mock_zip, mock_name, overrides, code, fragment
):
    client = mock_session.client("lambda")
    got_code, message, status = _error(_create(client, mock_role, mock_zip, mock_name, **overrides))
    assert (got_code, status) == (code, 400)
    assert fragment in message


def test_update_configuration_is_validated(mock_session, mock_function):
    name = mock_function(ECHO)
    client = mock_session.client("lambda")
    assert (
        _error(lambda: client.update_function_configuration(FunctionName=name, Timeout=1000))[0]
        == "ValidationException"
    )
    assert (
        _error(
            lambda: client.update_function_configuration(FunctionName=name, Runtime="python2.7")
        )[0]
        == "InvalidParameterValueException"
    )


def test_package_checks(mock_session, mock_role, mock_zip, mock_name):
    client = mock_session.client("lambda")
    code, message, _ = _error(
        _create(client, mock_role, mock_zip, mock_name, package=b"this is not a zip")
    )
    assert (code, message) == (
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )

    big = io.BytesIO()
    with (
        zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("blob.bin", "w", force_zip64=True) as blob,
    ):
        zeros = bytes(1024 * 1024)
        for _ in range(251):
            blob.write(zeros)
    code, message, _ = _error(
        _create(client, mock_role, mock_zip, mock_name, package=big.getvalue())
    )
    assert (code, message) == (
        "InvalidParameterValueException",
        "Unzipped size must be smaller than 262144000 bytes",
    )

    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("handler.py", ECHO)
        archive.writestr("noise.bin", os.urandom(51 * 1024 * 1024))
    code, message, status = _error(
        _create(client, mock_role, mock_zip, mock_name, package=stored.getvalue())
    )
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert message == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


# -- timeout, crash, memory -------------------------------------------------------------------------
def test_timeout_is_enforced_and_environment_replaced(mock_account, mock_session, mock_function):
    client = mock_session.client("lambda")
    name = mock_function(SLOW_ECHO, Timeout=1)
    started = time.monotonic()
    response = client.invoke(FunctionName=name, Payload=b'{"sleep": 5}', LogType="Tail")
    elapsed = time.monotonic() - started
    body = json.loads(response["Payload"].read())
    assert 1.0 <= elapsed < 3.0
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert mock_account.lambda_service.live_environment_count(name) == 0, (
        "the timed-out environment is gone"
    )
    assert "Task timed out after 1.00 seconds" in base64.b64decode(response["LogResult"]).decode()
    again = json.loads(client.invoke(FunctionName=name, Payload=b'{"sleep": 0}')["Payload"].read())
    assert again == {"sleep": 0}, "a fresh environment serves the next request"


def test_crash_is_reported_and_environment_replaced(mock_account, mock_session, mock_function):
    source = "import os, uuid\nENVIRONMENT = uuid.uuid4().hex\n\ndef lambda_handler(event, context):\n    if event.get('crash'):\n        print('going down')\n        os._exit(3)\n    return ENVIRONMENT\n"
    name = mock_function(source)
    client = mock_session.client("lambda")
    pid = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    response = client.invoke(FunctionName=name, Payload=b'{"crash": true}', LogType="Tail")
    body = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    assert "going down" in base64.b64decode(response["LogResult"]).decode()
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) != pid


def test_memory_size_is_enforced(mock_session, mock_function):
    source = "def lambda_handler(event, context):\n    blob = b'x' * (event['mb'] * 1024 * 1024)\n    return len(blob)\n"
    name = mock_function(source, MemorySize=128, Timeout=10)
    client = mock_session.client("lambda")
    small = client.invoke(FunctionName=name, Payload=b'{"mb": 10}', LogType="Tail")
    assert json.loads(small["Payload"].read()) == 10 * 1024 * 1024
    report = next(
        line
        for line in base64.b64decode(small["LogResult"]).decode().splitlines()
        if line.startswith("REPORT")
    )
    used = int(report.split("Max Memory Used: ")[1].split(" MB")[0])
    assert 20 <= used <= 128
    big = client.invoke(FunctionName=name, Payload=b'{"mb": 400}')
    body = json.loads(big["Payload"].read())
    assert big["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in body["errorMessage"]


# -- concurrency ------------------------------------------------------------------------------------
def test_reserved_concurrency_throttles_with_429(mock_account, mock_session, mock_function):
    name = mock_function(SLOW_ECHO)
    client = mock_session.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    busy = threading.Thread(
        target=lambda: client.invoke(FunctionName=name, Payload=b'{"sleep": 1.0}')
    )
    busy.start()
    deadline = time.monotonic() + 5
    while (
        mock_account.lambda_service.live_environment_count(name) == 0
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    time.sleep(0.1)
    code, message, status = _error(lambda: client.invoke(FunctionName=name, Payload=b"{}"))
    busy.join()
    assert (code, message, status) == ("TooManyRequestsException", "Rate Exceeded.", 429)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName=name, Payload=b"{}")
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_200_invokes_from_8_threads(mock_account, mock_session, mock_function):
    name = mock_function(
        "import uuid\nENVIRONMENT = uuid.uuid4().hex\n\ndef lambda_handler(event, context):\n    return {'n': event['n'], 'square': event['n'] ** 2, 'pid': ENVIRONMENT}\n"
    )
    client = mock_session.client(
        "lambda", config=Config(max_pool_connections=16, retries={"total_max_attempts": 1})
    )

    def call(n: int) -> dict:
        response = client.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
        assert "FunctionError" not in response
        return json.loads(response["Payload"].read())

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(200)))
    assert [r["n"] for r in results] == list(range(200)), "every answer, in order, none lost"
    assert all(r["square"] == r["n"] ** 2 for r in results)
    service = mock_account.lambda_service
    assert 1 <= service.peak_environment_count(name) <= 8
    assert len({r["pid"] for r in results}) <= 8
    assert service.live_environment_count() <= mock_account.concurrency_limit


def test_updates_retire_environments(mock_account, mock_session, mock_function, mock_zip):
    name = mock_function(
        "import os, uuid\nVALUE = os.environ.get('VALUE', 'none')\nENVIRONMENT = uuid.uuid4().hex\n\ndef lambda_handler(e, c):\n    return [VALUE, ENVIRONMENT]\n"
    )
    client = mock_session.client("lambda")
    value, pid = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"VALUE": "new"}}
    )
    assert mock_account.lambda_service.live_environment_count(name) == 0
    value2, pid2 = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    assert (value, value2) == ("none", "new") and pid2 != pid
    client.update_function_code(
        FunctionName=name,
        ZipFile=mock_zip({"handler.py": "def lambda_handler(e, c):\n    return 'v2'\n"}),
    )
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == "v2"


def test_idle_environments_are_retired(mock_account, mock_session, mock_function):
    name = mock_function(ECHO)
    service = mock_account.lambda_service
    mock_session.client("lambda").invoke(FunctionName=name)
    pid = service.environments(name)[0].pid
    saved = service.idle_timeout_s
    service.idle_timeout_s = 0.3
    try:
        deadline = time.monotonic() + 5
        while (
            service.live_environment_count(name) or os.path.exists(f"/proc/{pid}")
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        service.idle_timeout_s = saved
    assert service.live_environment_count(name) == 0
    assert not os.path.exists(f"/proc/{pid}"), "the worker process is gone (and reaped)"
