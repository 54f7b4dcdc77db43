"""One execution environment: an awslambdaric worker process and everything private to it.

The worker is ``python -m awslambdaric <handler>`` with the notebook's own interpreter, started in
the same process group as the notebook (so it dies with the kernel) and fed by this environment's
Runtime API server. It keeps its module globals between invocations while warm, has its own
TMPDIR, the execution role's credentials and the function's variables, and its stdout/stderr are
captured line by line for CloudWatch Logs (``output.py``). The service watches its memory by
polling the worker's RSS, busy or idle. The records it is made from and hands back (``WorkerSpec``,
``Invocation``, ``Outcome``) are in environment_types.py, its process variables in variables.py.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from .environment_types import Invocation, Outcome, State, WorkerSpec
from .output import OutputCapture
from .peers import held_by
from .reaper import Reaper, kill_group
from .sandbox import SANDBOX_GID, SANDBOX_UID, runs_as_sandbox_user, sandbox_problem, wrap
from .sandbox import popen as sandboxed_popen
from .variables import worker_environment
from .wire_runtime_api import RuntimeApiServer

INIT_LIMIT_S = 10.0
"""Lambda's limit on the INIT phase of an on-demand environment."""

_PAGE = os.sysconf("SC_PAGE_SIZE")
_MIB = 1024 * 1024


def _first_non_bwrap(pid: int) -> int | None:
    """Follow bubblewrap's supervisor and namespace init down to the process they run."""
    for _ in range(4):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() != "bwrap":
                    return pid
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                kids = [int(k) for k in children.read().split()]
        except (OSError, ValueError):
            return None
        if not kids:
            return None
        pid = kids[0]
    return None


def _descendants(pid: int) -> list[int]:
    """All processes started by ``pid`` (e.g. R's helpers), so none outlives its environment."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(k) for k in children.read().split()]
            except OSError:
                continue
            found.extend(kids)
            pending.extend(kids)
    return found


class ExecutionEnvironment:
    """A worker process plus its Runtime API server, private /tmp and captured output."""

    def __init__(self, spec: WorkerSpec, work_dir: Path, fingerprint: str) -> None:
        self.id = uuid.uuid4().hex
        self.spec = spec
        self.fingerprint = fingerprint
        self.dir = work_dir / self.id
        self.tmp_dir = self.dir / "tmp"
        self.state = State.STARTING
        self.created = time.monotonic()
        self.last_used = self.created
        self.invocations = 0
        self.peak_rss_bytes = 0
        self.log_permissions: tuple[bool, bool] = (False, False)
        """(may create the log group, may write the stream), from the execution role."""
        self.process: subprocess.Popen[bytes] | None = None
        self._queue: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._current: Invocation | None = None
        self._closing = False
        self._spawned_at = 0.0
        self._init_at = 0.0
        self._init_done = threading.Event()
        self._init_error: tuple[bytes, str | None] | None = None
        self._init_lines: list[tuple[int, str]] = []
        self._exit_code: int | None = None
        self._killed_for_memory = False
        self._api = RuntimeApiServer(self)
        self._output: OutputCapture | None = None
        self.reaper: Reaper | None = None
        self.use_sandbox = True
        """Run the worker in a bubblewrap sandbox where one is available (sandbox.py)."""
        self.sandboxed = False
        self._worker_pid: int | None = None
        """The account's reaper: set by the service, so the worker dies with the account."""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the worker (the INIT phase starts here)."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._api.start()
        self._spawned_at = time.perf_counter()
        command = [sys.executable, "-m", "awslambdaric", self.spec.handler]
        self.sandboxed = self.use_sandbox and sandbox_problem() is None
        if self.sandboxed:
            if runs_as_sandbox_user():
                for folder in (self.dir, self.tmp_dir):  # the worker's only writable place
                    os.chown(folder, SANDBOX_UID, SANDBOX_GID)
            command = wrap(
                command,
                environment_dir=self.dir,
                task_root=Path(self.spec.task_root),
                work_dir=self.dir.parent.parent,
            )
        self.process = (sandboxed_popen if self.sandboxed else subprocess.Popen)(
            command,
            cwd=self.spec.task_root,
            env=worker_environment(self.spec, self._api.address, self.tmp_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole, by us or the reaper
        )
        if self.reaper is not None:
            self.reaper.track(self.process.pid)
        assert self.process.stdout is not None
        self._output = OutputCapture(os.dup(self.process.stdout.fileno()))
        self.process.stdout.close()
        threading.Thread(target=self._wait_for_exit, daemon=True, name="mock-lambda-waiter").start()

    def _wait_for_exit(self) -> None:
        assert self.process is not None
        code = self.process.wait()
        with self._lock:
            self._exit_code = code
            current = self._current
        self._init_done.set()
        if current is not None and not current.done.is_set():
            current.kind = "exit"
            current.done_at = time.perf_counter()
            current.done.set()
        self._queue.put(None)

    def kill(self) -> list[tuple[int, str]]:
        """Stop the worker, free what the environment holds, return its last output (idempotent)."""
        with self._lock:
            already = self._closing
            self._closing = True
            self.state = State.DEAD
        if already:
            return []
        self._queue.put(None)
        if self.process is not None:
            if self.process.poll() is None:
                for child in _descendants(self.process.pid):
                    with contextlib.suppress(OSError):
                        os.kill(child, signal.SIGKILL)
                self.process.kill()
            if self.reaper is not None:  # the whole group: children that left the tree too
                kill_group(self.process.pid)
                self.reaper.forget(self.process.pid)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        self._api.stop()
        lines = self._output.finish() if self._output is not None else []
        shutil.rmtree(self.dir, ignore_errors=True)
        return lines

    def kill_for_memory(self) -> None:
        """Called by the memory watch when RSS passes MemorySize: SIGKILL, like the OOM killer."""
        self._killed_for_memory = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    @property
    def pid(self) -> int | None:
        """The worker's process id (inside a sandbox: the worker, not bubblewrap around it)."""
        if self.process is None:
            return None
        if not self.sandboxed:
            return self.process.pid
        if self._worker_pid is None:
            self._worker_pid = _first_non_bwrap(self.process.pid)
        return self._worker_pid or self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and not self._closing

    # -- memory ----------------------------------------------------------------------------------
    def rss_bytes(self) -> int:
        """Current resident set size of the worker (0 once it is gone)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                rss = int(statm.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
        return rss

    def _peak_memory_mb(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        self.peak_rss_bytes = max(self.peak_rss_bytes, int(line.split()[1]) * 1024)
                        break
        except (OSError, ValueError):
            pass
        return -(-self.peak_rss_bytes // _MIB)

    # -- Runtime API backend ---------------------------------------------------------------------
    def next_invocation(self) -> Invocation | None:
        if not self._init_done.is_set():
            self._init_at = time.perf_counter()
            if self._output is not None:
                self._init_lines = self._output.take()
            self._init_done.set()
        invocation = self._queue.get()
        if invocation is None or self._closing:
            return None
        invocation.delivered_at = time.perf_counter()
        invocation.deadline_ms = int(time.time() * 1000 + invocation.timeout_s * 1000)
        invocation.delivered.set()
        return invocation

    def complete(self, request_id: str, kind: str, body: bytes, error_type: str | None) -> bool:
        current = self._current
        if current is None or current.request_id != request_id or current.done.is_set():
            return False
        current.kind, current.body, current.error_type = kind, body, error_type
        current.done_at = time.perf_counter()
        current.done.set()
        return True

    def owns_peer(self, client_port: int, server_port: int) -> bool:
        """Is this Runtime API connection from this environment's own worker (or its children)?"""
        if self.process is None:
            return False
        worker = self.pid  # the process that usually holds the socket: looked at first
        tree = [worker, *(p for p in _descendants(self.process.pid) if p != worker)]
        held = held_by(client_port, server_port, tree)
        return True if held is None else held  # None: this platform cannot tell

    def init_failed(self, body: bytes, error_type: str | None) -> None:
        self._init_error = (body, error_type)
        self._init_at = time.perf_counter()
        self._init_done.set()

    # -- invoke ----------------------------------------------------------------------------------
    def run(self, invocation: Invocation, cold: bool) -> Outcome:
        """Hand one invocation to the worker and wait for its result, its death or its timeout."""
        with self._lock:
            self._current = invocation
            exited = self._exit_code is not None
        if exited:  # the worker died before this invocation reached it (e.g. killed while idle)
            invocation.kind = "exit"
            invocation.done_at = time.perf_counter()
            invocation.done.set()
        self.invocations += 1
        self._queue.put(invocation)
        init_ms: float | None = None
        if cold:
            self._init_done.wait(INIT_LIMIT_S + invocation.timeout_s)
            init_ms = ((self._init_at or time.perf_counter()) - self._spawned_at) * 1000
            if self._init_error is not None or (
                not invocation.delivered.is_set() and self._exit_code is not None
            ):
                return self._init_failure(invocation, init_ms)
            if not self._init_done.is_set():
                return self._timed_out(invocation, init_ms, started=self._spawned_at)
        delivery_deadline = time.perf_counter() + invocation.timeout_s + INIT_LIMIT_S
        while not invocation.delivered.wait(0.05):
            if invocation.done.is_set() or time.perf_counter() > delivery_deadline:
                break  # the worker died before taking it, or never asked for it
        started = invocation.delivered_at or time.perf_counter()
        remaining = invocation.timeout_s - (time.perf_counter() - started)
        if not invocation.done.wait(max(remaining, 0.0)):
            return self._timed_out(invocation, init_ms, started=started)
        duration_ms = (invocation.done_at - started) * 1000
        if invocation.kind == "exit":
            return self._died(invocation, init_ms, duration_ms)
        assert self._output is not None
        return Outcome(
            status="ok" if invocation.kind in ("response", "too_large") else "error",
            body=invocation.body,
            duration_ms=duration_ms,
            init_duration_ms=init_ms,
            max_memory_mb=self._peak_memory_mb(),
            init_output=self._init_lines if cold else [],
            output=self._output.take(),
            response_too_large=invocation.kind == "too_large",
        )

    def _drain_after_exit(self) -> list[tuple[int, str]]:
        self._peak_memory_mb()
        return self.kill()

    def _init_failure(self, invocation: Invocation, init_ms: float) -> Outcome:
        init_lines = list(self._init_lines)
        lines = self._drain_after_exit()
        peak = self._peak_memory_mb()
        if self._init_error is not None:
            body = self._init_error[0]
            status = "init_error"
        else:
            status = "crash"
            body = b""
        return Outcome(status, body, 0.0, init_ms, peak, init_lines + lines, [], self._exit_text())

    def _timed_out(self, invocation: Invocation, init_ms: float | None, started: float) -> Outcome:
        lines = self._drain_after_exit()
        peak = self._peak_memory_mb()
        cold_lines = self._init_lines if init_ms is not None else []
        return Outcome(
            "timeout", b"", invocation.timeout_s * 1000, init_ms, peak, cold_lines, lines
        )

    def _died(self, invocation: Invocation, init_ms: float | None, duration_ms: float) -> Outcome:
        lines = self._drain_after_exit()
        peak = self._peak_memory_mb()
        status = "oom" if self._killed_for_memory else "crash"
        if status == "oom":
            peak = max(peak, self.spec.memory_mb)
        cold_lines = self._init_lines if init_ms is not None else []
        return Outcome(
            status, b"", duration_ms, init_ms, peak, cold_lines, lines, self._exit_text()
        )

    def _exit_text(self) -> str:
        code = (
            self._exit_code
            if self._exit_code is not None
            else (self.process.returncode if self.process else None)
        )
        if code is None:
            return "Runtime exited without providing a reason"
        if self.sandboxed and code > 128 and code - 128 in signal.valid_signals():
            code = -(code - 128)  # bubblewrap reports a signal as 128 + N
        if code < 0:
            name = {
                signal.SIGKILL: "killed",
                signal.SIGSEGV: "segmentation fault",
                signal.SIGABRT: "aborted",
                signal.SIGTERM: "terminated",
            }.get(signal.Signals(-code), signal.Signals(-code).name.lower())
            return f"Runtime exited with error: signal: {name}"
        return f"Runtime exited with error: exit status {code}"
