"""A sandbox for zip workers: what a Lambda function sees, and nothing of the mock or its neighbours.

On Linux with bubblewrap (``bwrap``, which ``make setup`` installs from Debian's packages) every
zip worker runs in namespaces of its own:

- **processes:** a PID namespace. The worker sees only itself and its children; it cannot see,
  read (``/proc/<pid>/environ``) or signal the mock account or another function's worker, and
  when its environment is killed the whole namespace goes, detached (``setsid``) children too.
  ``--die-with-parent`` ties the namespace to the worker's supervisor, which the account's reaper
  kills if the account dies.
- **files:** the root file system read-only; ``/tmp``, the mock account's work folder and the
  user's home hidden behind empty tmpfs mounts; then the environment's own folder (its
  ``TMPDIR``) writable and its task root read-only, plus, read-only, the interpreter and
  site-packages the worker needs if they live under a hidden folder.
- **user:** when the mock runs as root, the worker runs as uid 993 / gid 990 (Lambda's function
  user), no groups and no capabilities (``setpriv``); otherwise as the mock's user, unprivileged.

The network is shared: the function reaches the account with boto3 on 127.0.0.1, as a Lambda
function reaches AWS. Without bubblewrap (macOS, or a Linux that forbids namespaces) workers run
unsandboxed and ``sandbox_problem()`` says why; docs/mock-account.md says what that means.
"""

from __future__ import annotations

import functools
import os
import queue
import shutil
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

BWRAP = "bwrap"


class _Spawner:
    """Starts sandboxes from one long-lived thread.

    ``--die-with-parent`` is the kernel's parent-death signal, and it fires when the *thread*
    that started the process exits. Invocations arrive on short-lived request threads, so every
    sandbox is started from this thread instead, which lives as long as the process.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[list[str], dict[str, Any], Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, daemon=True, name="mock-lambda-spawner"
                )
                self._thread.start()
        started: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((command, kwargs, started))
        return started.result()

    def _run(self) -> None:
        while True:
            command, kwargs, started = self._jobs.get()
            try:
                started.set_result(subprocess.Popen(command, **kwargs))
            except BaseException as error:  # handed to the caller, who raises it
                started.set_exception(error)


popen = _Spawner().popen
"""``subprocess.Popen`` for sandboxed workers, called from the spawner thread."""


@functools.cache
def sandbox_problem() -> str | None:
    """None when bubblewrap runs here; otherwise why zip workers are not sandboxed."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap sandboxes need Linux (this is {sys.platform})"
    path = shutil.which(BWRAP)
    if path is None:
        return "bubblewrap is not installed (`apt-get install bubblewrap`, or `make setup`)"
    probe = subprocess.run(
        [path, *_privileges(), "--ro-bind", "/", "/", "--unshare-pid", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if probe.returncode:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    return None


SANDBOX_UID, SANDBOX_GID = 993, 990
"""Lambda's function user (sbx_user1051 is 993): the worker's ids when the account runs as root."""


def runs_as_sandbox_user() -> bool:
    """As root, workers switch to an unprivileged uid (``setpriv``, from util-linux)."""
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def _privileges() -> list[str]:
    # As root without setpriv, drop every capability; with setpriv, it drops them itself after
    # switching to the unprivileged uid (it needs CAP_SETUID to do so).
    return ["--cap-drop", "ALL"] if os.geteuid() == 0 and not runs_as_sandbox_user() else []


def _drop_to_sandbox_user() -> list[str]:
    if not runs_as_sandbox_user():
        return []
    return [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={SANDBOX_UID}",
        f"--regid={SANDBOX_GID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


def wrap(
    command: list[str],
    *,
    environment_dir: Path,
    task_root: Path,
    work_dir: Path,
) -> list[str]:
    """``command`` inside a sandbox whose only writable place is ``environment_dir``."""
    hidden = [Path("/tmp"), work_dir.resolve()]
    home = Path.home().resolve()
    if home != Path("/"):
        hidden.append(home)
    needed = {
        Path(p).resolve()
        for p in (
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable)),
            os.environ.get("R_HOME", ""),
        )
        if p and Path(p).exists()
    }
    arguments = [
        BWRAP,
        *_privileges(),
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
    ]
    for folder in dict.fromkeys(hidden):
        arguments += ["--tmpfs", str(folder)]
    exposed = [path for path in sorted(needed) if _under(path, hidden)]
    targets = [*exposed, task_root, environment_dir]
    # parents that bubblewrap creates on a hidden tmpfs (mode 0700 by default) must be traversable
    # by the worker, which may run as another uid
    parents = {
        parent
        for target in targets
        for parent in target.parents
        if _under(parent, hidden) and parent not in hidden
    }
    for parent in sorted(parents, key=lambda path: len(path.parts)):
        arguments += ["--perms", "0755", "--dir", str(parent)]
    for path in exposed:
        arguments += ["--ro-bind", str(path), str(path)]
    arguments += ["--ro-bind", str(task_root), str(task_root)]
    arguments += ["--bind", str(environment_dir), str(environment_dir)]
    arguments += ["--chdir", str(task_root), "--"]
    return [*arguments, *_drop_to_sandbox_user(), *command]
