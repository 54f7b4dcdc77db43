"""Nothing a function starts outlives its mock account, however the account dies.

Each zip worker runs in a process group of its own (its children, R's helpers included, share
it), and each container carries a label naming its account. A small reaper process, started with
the first environment, holds a pipe from the mock account and learns every worker's group as it
starts and goes. When the pipe closes (the account stopped, or its process was killed, even with
SIGKILL) the reaper kills every group still listed and removes every container with the label.

The reaper is a few lines of standard-library Python run with ``python -I -c``, so it starts in
milliseconds and does not import the mock (or moto) itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

LABEL = "serverless-poc.mock-account"

_REAPER = r"""
import os, shutil, signal, subprocess, sys
label = sys.argv[1]
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    kind, _, value = line.strip().partition(" ")
    if value.isdigit():
        (groups.add if kind == "track" else groups.discard)(int(value))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
if shutil.which("docker"):
    found = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"label=LABEL_KEY={label}"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    ).stdout.split()
    if found:
        subprocess.run(["docker", "rm", "--force", *found], capture_output=True,
                       stdin=subprocess.DEVNULL)
""".replace("LABEL_KEY", LABEL)


class Reaper:
    """The mock account's claim on the processes and containers it starts."""

    def __init__(self) -> None:
        self.label = f"{os.getpid()}-{os.urandom(6).hex()}"
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-c", _REAPER, self.label],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # outlives a SIGKILL of the mock's process group
                env={key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
            )
        return self._process

    def _send(self, line: str) -> None:
        with self._lock:
            process = self._ensure_started()
            with contextlib.suppress(OSError, ValueError):
                assert process.stdin is not None
                process.stdin.write(line + "\n")
                process.stdin.flush()

    def ensure_started(self) -> None:
        """Start the reaper (before the first container, which it finds by label)."""
        with self._lock:
            self._ensure_started()

    def track(self, group: int) -> None:
        """A worker's process group: killed by the reaper if the account dies first."""
        self._send(f"track {group}")

    def forget(self, group: int) -> None:
        self._send(f"forget {group}")

    @property
    def started(self) -> bool:
        return self._process is not None

    def shutdown(self) -> None:
        """Close the pipe: the reaper kills what is still listed, removes the containers, exits."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert process.stdin is not None
            process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)


def kill_group(group: int) -> None:
    """SIGKILL a worker's whole process group (the worker and everything it started in it)."""
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGKILL)
