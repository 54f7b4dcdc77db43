"""Starting and stopping the mock account: environment, singleton, clean shutdown, terminal entrypoint.

Each scenario runs in its own Python process: moto's state is process-wide, and "no process and
no port left behind" is best checked from outside.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRELUDE = """
import io, json, os, zipfile
import boto3
from helpers.mock import MockAccount, current_mock_account, start_mock_account

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}

def deploy(session, source="def lambda_handler(e, c):\\n    return 'ok'\\n"):
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", source)
    role = session.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    session.client("lambda").create_function(FunctionName="f", Runtime="python3.12", Role=role,
        Handler="handler.lambda_handler", Code={"ZipFile": package.getvalue()})
"""


def _python(script: str, **kwargs) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_PROFILE"] = "learner-profile"
    env["AWS_ENDPOINT_URL"] = "http://previous.example"
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_context_manager_sets_and_restores_environment_and_leaves_nothing():
    script = """
    before = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")}
    with MockAccount() as account:
        assert current_mock_account() is account and start_mock_account() is account
        inside = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION")}
        plain = boto3.client("lambda")  # no endpoint given: found through the environment
        deploy(account.session())
        assert plain.invoke(FunctionName="f")["Payload"].read() == b'"ok"'
        pids = account.lambda_service.worker_pids()
        port = int(account.endpoint_url.rsplit(":", 1)[1])
    after = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")}
    account.stop()  # idempotent
    print(json.dumps({"before": before, "inside": inside, "after": after, "pids": pids, "port": port,
                      "current": current_mock_account() is None}))
    """
    process = _python(script)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["inside"]["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert result["inside"]["AWS_PROFILE"] is None
    assert result["inside"]["AWS_ACCESS_KEY_ID"] == "AKIAMOCKACCOUNTROOT0"
    assert result["inside"]["AWS_DEFAULT_REGION"] == "us-east-1"
    assert (
        result["after"]
        == result["before"]
        == {
            "AWS_ENDPOINT_URL": "http://previous.example",
            "AWS_PROFILE": "learner-profile",
            "AWS_ACCESS_KEY_ID": None,
        }
    )
    assert result["current"] is True
    assert len(result["pids"]) == 1
    assert not any(_alive(pid) for pid in result["pids"]), "no worker left after stop"
    assert not _port_open(result["port"]), "port freed after stop"


def test_workers_exit_when_the_kernel_dies():
    script = """
    account = start_mock_account()
    deploy(account.session())
    account.session().client("lambda").invoke(FunctionName="f")
    print(json.dumps(account.lambda_service.worker_pids()), flush=True)
    import time
    time.sleep(60)
    """
    process = _python(script)
    assert process.stdout is not None
    pids = json.loads(process.stdout.readline())
    assert pids and all(_alive(pid) for pid in pids)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), (
        "orphaned workers exit once the Runtime API is gone"
    )


def test_terminal_entrypoint_prints_exports_and_stops_on_sigterm():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.mock", "--time-scale", "60"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in range(4)]
    exported = dict(line.split("=", 1) for line in lines)
    assert list(exported) == [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    ]
    cli_env = {**env, **exported}
    aws = str(Path(sys.executable).with_name("aws"))
    made = subprocess.run(
        [aws, "s3", "mb", "s3://from-the-terminal"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    listed = subprocess.run(
        [aws, "s3", "ls"], env=cli_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert "from-the-terminal" in listed.stdout
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert not _port_open(int(exported["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]))
