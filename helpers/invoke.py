"""Invoking the function and reading what it says: payloads, errors, log tails, REPORT lines.

Everything here goes through the public Lambda and CloudWatch Logs APIs, so it behaves the same
against the mock account and a live one. Two habits of real AWS are allowed for: log events reach
CloudWatch Logs seconds after a call returns (:func:`report_lines` waits for them in live mode),
and a call to a new execution environment may report no ``Init Duration`` because Lambda
initialised the environment before the call arrived (:func:`pre_initialised`).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers.session import Account

REPORT_FIELDS = {
    "duration_ms": r"Duration: ([\d.]+) ms",
    "billed_ms": r"Billed Duration: ([\d.]+) ms",
    "memory_mb": r"Memory Size: (\d+) MB",
    "max_memory_mb": r"Max Memory Used: (\d+) MB",
    "init_ms": r"Init Duration: ([\d.]+) ms",
}
REQUEST_ID = re.compile(r"^(?:REPORT|START|END) RequestId: (\S+)", re.MULTILINE)

LIVE_LOG_WAIT_S = 30.0
"""How long :func:`report_lines` waits in live mode for an invocation's lines to reach the logs."""


class ReportLinesMissing(TimeoutError):
    """CloudWatch Logs has no REPORT line yet for some invocations, after waiting."""

    def __init__(self, missing: list[str], waited_s: float, group: str) -> None:
        self.missing = missing
        shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
        super().__init__(
            f"{group} has no REPORT line yet for {len(missing)} invocation(s) ({shown}) after "
            f"waiting {waited_s:.0f} s. On AWS, log events reach CloudWatch Logs some seconds "
            "after the call returns; run the cell again in a minute."
        )


@dataclass
class Invocation:
    """One call of the function, as the caller sees it."""

    status_code: int
    payload: Any
    function_error: str | None
    log_tail: str
    executed_version: str | None
    client_ms: float
    report: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.function_error is None and 200 <= self.status_code < 300

    @property
    def cold(self) -> bool:
        """The call waited for its environment's INIT (its REPORT line has an Init Duration).

        On AWS the first call to a new environment may have none: Lambda can initialise an
        environment before any call arrives (proactive initialisation).
        """
        return "init_ms" in self.report

    @property
    def request_id(self) -> str | None:
        """The invocation's request id, read from the log tail (None without a tail)."""
        found = REQUEST_ID.findall(self.log_tail)
        return found[-1] if found else None

    def error_message(self) -> dict[str, Any] | None:
        """For a handler error: the JSON our handler put in errorMessage (httpStatus etc.)."""
        if not self.function_error or not isinstance(self.payload, dict):
            return None
        try:
            return json.loads(self.payload.get("errorMessage", ""))
        except ValueError:
            return None


def invoke(
    account: Account,
    event: Any,
    *,
    function_name: str | None = None,
    log_tail: bool = True,
    invocation_type: str = "RequestResponse",
) -> Invocation:
    """Invoke synchronously (by default) and decode the answer and the log tail."""
    lam = account.client("lambda")
    arguments: dict[str, Any] = {
        "FunctionName": function_name or account.names.function_name,
        "InvocationType": invocation_type,
        "Payload": json.dumps(event).encode(),
    }
    if log_tail and invocation_type == "RequestResponse":
        arguments["LogType"] = "Tail"
    started = time.perf_counter()
    response = lam.invoke(**arguments)
    body = response["Payload"].read()
    client_ms = (time.perf_counter() - started) * 1000
    tail = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = body.decode("utf-8", "replace")
    return Invocation(
        status_code=response["StatusCode"],
        payload=payload,
        function_error=response.get("FunctionError"),
        log_tail=tail,
        executed_version=response.get("ExecutedVersion"),
        client_ms=client_ms,
        report=parse_report(tail),
    )


def parse_report(text: str) -> dict[str, float]:
    """The numbers of the last REPORT line in ``text`` (empty if there is none)."""
    lines = [line for line in text.splitlines() if line.startswith("REPORT ")]
    if not lines:
        return {}
    found = {}
    for name, pattern in REPORT_FIELDS.items():
        match = re.search(pattern, lines[-1])
        if match:
            found[name] = float(match.group(1))
    return found


def force_cold_start(account: Account, function_name: str | None = None) -> None:
    """Retire the function's warm environments by changing its configuration.

    Lambda starts new execution environments after any configuration change; a harmless
    environment variable with a new value is the usual trick (in both modes).
    """
    from helpers.deploy import wait_until_ready

    lam = account.client("lambda")
    name = function_name or account.names.function_name
    variables = (
        lam.get_function_configuration(FunctionName=name)
        .get("Environment", {})
        .get("Variables", {})
    )
    variables = {**variables, "COLD_START_MARKER": str(time.time_ns())}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    wait_until_ready(account, name)


def measure_latency(
    account: Account, event: Any, calls: int = 10, *, cold_starts: int = 1
) -> pd.DataFrame:
    """``cold_starts`` cold calls (forced), each followed by warm ones; one row per call."""
    rows = []
    warm_per_cold = max(1, (calls - cold_starts) // max(1, cold_starts))
    for _ in range(cold_starts):
        force_cold_start(account)
        for index in range(1 + warm_per_cold):
            call = invoke(account, event)
            if not call.ok:
                raise RuntimeError(f"the function failed while measuring: {call.payload}")
            rows.append(
                {
                    "call": len(rows) + 1,
                    "start": "cold" if call.cold else "warm",
                    "client_ms": round(call.client_ms, 1),
                    "duration_ms": call.report.get("duration_ms"),
                    "billed_ms": call.report.get("billed_ms"),
                    "init_ms": call.report.get("init_ms"),
                    "max_memory_mb": call.report.get("max_memory_mb"),
                    "first_after_update": index == 0,
                    "request_id": call.request_id,
                }
            )
    return pd.DataFrame(rows).set_index("call")


def pre_initialised(latencies: pd.DataFrame) -> pd.DataFrame:
    """The forced cold starts (first calls after an update) that report no Init Duration.

    On AWS these are new environments that Lambda initialised before the call arrived
    (proactive initialisation); the mock account always initialises on the first call.
    """
    return latencies[latencies["first_after_update"] & latencies["init_ms"].isna()]


def latency_summary(latencies: pd.DataFrame) -> pd.DataFrame:
    """Median client-side latency and billed duration, cold vs warm, next to 2017's figures."""
    summary = latencies.groupby("start")[
        ["client_ms", "duration_ms", "billed_ms", "init_ms"]
    ].median()
    summary["calls"] = latencies.groupby("start").size()
    summary["2017 (ms)"] = summary.index.map({"cold": 658.93, "warm": 200.0})
    return summary.round(1)


def report_lines(
    account: Account,
    function_name: str | None = None,
    limit: int = 20,
    *,
    request_ids: Iterable[str | None] = (),
    timeout_s: float | None = None,
    poll_s: float = 2.0,
) -> list[str]:
    """The REPORT lines in the function's CloudWatch Logs group, oldest first.

    With ``request_ids``, wait until the REPORT line of each of those invocations is there:
    on AWS an invocation's log events reach CloudWatch Logs seconds after the call returns.
    ``timeout_s`` defaults to :data:`LIVE_LOG_WAIT_S` in live mode and to 0 in mock mode (the
    mock account writes the logs before ``invoke`` returns). Raises :class:`ReportLinesMissing`
    when some are still missing after ``timeout_s``.
    """
    logs = account.client("logs")
    group = f"/aws/lambda/{function_name or account.names.function_name}"
    wanted = {request_id for request_id in request_ids if request_id}
    if timeout_s is None:
        timeout_s = 0.0 if account.settings.is_mock else LIVE_LOG_WAIT_S
    started = time.monotonic()
    while True:
        lines: list[str] = []
        try:
            for page in logs.get_paginator("filter_log_events").paginate(
                logGroupName=group, filterPattern="REPORT"
            ):
                lines += [event["message"].rstrip() for event in page["events"]]
        except ClientError as error:  # on AWS the group itself may not be there yet
            if not wanted or error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        missing = wanted - set(REQUEST_ID.findall("\n".join(lines)))
        waited = time.monotonic() - started
        if not missing:
            return lines[-limit:]
        if waited >= timeout_s:
            raise ReportLinesMissing(sorted(missing), waited, group)
        time.sleep(min(poll_s, timeout_s - waited))


def error_table(account: Account, events: dict[str, Any]) -> pd.DataFrame:
    """Invoke once per named event; one row each with the function error and our JSON fields."""
    rows = []
    for label, event in events.items():
        call = invoke(account, event, log_tail=False)
        message = call.error_message() or {}
        rows.append(
            {
                "input": label,
                "StatusCode": call.status_code,
                "FunctionError": call.function_error,
                "errorType": message.get("errorType"),
                "httpStatus": message.get("httpStatus"),
                "message": message.get("message", call.payload),
            }
        )
    return pd.DataFrame(rows).set_index("input")
