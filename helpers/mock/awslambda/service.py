"""The Lambda service emulator (backend): execution environments, concurrency, invokes, retries.

moto keeps the functions' configuration; this class runs them. Per function it keeps a pool of
execution environments (pools.py): an idle one is reused (warm start), otherwise a new one is
started (cold start) as long as the function's reserved concurrency and the account's concurrency
limit allow, else the synchronous caller gets 429 TooManyRequestsException. Idle environments are
retired after ``idle_timeout_s``; updating a function's code or configuration retires its
environments.
Asynchronous invocations (``Event``, schedules) go to their function's bounded queue
(``async_events.py``), wait for capacity there instead and are retried on function errors as
Lambda does (twice, after 1 and 2 minutes of scaled time). MemorySize is enforced on busy and
idle workers alike (``memory.py``).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend

from .async_events import EventQueues, QueuedEvent
from .code import CodeStore
from .container import engine_problem
from .environment import ExecutionEnvironment
from .environment_types import Invocation, Outcome, State
from .errors import (
    ContainerEngineUnavailable,
    InvalidRuntime,
    ServiceShuttingDown,
)
from .logs import LogWriter, invocation_lines
from .memory import MemoryGuard
from .pools import EnvironmentPools, FunctionPool
from .provision import fingerprint
from .reaper import Reaper
from .wire_invoke import InvokeResult, checked_payload, invoke_result

ENGINE_CHECK_INTERVAL_S = 30.0


class LambdaService(EnvironmentPools):
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
        self._pools: dict[str, FunctionPool] = {}
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

    # -- logs and lifecycle ------------------------------------------------------------------------
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
