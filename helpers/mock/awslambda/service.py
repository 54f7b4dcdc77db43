"""The Lambda service emulator (backend): execution environments, concurrency, invokes, retries.

moto keeps the functions' configuration; this class runs them. Per function it keeps a pool of
execution environments: an idle one is reused (warm start), otherwise a new one is started (cold
start) as long as the function's reserved concurrency and the account's concurrency limit allow,
else the synchronous caller gets 429 TooManyRequestsException. Idle environments are retired
after ``idle_timeout_s``; updating a function's code or configuration retires its environments.
Asynchronous invocations (``Event``, schedules) go to their function's bounded queue
(``async_events.py``), wait for capacity there instead and are retried on function errors as
Lambda does (twice, after 1 and 2 minutes of scaled time). MemorySize is enforced on busy and
idle workers alike (``memory.py``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend

from .async_events import Abandoned, EventQueues, QueuedEvent
from .code import CodeStore
from .container import engine_problem
from .environment import ExecutionEnvironment
from .environment_types import Invocation, Outcome, State
from .errors import (
    ACCOUNT_CONCURRENCY_REASON,
    RESERVED_CONCURRENCY_REASON,
    ContainerEngineUnavailable,
    InvalidRuntime,
    ServiceShuttingDown,
    TooManyRequests,
)
from .logs import LogWriter, invocation_lines
from .memory import MemoryGuard
from .provision import build_environment, fingerprint
from .reaper import Reaper
from .wire_invoke import InvokeResult, checked_payload, invoke_result

ENGINE_CHECK_INTERVAL_S = 30.0


@dataclass(frozen=True)
class EnvironmentInfo:
    """A read-only view of one execution environment, for notebooks and tests."""

    id: str
    function_name: str
    version: str
    state: str
    pid: int | None
    invocations: int
    tmp_dir: Path
    log_stream: str
    runtime_api: str
    """host:port of its Runtime API (AWS_LAMBDA_RUNTIME_API)."""


@dataclass
class _Pool:
    environments: list[ExecutionEnvironment]
    starting: int = 0
    peak: int = 0


class LambdaService:
    """Runs moto's Lambda functions in awslambdaric workers, the way the Lambda service does."""

    def __init__(
        self,
        *,
        account_id: str,
        endpoint_url: str,
        work_dir: Path,
        idle_timeout_s: float = 300.0,
        concurrency_limit: int = 10,
        time_scale: float = 1.0,
        proportional_cpu: bool = True,
        sandbox: bool = True,
    ) -> None:
        self.account_id = account_id
        self.endpoint_url = endpoint_url
        self.work_dir = work_dir
        self.idle_timeout_s = idle_timeout_s
        self.concurrency_limit = concurrency_limit
        self.time_scale = time_scale
        self.proportional_cpu = proportional_cpu
        self.sandbox = sandbox
        """Zip workers in a bubblewrap sandbox where available (False: as the notebook's user)."""
        """Image functions get MemorySize / 1,769 MB of a vCPU, as on Lambda (False: no cap)."""
        self._reaper = Reaper()
        self._engine_checked_until = 0.0
        self._code = CodeStore(work_dir / "code")
        self._pools: dict[str, _Pool] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._log_writers: dict[str, LogWriter] = {}
        self._retiring: set[str] = set()
        self.event_queues = EventQueues(
            resolve=self._current_function,
            acquire=lambda fn, abandon: self._acquire(
                fn, fingerprint(fn), wait=True, abandon=abandon
            ),
            run=self._run_event,
            time_scale=lambda: self.time_scale,
        )
        """Asynchronous events per function, with their bounds (``async_events.py``)."""
        self._stop = threading.Event()
        memory = MemoryGuard(
            environments=self._snapshot,
            take_idle=self._take_idle,
            write_logs=self._write_logs,
            stop=self._stop,
        )
        self._threads = [
            threading.Thread(target=memory.run, daemon=True, name="mock-lambda-memory"),
            threading.Thread(target=self._retire_idle, daemon=True, name="mock-lambda-reaper"),
        ]
        for thread in self._threads:
            thread.start()

    # -- introspection ---------------------------------------------------------------------------
    def environments(self, function_name: str | None = None) -> list[EnvironmentInfo]:
        """Live execution environments (all functions, or one)."""
        with self._cond:
            envs = [
                env
                for name, pool in self._pools.items()
                if function_name in (None, name)
                for env in pool.environments
                if env.state is not State.DEAD
            ]
        return [
            EnvironmentInfo(
                env.id,
                env.spec.function_name,
                env.spec.version,
                env.state.value,
                env.pid,
                env.invocations,
                env.tmp_dir,
                env.spec.log_stream,
                env._api.address,
            )
            for env in envs
        ]

    def live_environment_count(self, function_name: str | None = None) -> int:
        return len(self.environments(function_name))

    def peak_environment_count(self, function_name: str) -> int:
        """Most environments the function ever had at once (for checking concurrency limits)."""
        with self._cond:
            pool = self._pools.get(function_name)
            return pool.peak if pool else 0

    def worker_pids(self) -> list[int]:
        return [info.pid for info in self.environments() if info.pid is not None]

    # -- invoke ----------------------------------------------------------------------------------
    def invoke(
        self,
        fn: Any,
        payload: bytes,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
    ) -> InvokeResult:
        """Invoke a moto ``LambdaFunction`` (already resolved to a version) as the Invoke API does."""
        if self._closed:
            raise ServiceShuttingDown()
        payload = checked_payload(payload, invocation_type)
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":  # checks permission and parameters, runs nothing
            if getattr(fn, "package_type", "Zip") != "Image":
                self._check_runnable(fn)
            return InvokeResult(204, b"", request_id)
        self._check_runnable(fn)
        if invocation_type == "Event":
            self.submit_event(fn, payload, request_id)
            return InvokeResult(202, b"", request_id)
        return self._invoke_sync(fn, payload, request_id, wait=False, log_tail=log_tail)

    def invoke_and_wait(self, fn: Any, payload: bytes) -> InvokeResult:
        """Synchronous invoke for moto's internal callers: waits for capacity, returns the log tail."""
        if self._closed:
            raise ServiceShuttingDown()
        self._check_runnable(fn)
        payload = checked_payload(payload, "RequestResponse")
        return self._invoke_sync(fn, payload, str(uuid.uuid4()), wait=True, log_tail=True)

    def submit_event(self, fn: Any, payload: bytes, request_id: str | None = None) -> str:
        """Queue an asynchronous invocation in its function's queue (``EventQueueFull`` past the
        mock's bounds); it waits there for capacity rather than being throttled."""
        request_id = request_id or str(uuid.uuid4())
        self._check_runnable(fn)
        if not self._closed:
            self.event_queues.submit(fn, payload, request_id)
        return request_id

    def queued_events(self, function_name: str | None = None) -> tuple[int, int]:
        """(events, payload bytes) held for asynchronous invocation: queued, running or waiting
        for a retry (all functions, or one)."""
        return self.event_queues.held(function_name)

    def _run_event(
        self, fn: Any, lease: tuple[ExecutionEnvironment, bool], event: QueuedEvent
    ) -> bool:
        """Run one attempt of an event on an acquired environment; True on a function error."""
        env, cold = lease
        result = self._run_acquired(fn, env, cold, event.payload, event.request_id, log_tail=False)
        return result.function_error is not None

    def _current_function(self, fn: Any) -> Any | None:
        """The function version's configuration now (None once it has been deleted)."""
        try:
            return lambda_backend(self.account_id, fn.region).get_function(
                fn.function_name, str(fn.version)
            )
        except Exception:
            return None

    def _function_exists(self, region: str, function_name: str) -> bool:
        try:
            lambda_backend(self.account_id, region).get_function(function_name)
        except Exception:
            return False
        return True

    def _check_runnable(self, fn: Any) -> None:
        if getattr(fn, "package_type", "Zip") == "Image":
            if time.monotonic() < self._engine_checked_until:
                return
            problem = engine_problem()
            if problem:
                raise ContainerEngineUnavailable(problem)
            self._engine_checked_until = time.monotonic() + ENGINE_CHECK_INTERVAL_S
            return
        if not str(fn.run_time or "").startswith("python3"):
            raise InvalidRuntime(fn.run_time)

    def _invoke_sync(
        self, fn: Any, payload: bytes, request_id: str, *, wait: bool, log_tail: bool
    ) -> InvokeResult:
        env, cold = self._acquire(fn, fingerprint(fn), wait=wait)
        return self._run_acquired(fn, env, cold, payload, request_id, log_tail=log_tail)

    def _run_acquired(
        self,
        fn: Any,
        env: ExecutionEnvironment,
        cold: bool,
        payload: bytes,
        request_id: str,
        *,
        log_tail: bool,
    ) -> InvokeResult:
        outcome: Outcome | None = None
        try:
            invocation = Invocation(request_id, payload, fn.function_arn, float(fn.timeout))
            outcome = env.run(invocation, cold)
        finally:
            self._release(env, reusable=outcome is not None and outcome.reusable)
        version = str(fn.version)
        lines = invocation_lines(
            outcome, request_id, version, int(fn.memory_size), float(fn.timeout)
        )
        self._write_logs(env, lines)
        return invoke_result(
            outcome, lines, request_id, version, float(fn.timeout), log_tail=log_tail
        )

    # -- environments ----------------------------------------------------------------------------
    def _acquire(
        self,
        fn: Any,
        fingerprint: str,
        *,
        wait: bool,
        abandon: Callable[[], bool] | None = None,
    ) -> tuple[ExecutionEnvironment, bool]:
        """An environment for ``fn``: a warm one, or a new one within the concurrency limits.

        Past a limit: 429 when not ``wait``ing; else waits, until ``abandon()`` (an event that
        was dropped meanwhile) raises ``Abandoned``.
        """
        name = fn.function_name
        stale: list[ExecutionEnvironment] = []
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise ServiceShuttingDown()
                    if abandon is not None and abandon():
                        raise Abandoned()
                    pool = self._pools.setdefault(name, _Pool([]))
                    for env in [
                        e
                        for e in pool.environments
                        if e.state is State.IDLE and (e.fingerprint != fingerprint or not e.alive)
                    ]:
                        pool.environments.remove(env)
                        stale.append(env)
                    busy = pool.starting + sum(
                        1 for e in pool.environments if e.state in (State.BUSY, State.STARTING)
                    )
                    reserved = fn.reserved_concurrency
                    if reserved is not None and busy >= int(reserved):
                        reason = RESERVED_CONCURRENCY_REASON
                    elif self._busy_total() >= self.concurrency_limit:
                        reason = ACCOUNT_CONCURRENCY_REASON
                    else:
                        idle = [e for e in pool.environments if e.state is State.IDLE]
                        if idle:
                            env = max(idle, key=lambda e: e.last_used)
                            env.state = State.BUSY
                            return env, False
                        stale.extend(self._make_room())
                        pool.starting += 1
                        break
                    if not wait:
                        raise TooManyRequests(reason)
                    self._cond.wait(0.25)
        finally:
            for env in stale:
                env.kill()
        try:
            env = self._new_environment(fn, fingerprint)
        except BaseException:
            with self._cond:
                pool.starting -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            pool.starting -= 1
            env.state = State.BUSY
            pool.environments.append(env)
            pool.peak = max(
                pool.peak, len([e for e in pool.environments if e.state is not State.DEAD])
            )
            if self._closed:
                env.kill()
                raise ServiceShuttingDown()
        return env, True

    def _busy_total(self) -> int:
        return sum(
            pool.starting
            + sum(1 for e in pool.environments if e.state in (State.BUSY, State.STARTING))
            for pool in self._pools.values()
        )

    def _make_room(self) -> list[ExecutionEnvironment]:
        """At the account limit, the least recently used idle environment (any function) goes."""
        live = [e for pool in self._pools.values() for e in pool.environments]
        if len(live) + sum(p.starting for p in self._pools.values()) < self.concurrency_limit:
            return []
        idle = sorted((e for e in live if e.state is State.IDLE), key=lambda e: e.last_used)
        if not idle:
            return []
        victim = idle[0]
        self._pools[victim.spec.function_name].environments.remove(victim)
        return [victim]

    def _new_environment(self, fn: Any, fingerprint: str) -> ExecutionEnvironment:
        env = build_environment(
            fn,
            fingerprint,
            account_id=self.account_id,
            endpoint_url=self.endpoint_url,
            work_dir=self.work_dir,
            code=self._code,
            reaper=self._reaper,
            sandbox=self.sandbox,
            proportional_cpu=self.proportional_cpu,
        )
        env.start()
        return env

    def _write_logs(self, env: ExecutionEnvironment, lines: list[tuple[int, str]]) -> None:
        can_create_group, can_write = env.log_permissions
        if not can_write:
            return
        writer = self._log_writers.get(env.spec.region)
        if writer is None:
            writer = self._log_writers.setdefault(
                env.spec.region, LogWriter(self.account_id, env.spec.region)
            )
        writer.write(env.spec.log_group, env.spec.log_stream, lines, create_group=can_create_group)

    def _release(self, env: ExecutionEnvironment, *, reusable: bool) -> None:
        kill = False
        with self._cond:
            pool = self._pools.get(env.spec.function_name)
            keep = reusable and env.alive and not self._closed and env.id not in self._retiring
            if keep:
                env.state = State.IDLE
                env.last_used = time.monotonic()
            else:
                self._retiring.discard(env.id)
                if pool and env in pool.environments:
                    pool.environments.remove(env)
                kill = True
            self._cond.notify_all()
        if kill:
            env.kill()

    def retire(self, function_name: str) -> int:
        """Retire a function's environments (after an update or delete); busy ones when they finish.

        A deleted function's queued asynchronous events and pending retries go too.
        """
        self.event_queues.drop_deleted(function_name, self._function_exists)
        with self._cond:
            pool = self._pools.get(function_name)
            if pool is None:
                return 0
            idle = [e for e in pool.environments if e.state is State.IDLE]
            for env in idle:
                pool.environments.remove(env)
            busy = [e for e in pool.environments if e.state is not State.IDLE]
            self._retiring.update(e.id for e in busy)
        for env in idle:
            env.kill()
        return len(idle) + len(busy)

    # -- background ------------------------------------------------------------------------------
    def _snapshot(self) -> list[ExecutionEnvironment]:
        with self._cond:
            return [e for pool in self._pools.values() for e in pool.environments]

    def _take_idle(self, env: ExecutionEnvironment) -> bool:
        """Take an idle environment out of its pool (False if it is no longer idle)."""
        with self._cond:
            pool = self._pools.get(env.spec.function_name)
            if env.state is not State.IDLE or pool is None or env not in pool.environments:
                return False
            pool.environments.remove(env)
            env.state = State.DEAD
            self._cond.notify_all()
            return True

    def _retire_idle(self) -> None:
        interval = min(1.0, max(self.idle_timeout_s / 4, 0.05))
        while not self._stop.wait(interval):
            now = time.monotonic()
            expired: list[ExecutionEnvironment] = []
            with self._cond:
                for pool in self._pools.values():
                    for env in [
                        e
                        for e in pool.environments
                        if e.state is State.IDLE and now - e.last_used > self.idle_timeout_s
                    ]:
                        pool.environments.remove(env)
                        expired.append(env)
            for env in expired:
                env.kill()

    def shutdown(self) -> None:
        """Kill every worker, stop the background threads and drop queued events (idempotent)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            envs = [e for pool in self._pools.values() for e in pool.environments]
            self._cond.notify_all()
        self._stop.set()
        self.event_queues.close()
        for env in envs:
            env.kill()
        for thread in self._threads:
            thread.join(timeout=2)
        self.event_queues.join()
        self._reaper.shutdown()
