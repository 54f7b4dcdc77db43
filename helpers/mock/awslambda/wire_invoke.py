"""The Invoke API's rules on what comes in and what goes out (the service runs what is between).

Payloads: at most 6 MB synchronous and 1 MB for ``Event``, JSON, empty meaning ``{}``. Results:
Lambda's error payload for failures the platform detects, ``Function.ResponseSizeTooLarge`` for
a result over the response limit (which the Runtime API refused unread), the log tail on request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ..door_checks import deeper_than_allowed
from .environment_types import Outcome
from .errors import InvalidRequestContent, RequestTooLarge
from .logs import error_payload, tail
from .wire_checks import too_deep
from .wire_runtime_api import RESPONSE_LIMIT

SYNC_PAYLOAD_LIMIT = 6_291_456
ASYNC_PAYLOAD_LIMIT = 1_048_576


@dataclass(frozen=True)
class InvokeResult:
    """What the Invoke API answers (the wire layer turns it into status and headers)."""

    status_code: int
    payload: bytes
    request_id: str
    executed_version: str | None = None
    function_error: str | None = None
    log_result: str | None = None


def checked_payload(payload: bytes | str | None, invocation_type: str) -> bytes:
    """The request payload as the function gets it, or the Invoke API's error."""
    data = payload.encode() if isinstance(payload, str) else (payload or b"")
    limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
    if len(data) > limit:
        raise RequestTooLarge(limit)
    if not data.strip():
        return b"{}"
    if deeper_than_allowed(data.decode("utf-8", "replace")):
        raise too_deep(data)
    try:
        json.loads(data)
    except ValueError as error:
        raise InvalidRequestContent(str(error)) from error
    return data


def invoke_result(
    outcome: Outcome,
    lines: Sequence[tuple[int, str]],
    request_id: str,
    version: str,
    timeout_s: float,
    *,
    log_tail: bool,
) -> InvokeResult:
    """What a synchronous caller gets for an invocation that ran."""
    body = outcome.body
    function_error = None
    if outcome.status == "ok" and (outcome.response_too_large or len(body) > RESPONSE_LIMIT):
        body = json.dumps(
            {
                "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode()
        function_error = "Unhandled"
    elif outcome.status != "ok":
        body = error_payload(outcome, request_id, timeout_s) or body
        function_error = "Unhandled"
    return InvokeResult(
        200,
        body,
        request_id,
        executed_version=version,
        function_error=function_error,
        log_result=tail(lines) if log_tail else None,
    )
