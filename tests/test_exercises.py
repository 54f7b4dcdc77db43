"""The "Your turn" exercises of notebooks 3-8: their checks bite, and the learner copies work.

(a) Learner copies (solutions removed) run in fresh kernels in mock mode: every exercise-check
    cell fails with the exercise's own message, and no other cell fails.
(b) Each check passes on the solution and fails with a readable message on the placeholder,
    malformed JSON and the wrong type (fast: no account, or a stand-in for one).
(c) Notebooks 3-8 each have an exercise of the four-cell shape.
The full notebooks passing, solutions included, is nbval's job (``make nbval``).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from helpers import costs, exercises
from helpers.config import names_for
from helpers.exercises import ExerciseNotDone
from helpers.invoke import Invocation
from helpers.series import notebooks

EXERCISE_NOTEBOOKS = ["03", "04", "05", "06", "07", "08", "09", "10"]
NAMES = names_for("mock")
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _notebook(number: str) -> nbformat.NotebookNode:
    (path,) = notebooks(only=[f"{number}_"])
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- (c) the shape


@pytest.mark.parametrize("number", EXERCISE_NOTEBOOKS)
def test_each_notebook_has_exercises_of_the_four_cell_shape(number):
    cells = _notebook(number).cells
    solutions = [i for i, cell in enumerate(cells) if "solution" in _tags(cell)]
    checks = [i for i, cell in enumerate(cells) if "exercise-check" in _tags(cell)]
    assert solutions and checks, f"notebook {number} has no exercise"
    for i in solutions:
        task, attempt, solution, check = cells[i - 2 : i + 2]
        assert task.cell_type == "markdown" and task.source.startswith("### Your turn")
        assert attempt.cell_type == "code" and "your turn" in attempt.source
        assert solution.cell_type == "code" and check.cell_type == "code"
        assert "exercise-check" in _tags(check)
        assert "exercises.check_" in check.source
        placeholder_variable = attempt.source.split("=", 1)[0].strip()
        assert placeholder_variable.isidentifier()
        assert f"{placeholder_variable} = " in solution.source


def test_learner_copy_drops_solutions_and_outputs():
    original = _notebook("04")
    learner = exercises.learner_copy(original)
    assert not any("solution" in _tags(cell) for cell in learner.cells)
    assert all(not cell.get("outputs") for cell in learner.cells if cell.cell_type == "code")
    notes = [cell for cell in learner.cells if cell.source == exercises.REMOVED_SOLUTION]
    assert len(notes) == sum("solution" in _tags(cell) for cell in original.cells)
    assert len(learner.cells) == len(original.cells)
    assert any("exercise-check" in _tags(cell) for cell in learner.cells)
    nbformat.validate(learner)
    assert any(cell.get("outputs") for cell in original.cells if cell.cell_type == "code")


def test_the_command_writes_learner_copies(tmp_path, capsys):
    assert exercises.main(["--learner", str(tmp_path), "--only", "03", "08"]) == 0
    written = sorted(path.name for path in tmp_path.glob("*.ipynb"))
    assert written == ["03_iam_concepts.ipynb", "08_cost.ipynb"]
    assert "2 learner copies" in capsys.readouterr().out


# --------------------------------------------------------------------------- (b) the checks


def _not_done(call, *arguments, **keywords) -> str:
    with pytest.raises(ExerciseNotDone) as raised:
        call(*arguments, **keywords)
    message = str(raised.value)
    assert message and "Traceback" not in message
    return message


LIST_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}],
}
FIXED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadModelObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{NAMES.models_bucket}/*",
        }
    ],
}
OWN_LOGS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{NAMES.log_group}:*",
        }
    ],
}
MALFORMED = '{\n  "Version": "2012-10-17",\n  "Statement": [,]\n}'


def nb3(policy: object) -> str:
    return exercises.check_list_functions_policy(policy, ACCOUNT_ID, NAMES)


def nb4(policy: object) -> str:
    return exercises.check_fixed_policy(policy, NAMES)


def nb5(policy: object) -> str:
    return exercises.check_logs_policy(policy, REGION, ACCOUNT_ID, NAMES)


POLICY_CHECKS = [(nb3, LIST_ONLY), (nb4, FIXED), (nb5, OWN_LOGS)]


@pytest.mark.parametrize(("check", "solution"), POLICY_CHECKS, ids=["nb3", "nb4", "nb5"])
def test_policy_checks_pass_on_the_solution_as_dict_or_json(check, solution):
    assert check(solution).startswith(("Done", "Fixed"))
    assert check(json.dumps(solution, indent=2)).startswith(("Done", "Fixed"))


@pytest.mark.parametrize(("check", "solution"), POLICY_CHECKS, ids=["nb3", "nb4", "nb5"])
@pytest.mark.parametrize("placeholder", [None, ...])
def test_policy_checks_name_the_placeholder(check, solution, placeholder):
    message = _not_done(check, placeholder)
    assert "still the placeholder" in message


@pytest.mark.parametrize(("check", "solution"), POLICY_CHECKS, ids=["nb3", "nb4", "nb5"])
def test_policy_checks_point_at_malformed_json(check, solution):
    message = _not_done(check, MALFORMED)
    assert message.startswith("your policy is not valid JSON: line 3, column")
    assert "Fix the JSON" in message


@pytest.mark.parametrize(("check", "solution"), POLICY_CHECKS, ids=["nb3", "nb4", "nb5"])
@pytest.mark.parametrize("wrong", [42, ["a", "list"], '["a JSON list"]', {1, 2}])
def test_policy_checks_explain_the_wrong_type(check, solution, wrong):
    message = _not_done(check, wrong)
    assert "not a policy" in message


@pytest.mark.parametrize(("check", "solution"), POLICY_CHECKS, ids=["nb3", "nb4", "nb5"])
def test_policy_checks_report_what_iam_would_reject(check, solution):
    broken = copy.deepcopy(solution)
    broken["Statement"][0]["Effect"] = "allow"
    message = _not_done(check, broken)
    assert "INVALID_EFFECT" in message


def test_nb3_refuses_more_than_listing():
    broad = copy.deepcopy(LIST_ONLY)
    broad["Statement"][0]["Action"] = "lambda:*"
    message = _not_done(nb3, broad)
    assert "lambda:UpdateFunctionCode" in message and "list only lambda:ListFunctions" in message
    readonly = copy.deepcopy(LIST_ONLY)
    readonly["Statement"][0]["Action"] = ["lambda:List*", "lambda:Get*"]
    assert "lambda:GetFunction" in _not_done(nb3, readonly)


def test_nb4_judges_the_attempt_not_the_project_policy():
    from helpers.iam import load_policy

    message = _not_done(nb4, load_policy("broken/bucket_not_objects", NAMES))
    assert "RESOURCE_MISMATCH" in message and "reading the model is not allowed" in message
    too_much = copy.deepcopy(FIXED)
    too_much["Statement"][0]["Action"] = ["s3:GetObject", "s3:PutObject"]
    assert "overwriting the model is allowed" in _not_done(nb4, too_much)


def test_nb5_refuses_every_log_group():
    from helpers.iam import load_policy

    message = _not_done(nb5, load_policy("aws_lambda_basic_execution_role", NAMES))
    assert "another function's log group" in message
    assert f"log-group:{NAMES.log_group}:*" in message
    wrong_group = json.loads(json.dumps(OWN_LOGS).replace(NAMES.function_name, "Other"))
    assert "in the function's own log group is not allowed" in _not_done(nb5, wrong_group)


# notebook 6: the function's memory, read from a stand-in for the account


def _account(memory_mb: int = 128, *, mock: bool = True, lambda_client: Any = None) -> Any:
    configuration = {"MemorySize": memory_mb}
    client = lambda_client or SimpleNamespace(get_function_configuration=lambda **_: configuration)
    return SimpleNamespace(
        names=NAMES,
        account_id=ACCOUNT_ID,
        region=REGION,
        settings=SimpleNamespace(is_mock=mock),
        client=lambda service: client,
    )


def _call(memory_mb: float | None, *, error: str | None = None, payload: Any = None) -> Invocation:
    report = {"duration_ms": 3.0} if memory_mb is None else {"memory_mb": float(memory_mb)}
    return Invocation(
        status_code=200,
        payload=payload if payload is not None else {"result": True, "probability": 0.74},
        function_error=error,
        log_tail="",
        executed_version="$LATEST",
        client_ms=5.0,
        report=report,
    )


def test_nb6_passes_when_the_function_and_the_call_have_double_memory():
    assert "256 MB" in exercises.check_memory_doubled(_account(256), _call(256))


def test_nb6_live_doubles_the_image_memory():
    assert "1024 MB" in exercises.check_memory_doubled(_account(1024, mock=False), _call(1024))


@pytest.mark.parametrize(
    ("memory", "resized", "expected"),
    [
        (128, ..., "still has 128 MB: set MemorySize=256"),
        (512, _call(512), "the task asks for double 128 MB, 256 MB"),
        (256, ..., "still the placeholder (...)"),
        (256, None, "still the placeholder (None)"),
        (256, {"result": True}, "is a dict, not a call's result"),
        (256, "256", "is a str, not a call's result"),
        (256, _call(128), "made before the update finished"),
        (256, _call(None), "no REPORT line"),
        (256, _call(256, error="Unhandled", payload={"errorMessage": "x"}), "failed"),
    ],
)
def test_nb6_says_what_is_missing(memory, resized, expected):
    assert expected in _not_done(exercises.check_memory_doubled, _account(memory), resized)


# notebook 7: the role's policies and the function's answer, from stand-ins


@pytest.fixture
def role_and_function(monkeypatch):
    """Stand-ins for IAM's view of the no-S3 role and for invoking its function."""
    state: dict[str, Any] = {"policies": {}, "calls": []}

    def role_policies(iam: Any, role_name: str) -> dict[str, Any]:
        assert role_name == NAMES.no_s3_role
        return state["policies"]

    def invoke(account: Any, event: Any, *, function_name: str | None = None, **_: Any):
        state["calls"].append(function_name)
        readable = exercises._decide(
            "s3:GetObject",
            f"arn:aws:s3:::{NAMES.models_bucket}/{NAMES.model_key}",
            state["policies"],
        )[0]
        if readable:
            return _call(128)
        message = {"errorType": "ModelUnavailable", "httpStatus": 500, "message": "AccessDenied"}
        return _call(128, error="Unhandled", payload={"errorMessage": json.dumps(message)})

    monkeypatch.setattr("helpers.iam.role_policies", role_policies)
    monkeypatch.setattr("helpers.invoke.invoke", invoke)
    return state


def test_nb7_passes_when_the_role_reads_the_model(role_and_function):
    role_and_function["policies"] = {"ServerlessPOC": FIXED}
    assert exercises.check_role_repaired(_account()).startswith("Done")
    assert role_and_function["calls"] == [NAMES.no_s3_function]


def test_nb7_fails_on_the_untouched_role(role_and_function):
    from helpers.iam import load_policy

    basic = load_policy("aws_lambda_basic_execution_role", NAMES)
    role_and_function["policies"] = {"AWSLambdaBasicExecutionRole": basic}
    message = _not_done(exercises.check_role_repaired, _account())
    assert "AWSLambdaBasicExecutionRole" in message and "Attach the policy" in message
    assert NAMES.policy_name in message
    assert role_and_function["calls"] == []


def test_nb7_refuses_a_repair_that_allows_too_much(role_and_function):
    too_much = copy.deepcopy(FIXED)
    too_much["Statement"][0]["Action"] = "s3:*"
    role_and_function["policies"] = {"AmazonS3FullAccess": too_much}
    assert "overwrite the model" in _not_done(exercises.check_role_repaired, _account())


def test_nb7_waits_in_live_mode_then_reports_the_function_error(role_and_function, monkeypatch):
    role_and_function["policies"] = {"ServerlessPOC": FIXED}
    monkeypatch.setattr(
        "helpers.invoke.invoke",
        lambda *a, **k: _call(128, error="Unhandled", payload={"errorMessage": "{}"}),
    )
    message = _not_done(exercises.check_role_repaired, _account(mock=False), invoke_timeout_s=0.0)
    assert "still answers" in message


def test_nb7_undo_role_repair_leaves_only_logging(mock_session, monkeypatch):
    """A repair left by an earlier (live) run comes off, so the counter-example fails again."""
    from helpers.iam import BASIC_EXECUTION_POLICY_ARN

    monkeypatch.setattr("helpers.ownership.require_owned", lambda *arguments: None)
    iam = mock_session.client("iam")
    account = SimpleNamespace(names=NAMES, client=lambda service: iam)
    assert exercises.undo_role_repair(account) == []  # no role yet: nothing to do
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
    iam.create_role(RoleName=NAMES.no_s3_role, AssumeRolePolicyDocument=json.dumps(trust))
    repair = iam.create_policy(PolicyName="RepairLeftBehind", PolicyDocument=json.dumps(FIXED))
    for arn in (BASIC_EXECUTION_POLICY_ARN, repair["Policy"]["Arn"]):
        iam.attach_role_policy(RoleName=NAMES.no_s3_role, PolicyArn=arn)
    assert exercises.undo_role_repair(account) == [repair["Policy"]["Arn"]]
    left = iam.list_attached_role_policies(RoleName=NAMES.no_s3_role)["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in left] == [BASIC_EXECUTION_POLICY_ARN]


# notebook 8: the traffic profile


WARM_MS, INIT_MS = 4.0, 780.0


def _bill(**changes: Any) -> dict[str, Any]:
    profile = {**exercises.TRAFFIC_PROFILE, **changes}
    return costs.monthly_cost(duration_ms=WARM_MS, init_ms=INIT_MS, **profile)


def test_nb8_passes_on_the_profile():
    assert exercises.check_traffic_profile(_bill(), WARM_MS, INIT_MS).startswith("Done")


@pytest.mark.parametrize(
    ("bill", "expected"),
    [
        (..., "still the placeholder (...)"),
        (None, "still the placeholder (None)"),
        (4.6, "is a number"),
        ("4.60", "is a str, not a bill"),
        ([1, 2], "is a list, not a bill"),
        (_bill(architecture="x86_64"), "architecture: yours is 'x86_64', the profile's is 'arm64'"),
        (_bill(requests=3_000_000), "requests a month: yours is 3000000"),
        (_bill(cold_start_fraction=0.01), "cold starts"),
        (_bill(free_tier=True), "free_tier=False"),
        (costs.monthly_cost(10_000_000, 200.0, 512, "arm64"), "this notebook's warm_ms"),
    ],
)
def test_nb8_says_which_input_differs(bill, expected):
    assert expected in _not_done(exercises.check_traffic_profile, bill, WARM_MS, INIT_MS)


# --------------------------------------------------------------------------- (a) learner copies


def _execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run a learner copy as a learner would: a fresh kernel in its folder, on past errors."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    ).execute()
    return notebook


class _LearnerCopies(dict):
    """Notebooks 3-8 as learners get them, each run once in mock mode when first asked for.

    Each runs in a fresh kernel with an empty build folder of its own, so under pytest-xdist
    the six runs can go to different workers (conftest.py) and none depends on another.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, number: str) -> nbformat.NotebookNode:
        folder = self.folder / number
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SERIES_MODE", "mock")
            patch.delenv("SERIES_MOCK_ACCOUNT", raising=False)  # a Lab terminal's shared account
            patch.setenv("SERIES_BUILD_DIR", str(folder / "build"))
            patch.setenv("RPY2_CFFI_MODE", os.environ.get("RPY2_CFFI_MODE", "ABI"))
            (path,) = exercises.write_learner_copies(folder, [number])
            self[number] = _execute(path)
        return self[number]


@pytest.fixture(scope="module")
def executed_learner_copies(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Notebooks 3-8 as learners get them, each run (about 10 s) by the test that reads it."""
    return _LearnerCopies(tmp_path_factory.mktemp("learner"))


def _errors(cell: Any) -> list[dict[str, Any]]:
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


@pytest.mark.parametrize("number", EXERCISE_NOTEBOOKS)
def test_on_the_learner_copy_every_check_fails_and_nothing_else(executed_learner_copies, number):
    notebook = executed_learner_copies[number]
    checks = [cell for cell in notebook.cells if "exercise-check" in _tags(cell)]
    assert checks
    for cell in checks:
        errors = _errors(cell)
        assert errors, f"{number} {cell.id}: the check passed without a solution"
        assert errors[0]["ename"] in ("ExerciseNotDone", "AssertionError"), errors[0]
        assert errors[0]["evalue"].strip(), f"{number} {cell.id}: a check failed without a message"
    others = {
        cell.id: f"{errors[0]['ename']}: {errors[0]['evalue']}"
        for cell in notebook.cells
        if cell.cell_type == "code" and "exercise-check" not in _tags(cell)
        for errors in [_errors(cell)]
        if errors
    }
    assert not others, f"notebook {number}: cells other than the checks failed: {others}"


def test_a_malformed_attempt_shows_the_message_not_a_traceback(tmp_path):
    """In a kernel, an unfinished exercise prints what to fix; no frame from inside the helpers."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from helpers import exercises\nexercises.policy_document('{\"Version\": ', 'my_policy')"
        ),
        nbformat.v4.new_code_cell("print('the next cell runs')"),
    ]
    NotebookClient(
        notebook,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    (error,) = notebook.cells[0].outputs
    assert error["output_type"] == "error" and error["ename"] == "ExerciseNotDone"
    shown = "\n".join(error["traceback"])
    assert shown.startswith("ExerciseNotDone: your policy is not valid JSON: line 1")
    assert "exercises.py" not in shown and "Traceback" not in shown
