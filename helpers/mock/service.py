"""The Lambda service emulator (backend): execution environments, concurrency, invokes, retries.

moto keeps the functions' configuration; this class runs them. Per function it keeps a pool of
execution environments: an idle one is reused (warm start), otherwise a new one is started (cold
start) as long as the function's reserved concurrency and the account's concurrency limit allow,
else the synchronous caller gets 429 TooManyRequestsException. Idle environments are retired
after ``idle_timeout_s``; updating a function's code or configuration retires its environments.
Asynchronous invocations (``Event``, schedules) wait for capacity instead and are retried on
function errors as Lambda does (twice, after 1 and 2 minutes of scaled time).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .code import CodeStore
from .container import ContainerEnvironment, ContainerOwner, ImageSpec, engine_problem
from .environment import ExecutionEnvironment, Invocation, Outcome, State, WorkerSpec
from .errors import (
    ACCOUNT_CONCURRENCY_REASON,
    RESERVED_CONCURRENCY_REASON,
    ContainerEngineUnavailable,
    InvalidRequestContent,
    InvalidRuntime,
    RequestTooLarge,
    ServiceShuttingDown,
    TooManyRequests,
)
from .logs import LogWriter, error_payload, invocation_lines, stream_name, tail
from .roles import mint_credentials, role_allows

SYNC_PAYLOAD_LIMIT = 6_291_456
ASYNC_PAYLOAD_LIMIT = 1_048_576
RESPONSE_LIMIT = 6_291_556
ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
MEMORY_POLL_S = 0.02
ENGINE_CHECK_INTERVAL_S = 30.0
_MIB = 1024 * 1024


@dataclass(frozen=True)
class InvokeResult:
    """What the Invoke API answers (the wire layer turns it into status and headers)."""

    status_code: int
    payload: bytes
    request_id: str
    executed_version: str | None = None
    function_error: str | None = None
    log_result: str | None = None


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
    ) -> None:
        self.account_id = account_id
        self.endpoint_url = endpoint_url
        self.work_dir = work_dir
        self.idle_timeout_s = idle_timeout_s
        self.concurrency_limit = concurrency_limit
        self.time_scale = time_scale
        self.proportional_cpu = proportional_cpu
        """Image functions get MemorySize / 1,769 MB of a vCPU, as on Lambda (False: no cap)."""
        self._containers = ContainerOwner()
        self._engine_checked_until = 0.0
        self._code = CodeStore(work_dir / "code")
        self._pools: dict[str, _Pool] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._log_writers: dict[str, LogWriter] = {}
        self._retiring: set[str] = set()
        self._events = ThreadPoolExecutor(
            max_workers=max(concurrency_limit, 2), thread_name_prefix="mock-lambda-event"
        )
        self._timers: set[threading.Timer] = set()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._watch_memory, daemon=True, name="mock-lambda-memory"),
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
        payload = self._checked_payload(payload, invocation_type)
        self._check_runnable(fn)
        request_id = str(uuid.uuid4())
        if invocation_type == "DryRun":
            return InvokeResult(204, b"", request_id)
        if invocation_type == "Event":
            self.submit_event(fn, payload, request_id)
            return InvokeResult(202, b"", request_id)
        return self._invoke_sync(fn, payload, request_id, wait=False, log_tail=log_tail)

    def invoke_and_wait(self, fn: Any, payload: bytes) -> InvokeResult:
        """Synchronous invoke for moto's internal callers: waits for capacity, returns the log tail."""
        if self._closed:
            raise ServiceShuttingDown()
        self._check_runnable(fn)
        payload = self._checked_payload(payload, "RequestResponse")
        return self._invoke_sync(fn, payload, str(uuid.uuid4()), wait=True, log_tail=True)

    def submit_event(
        self, fn: Any, payload: bytes, request_id: str | None = None, attempt: int = 0
    ) -> str:
        """Queue an asynchronous invocation; it waits for capacity rather than being throttled."""
        request_id = request_id or str(uuid.uuid4())
        self._check_runnable(fn)
        if not self._closed:
            self._events.submit(self._run_event, fn, payload, request_id, attempt)
        return request_id

    def _run_event(self, fn: Any, payload: bytes, request_id: str, attempt: int) -> None:
        try:
            result = self._invoke_sync(fn, payload, request_id, wait=True, log_tail=False)
        except ServiceShuttingDown:
            return
        if result.function_error and attempt < self._max_retries(fn):
            delay = (
                ASYNC_RETRY_DELAYS_S[min(attempt, len(ASYNC_RETRY_DELAYS_S) - 1)] / self.time_scale
            )
            self._later(delay, lambda: self.submit_event(fn, payload, request_id, attempt + 1))

    def _later(self, delay_s: float, action: Callable[[], object]) -> None:
        def fire() -> None:
            self._timers.discard(timer)
            if not self._closed:
                action()

        timer = threading.Timer(delay_s, fire)
        timer.daemon = True
        self._timers.add(timer)
        timer.start()

    @staticmethod
    def _max_retries(fn: Any) -> int:
        for config in getattr(fn, "event_invoke_config", []) or []:
            value = getattr(config, "config", {}).get("MaximumRetryAttempts")
            if value is not None:
                return int(value)
        return 2

    @staticmethod
    def _checked_payload(payload: bytes | str | None, invocation_type: str) -> bytes:
        data = payload.encode() if isinstance(payload, str) else (payload or b"")
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(data) > limit:
            raise RequestTooLarge(limit)
        if not data.strip():
            return b"{}"
        try:
            json.loads(data)
        except ValueError as error:
            raise InvalidRequestContent(str(error)) from error
        return data

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
        fingerprint = self._fingerprint(fn)
        env, cold = self._acquire(fn, fingerprint, wait=wait)
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
        body = outcome.body
        function_error = None
        if outcome.status == "ok" and len(body) > RESPONSE_LIMIT:
            body = json.dumps(
                {
                    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            ).encode()
            function_error = "Unhandled"
        elif outcome.status != "ok":
            body = error_payload(outcome, request_id, float(fn.timeout)) or body
            function_error = "Unhandled"
        return InvokeResult(
            200,
            body,
            request_id,
            executed_version=version,
            function_error=function_error,
            log_result=tail(lines) if log_tail else None,
        )

    # -- environments ----------------------------------------------------------------------------
    @staticmethod
    def _fingerprint(fn: Any) -> str:
        config = json.dumps(
            [
                str(fn.version),
                fn.code_sha_256,
                fn.handler,
                fn.run_time,
                fn.memory_size,
                fn.timeout,
                fn.environment_vars,
                fn.role,
                getattr(fn, "package_type", "Zip"),
                (fn.code or {}).get("ImageUri"),
                _image_config(fn),
                getattr(fn, "ephemeral_storage", 512),
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(config.encode()).hexdigest()

    def _acquire(
        self, fn: Any, fingerprint: str, *, wait: bool
    ) -> tuple[ExecutionEnvironment, bool]:
        name = fn.function_name
        stale: list[ExecutionEnvironment] = []
        try:
            with self._cond:
                while True:
                    if self._closed:
                        raise ServiceShuttingDown()
                    pool = self._pools.setdefault(name, _Pool([]))
                    for env in [
                        e
                        for e in pool.environments
                        if e.state is State.IDLE and e.fingerprint != fingerprint
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
        version = str(fn.version)
        log_group = f"/aws/lambda/{fn.function_name}"
        image = getattr(fn, "package_type", "Zip") == "Image"
        spec = WorkerSpec(
            function_name=fn.function_name,
            version=version,
            function_arn=fn.function_arn,
            handler=fn.handler,
            runtime=fn.run_time,
            memory_mb=int(fn.memory_size),
            timeout_s=float(fn.timeout),
            variables={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
            task_root=(
                Path("/var/task") if image else self._code.task_root(fn.code_bytes, fn.code_digest)
            ),
            credentials=mint_credentials(self.account_id, fn.region, fn.role, fn.function_name),
            region=fn.region,
            endpoint_url=self.endpoint_url,
            log_group=log_group,
            log_stream=stream_name(version),
        )
        if image:
            entry_point, command, working_directory = _image_config(fn)
            env: ExecutionEnvironment = ContainerEnvironment(
                spec,
                self.work_dir / "environments",
                fingerprint,
                ImageSpec(
                    uri=fn.code["ImageUri"],
                    entry_point=entry_point,
                    command=command,
                    working_directory=working_directory,
                    ephemeral_storage_mb=int(getattr(fn, "ephemeral_storage", 512)),
                    proportional_cpu=self.proportional_cpu,
                ),
                self._containers,
            )
        else:
            env = ExecutionEnvironment(spec, self.work_dir / "environments", fingerprint)
        env.log_permissions = self._log_permissions(spec, fn.role)
        env.start()
        return env

    def _log_permissions(self, spec: WorkerSpec, role_arn: str) -> tuple[bool, bool]:
        """(may create the group, may write the stream), from the role's policies as on AWS."""
        prefix = f"arn:aws:logs:{spec.region}:{self.account_id}:log-group:{spec.log_group}"
        stream_arn = f"{prefix}:log-stream:{spec.log_stream}"
        can_create_group = role_allows(self.account_id, role_arn, "logs:CreateLogGroup", prefix)
        can_write = role_allows(
            self.account_id, role_arn, "logs:CreateLogStream", stream_arn
        ) and role_allows(self.account_id, role_arn, "logs:PutLogEvents", stream_arn)
        return can_create_group, can_write

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
        """Retire a function's environments (after an update or delete); busy ones when they finish."""
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

    def _watch_memory(self) -> None:
        while not self._stop.wait(MEMORY_POLL_S):
            for env in self._snapshot():
                if (
                    env.state in (State.BUSY, State.STARTING)
                    and env.rss_bytes() > env.spec.memory_mb * _MIB
                ):
                    env.kill_for_memory()

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
        for timer in list(self._timers):
            timer.cancel()
        self._events.shutdown(wait=False, cancel_futures=True)
        for env in envs:
            env.kill()
        for thread in self._threads:
            thread.join(timeout=2)
        self._events.shutdown(wait=True)
        self._containers.remove_all()


def _image_config(fn: Any) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(EntryPoint, Command, WorkingDirectory) overrides from the function's ImageConfig."""
    config = getattr(fn, "image_config", None)
    if config is None:
        return (), (), None
    return (
        tuple(config.entry_point or ()),
        tuple(config.cmd or ()),
        config.working_directory or None,
    )
