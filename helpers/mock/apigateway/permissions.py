"""May API Gateway invoke this function? The function's resource policy decides.

API Gateway invokes a Lambda integration as the service principal ``apigateway.amazonaws.com``
with a source ARN ``arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{METHOD}/{path}``
for the request as made: its HTTP method (GET, also for an ``ANY`` method) and its path without
the leading ``/`` (``items/42``, not ``items/{id}``; which is why AWS SAM writes ``*`` for path
parameters and ``ANY`` in the permissions it generates). The
function's resource policy (what ``aws lambda add-permission`` added; moto keeps it) must have
an Allow statement for that principal, ``lambda:InvokeFunction`` and a ``AWS:SourceArn``
condition the ARN is like (``*`` and ``?`` wildcards), and a ``AWS:SourceAccount`` condition, if
any, naming this account. Without one API Gateway answers its own 500 ``Internal server error``.

Not modelled: an integration's ``credentials`` (a role API Gateway assumes instead); the mock
always asks the resource policy.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SERVICE_PRINCIPAL = "apigateway.amazonaws.com"


def source_arn(
    region: str, account_id: str, api_id: str, stage: str, method: str, path: str
) -> str:
    """The ARN API Gateway presents as the caller's source for one method of one stage."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


@lru_cache(maxsize=512)
def _arn_pattern(pattern: str) -> re.Pattern[str]:
    parts = ("." if char == "?" else ".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile("".join(parts))


def arn_like(pattern: str, value: str) -> bool:
    """IAM's ArnLike/StringLike: ``*`` any characters, ``?`` one, case-sensitive."""
    return _arn_pattern(pattern).fullmatch(value) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names_apigateway(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        services = principal.get("Service", [])
        return any(s in (SERVICE_PRINCIPAL, "*") for s in _as_list(services))
    return False


def _allows_invoke(action: Any) -> bool:
    return any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in _as_list(action))


def _condition_holds(condition: dict[str, Any], arn: str, account_id: str) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            values = [str(v) for v in _as_list(expected)]
            name = key.lower()
            if name == "aws:sourcearn":
                if operator in ("ArnLike", "StringLike"):
                    if not any(arn_like(v, arn) for v in values):
                        return False
                elif operator in ("ArnEquals", "StringEquals"):
                    if arn not in values:
                        return False
                else:
                    return False
            elif name == "aws:sourceaccount":
                if account_id not in values:
                    return False
            else:
                return False  # a condition the mock cannot judge does not grant
    return True


def _resource_covers(resource: Any, function_arn: str) -> bool:
    """The statement's Resource names the function (or the version/alias invoked)."""
    unqualified = ":".join(function_arn.split(":")[:7])
    return any(
        arn_like(str(pattern), function_arn) or arn_like(str(pattern), unqualified)
        for pattern in _as_list(resource)
    )


def apigateway_may_invoke(fn: Any, arn: str, account_id: str) -> bool:
    """True if ``fn``'s resource policy lets API Gateway invoke it from source ``arn``."""
    statements = list(getattr(getattr(fn, "policy", None), "statements", []) or [])
    function_arn = str(fn.function_arn)
    allowed = False
    for statement in statements:
        if not _names_apigateway(statement.get("Principal")):
            continue
        if not _allows_invoke(statement.get("Action")):
            continue
        if not _resource_covers(statement.get("Resource", function_arn), function_arn):
            continue
        if not _condition_holds(statement.get("Condition") or {}, arn, account_id):
            continue
        if statement.get("Effect", "Allow") == "Deny":
            return False
        allowed = True
    return allowed
