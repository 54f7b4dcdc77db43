"""The AWS calls each cell shows: recorded by botocore hooks, shown as CLI v2, stable under nbval."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import calls
from helpers.config import PROJECT_ROOT

AWS_CLI = str(Path(sys.executable).with_name("aws"))
TRUST = (PROJECT_ROOT / "policies" / "lambda_trust_policy.json").read_text()


@pytest.fixture
def recorded(mock_account):
    """A session on the mock account whose calls go to a fresh log."""
    log = calls.CallLog()
    session = mock_account.session()
    calls.record_calls(session, log)
    return session, log


def test_a_call_is_recorded_with_its_cli_equivalent(recorded, mock_name):
    session, log = recorded
    role = mock_name("CallsRole")
    session.client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    (call,) = log.take()
    assert call.name == "iam.CreateRole"
    assert ("RoleName", role) in call.parameters
    assert call.cli == (
        f"aws iam create-role --role-name {role} "
        "--assume-role-policy-document file://policies/lambda_trust_policy.json"
    )
    assert call.error == ""


def test_a_refused_call_shows_the_error_code(recorded, mock_name):
    session, log = recorded
    with pytest.raises(session.client("iam").exceptions.NoSuchEntityException):
        session.client("iam").get_role(RoleName=mock_name("Missing"))
    (call,) = log.take()
    assert call.error == "NoSuchEntity"


def test_secrets_are_masked_and_pagination_left_out(recorded, mock_name):
    session, log = recorded
    iam = session.client("iam")
    user = mock_name("callsuser")
    iam.create_user(UserName=user)
    iam.create_login_profile(UserName=user, Password="Correct-Horse-9!")
    iam.list_users(Marker="opaque-token")
    _, profile, listing = log.take()
    assert ("Password", calls.MASK) in profile.parameters
    assert "Correct-Horse" not in profile.cli and "--password ****" in profile.cli
    assert listing.cli == "aws iam list-users" and listing.parameters == ()


def test_invoke_and_zip_show_as_cli_v2_arguments(recorded, mock_name, mock_role, mock_zip):
    session, log = recorded
    name = mock_name("calls-fn")
    client = session.client("lambda")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=mock_role(),
        Handler="handler.lambda_handler",
        Code={"ZipFile": mock_zip({"handler.py": "def lambda_handler(e, c):\n    return e\n"})},
        Publish=False,
    )
    client.invoke(FunctionName=name, Payload=json.dumps({"gre": "800"}))
    created, invoked = (call for call in log.take() if call.service == "lambda")
    assert "--zip-file fileb://build/function.zip" in created.cli
    assert "--runtime python3.12" in created.cli  # a parameter ending in "time" is no clock
    assert "--no-publish" in created.cli and "PK" not in created.cli
    assert invoked.cli == (
        f"aws lambda invoke --cli-binary-format raw-in-base64-out --function-name {name} "
        """--payload '{"gre": "800"}' response.json"""
    )


def test_each_distinct_call_once_in_first_order():
    def call(operation: str, name: str = "x") -> calls.Call:
        return calls.Call("iam", operation, (("RoleName", name),), f"aws iam {operation}")

    polls = [call("GetRole"), call("ListRoleTags"), call("GetRole"), call("GetRole", "y")]
    shown = calls.block(polls)
    assert [c.operation for c in shown.calls] == ["GetRole", "ListRoleTags", "GetRole"]
    assert "3 distinct" in repr(shown)
    assert "<details" in shown._repr_html_() and "aws iam ListRoleTags" in shown._repr_html_()
    assert calls.block([]) is None


def test_a_cell_shows_its_own_calls(tmp_path):
    """In a kernel, the block appears under the cell that made the calls, and only there."""
    from helpers.series import run_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from helpers.session import connect\naccount = connect()"),
        nbformat.v4.new_code_cell("1 + 1"),
        nbformat.v4.new_code_cell(
            'account.client("s3").create_bucket(Bucket="calls-shown")\nprint("made")'
        ),
    ]
    path = tmp_path / "shown.ipynb"
    nbformat.write(notebook, path)
    result = run_notebook(path, store_to=tmp_path / "out")
    assert result.status == "passed", result.error
    cells = nbformat.read(tmp_path / "out" / "shown.ipynb", as_version=4).cells

    def shown(cell) -> str:
        return "".join(
            output.get("data", {}).get("text/plain", "")
            for output in cell.outputs
            if "AWS calls" in output.get("data", {}).get("text/plain", "")
        )

    assert "sts.GetCallerIdentity" in shown(cells[0])
    assert shown(cells[1]) == ""
    assert "$ aws s3api create-bucket --bucket calls-shown" in shown(cells[2])
    assert "GetCallerIdentity" not in shown(cells[2])


def _stored_commands(notebook: Path, verbs: tuple[str, ...]) -> list[str]:
    commands = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            for line in output.get("data", {}).get("text/plain", "").splitlines():
                command = line.strip().removeprefix("$ ")
                if command.startswith(verbs):
                    commands.append(command)
    return commands


def test_notebook_5_role_rebuilds_from_the_commands_it_printed(mock_account):
    """Run the creating IAM commands notebook 5 shows, with the aws CLI, on an account without it."""
    mock = mock_account
    notebook = PROJECT_ROOT / "notebooks" / "05_role_creation.ipynb"
    verbs = ("aws iam create-policy", "aws iam create-role", "aws iam attach-role-policy")
    commands = [c for c in _stored_commands(notebook, verbs) if "ServerlessPOCNoTrust" not in c]
    assert any(c.startswith("aws iam create-role --role-name ServerlessPOC ") for c in commands)
    iam = mock.session().client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="ServerlessPOC")
    env = {**os.environ, **mock.environment()}
    for command in commands:
        done = subprocess.run(
            [AWS_CLI, *shlex.split(command)[1:]],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (command, done.stderr)
    role = iam.get_role(RoleName="ServerlessPOC")["Role"]
    attached = iam.list_attached_role_policies(RoleName="ServerlessPOC")["AttachedPolicies"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust == json.loads(TRUST) or json.loads(trust) == json.loads(TRUST)
    assert sorted(policy["PolicyName"] for policy in attached) == [
        "AWSLambdaBasicExecutionRole",
        "ServerlessPOC",
    ]


def test_access_key_ids_are_masked(recorded, mock_name):
    session, log = recorded
    iam = session.client("iam")
    user = mock_name("keyuser")
    iam.create_user(UserName=user)
    key_id = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.delete_access_key(UserName=user, AccessKeyId=key_id)
    deleted = log.take()[-1]
    assert key_id not in deleted.cli and key_id not in repr(calls.block([deleted]))
    assert ("AccessKeyId", "AKIA" + calls.MASK) in deleted.parameters


def test_a_call_stopped_before_sending_says_so(recorded):
    """Invalid parameters (or live mode's opt-in hook) stop a call before it reaches AWS."""
    import botocore.exceptions

    session, log = recorded
    with pytest.raises(botocore.exceptions.ParamValidationError):
        session.client("iam").get_role(RoleName=7)
    (call,) = log.take()
    assert call.error == calls.NOT_SENT
    assert "-> not sent" in repr(calls.block([call]))


def test_a_call_live_mode_refused_is_shown_as_not_sent(mock_account, monkeypatch):
    from helpers import session as series_session

    monkeypatch.delenv(series_session.OPT_IN_VARIABLE, raising=False)
    log = calls.CallLog()
    live_like = mock_account.session()
    series_session.install_hook(live_like, series_session.refuse_unconfirmed_changes)
    calls.record_calls(live_like, log)
    with pytest.raises(series_session.LiveModeNotConfirmed):
        live_like.client("s3").create_bucket(Bucket="never-made")
    (call,) = log.take()
    assert call.name == "s3.CreateBucket" and call.error == calls.NOT_SENT


def test_clock_parameters_are_left_out(recorded, mock_name):
    """A log read's time window changes on every run; the shown call must not."""
    session, log = recorded
    logs = session.client("logs")
    group = "/calls/" + mock_name("group")
    logs.create_log_group(logGroupName=group)
    logs.filter_log_events(
        logGroupName=group, startTime=1_700_000_000_000, endTime=1_800_000_000_000
    )
    shown = log.take()[-1]
    assert shown.cli == f"aws logs filter-log-events --log-group-name {group}"
