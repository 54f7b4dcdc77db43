"""The "Your turn" exercises of notebooks 3 to 8: checks that judge the learner's own result.

Each exercise in a notebook is four cells: the task (markdown), an attempt the learner edits
(it starts as a placeholder), a solution (tagged ``solution``) and a check (tagged
``exercise-check``) that calls one function here. A check looks at the learner's variable, or at
the resource the learner changed in the account, and raises :class:`ExerciseNotDone` with a
message that says what to fix — never a traceback from deep inside a helper — so an untouched,
malformed or wrong attempt is a teaching moment. On success it returns a sentence to print.

``python -m helpers.exercises --learner build/learner`` (``make learner``) writes learner copies
of the notebooks: solution cells replaced by a note, outputs cleared.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from helpers.config import Names

SOLUTION_TAG = "solution"
CHECK_TAG = "exercise-check"
REMOVED_SOLUTION = "*(solution removed in the learner copy — see the full notebook)*"

TEST_EVENT = {"gre": "800", "gpa": "4", "rank": "1"}
"""The 2017 console test event: an applicant the model admits."""

TRAFFIC_PROFILE: dict[str, Any] = {
    "requests": 10_000_000,
    "memory_mb": 512,
    "architecture": "arm64",
    "cold_start_fraction": 0.05,
    "free_tier": False,
}
"""Notebook 8's exercise: 10 million requests a month at 512 MB on arm64, 1 in 20 a cold start,
with the free tier already used up by the account's other functions."""

LIVE_SETTLE_S = 60.0
"""How long a check waits in a live account for an IAM change to apply before judging."""


class ExerciseNotDone(AssertionError):
    """The attempt does not do what the exercise asks yet; the message says what to fix."""


def _show_without_traceback(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> list[str]:
    """IPython shows an unfinished exercise as its message alone: the frames inside the check
    say nothing a learner can act on. The cell still fails (nbval, the learner-copy test)."""
    lines = [
        f"{etype.__name__}: {line}" if i == 0 else line
        for i, line in enumerate(str(value).splitlines() or [""])
    ]
    shell._showtraceback(etype, value, lines)
    return lines


def show_messages_plainly() -> bool:
    """In IPython, show :class:`ExerciseNotDone` as its message, without a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((ExerciseNotDone,), _show_without_traceback)
    return True


show_messages_plainly()


# --------------------------------------------------------------------------- shared checks


def _placeholder(value: object) -> bool:
    return value is None or value is Ellipsis


def _shown(value: object) -> str:
    return "..." if value is Ellipsis else repr(value)


def _a(value: object) -> str:
    """'a dict', 'an int': the value's type with its article, for messages."""
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def require_attempt(value: object, variable: str, what: str) -> None:
    """Stop with a hint when the attempt is still the placeholder (``None`` or ``...``)."""
    if _placeholder(value):
        raise ExerciseNotDone(
            f"`{variable}` is still the placeholder ({_shown(value)}): {what}, then run this cell "
            "again."
        )


def policy_document(attempt: object, variable: str = "my_policy") -> dict[str, Any]:
    """The attempt as a policy dict: a dict as it is, or JSON text parsed, with a readable error.

    IAM takes a policy as JSON text, so learners may write either form; a JSON mistake gets its
    line and column and the usual cause, as IAM's own ``MalformedPolicyDocument`` would not.
    """
    require_attempt(attempt, variable, "write the policy as a Python dict (or as JSON text)")
    if isinstance(attempt, str):
        try:
            parsed = json.loads(attempt)
        except json.JSONDecodeError as error:
            raise ExerciseNotDone(
                f"your policy is not valid JSON: line {error.lineno}, column {error.colno}: "
                f"{error.msg}. Fix the JSON first (a trailing comma, a missing quote or single "
                "quotes instead of double quotes are the usual causes) — IAM rejects such a "
                "document before reading any statement."
            ) from None
        if not isinstance(parsed, dict):
            raise ExerciseNotDone(
                f"your JSON is {_a(parsed)}, not a policy: a policy is one JSON "
                'object, {"Version": "2012-10-17", "Statement": [...]}.'
            )
        return parsed
    if not isinstance(attempt, Mapping):
        raise ExerciseNotDone(
            f"`{variable}` is {_a(attempt)} ({attempt!r:.60}), not a policy: write "
            'it as a dict, {"Version": "2012-10-17", "Statement": [{...}]}, or as JSON text.'
        )
    return json.loads(json.dumps(attempt))  # a plain copy; raises nothing for dicts of JSON data


def _grammar_errors(document: Mapping[str, Any], kind: str = "identity") -> None:
    """Stop on what IAM would reject, with the grammar check's own words."""
    from helpers.iam import check_grammar
    from helpers.iam.findings import ERROR

    errors = [f for f in check_grammar(dict(document), kind) if f.severity == ERROR]  # type: ignore[arg-type]
    if errors:
        listed = "\n".join(f"- {f.location}: {f.issue}: {f.detail}" for f in errors)
        raise ExerciseNotDone(f"IAM would reject this {kind} policy:\n{listed}")


def _decide(
    action: str, resource: str, document: Mapping[str, Any], **context: Any
) -> tuple[bool, str]:
    """(allowed?, explanation) from the local evaluator, or an ExerciseNotDone it can read."""
    from helpers.iam import IamHelperError, evaluate

    try:
        decision = evaluate(action, resource, dict(document), context=context or None)
    except IamHelperError as error:
        raise ExerciseNotDone(f"the evaluator cannot judge this policy: {error}") from None
    return decision.allowed, decision.explanation


def _problems(problems: list[str], heading: str = "Not done yet") -> None:
    if problems:
        raise ExerciseNotDone(heading + ":\n" + "\n".join(f"- {p}" for p in problems))


# --------------------------------------------------------------------------- notebook 3


def check_list_functions_policy(attempt: object, account_id: str, names: Names) -> str:
    """Notebook 3: a policy of the learner's own that lets a key list functions and nothing else.

    Why: ``AWSLambda_ReadOnlyAccess`` reads far more than the lesson's one request needs; the
    least privilege for that key is ``lambda:ListFunctions`` alone.
    """
    document = policy_document(attempt)
    _grammar_errors(document)
    problems = []
    allowed, why = _decide("lambda:ListFunctions", "*", document)
    if not allowed:
        problems.append(f"listing functions (lambda:ListFunctions on *) is not allowed: {why}")
    function_arn = f"arn:aws:lambda:*:{account_id}:function:{names.function_name}"
    role_arn = f"arn:aws:iam::{account_id}:role/{names.role_name}"
    never = [
        ("read a function's code and settings", "lambda:GetFunction", function_arn),
        ("change a function's code", "lambda:UpdateFunctionCode", function_arn),
        ("create a function", "lambda:CreateFunction", function_arn),
        ("invoke a function", "lambda:InvokeFunction", function_arn),
        ("pass a role to Lambda", "iam:PassRole", role_arn),
        ("read the model", "s3:GetObject", f"arn:aws:s3:::{names.models_bucket}/*"),
    ]
    context = {"iam:PassedToService": "lambda.amazonaws.com"}
    for label, action, resource in never:
        if _decide(action, resource, document, **context)[0]:
            problems.append(f"it also allows {action} ({label}): list only lambda:ListFunctions")
    _problems(problems)
    return "Done: the key may list the functions, and do nothing else."


# --------------------------------------------------------------------------- notebook 4


def check_fixed_policy(attempt: object, names: Names) -> str:
    """Notebook 4: the learner's fix of ``bucket_not_objects.json`` reads the model and no more.

    Why: IAM accepts the broken policy silently; only the linters and a decision on the real
    request show that it allows nothing. The check judges the learner's ``attempt``.
    """
    from helpers.iam_lessons import exercise_status

    document = policy_document(attempt, "attempt")
    status = exercise_status(document, names)
    if not status.fixed:
        raise ExerciseNotDone(str(status))
    return str(status)


# --------------------------------------------------------------------------- notebook 5


def log_group_arn(region: str, account_id: str, log_group: str) -> str:
    """A log group's ARN as IAM matches it (``…:log-group:NAME``)."""
    return f"arn:aws:logs:{region}:{account_id}:log-group:{log_group}"


def check_logs_policy(attempt: object, region: str, account_id: str, names: Names) -> str:
    """Notebook 5: a logs policy scoped to the function's own log group.

    Why: ``AWSLambdaBasicExecutionRole`` lets the role write to every log group of the account
    (``Resource: *``); the function only ever writes to ``/aws/lambda/<function>``.
    """
    document = policy_document(attempt, "my_logs_policy")
    _grammar_errors(document)
    own_group = log_group_arn(region, account_id, names.log_group)
    own_stream = f"{own_group}:log-stream:2026/01/01/[$LATEST]0123456789abcdef"
    other_group = log_group_arn(region, account_id, "/aws/lambda/SomeoneElsesFunction")
    other_stream = f"{other_group}:log-stream:2026/01/01/[$LATEST]0123456789abcdef"
    problems = []
    if not any(
        _decide("logs:CreateLogGroup", arn, document)[0] for arn in (own_group, f"{own_group}:*")
    ):
        problems.append(f"creating the function's log group ({names.log_group}) is not allowed")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        allowed, why = _decide(action, own_stream, document)
        if not allowed:
            problems.append(f"{action} in the function's own log group is not allowed: {why}")
        if _decide(action, other_stream, document)[0]:
            problems.append(
                f"{action} is allowed in another function's log group too: name the log group "
                f"in Resource ({own_group}:*), not *"
            )
    if _decide("s3:GetObject", f"arn:aws:s3:::{names.models_bucket}/x", document)[0]:
        problems.append("it allows reading S3 too: this policy is about logs only")
    _problems(problems)
    return f"Done: the role may write logs to {names.log_group} only."


# --------------------------------------------------------------------------- notebook 6


def check_memory_doubled(account: Any, resized: object) -> str:
    """Notebook 6: the learner doubled the function's MemorySize and called it afterwards.

    Why: memory is the one size knob of a Lambda function (it also buys CPU); changing it is an
    UpdateFunctionConfiguration, and the REPORT line of the next call shows what the call got.
    """
    from helpers import deploy
    from helpers.invoke import Invocation

    names = account.names
    base = deploy.function_configuration(names, "", deploy.package_type(account))["MemorySize"]
    wanted = 2 * base
    have = account.client("lambda").get_function_configuration(FunctionName=names.function_name)
    memory = have["MemorySize"]
    if memory == base:
        raise ExerciseNotDone(
            f"{names.function_name} still has {base} MB: set MemorySize={wanted} with "
            "update_function_configuration, wait until the update is done "
            "(deploy.wait_until_ready), then call the function."
        )
    if memory != wanted:
        raise ExerciseNotDone(
            f"{names.function_name} has {memory} MB; the task asks for double {base} MB, {wanted} MB."
        )
    require_attempt(
        resized, "resized", "call the function after the update, resized = invoke.invoke(...)"
    )
    if not isinstance(resized, Invocation):
        raise ExerciseNotDone(
            f"`resized` is {_a(resized)}, not a call's result: keep what "
            "invoke.invoke(account, event) returns."
        )
    if not resized.ok:
        raise ExerciseNotDone(f"the call after the update failed: {resized.payload}")
    seen = resized.report.get("memory_mb")
    if seen is None:
        raise ExerciseNotDone(
            "the call has no REPORT line: call invoke.invoke with its default log_tail=True."
        )
    if seen != wanted:
        raise ExerciseNotDone(
            f"that call ran with {seen:.0f} MB: it was made before the update finished. Call the "
            "function again once deploy.wait_until_ready has returned."
        )
    return f"Done: {names.function_name} has {wanted} MB, and the next call ran with {wanted} MB."


# --------------------------------------------------------------------------- notebook 7


def check_role_repaired(account: Any, invoke_timeout_s: float | None = None) -> str:
    """Notebook 7: the learner gave the no-S3 role read access to the model, and only that.

    Why: a missing policy is the commonest Lambda fault; the fix is on the role (AttachRolePolicy),
    not on the function, and the function then answers without being redeployed. The check reads
    the role's policies and calls the function itself (waiting a little in a live account, where
    an IAM change takes seconds to apply).
    """
    from botocore.exceptions import ClientError

    from helpers import invoke
    from helpers.iam import role_policies

    names = account.names
    try:
        documents = role_policies(account.client("iam"), names.no_s3_role)
    except ClientError as error:
        raise ExerciseNotDone(
            f"cannot read the role {names.no_s3_role}: {error.response['Error']['Message']}. Run "
            "section 7 again from its first cell, which creates it."
        ) from None
    model_arn = f"arn:aws:s3:::{names.models_bucket}/{names.model_key}"
    if not _decide("s3:GetObject", model_arn, documents)[0]:
        held = (
            f"'s policies ({', '.join(documents)}) do not allow"
            if documents
            else " has no policies, so nothing allows"
        )
        raise ExerciseNotDone(
            f"the role {names.no_s3_role}{held} s3:GetObject on {model_arn}. "
            f"Attach the policy that does (the customer managed policy {names.policy_name}) to "
            "the role."
        )
    if _decide("s3:PutObject", model_arn, documents)[0]:
        raise ExerciseNotDone(
            "the role may now overwrite the model too: attach the policy that only reads it "
            f"({names.policy_name}) instead, and detach the broader one."
        )
    timeout = LIVE_SETTLE_S if invoke_timeout_s is None else invoke_timeout_s
    if account.settings.is_mock and invoke_timeout_s is None:
        timeout = 0.0
    call = _until(
        lambda: invoke.invoke(account, TEST_EVENT, function_name=names.no_s3_function),
        lambda answer: answer.ok,
        timeout,
    )
    if not call.ok:
        message = call.error_message() or {}
        raise ExerciseNotDone(
            f"the role allows reading the model, but {names.no_s3_function} still answers "
            f"{message.get('errorType', call.function_error)}: {message.get('message', call.payload)}"
        )
    result = call.payload.get("result") if isinstance(call.payload, dict) else call.payload
    return f"Done: {names.no_s3_function} answers (result {result}) with its repaired role."


def undo_role_repair(account: Any) -> list[str]:
    """Notebook 7: detach what an earlier run's repair attached to the no-S3 role.

    Why: in a live account the role outlives the kernel; if a run stopped between the repair and
    the clean-up, the counter-example would start repaired and could not fail as it must. Returns
    the ARNs detached (none in mock mode, where each kernel starts with an empty account).
    """
    from helpers.iam import BASIC_EXECUTION_POLICY_ARN
    from helpers.iam.roles import attached_policy_arns
    from helpers.ownership import require_owned

    iam = account.client("iam")
    role = account.names.no_s3_role
    try:
        attached = attached_policy_arns(iam, role)
    except iam.exceptions.NoSuchEntityException:
        return []
    require_owned(account, "IAM role", role)
    extra = [arn for arn in attached if arn != BASIC_EXECUTION_POLICY_ARN]
    for arn in extra:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    return extra


def _until(call: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float) -> Any:
    """``call()`` until ``done(answer)`` or ``timeout_s`` passed; the last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = call()
        if done(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(3)


# --------------------------------------------------------------------------- notebook 8


def check_traffic_profile(my_bill: object, warm_ms: float, init_ms: float) -> str:
    """Notebook 8: the learner priced :data:`TRAFFIC_PROFILE` with this notebook's durations.

    Why: a bill is a handful of inputs; getting each one right (requests, memory, architecture,
    cold starts, free tier) is the skill, so the check names the first input that differs.
    """
    from helpers import costs

    require_attempt(my_bill, "my_bill", "price the profile with my_bill = costs.monthly_cost(...)")
    if isinstance(my_bill, int | float):
        raise ExerciseNotDone(
            f"`my_bill` is a number ({my_bill!r}); keep the whole breakdown that "
            "costs.monthly_cost(...) returns, so the check can see what you priced."
        )
    if not isinstance(my_bill, Mapping) or "total" not in my_bill:
        raise ExerciseNotDone(
            f"`my_bill` is {_a(my_bill)}, not a bill: use the dict that "
            "costs.monthly_cost(...) returns."
        )
    profile = TRAFFIC_PROFILE
    expected = costs.monthly_cost(duration_ms=warm_ms, init_ms=init_ms, **profile)
    labels = {
        "requests": "requests a month",
        "memory_mb": "memory (MB)",
        "architecture": "architecture",
        "duration_ms": "duration per call (ms): this notebook's warm_ms",
        "billed_init_ms": "INIT per cold start (ms): this notebook's init_ms",
        "cold_starts": "cold starts (requests × cold_start_fraction)",
    }
    problems = [
        f"{label}: yours is {my_bill.get(key)!r}, the profile's is {expected[key]!r}"
        for key, label in labels.items()
        if my_bill.get(key) != expected[key]
    ]
    if not problems and my_bill.get("free_tier_deduction") != expected["free_tier_deduction"]:
        problems.append(
            "the free tier: this account's is used up by other functions (free_tier=False)"
        )
    if not problems and abs(float(my_bill["total"]) - expected["total"]) > 1e-9:
        problems.append(f"the total: yours is {my_bill['total']!r}, expected {expected['total']!r}")
    _problems(problems, "Not the profile yet")
    return (
        "Done: your bill prices the profile (10 million requests, 512 MB, arm64, 1 in 20 cold, "
        "no free tier)."
    )


# --------------------------------------------------------------------------- learner copies


def learner_copy(notebook: Any) -> Any:
    """A copy of a notebook for learners: each solution cell replaced by a note, outputs cleared."""
    import copy

    import nbformat

    copied = copy.deepcopy(notebook)
    cells = []
    for cell in copied.cells:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            note = nbformat.v4.new_markdown_cell(REMOVED_SOLUTION)
            note.id = f"{cell.get('id', 'cell')}-removed"[:64]
            cells.append(note)
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    copied.cells = cells
    return copied


def write_learner_copies(target: Path, only: list[str] | None = None) -> list[Path]:
    """Learner copies of the series' notebooks in ``target``; returns their paths."""
    import nbformat

    from helpers.series import notebooks

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks(only=only):
        copy = learner_copy(nbformat.read(path, as_version=4))
        destination = target / path.name
        nbformat.write(copy, destination)
        written.append(destination)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write learner copies of the notebooks.")
    parser.add_argument(
        "--learner", type=Path, required=True, help="folder for the copies, e.g. build/learner"
    )
    parser.add_argument("--only", nargs="*", help="only notebooks whose name contains these")
    args = parser.parse_args(argv)
    written = write_learner_copies(args.learner, args.only)
    if not written:
        print("No notebooks found.", file=sys.stderr)
        return 1
    for path in written:
        print(f"  {path}")
    print(f"{len(written)} learner copies (solutions removed, outputs cleared) in {args.learner}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
