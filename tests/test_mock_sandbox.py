"""Zip functions run in a sandbox (bubblewrap): they see what a Lambda function sees (review rows 5, 9, 11).

Skipped, with the reason, where bubblewrap cannot run; ``make setup`` installs it on Debian.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from process_support import processes_with

from helpers.mock.awslambda.sandbox import sandbox_problem

PROBE = """
import json, os, signal, tempfile, time

def lambda_handler(event, context):
    if event.get("kill_parent"):
        try:
            os.kill(os.getppid(), signal.SIGKILL)  # unsandboxed, the parent is the mock account
            sent = "sent"
        except PermissionError:
            sent = "refused"
        return {"parent_now": os.getppid(), "kill": sent}
    if event.get("detach"):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
    mine = tempfile.gettempdir()
    environments = os.path.dirname(os.path.dirname(mine))
    def writable(path):
        try:
            open(path, "w").write("x")
            return True
        except OSError:
            return False
    return {
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "neighbours": sorted(os.listdir(environments)),
        "mine": os.path.basename(os.path.dirname(mine)),
        "tmp": sorted(os.listdir("/tmp")),
        "home": sorted(os.listdir(os.path.expanduser("~"))) if os.path.isdir(os.path.expanduser("~")) else None,
        "root_writable": writable("/etc/mock-sandbox-probe"),
        "task_writable": writable(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "x")),
        "tmp_writable": writable(os.path.join(mine, "x")),
        "uid": os.getuid(),
        "groups": os.getgroups(),
        "shadow_readable": os.access("/etc/shadow", os.R_OK),
    }
"""


@pytest.fixture(scope="module", autouse=True)
def sandbox_available() -> None:
    problem = sandbox_problem()
    if problem:
        pytest.skip(f"zip workers are not sandboxed here: {problem}")


def _invoke(client, name: str, event: dict) -> tuple[dict, object]:
    reply = client.invoke(FunctionName=name, Payload=json.dumps(event))
    return reply, json.loads(reply["Payload"].read())


def test_a_function_sees_its_own_processes_and_files_only(mock_session, mock_function):
    client = mock_session.client("lambda")
    on_this_machine = Path("/tmp") / f"mock-sandbox-{uuid.uuid4().hex}"
    on_this_machine.touch()
    first, second = mock_function(PROBE), mock_function(PROBE)
    _, mine = _invoke(client, first, {})
    _, theirs = _invoke(client, second, {})
    assert max(mine["pids"]) < 20 and os.getpid() not in mine["pids"]  # its own PID namespace
    assert mine["neighbours"] == [mine["mine"]]  # no other environment's folder
    assert theirs["mine"] not in mine["neighbours"]
    assert on_this_machine.name not in mine["tmp"]  # the machine's /tmp is hidden
    on_this_machine.unlink()
    assert (mine["root_writable"], mine["task_writable"], mine["tmp_writable"]) == (
        False,
        False,
        True,
    )


def test_as_root_the_account_runs_functions_as_an_unprivileged_user(mock_session, mock_function):
    from helpers.mock.awslambda.sandbox import SANDBOX_UID, runs_as_sandbox_user

    if not runs_as_sandbox_user():
        pytest.skip("the account does not run as root here: workers run as its own user")
    _, probe = _invoke(mock_session.client("lambda"), mock_function(PROBE), {})
    assert (probe["uid"], probe["groups"], probe["shadow_readable"]) == (SANDBOX_UID, [], False)


def test_a_function_cannot_kill_the_account(mock_account, mock_session, mock_function):
    client = mock_session.client("lambda")
    name = mock_function(PROBE)
    reply, body = _invoke(client, name, {"kill_parent": True})
    assert "FunctionError" not in reply, body
    # its parent is its sandbox's init, which ignores the signal (or refuses it to uid 993)
    assert body["parent_now"] == 1 and body["kill"] in ("sent", "refused")
    assert mock_account.running
    _, again = _invoke(client, name, {})
    assert "pids" in again


def test_a_detached_child_goes_with_its_environment(mock_account, mock_session, mock_function):
    token = uuid.uuid4().hex
    client = mock_session.client("lambda")
    name = mock_function(PROBE, Environment={"Variables": {"SANDBOX_TEST": token}})
    _invoke(client, name, {"detach": True})
    deadline = time.monotonic() + 10
    while len(processes_with("SANDBOX_TEST", token)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(processes_with("SANDBOX_TEST", token)) >= 2, "the worker and its detached grandchild"
    mock_account.lambda_service.retire(name)
    deadline = time.monotonic() + 10
    while processes_with("SANDBOX_TEST", token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with("SANDBOX_TEST", token) == set()


def test_a_local_process_cannot_use_an_environments_runtime_api(
    mock_account, mock_session, mock_function
):
    import urllib.error
    import urllib.request

    client = mock_session.client("lambda")
    name = mock_function(PROBE)
    _invoke(client, name, {})  # a warm environment, waiting for its next event
    (environment,) = mock_account.lambda_service.environments(name)
    url = f"http://{environment.runtime_api}/2018-06-01/runtime/invocation/next"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)  # before: it waited for (and took) the next event
    assert refused.value.code == 403
    _, body = _invoke(client, name, {})  # the worker itself still gets its events
    assert "pids" in body
