"""One mock account per Lab session: ``python -m helpers.lab`` and the kernels that attach to it.

JupyterLab itself is not started: the launcher's child is injectable (``-- COMMAND``), and a
stand-in plays the Lab, starting "kernels" (separate Python processes that call
``helpers.session.connect()``) and a "terminal" (the ``aws`` CLI) with the environment it
inherited, as JupyterLab's kernels and terminals do.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import boto3
import botocore.exceptions
import pytest
import requests

from helpers import lab
from helpers.mock.identity import ROOT_ACCESS_KEY_ID
from tests.process_support import processes_with

PROJECT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(sys.executable).parent

KERNEL_A = """
from helpers.catchup import catch_up
from helpers.session import connect

account = connect()
account.client("s3").create_bucket(Bucket="made-by-kernel-a")
state = catch_up("role", account)
print(json.dumps({"private": account.mock is not None, "role": state.role_arn}))
"""

KERNEL_B = """
import boto3

from helpers import lab
from helpers.catchup import catch_up
from helpers.mock.awslambda.errors import InvalidParameterValue
from helpers.session import connect

account = connect()
buckets = [bucket["Name"] for bucket in account.client("s3").list_buckets()["Buckets"]]
state = catch_up("role", account)  # again: finds what kernel A made, creates nothing new
roles = [role["RoleName"] for role in account.client("iam").list_roles()["Roles"]]
account.client("iam").create_role(RoleName="MadeByKernelB", AssumeRolePolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
credentials = lab.lambda_role_credentials(account, state.role_arn, "attached-check")
as_role = boto3.Session(aws_access_key_id=credentials.access_key_id,
    aws_secret_access_key=credentials.secret_access_key,
    aws_session_token=credentials.session_token, region_name="us-east-1")
try:
    lab.lambda_role_credentials(
        account, "arn:aws:iam::123456789012:role/MadeByKernelB", "attached-check")
    untrusted = "minted"
except InvalidParameterValue as error:
    untrusted = str(error)
print(json.dumps({
    "private": account.mock is not None,
    "buckets": buckets,
    "role": state.role_arn,
    "role_count": roles.count(account.names.role_name),
    "as_role": as_role.client("sts").get_caller_identity()["Arn"],
    "untrusted": untrusted,
}))
"""

KERNEL_WITH_A_WRONG_KEY = """
from helpers.lab import LabAccountUnavailable
from helpers.session import connect

try:
    connect()
    print(json.dumps({"refused": ""}))
except LabAccountUnavailable as error:
    print(json.dumps({"refused": str(error)}))
"""

STAND_IN_LAB = """
import json, os, subprocess, sys, time

def kernel(source, **changes):
    environment = {**os.environ, **changes}
    done = subprocess.run([sys.executable, "-c", "import json\\n" + source], env=environment,
                          stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])

def terminal(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout

report = {
    "endpoint": os.environ["SERIES_MOCK_ACCOUNT"],
    "same_endpoint": os.environ["AWS_ENDPOINT_URL"] == os.environ["SERIES_MOCK_ACCOUNT"],
    "a": kernel(KERNEL_A),
    "b": kernel(KERNEL_B),
    "wrong_key": kernel(KERNEL_WITH_A_WRONG_KEY, AWS_SECRET_ACCESS_KEY="not-the-owner" * 3),
    "cli_buckets": terminal("aws", "s3", "ls"),
    "cli_role": terminal("aws", "iam", "get-role", "--role-name", "MadeByKernelB",
                         "--query", "Role.RoleName", "--output", "text").strip(),
}
print(json.dumps(report), flush=True)
time.sleep(300)  # a Lab keeps running until it is stopped
"""


def _environment() -> dict[str, str]:
    """This test process's environment without any account in it, in mock mode."""
    removed = (lab.SHARED_ACCOUNT_VARIABLE, *lab.ACCOUNT_VARIABLES, "AWS_PROFILE", "AWS_REGION")
    environment = {key: value for key, value in os.environ.items() if key not in removed}
    environment.update(
        SERIES_MODE="mock",
        RPY2_CFFI_MODE="ABI",
        PYTHONPATH=str(PROJECT),
        PATH=os.pathsep.join([str(SCRIPTS), environment.get("PATH", "")]),
    )
    return environment


def _launch(tmp_path: Path, stand_in: str) -> subprocess.Popen[str]:
    script = tmp_path / "stand_in_lab.py"
    script.write_text(stand_in)
    return subprocess.Popen(
        [sys.executable, "-m", "helpers.lab", "--", sys.executable, str(script)],
        cwd=PROJECT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def _first_line(process: subprocess.Popen[str], timeout_s: float = 180) -> str:
    """The stand-in's first line of output (its report), or the launcher's errors."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    if lines and lines[0].strip():
        return lines[0].strip()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    raise AssertionError(f"no report from the stand-in Lab:\n{process.stderr.read()}")


def _port_closed(endpoint: str) -> bool:
    address = urlparse(endpoint)
    try:
        socket.create_connection((address.hostname, address.port), timeout=1).close()
    except OSError:
        return True
    return False


def _stopped_without_leftovers(process: subprocess.Popen[str], endpoint: str) -> str:
    """Wait for the launcher; then the account's port is closed and no process carries it."""
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while processes_with(lab.SHARED_ACCOUNT_VARIABLE, endpoint) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_with(lab.SHARED_ACCOUNT_VARIABLE, endpoint)
    assert _port_closed(endpoint)
    return process.stderr.read()


def test_one_account_serves_every_kernel_and_terminal_of_the_session(tmp_path):
    sources = {
        "KERNEL_A": KERNEL_A,
        "KERNEL_B": KERNEL_B,
        "KERNEL_WITH_A_WRONG_KEY": KERNEL_WITH_A_WRONG_KEY,
    }
    stand_in = "".join(f"{name} = {source!r}\n" for name, source in sources.items()) + STAND_IN_LAB
    process = _launch(tmp_path, stand_in)
    report = json.loads(_first_line(process))
    endpoint = report["endpoint"]
    try:
        assert report["same_endpoint"]
        assert not report["a"]["private"] and not report["b"]["private"]
        assert "made-by-kernel-a" in report["b"]["buckets"]  # B sees what A made
        assert report["b"]["role"] == report["a"]["role"]  # catch-up found A's role
        assert report["b"]["role_count"] == 1
        assert report["b"]["as_role"].endswith(":assumed-role/ServerlessPOC/attached-check")
        assert "cannot be assumed by Lambda" in report["b"]["untrusted"]
        assert "refused this kernel's key" in report["wrong_key"]["refused"]
        assert "Restart Kernel" in report["wrong_key"]["refused"]
        assert "made-by-kernel-a" in report["cli_buckets"]  # the terminal sees the kernels' work
        assert "serverless-poc-models" in report["cli_buckets"]
        assert report["cli_role"] == "MadeByKernelB"

        # Any local process can connect, but only the owner's key gets in.
        stranger = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=ROOT_ACCESS_KEY_ID,
            aws_secret_access_key="x" * 40,
        )
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            stranger.list_buckets()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert requests.get(f"{endpoint}/", timeout=5).status_code == 403  # unsigned
    finally:
        process.send_signal(signal.SIGTERM)  # as `kill`, or the machine shutting down
    logged = _stopped_without_leftovers(process, endpoint)
    assert process.returncode != 0  # the stand-in was terminated
    assert "mock AWS account stopped" in logged
    assert "SECRET" not in logged.upper()


SLEEPING_LAB = """
import os, time
print(os.environ["SERIES_MOCK_ACCOUNT"], flush=True)
time.sleep(300)
"""


def test_ctrl_c_in_the_terminal_stops_the_lab_and_then_the_account(tmp_path):
    process = _launch(tmp_path, SLEEPING_LAB)
    endpoint = _first_line(process)
    assert not _port_closed(endpoint)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    logged = _stopped_without_leftovers(process, endpoint)
    assert "mock AWS account stopped" in logged


def test_the_lab_ends_when_its_child_ends_and_passes_on_the_exit_code(tmp_path):
    process = _launch(
        tmp_path,
        "import os, sys\nprint(os.environ['SERIES_MOCK_ACCOUNT'], flush=True)\nsys.exit(3)",
    )
    endpoint = _first_line(process)
    _stopped_without_leftovers(process, endpoint)
    assert process.returncode == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_killed_launcher_takes_the_lab_with_it(tmp_path):
    if not lab.shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed, so the Lab cannot follow its launcher")
    process = _launch(tmp_path, SLEEPING_LAB)
    endpoint = _first_line(process)
    process.kill()  # SIGKILL: the launcher cannot clean up; the kernel signals its child
    _stopped_without_leftovers(process, endpoint)


def test_without_a_lab_each_kernel_starts_its_own_account():
    source = textwrap.dedent(
        """
        import json
        from helpers.session import connect
        account = connect()
        s3 = account.client("s3")
        found = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
        s3.create_bucket(Bucket="only-in-this-kernel")
        print(json.dumps({"private": account.mock is not None, "found": found}))
        """
    )
    answers = [  # two kernels, one after the other: each its own account
        json.loads(
            subprocess.run(
                [sys.executable, "-c", source],
                cwd=PROJECT,
                env=_environment(),
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()[-1]
        )
        for _ in range(2)
    ]
    assert all(answer["private"] for answer in answers)
    assert [answer["found"] for answer in answers] == [[], []]  # neither saw the other's bucket


def test_a_kernel_of_a_lab_that_stopped_is_told_what_happened_and_what_to_do(monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr("helpers.mock.current_mock_account", lambda: None)
    monkeypatch.setenv(lab.SHARED_ACCOUNT_VARIABLE, endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y" * 40)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(lab.LabAccountUnavailable, match="no longer answers") as error:
        lab.lab_account_session("us-east-1")
    assert "make lab" in str(error.value)


def test_no_marker_means_no_lab_account(monkeypatch):
    monkeypatch.delenv(lab.SHARED_ACCOUNT_VARIABLE, raising=False)
    assert lab.lab_account_session("us-east-1") is None


def test_live_mode_starts_no_account(tmp_path):
    environment = {**_environment(), "SERIES_MODE": "live", "SERIES_PREFIX": "alice"}
    environment["AWS_DEFAULT_REGION"] = "eu-west-1"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers.lab",
            "--",
            sys.executable,
            "-c",
            "import os; print(os.environ.get('SERIES_MOCK_ACCOUNT'), os.environ.get('AWS_ENDPOINT_URL'))",
        ],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["None", "None"]


def test_jupyter_is_the_default_child_with_allow_root_only_for_root():
    command = lab.jupyter_command(["--no-browser"])
    assert command[:5] == [sys.executable, "-m", "jupyter", "lab", "notebooks"]
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    assert command[-1] == "--no-browser"


def test_the_learner_copies_open_with_notebooks_and_a_missing_folder_is_named(capsys):
    assert lab.jupyter_command([], "build/learner")[4] == "build/learner"
    assert lab.main(["--notebooks", "no/such/folder", "--", "true"]) == 2
    assert "no/such/folder is not a folder here" in capsys.readouterr().err


def test_make_targets_never_inherit_a_lab_sessions_account():
    """`make test` typed in a Lab terminal must not run notebook 11's cleanup on the Lab's account."""
    from helpers.config import PROJECT_ROOT

    done = subprocess.run(
        ["make", "-s", "--eval", 'probe: ; @echo "[$$SERIES_MOCK_ACCOUNT]"', "probe"],
        cwd=PROJECT_ROOT,
        env={**os.environ, lab.SHARED_ACCOUNT_VARIABLE: "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
