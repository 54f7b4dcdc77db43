"""Exercises of notebooks 3-5: policies the learner writes, judged by the series' evaluator."""

from __future__ import annotations

from helpers.config import Names
from helpers.exercises.core import (
    ExerciseNotDone,
    _decide,
    _grammar_errors,
    _problems,
    policy_document,
)

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
