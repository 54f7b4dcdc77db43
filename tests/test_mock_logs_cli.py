"""CloudWatch Logs for functions, and invoke + logs through the aws CLI (v1) as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

AWS_CLI = str(Path(sys.executable).with_name("aws"))
SOURCE = "import logging\nlogging.getLogger().setLevel(logging.INFO)\nprint('init line')\n\ndef lambda_handler(event, context):\n    print('handling', event['n'])\n    logging.info('logged %s', event['n'])\n    return {'double': event['n'] * 2}\n"
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def test_logs_have_start_end_report_and_output(mock_session, mock_function):
    name = mock_function(SOURCE)
    client = mock_session.client("lambda")
    for n in (1, 2):
        client.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
    logs = mock_session.client("logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1 and STREAM.match(streams[0]["logStreamName"])
    messages = [
        e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    ]
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert (
        len(starts) == 2
        and len(reports) == 2
        and sum(m.startswith("END RequestId: ") for m in messages) == 2
    )
    assert messages[0] == "init line", "INIT output comes before the first START"
    assert starts[0].endswith("Version: $LATEST")
    assert "handling 1" in messages and "handling 2" in messages
    assert any(m.startswith("[INFO]") and m.endswith("logged 1") for m in messages)
    fields = r"Duration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t"
    assert re.match(
        rf"REPORT RequestId: [0-9a-f-]{{36}}\t{fields}Init Duration: [\d.]+ ms\t$", reports[0]
    )
    assert re.match(rf"REPORT RequestId: [0-9a-f-]{{36}}\t{fields}$", reports[1]), (
        "no Init Duration when warm"
    )


def test_one_stream_per_environment(mock_session, mock_function, mock_account):
    name = mock_function(SOURCE)
    client = mock_session.client("lambda")
    client.invoke(FunctionName=name, Payload=b'{"n": 1}')
    client.update_function_configuration(FunctionName=name, MemorySize=256)
    client.invoke(FunctionName=name, Payload=b'{"n": 2}')
    streams = mock_session.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")[
        "logStreams"
    ]
    assert len(streams) == 2


def test_no_logs_without_log_permissions(mock_session, mock_function, mock_role):
    name = mock_function(SOURCE, role=mock_role(policies=()))
    response = mock_session.client("lambda").invoke(
        FunctionName=name, Payload=b'{"n": 3}', LogType="Tail"
    )
    assert json.loads(response["Payload"].read()) == {"double": 6}
    assert "LogResult" in response, "the tail does not depend on CloudWatch permissions"
    groups = mock_session.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{name}"
    )["logGroups"]
    assert groups == []


def _cli(mock_account, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(mock_account.environment())
    return subprocess.run(
        [AWS_CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_invoke_and_logs(mock_account, mock_function, tmp_path):
    name = mock_function(SOURCE)
    out = tmp_path / "out.json"
    result = _cli(
        mock_account,
        "lambda",
        "invoke",
        "--function-name",
        name,
        "--payload",
        '{"n": 21}',
        "--log-type",
        "Tail",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads(result.stdout)
    assert (
        meta["StatusCode"] == 200 and meta["ExecutedVersion"] == "$LATEST" and "LogResult" in meta
    )
    assert json.loads(out.read_text()) == {"double": 42}

    failing = mock_function("def lambda_handler(e, c):\n    raise RuntimeError('boom')\n")
    result = _cli(
        mock_account, "lambda", "invoke", "--function-name", failing, "--payload", "{}", str(out)
    )
    assert json.loads(result.stdout)["FunctionError"] == "Unhandled"
    assert json.loads(out.read_text())["errorMessage"] == "boom"

    result = _cli(
        mock_account, "logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{name}"
    )
    assert result.returncode == 0, result.stderr
    messages = [e["message"] for e in json.loads(result.stdout)["events"]]
    assert "handling 21" in messages
    assert any(m.startswith("REPORT RequestId: ") for m in messages)
