"""CloudWatch Logs for functions: the platform's START/END/REPORT lines around the function's output.

Each execution environment writes to its own stream in ``/aws/lambda/<function>`` named like
Lambda's (``2026/11/26/[$LATEST]<32 hex>``), through moto's Logs backend so ``filter_log_events``
and ``aws logs`` read them. As on AWS, nothing is written when the execution role may not write
logs (the invocation's own ``LogType=Tail`` result does not depend on that).
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import uuid
from collections.abc import Sequence

from moto.logs.models import logs_backends

from .environment_types import Outcome
from .output import split_message

TAIL_BYTES = 4096


def stream_name(version: str) -> str:
    day = time.strftime("%Y/%m/%d", time.gmtime())
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def error_payload(outcome: Outcome, request_id: str, timeout_s: float) -> bytes | None:
    """The payload Lambda returns for failures the platform itself detects (None otherwise)."""
    if outcome.status == "timeout":
        error = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds",
        }
    elif outcome.status == "oom":
        error = {
            "errorType": "Runtime.OutOfMemory",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
        }
    elif outcome.status == "crash":
        error = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: {outcome.exit_description}",
        }
    else:
        return None
    return json.dumps(error).encode()


def invocation_lines(
    outcome: Outcome, request_id: str, version: str, memory_mb: int, timeout_s: float
) -> list[tuple[int, str]]:
    """The log events of one invocation, in the order Lambda writes them."""
    start_ms = (outcome.init_output[-1][0] if outcome.init_output else None) or (
        outcome.output[0][0] if outcome.output else int(time.time() * 1000)
    )
    lines: list[tuple[int, str]] = list(outcome.init_output)
    lines.append((start_ms, f"START RequestId: {request_id} Version: {version}"))
    lines.extend(outcome.output)
    now = int(time.time() * 1000)
    if outcome.status in ("crash", "oom"):
        error_type = "Runtime.OutOfMemory" if outcome.status == "oom" else "Runtime.ExitError"
        description = (
            "Runtime exited with error: signal: killed"
            if outcome.status == "oom"
            else outcome.exit_description
        )
        lines.append((now, f"RequestId: {request_id} Error: {description}\n{error_type}"))
    if outcome.status == "init_error":
        lines.append(
            (
                now,
                f"RequestId: {request_id} Error: Runtime exited with error: exit status 1\nRuntime.ExitError",
            )
        )
    lines.append((now, f"END RequestId: {request_id}"))
    lines.append((now, report_line(outcome, request_id, memory_mb)))
    if outcome.status == "timeout":
        lines.append(
            (now, f"{_iso(now)} {request_id} Task timed out after {timeout_s:.2f} seconds")
        )
    return lines


def report_line(outcome: Outcome, request_id: str, memory_mb: int) -> str:
    billed = math.ceil(outcome.duration_ms + (outcome.init_duration_ms or 0.0))
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {outcome.duration_ms:.2f} ms",
        f"Billed Duration: {max(billed, 1)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {outcome.max_memory_mb} MB",
    ]
    if outcome.init_duration_ms is not None:
        parts.append(f"Init Duration: {outcome.init_duration_ms:.2f} ms")
    if outcome.status == "timeout":
        parts.append("Status: timeout")
    elif outcome.status in ("crash", "oom", "init_error"):
        parts.append("Status: error")
        parts.append(
            "Error Type: "
            + {
                "crash": "Runtime.ExitError",
                "oom": "Runtime.OutOfMemory",
                "init_error": "Runtime.ExitError",
            }[outcome.status]
        )
    return "\t".join(parts) + "\t"


def tail(lines: Sequence[tuple[int, str]]) -> str:
    """LogType=Tail: base64 of the last 4 KB of the invocation's log."""
    text = "".join(line + "\n" for _, line in lines).encode()
    return base64.b64encode(text[-TAIL_BYTES:]).decode()


class LogWriter:
    """Puts log events into moto's Logs backend; one lock because that backend is not thread-safe.

    A message longer than an event may be (256 KB with its 26 bytes of overhead) becomes several
    events, as Lambda splits long lines (the worker's output arrives split already).
    """

    def __init__(self, account_id: str, region: str) -> None:
        self._backend = logs_backends[account_id][region]
        self._lock = threading.Lock()

    def write(
        self, group: str, stream: str, lines: Sequence[tuple[int, str]], create_group: bool
    ) -> bool:
        """Append events, creating group/stream as Lambda would; False if the group is missing."""
        if not lines:
            return True
        events: list[dict[str, object]] = []
        last = 0
        for stamp, message in lines:
            last = max(last, stamp)
            for piece in split_message(message):  # CloudWatch Logs' 256 KB per event
                events.append({"timestamp": last, "message": piece})
        with self._lock:
            if group not in self._backend.groups:
                if not create_group:
                    return False
                self._backend.ensure_log_group(group)
            self._backend.ensure_log_stream(group, stream)
            self._backend.put_log_events(group, stream, events)
        return True
