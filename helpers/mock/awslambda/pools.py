"""The pools of execution environments (backend): which environment an invocation gets.

Per function a pool of environments: an idle one is reused (warm start), otherwise a new one is
started (cold start) as long as the function's reserved concurrency and the account's concurrency
limit allow; at the account's limit the least recently used idle environment of any function
makes room. Idle environments are retired after ``idle_timeout_s``. ``LambdaService`` (service.py)
is an ``EnvironmentPools`` and sets the state declared here; it runs the invocations.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .async_events import Abandoned
from .code import CodeStore
from .environment import ExecutionEnvironment
from .environment_types import State
from .errors import (
    ACCOUNT_CONCURRENCY_REASON,
    RESERVED_CONCURRENCY_REASON,
    ServiceShuttingDown,
    TooManyRequests,
)
from .provision import build_environment
from .reaper import Reaper


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
class FunctionPool:
    """One function's environments, how many are starting, and the most it ever had at once."""

    environments: list[ExecutionEnvironment]
    starting: int = 0
    peak: int = 0


class EnvironmentPools:
    """Each function's execution environments, acquired for an invocation and released after."""

    account_id: str
    endpoint_url: str
    work_dir: Path
    idle_timeout_s: float
    concurrency_limit: int
    proportional_cpu: bool
    sandbox: bool
    _reaper: Reaper
    _code: CodeStore
    _pools: dict[str, FunctionPool]
    _cond: threading.Condition
    _closed: bool
    _retiring: set[str]
    _stop: threading.Event

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
                    pool = self._pools.setdefault(name, FunctionPool([]))
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
