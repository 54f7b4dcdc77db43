"""IAM as Lambda applies it: ``iam:PassRole`` on the execution role, for whoever passes it.

Giving a function a role hands the role's permissions to whoever controls the function's code,
so AWS requires the *caller* to hold ``iam:PassRole`` on that role for CreateFunction and for an
UpdateFunctionConfiguration that sets a role. moto checks only ``lambda:*``; without this check
a user allowed nothing but ``lambda:CreateFunction`` could run code as an administrator role.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import AccessDeniedError

from .errors import AccessDenied

PASSING_ACTIONS = frozenset({"lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"})


def passed_role(action: str, body: Any) -> str | None:
    """The role ARN a Lambda request passes (its ``Role``), or None."""
    if action not in PASSING_ACTIONS:
        return None
    try:
        data = json.loads(body or "{}")
    except (TypeError, ValueError):
        return None
    role = data.get("Role") if isinstance(data, dict) else None
    return role if isinstance(role, str) and role else None


def check_pass_role(request: Any, check: Callable[[str], None]) -> None:
    """If ``request`` passes a role, require ``iam:PassRole`` on it (``check`` is moto's check)."""
    role = passed_role(request._action, request._body)
    if role is None:
        return
    action = request._action
    request._action = "iam:PassRole"
    try:
        check(role)
    except AccessDeniedError:
        raise AccessDenied(request._access_key.arn, "iam:PassRole", role) from None
    finally:
        request._action = action
