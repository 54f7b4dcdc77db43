"""Habits of real AWS that helpers.invoke allows for: CloudWatch Logs lag, proactive initialisation.

On AWS an invocation's log events reach FilterLogEvents seconds after the call returns, so
``report_lines`` polls for the REPORT lines of the calls it is told about (live mode only, up to
30 s). A first call after a configuration change may have no ``Init Duration`` because Lambda
initialised its environment before the call arrived; ``pre_initialised`` picks those calls out.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pandas as pd
import pytest
from botocore.exceptions import ClientError

from helpers import invoke
from helpers.config import Settings, names_for
from helpers.session import Account

ACCOUNT_ID = "123456789012"
ID_1 = "11111111-1111-4111-8111-111111111111"
ID_2 = "22222222-2222-4222-8222-222222222222"
SOURCE = "def lambda_handler(event, context):\n    return {'double': event['n'] * 2}\n"


def report(request_id: str, init: bool = False) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: 2.00 ms\tBilled Duration: 3 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 60 MB\t"
    )
    return line + ("Init Duration: 300.00 ms\t" if init else "")


class LaggingLogs:
    """A CloudWatch Logs client whose events become visible only after some reads.

    ``batches[i]`` is what the i-th read adds (the last one repeats); an exception in a batch is
    raised by that read instead.
    """

    def __init__(self, *batches: list[str] | Exception) -> None:
        self.batches = list(batches)
        self.reads = 0
        self.visible: list[str] = []
        self.requests: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> LaggingLogs:
        assert operation == "filter_log_events"
        return self

    def paginate(self, **arguments: Any):
        self.requests.append(arguments)
        batch = self.batches[min(self.reads, len(self.batches) - 1)]
        self.reads += 1
        if isinstance(batch, Exception):
            raise batch
        self.visible += batch
        yield {"events": [{"message": message + "\n"} for message in self.visible]}


def account_with(logs: Any, mode: str = "live", session: Any = None, **names: str) -> Account:
    prefix = "alice" if mode == "live" else ""
    account_names = names_for(mode, prefix, ACCOUNT_ID)
    if names:
        account_names = type(account_names)(**{**_fields(account_names), **names})
    clients = {"logs": logs} if logs is not None else {}
    return Account(
        settings=Settings(mode=mode, region="us-east-1", prefix=prefix),
        session=session,
        account_id=ACCOUNT_ID,
        caller_arn=f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
        names=account_names,
        _clients=clients,
    )


def _fields(names: Any) -> dict[str, str]:
    return {
        key: getattr(names, key)
        for key in (
            "models_bucket",
            "handlers_bucket",
            "model_key",
            "policy_name",
            "role_name",
            "function_name",
        )
    }


class FakeClock:
    """Stands in for the ``time`` module inside helpers.invoke only: no real waiting.

    ``monotonic`` and ``sleep`` are simulated; everything else is the real module's.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "never sleep for nothing"
        self.sleeps.append(seconds)
        self.now += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(invoke, "time", fake)  # the module's reference, not the global module
    return fake


class NoSleep:
    """``time`` for helpers.invoke, failing the test if it ever sleeps."""

    def sleep(self, seconds: float) -> None:
        raise AssertionError(f"mock mode slept {seconds} s")

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


# -- report_lines waits for late log events (live mode) ---------------------------------------------
def test_live_mode_polls_until_the_expected_report_lines_arrive(clock):
    logs = LaggingLogs([], [report(ID_1)], [report(ID_2)])
    account = account_with(logs)
    lines = invoke.report_lines(account, request_ids=[ID_1, ID_2], poll_s=2.0)
    assert logs.reads == 3, "it read again until both lines were there, and then stopped"
    assert lines == [report(ID_1).rstrip(), report(ID_2).rstrip()]
    assert clock.sleeps == [2.0, 2.0]
    assert logs.requests[0] == {
        "logGroupName": "/aws/lambda/AliceServerlessPOCAdmission",
        "filterPattern": "REPORT",
    }


def test_live_mode_gives_up_after_30_seconds_naming_what_is_missing(clock):
    logs = LaggingLogs([report(ID_1)])
    account = account_with(logs)
    with pytest.raises(invoke.ReportLinesMissing) as missing:
        invoke.report_lines(account, request_ids=[ID_1, ID_2], poll_s=4.0)
    assert missing.value.missing == [ID_2]
    assert isinstance(missing.value, TimeoutError)
    message = str(missing.value)
    assert ID_2 in message and ID_1 not in message
    assert "/aws/lambda/AliceServerlessPOCAdmission" in message and "30 s" in message
    assert "run the cell again" in message
    assert math.isclose(sum(clock.sleeps), invoke.LIVE_LOG_WAIT_S)
    assert invoke.LIVE_LOG_WAIT_S == 30
    assert max(clock.sleeps) <= 4.0 and logs.reads == len(clock.sleeps) + 1


def test_the_bound_can_be_set_and_is_kept_in_real_time():
    logs = LaggingLogs([])
    started = time.monotonic()
    with pytest.raises(invoke.ReportLinesMissing):
        invoke.report_lines(account_with(logs), request_ids=[ID_1], timeout_s=0.3, poll_s=0.05)
    waited = time.monotonic() - started
    assert 0.3 <= waited < 3
    assert logs.reads >= 3


def test_a_log_group_that_is_not_there_yet_is_read_again(clock):
    not_yet = ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": "log group does not exist"}},
        "FilterLogEvents",
    )
    logs = LaggingLogs(not_yet, [report(ID_1)])
    assert invoke.report_lines(account_with(logs), request_ids=[ID_1]) == [report(ID_1).rstrip()]
    assert logs.reads == 2
    # Asked for no particular call, a missing group is an error, as before.
    with pytest.raises(ClientError):
        invoke.report_lines(account_with(LaggingLogs(not_yet)))
    # Other errors are never swallowed.
    denied = ClientError({"Error": {"Code": "AccessDeniedException"}}, "FilterLogEvents")
    with pytest.raises(ClientError, match="AccessDenied"):
        invoke.report_lines(account_with(LaggingLogs(denied)), request_ids=[ID_1])


def test_without_request_ids_it_reads_once_and_keeps_the_limit(clock):
    logs = LaggingLogs([report(ID_1), report(ID_2)])
    assert invoke.report_lines(account_with(logs), limit=1) == [report(ID_2).rstrip()]
    assert logs.reads == 1 and clock.sleeps == []


def test_mock_mode_does_not_wait(clock):
    logs = LaggingLogs([], [report(ID_1)])
    with pytest.raises(invoke.ReportLinesMissing, match=ID_1):
        invoke.report_lines(account_with(logs, mode="mock"), request_ids=[ID_1])
    assert logs.reads == 1 and clock.sleeps == [], "the mock writes logs synchronously"


# -- request ids and proactive initialisation --------------------------------------------------------
def test_request_id_comes_from_the_log_tail():
    tail = f"START RequestId: {ID_1} Version: $LATEST\nEND RequestId: {ID_1}\n{report(ID_1)}\n"
    call = invoke.Invocation(200, {}, None, tail, "$LATEST", 1.0, invoke.parse_report(tail))
    assert call.request_id == ID_1
    assert invoke.Invocation(200, {}, None, "", None, 1.0).request_id is None


def test_pre_initialised_are_first_calls_after_a_change_without_init_duration():
    latencies = pd.DataFrame(
        {
            "start": ["cold", "warm", "warm", "warm", "cold"],
            "init_ms": [650.0, None, None, None, 640.0],
            "first_after_update": [True, False, True, False, True],
        },
        index=pd.Index([1, 2, 3, 4, 5], name="call"),
    )
    assert list(invoke.pre_initialised(latencies).index) == [3]
    assert invoke.pre_initialised(latencies.drop(index=3)).empty


# -- against the mock account ------------------------------------------------------------------------
def test_mock_invocations_are_found_by_request_id_at_once(mock_account, mock_function, monkeypatch):
    monkeypatch.setattr(invoke, "time", NoSleep())
    name = mock_function(SOURCE)
    account = account_with(None, mode="mock", session=mock_account.session(), function_name=name)
    calls = [invoke.invoke(account, {"n": n}) for n in (1, 2, 3)]
    assert [call.payload for call in calls] == [{"double": 2}, {"double": 4}, {"double": 6}]
    ids = [call.request_id for call in calls]
    assert all(ids) and len(set(ids)) == 3
    lines = invoke.report_lines(account, request_ids=ids)
    assert [line.split("\t")[0] for line in lines] == [f"REPORT RequestId: {i}" for i in ids]
    with pytest.raises(invoke.ReportLinesMissing):
        invoke.report_lines(account, request_ids=[*ids, ID_1])


def test_measure_latency_records_request_ids_and_the_mock_always_reports_init(
    mock_account, mock_function
):
    name = mock_function(SOURCE)
    account = account_with(None, mode="mock", session=mock_account.session(), function_name=name)
    latencies = invoke.measure_latency(account, {"n": 1}, calls=4, cold_starts=2)
    assert latencies["request_id"].notna().all() and latencies["request_id"].is_unique
    assert latencies["first_after_update"].sum() == 2
    assert (latencies.loc[latencies["first_after_update"], "start"] == "cold").all()
    assert invoke.pre_initialised(latencies).empty
    lines = invoke.report_lines(account, request_ids=latencies["request_id"], limit=100)
    by_id = {line.split("\t")[0].split()[-1]: line for line in lines}
    for row in latencies.itertuples():
        assert ("Init Duration" in by_id[row.request_id]) == row.first_after_update
