"""What every exercise check shares: the error that teaches, its plain display, attempt parsing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
