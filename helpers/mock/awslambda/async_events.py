"""Asynchronous invocations (``Event``, schedules): one bounded queue per function, as in Lambda.

An event is accepted at once (202) into its function's queue. While a queue holds events, one
dispatcher thread takes them in order, waits for an execution environment within that function's
concurrency (reserved or the account's) and runs each in a thread of its own, so a busy or
throttled function's queue never delays another's. On a function error the event is retried
twice, after 1 and 2 minutes of scaled time (``MaximumRetryAttempts`` of the function's event
invoke config is honoured). Each attempt runs the function's configuration of that moment;
deleting the function drops its queued events and pending retries (one already running ends).

Bounds. AWS keeps asynchronous events for up to 6 hours (2 retries) and documents no count; the
mock holds at most ``max_events_per_function`` events and ``max_bytes_per_function`` payload bytes
per function, and ``max_events``/``max_bytes`` for the account, counting events queued, running
and waiting for a retry. An ``Event`` invoke past a bound is refused with 429
``TooManyRequestsException`` whose message says which bound (boto3 retries 429 by itself); a
retry of an accepted event is never refused.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import LambdaApiError, ServiceShuttingDown

log = logging.getLogger(__name__)

MAX_EVENTS_PER_FUNCTION = 1_000
MAX_BYTES_PER_FUNCTION = 32 * 1024 * 1024
MAX_EVENTS = 10_000
MAX_BYTES = 128 * 1024 * 1024
RETRY_DELAYS_S = (60.0, 120.0)
"""Lambda's waits before the first and the second retry (divided by the account's time scale)."""


class EventQueueFull(LambdaApiError):
    """429: the mock's bound on held asynchronous events is reached (AWS would still queue)."""

    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": message,
                "Reason": "MockAccountEventQueueFull",
                "Type": "User",
            }
        )


class Abandoned(Exception):
    """Raised by the service while waiting for capacity for an event that was dropped."""


@dataclass
class QueuedEvent:
    fn: Any  # the function version as the Invoke call resolved it
    payload: bytes
    request_id: str
    generation: int
    attempt: int = 0


@dataclass
class _Queue:
    key: tuple[str, str]  # (region, function name)
    ready: deque[QueuedEvent] = field(default_factory=deque)
    delayed: list[tuple[float, int, QueuedEvent]] = field(default_factory=list)
    events: int = 0  # queued + running + waiting for a retry
    bytes: int = 0
    generation: int = 0  # bumped when the function is deleted: older events are dropped
    dispatcher: threading.Thread | None = None
    warned: bool = False


Lease = Any  # what ``acquire`` returns and ``run`` takes (the service's environment and cold flag)


class EventQueues:
    """The account's asynchronous event queues; the service supplies how to find and run functions.

    ``resolve(fn)`` returns the function's current configuration, or None once it is deleted;
    ``acquire(fn, abandon)`` waits for an execution environment (raising ``Abandoned`` when
    ``abandon()`` turns true); ``run(fn, lease, event)`` runs the event there and says whether it
    ended in a function error.
    """

    def __init__(
        self,
        *,
        resolve: Callable[[Any], Any | None],
        acquire: Callable[[Any, Callable[[], bool]], Lease],
        run: Callable[[Any, Lease, QueuedEvent], bool],
        time_scale: Callable[[], float],
    ) -> None:
        self._resolve = resolve
        self._acquire = acquire
        self._run = run
        self._time_scale = time_scale
        self.max_events_per_function = MAX_EVENTS_PER_FUNCTION
        self.max_bytes_per_function = MAX_BYTES_PER_FUNCTION
        self.max_events = MAX_EVENTS
        self.max_bytes = MAX_BYTES
        self._cond = threading.Condition()
        self._queues: dict[tuple[str, str], _Queue] = {}
        self._events = 0
        self._bytes = 0
        self._closed = False
        self._threads: set[threading.Thread] = set()
        self._order = itertools.count()

    # -- accepting -------------------------------------------------------------------------------
    def submit(self, fn: Any, payload: bytes, request_id: str) -> None:
        """Queue an event, or raise ``EventQueueFull`` past a bound (nothing then is kept)."""
        key = (str(fn.region), str(fn.function_name))
        with self._cond:
            if self._closed:
                return
            queue = self._queues.setdefault(key, _Queue(key))
            problem = self._over_bound(queue, len(payload))
            if problem:
                if not queue.warned:  # once until the queue has room again
                    queue.warned = True
                    log.warning("mock Lambda: %s", problem)
                self._forget_if_empty(queue)
                raise EventQueueFull(problem)
            queue.events += 1
            queue.bytes += len(payload)
            self._events += 1
            self._bytes += len(payload)
            queue.ready.append(QueuedEvent(fn, payload, request_id, queue.generation))
            self._wake(queue)

    def _over_bound(self, queue: _Queue, size: int) -> str | None:
        name = queue.key[1]
        held = f"{name} holds {queue.events:,} events ({queue.bytes:,} bytes)"
        if queue.events >= self.max_events_per_function:
            bound = f"{self.max_events_per_function:,} events per function; {held}"
        elif queue.bytes + size > self.max_bytes_per_function:
            bound = f"{self.max_bytes_per_function:,} bytes of events per function; {held}"
        elif self._events >= self.max_events:
            bound = f"{self.max_events:,} events in the account, which holds {self._events:,}"
        elif self._bytes + size > self.max_bytes:
            bound = (
                f"{self.max_bytes:,} bytes of events in the account, which holds {self._bytes:,}"
            )
        else:
            return None
        return (
            f"Rate Exceeded. The mock account holds at most {bound}, counting asynchronous events "
            f"queued, running and waiting for a retry; this {size:,}-byte event for {name} was not "
            "queued. Retry once queued events have run (AWS would queue it and keep it for up to 6 "
            "hours)."
        )

    def _wake(self, queue: _Queue) -> None:
        if queue.dispatcher is None and not self._closed:
            queue.dispatcher = threading.Thread(
                target=self._dispatch, args=(queue,), daemon=True, name="mock-lambda-events"
            )
            self._threads.add(queue.dispatcher)
            queue.dispatcher.start()
        self._cond.notify_all()

    # -- dispatching -----------------------------------------------------------------------------
    def _dispatch(self, queue: _Queue) -> None:
        try:
            while (event := self._next(queue)) is not None:
                self._start(queue, event)
        finally:
            with self._cond:
                self._threads.discard(threading.current_thread())

    def _next(self, queue: _Queue) -> QueuedEvent | None:
        """The queue's next due event; None (and the dispatcher ends) once nothing is left."""
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while queue.delayed and queue.delayed[0][0] <= now:
                    queue.ready.append(heapq.heappop(queue.delayed)[2])
                if queue.ready:
                    return queue.ready.popleft()
                if not queue.delayed:
                    break
                self._cond.wait(queue.delayed[0][0] - now)
            queue.dispatcher = None
            self._forget_if_empty(queue)
            return None

    def _start(self, queue: _Queue, event: QueuedEvent) -> None:
        """Resolve the function, wait for an environment, and run the event on a thread of its own."""
        fn = self._resolve(event.fn) if event.generation == queue.generation else None
        if fn is None:
            log.info("mock Lambda: dropped event %s: the function was deleted", event.request_id)
            self._finish(queue, event)
            return

        def abandon() -> bool:
            return self._closed or queue.generation != event.generation

        try:
            lease = self._acquire(fn, abandon)
        except (Abandoned, ServiceShuttingDown):
            self._finish(queue, event)
            return
        except Exception as error:  # e.g. the image cannot be started: a failed attempt
            log.warning("mock Lambda: event %s could not start: %s", event.request_id, error)
            self._after(queue, event, fn, failed=True)
            return
        runner = threading.Thread(
            target=self._execute,
            args=(queue, event, fn, lease),
            daemon=True,
            name="mock-lambda-event",
        )
        with self._cond:
            self._threads.add(runner)
        runner.start()

    def _execute(self, queue: _Queue, event: QueuedEvent, fn: Any, lease: Lease) -> None:
        try:
            failed = self._run(fn, lease, event)
        except ServiceShuttingDown:
            failed = False
        except Exception:
            log.exception("mock Lambda: event %s failed in the emulator", event.request_id)
            failed = True
        finally:
            with self._cond:
                self._threads.discard(threading.current_thread())
        self._after(queue, event, fn, failed=failed)

    def _after(self, queue: _Queue, event: QueuedEvent, fn: Any, *, failed: bool) -> None:
        """Queue a retry after a function error, else let the event go."""
        with self._cond:
            current = event.generation == queue.generation and not self._closed
            if failed and current and event.attempt < max_retries(fn):
                delay = RETRY_DELAYS_S[min(event.attempt, len(RETRY_DELAYS_S) - 1)]
                event.attempt += 1
                due = time.monotonic() + delay / self._time_scale()
                heapq.heappush(queue.delayed, (due, next(self._order), event))
                self._wake(queue)
                return
            self._finish_locked(queue, event)

    def _finish(self, queue: _Queue, event: QueuedEvent) -> None:
        with self._cond:
            self._finish_locked(queue, event)

    def _finish_locked(self, queue: _Queue, event: QueuedEvent) -> None:
        queue.events -= 1
        queue.bytes -= len(event.payload)
        self._events -= 1
        self._bytes -= len(event.payload)
        if queue.events < self.max_events_per_function:
            queue.warned = False
        self._forget_if_empty(queue)
        self._cond.notify_all()

    def _forget_if_empty(self, queue: _Queue) -> None:
        if queue.events == 0 and queue.dispatcher is None and self._queues.get(queue.key) is queue:
            del self._queues[queue.key]

    # -- deleting, introspection, shutdown -------------------------------------------------------
    def drop_deleted(self, function_name: str, exists: Callable[[str, str], bool]) -> int:
        """Drop the queued events and pending retries of a deleted function (in every region
        where ``exists(region, name)`` is false); returns how many were dropped."""
        with self._cond:
            keys = [key for key in self._queues if key[1] == function_name]
        dropped = 0
        for region, name in keys:
            if exists(region, name):
                continue
            with self._cond:
                queue = self._queues.get((region, name))
                if queue is None:
                    continue
                events = list(queue.ready) + [event for _, _, event in queue.delayed]
                queue.ready.clear()
                queue.delayed.clear()
                queue.generation += 1  # the one running, or waiting for capacity, is not retried
                for event in events:
                    self._finish_locked(queue, event)
                dropped += len(events)
        if dropped:
            log.info("mock Lambda: dropped %d queued events of deleted %s", dropped, function_name)
        return dropped

    def held(self, function_name: str | None = None) -> tuple[int, int]:
        """(events, payload bytes) held: queued, running or waiting for a retry."""
        with self._cond:
            if function_name is None:
                return self._events, self._bytes
            queues = [q for key, q in self._queues.items() if key[1] == function_name]
            return sum(q.events for q in queues), sum(q.bytes for q in queues)

    def close(self) -> None:
        """Drop every queued event and stop dispatching (running events end with their workers)."""
        with self._cond:
            self._closed = True
            for queue in list(self._queues.values()):
                events = list(queue.ready) + [event for _, _, event in queue.delayed]
                queue.ready.clear()
                queue.delayed.clear()
                for event in events:
                    self._finish_locked(queue, event)
            self._cond.notify_all()

    def join(self, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0.0))


def max_retries(fn: Any) -> int:
    """Retries after a function error: the event invoke config's MaximumRetryAttempts, else 2."""
    for config in getattr(fn, "event_invoke_config", []) or []:
        value = getattr(config, "config", {}).get("MaximumRetryAttempts")
        if value is not None:
            return int(value)
    return 2
