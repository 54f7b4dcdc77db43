"""MemorySize, enforced all the time: busy, starting and idle zip workers are polled every 20 ms.

A busy worker past its limit is killed (SIGKILL, like the OOM killer) and its invocation ends as
``Runtime.OutOfMemory``. An idle one (a background thread still allocating) is taken out of its
pool first, so no invocation is handed to it, then killed, with a line in its log stream saying
why; its function's next invocation starts a new environment. On AWS an idle environment is
frozen and the limit catches the thread when it runs again; the mock's workers are never frozen.
Container environments report 0: the engine's cgroup enforces their limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .environment import ExecutionEnvironment
from .environment_types import State

MEMORY_POLL_S = 0.02
_MIB = 1024 * 1024


class MemoryGuard:
    """Polls the service's environments; ``take_idle(env)`` removes an idle one from its pool."""

    def __init__(
        self,
        *,
        environments: Callable[[], list[ExecutionEnvironment]],
        take_idle: Callable[[ExecutionEnvironment], bool],
        write_logs: Callable[[ExecutionEnvironment, list[tuple[int, str]]], None],
        stop: threading.Event,
    ) -> None:
        self._environments = environments
        self._take_idle = take_idle
        self._write_logs = write_logs
        self._stop = stop

    def run(self) -> None:
        while not self._stop.wait(MEMORY_POLL_S):
            for env in self._environments():
                if env.state is State.DEAD or env.rss_bytes() <= env.spec.memory_mb * _MIB:
                    continue
                if self._take_idle(env):
                    threading.Thread(
                        target=self._stop_idle, args=(env,), daemon=True, name="mock-lambda-oom"
                    ).start()
                else:
                    env.kill_for_memory()  # its invocation ends as Runtime.OutOfMemory

    def _stop_idle(self, env: ExecutionEnvironment) -> None:
        used_mb = -(-env.peak_rss_bytes // _MIB)
        env.kill_for_memory()
        lines = env.kill()
        lines.append(
            (
                int(time.time() * 1000),
                f"[mock account] The idle execution environment used {used_mb} MB, more than its "
                f"MemorySize ({env.spec.memory_mb} MB), and was stopped: Runtime exited with "
                "error: signal: killed (Runtime.OutOfMemory). The next invocation starts a new "
                "environment.",
            )
        )
        self._write_logs(env, lines)
