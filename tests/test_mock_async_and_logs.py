"""The mock account's asynchronous queues, log splitting, idle memory limit and response limit.

Each behaviour is checked against what AWS does: one queue per function, dropped with the
function and bounded in the mock; log events of at most 256 KB; MemorySize applied to idle
environments too; a response over 6 MB refused without being read.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers.mock.awslambda.environment import ExecutionEnvironment
from helpers.mock.awslambda.output import EVENT_MESSAGE_LIMIT, LineSplitter, OutputCapture
from helpers.mock.awslambda.wire_runtime_api import RESPONSE_LIMIT

GATED = """
import os, time

def lambda_handler(event, context):
    deadline = time.time() + 25
    while not os.path.exists(event["gate"]) and time.time() < deadline:
        time.sleep(0.02)
    with open(event["log"], "a") as log:
        log.write(event.get("tag", "ran") + "\\n")
    if event.get("fail"):
        raise RuntimeError("asked to fail")
"""

# The handlers here meet the test at gates and logs in tmp_path, on this machine's file
# system: run them unsandboxed (tests/test_mock_sandbox.py covers the sandbox).
MOCK_SANDBOX = False


def _wait_for(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _event(client, name: str, **payload) -> None:
    response = client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    assert response["StatusCode"] == 202


@pytest.fixture
def no_retries(mock_session):
    return mock_session.client("lambda", config=Config(retries={"total_max_attempts": 1}))


# -- Row 12: asynchronous queues -------------------------------------------------------------------
def test_a_busy_functions_queue_does_not_delay_another(mock_session, mock_function, tmp_path):
    """12 events behind reserved concurrency 1 used to occupy every event thread of the account."""
    client = mock_session.client("lambda")
    gate, busy_log, other_log = tmp_path / "gate", tmp_path / "busy.log", tmp_path / "other.log"
    busy = mock_function(GATED, Timeout=30)
    client.put_function_concurrency(FunctionName=busy, ReservedConcurrentExecutions=1)
    other = mock_function(GATED, Timeout=30)
    try:
        for n in range(12):
            _event(client, busy, gate=str(gate), log=str(busy_log), tag=f"busy{n}")
        (tmp_path / "open").touch()
        _event(client, other, gate=str(tmp_path / "open"), log=str(other_log))
        assert _wait_for(other_log.exists), "the other function's event waited behind the queue"
        assert _lines(busy_log) == [], "the busy function is still held at its first event"
    finally:
        gate.touch()
    assert _wait_for(lambda: len(_lines(busy_log)) == 12)
    assert _lines(busy_log) == [f"busy{n}" for n in range(12)], "its own queue ran in order"


def test_a_deleted_functions_queued_events_are_dropped(
    mock_account, mock_session, mock_function, tmp_path
):
    client = mock_session.client("lambda")
    service = mock_account.lambda_service
    gate, log = tmp_path / "gate", tmp_path / "ran.log"
    name = mock_function(GATED, Timeout=30)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    try:
        for n in range(5):
            _event(client, name, gate=str(gate), log=str(log), tag=f"e{n}", pad="x" * 50_000)
        assert _wait_for(lambda: any(e.state == "busy" for e in service.environments(name))), (
            "the first event is running"
        )
        client.delete_function(FunctionName=name)
    finally:
        gate.touch()
    assert _wait_for(lambda: service.live_environment_count(name) == 0 and _lines(log) == ["e0"]), (
        "the running event ends"
    )
    time.sleep(1.0)  # what was still queued would run now (it used to)
    assert _lines(log) == ["e0"], "only the event already running when the function was deleted"
    assert service.queued_events(name) == (0, 0), "nothing of the deleted function is held"


def test_queued_events_are_bounded_per_function_and_account(
    mock_account, mock_function, no_retries, tmp_path, monkeypatch
):
    queues = mock_account.lambda_service.event_queues
    assert _wait_for(lambda: queues.held() == (0, 0)), "earlier tests' events are done"
    gate, log = tmp_path / "gate", tmp_path / "ran.log"
    first = mock_function(GATED, Timeout=30)
    second = mock_function(GATED, Timeout=30)

    def refused(name: str, **payload) -> str:
        with pytest.raises(ClientError) as raised:
            _event(no_retries, name, gate=str(gate), log=str(log), **payload)
        error = raised.value.response
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        return error["Error"]["Message"]

    try:
        monkeypatch.setattr(queues, "max_events_per_function", 3)
        for _ in range(3):
            _event(no_retries, first, gate=str(gate), log=str(log))
        message = refused(first)
        assert "at most 3 events per function" in message and "not queued" in message
        assert "6 hours" in message, "the message says AWS would keep it"

        monkeypatch.setattr(queues, "max_bytes_per_function", 2_500)
        _event(no_retries, second, gate=str(gate), log=str(log), pad="y" * 1_000)
        assert "2,500 bytes of events per function" in refused(second, pad="y" * 1_500)

        monkeypatch.setattr(queues, "max_bytes_per_function", 10**9)
        monkeypatch.setattr(queues, "max_events", queues.held()[0] + 1)
        _event(no_retries, second, gate=str(gate), log=str(log))
        assert "events in the account" in refused(second)
    finally:
        gate.touch()
    assert _wait_for(lambda: queues.held() == (0, 0)), "held events are released when they ran"
    assert len(_lines(log)) == 5, "every accepted event ran, none of the refused ones"


def test_retries_after_function_errors_still_happen(
    mock_account, mock_session, mock_function, tmp_path
):
    """Retries 1 and 2 minutes (scaled: 1 s and 2 s at time_scale 60) after a function error."""
    client = mock_session.client("lambda")
    service = mock_account.lambda_service
    (tmp_path / "open").touch()
    retried, once = tmp_path / "retried.log", tmp_path / "once.log"
    default = mock_function(GATED)
    no_retry = mock_function(GATED)
    client.put_function_event_invoke_config(FunctionName=no_retry, MaximumRetryAttempts=0)
    _event(client, default, gate=str(tmp_path / "open"), log=str(retried), fail=True)
    _event(client, no_retry, gate=str(tmp_path / "open"), log=str(once), fail=True)
    assert _wait_for(lambda: len(_lines(retried)) == 3, timeout_s=12)
    assert _wait_for(lambda: service.queued_events(default) == (0, 0))
    assert _wait_for(lambda: service.queued_events(no_retry) == (0, 0))
    assert len(_lines(retried)) == 3, "the first attempt and two retries"
    assert len(_lines(once)) == 1, "MaximumRetryAttempts=0 is honoured"


# -- Row 13: log lines ------------------------------------------------------------------------------
def test_line_splitter_bounds_the_partial_line_and_splits_at_256_kb():
    """A 2 MB line arriving in 64 KB reads: the unfinished line held never exceeds one event plus
    one read (the quadratic reader held, and re-copied, all of it), and the pieces add up."""
    splitter = LineSplitter()
    chunk = b"x" * 65_536
    pieces: list[bytes] = []
    most_held = 0
    for _ in range(32):
        pieces += splitter.feed(chunk)
        most_held = max(most_held, splitter.buffered)
    pieces += splitter.feed(b"tail\nnext line\n")
    assert most_held <= EVENT_MESSAGE_LIMIT + len(chunk)
    assert splitter.buffered == 0 and splitter.flush() == []
    assert pieces[-1] == b"next line"
    long_line = pieces[:-1]
    assert b"".join(long_line) == chunk * 32 + b"tail"
    assert all(len(piece) == EVENT_MESSAGE_LIMIT for piece in long_line[:-1])
    assert 0 < len(long_line[-1]) <= EVENT_MESSAGE_LIMIT


def test_splitting_never_cuts_a_utf8_character():
    splitter = LineSplitter(limit=10)
    text = "é" * 12 + "€" * 5  # 2- and 3-byte characters across every cut
    pieces = splitter.feed(text.encode()) + splitter.flush()
    assert "".join(piece.decode("utf-8") for piece in pieces) == text  # strict: nothing cut
    assert all(len(piece) <= 10 for piece in pieces)


def test_output_capture_splits_a_long_line_from_a_pipe():
    read_end, write_end = os.pipe()
    capture = OutputCapture(read_end)
    data = b"z" * 2_000_000

    def writer() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data + b"\nafter\n")

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    messages = [message for _, message in capture.finish()]
    assert messages[-1] == "after"
    assert "".join(messages[:-1]) == data.decode()
    assert max(len(m.encode()) for m in messages) <= EVENT_MESSAGE_LIMIT
    assert len(messages[:-1]) == -(-len(data) // EVENT_MESSAGE_LIMIT)


def _logged_messages(mock_session, name: str) -> list[str]:
    """Invoke the function once (it must answer "done"); the messages of its log group."""
    client = mock_session.client("lambda")
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == "done"
    logs = mock_session.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    return [event["message"] for event in events]


def test_a_long_line_becomes_several_log_events(mock_account, mock_session, mock_function):
    source = """
    import sys

    def lambda_handler(event, context):
        sys.stdout.write("w" * 2_000_000)  # no newline
        sys.stdout.flush()
        return "done"
    """
    messages = _logged_messages(mock_session, mock_function(source, MemorySize=256))
    pieces = [message for message in messages if message.startswith("w")]
    assert "".join(pieces) == "w" * 2_000_000
    assert len(pieces) == 8, "262,118-byte events: 7 full ones and the rest"
    assert all(len(piece.encode()) <= EVENT_MESSAGE_LIMIT for piece in pieces)


def test_output_written_while_signals_arrive_is_all_logged(
    mock_account, mock_session, mock_function, monkeypatch
):
    """A signal that cuts a pipe write short must not cut the output short.

    Unbuffered text streams (PYTHONUNBUFFERED) drop the rest of a partial write. Lambda does
    not set it, and the runtime flushes every write through a buffered stream, so a learner's
    shell that sets it must not reach the function.
    """
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    source = """
    import signal, sys

    def lambda_handler(event, context):
        signal.signal(signal.SIGALRM, lambda *_: None)
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)  # interrupt the blocked writes
        try:
            sys.stdout.write("s" * 3_000_000)
            sys.stdout.flush()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return "done"
    """
    messages = _logged_messages(mock_session, mock_function(source, MemorySize=256))
    written = sum(len(message) for message in messages if message.startswith("s"))
    assert written == 3_000_000


def test_one_invocations_output_is_bounded(mock_account, mock_session, mock_function):
    source = """
    def lambda_handler(event, context):
        for n in range(5_000):
            print(f"{n:05d} " + "y" * 1_018)  # 5,000 lines of 1 KB: 5 MB
        print("LAST")
        return "done"
    """
    name = mock_function(source)
    client = mock_session.client("lambda")
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read()) == "done"
    stream = mock_account.lambda_service.environments(name)[0].log_stream
    logs = mock_session.client("logs")
    head = logs.get_log_events(
        logGroupName=f"/aws/lambda/{name}", logStreamName=stream, startFromHead=True, limit=3
    )["events"]
    assert head[0]["message"].startswith("START RequestId:")
    note = head[1]["message"]
    assert note.startswith("[mock account]") and "were dropped" in note
    assert "keeps the last 4,194,304 bytes of one invocation's output" in note
    assert int(head[2]["message"][:5]) > 0, "what follows is the output, its start dropped"
    messages = [
        e["message"]
        for e in logs.filter_log_events(
            logGroupName=f"/aws/lambda/{name}", logStreamNames=[stream]
        )["events"]
    ]
    kept = [m for m in messages if m[:5].isdigit()]
    assert kept[-1].startswith("04999 ") and "LAST" in messages, "the end of the output is kept"
    assert 3_900 <= len(kept) < 4_100, "about 4 MB of 1 KB lines"


# -- Row 14: MemorySize while idle ------------------------------------------------------------------
def test_memory_size_applies_to_an_idle_environment(mock_account, mock_session, mock_function):
    source = """
    import os, threading, time

    def grow():
        time.sleep(0.5)  # after the invocation has ended
        blob = b"m" * (300 * 1024 * 1024)
        time.sleep(60)

    def lambda_handler(event, context):
        threading.Thread(target=grow, daemon=True).start()
        return os.getpid()
    """
    name = mock_function(source, MemorySize=128)
    client = mock_session.client("lambda")
    service = mock_account.lambda_service
    client.invoke(FunctionName=name)
    pid = service.environments(name)[0].pid  # the worker's pid on this machine
    assert _wait_for(lambda: not os.path.exists(f"/proc/{pid}")), "the idle worker was stopped"
    assert service.live_environment_count(name) == 0
    logs = mock_session.client("logs")

    def said_why() -> bool:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        return any("more than its MemorySize (128 MB)" in e["message"] for e in events)

    assert _wait_for(said_why, timeout_s=5), "its log stream says why it was stopped"
    again = client.invoke(FunctionName=name)
    assert "FunctionError" not in again
    assert json.loads(again["Payload"].read()) != pid, "a new environment serves the next call"


# -- Row 15: response over the limit --------------------------------------------------------------
def test_a_response_over_the_limit_is_not_read(mock_session, mock_function, monkeypatch):
    received: list[int] = []
    original = ExecutionEnvironment.complete

    def recording(self, request_id, kind, body, error_type):
        received.append(len(body))
        return original(self, request_id, kind, body, error_type)

    monkeypatch.setattr(ExecutionEnvironment, "complete", recording)
    source = """
    def lambda_handler(event, context):
        return "r" * event["size"]
    """
    name = mock_function(source, MemorySize=512)
    client = mock_session.client("lambda")
    response = client.invoke(FunctionName=name, Payload=b'{"size": 16000000}', LogType="Tail")
    body = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    assert received and max(received) <= RESPONSE_LIMIT, "the mock never held the 16 MB"
    small = client.invoke(FunctionName=name, Payload=b'{"size": 5}')
    assert json.loads(small["Payload"].read()) == "rrrrr", "the next invocation works"
