"""Container-image functions (``PackageType=Image``): one execution environment, one container.

The image runs in this machine's Docker engine under the constraints Lambda puts on it: its own
ENTRYPOINT/CMD (or the function's ImageConfig), the mock's Runtime API on 127.0.0.1 (``--network
host``), a read-only root file system, ``/tmp`` a tmpfs of the function's EphemeralStorage, a uid
and gid that are in no /etc/passwd, no capabilities, memory and swap capped at MemorySize, a CPU
share of MemorySize / 1,769 MB of one vCPU, Lambda's 1,024 processes and open files, and the
environment Lambda sets plus the role's temporary credentials, never more. Variables reach the
container by name (``-e NAME``) so no credential appears on a command line.

Every container carries a label naming its mock account, and the account's reaper
(``reaper.py``) removes them all when the account stops or dies; containers left by a mock that
died before its reaper could act are swept when the next one starts its first container.

An ImageUri the engine does not have, naming an image pushed to the account's ECR, is pulled from
the account's registry first (ecr/pull.py) and that image runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..ecr.pull import RegistryPullFailed, registry_image
from ..engine import docker as _docker
from .environment import ExecutionEnvironment
from .environment_types import WorkerSpec
from .errors import ContainerEngineUnavailable, ImageUnusable
from .output import OutputCapture
from .peers import in_container, owner_of
from .reaper import LABEL, Reaper
from .variables import lambda_variables

FULL_VCPU_MB = 1769
"""Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory."""
SANDBOX_USER = "993:990"
"""Lambda runs functions as a uid/gid without an /etc/passwd entry (sbx_user1051 is 993)."""
PROCESS_LIMIT = 1024
OPEN_FILES_LIMIT = 1024
OWNER_LABEL = "serverless-poc.mock-pid"
TASK_ROOT = "/var/task"


def engine_problem() -> str | None:
    """None when a Docker engine answers; otherwise what is wrong and how to get one."""
    try:
        done = _docker(["version", "--format", "{{.Server.Version}}"], timeout=20)
    except FileNotFoundError:
        detail = "there is no `docker` command"
    except subprocess.TimeoutExpired:
        detail = "the Docker engine did not answer within 20 s"
    else:
        if done.returncode == 0:
            return None
        detail = (done.stderr.strip().splitlines() or ["the Docker engine did not answer"])[-1]
    return (
        f"No Docker engine is running here ({detail}). Container-image functions run in a local "
        "Docker engine: `make engine` installs docker.io and starts it (as root), or start "
        "`dockerd --bridge=none --iptables=false` yourself. Zip functions need no engine."
    )


@dataclass(frozen=True)
class ImageSpec:
    """What Lambda knows about an image function beyond the zip case."""

    uri: str
    entry_point: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    working_directory: str | None = None
    ephemeral_storage_mb: int = 512
    proportional_cpu: bool = True


def cpu_share(memory_mb: int) -> float:
    """Lambda's CPU for a memory size: one vCPU at 1,769 MB, in proportion below and above."""
    return round(memory_mb / FULL_VCPU_MB, 3)


def inspect_image(uri: str) -> dict:
    """The image's configuration from the engine; a Lambda-shaped error when it is not there."""
    return resolve_image(uri)[1]


def resolve_image(uri: str) -> tuple[str, dict]:
    """(the engine's reference to run, its configuration) for a function's ImageUri: the local
    image of that name, else the image pushed to the account's ECR, pulled from its registry."""
    done = _docker(["image", "inspect", uri])
    if done.returncode == 0:
        return uri, json.loads(done.stdout)[0]["Config"]
    problem = engine_problem()
    if problem:
        raise ContainerEngineUnavailable(problem)
    try:
        pulled = registry_image(uri)
    except RegistryPullFailed as error:
        raise ImageUnusable(str(error)) from None
    if pulled is not None:
        done = _docker(["image", "inspect", pulled])
        if done.returncode == 0:
            return pulled, json.loads(done.stdout)[0]["Config"]
    raise ImageUnusable(
        f"Source image {uri} does not exist in the mock account's Docker engine. Build it "
        "(`make image` prints the reference) or `docker tag` an image with that name, or push it "
        "to the account's ECR repository, then create or invoke the function again."
    )


def container_environment(spec: WorkerSpec, runtime_api: str, handler: str) -> dict[str, str]:
    """What Lambda sets in an image function's environment, plus the function's own variables."""
    return {
        **lambda_variables(spec, runtime_api, handler, TASK_ROOT),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
    }


class ContainerEnvironment(ExecutionEnvironment):
    """An execution environment whose worker is a container of the function's image."""

    def __init__(
        self,
        spec: WorkerSpec,
        work_dir: Path,
        fingerprint: str,
        image: ImageSpec,
        owner: Reaper,
    ) -> None:
        super().__init__(spec, work_dir, fingerprint)
        self.image = image
        self.owner = owner
        self.container_id: str | None = None
        self.reference = image.uri
        """What the engine runs: the ImageUri, or the image pulled for it from the registry."""
        self._cgroup_dir: Path | None = None

    def container_arguments(self, config: dict) -> tuple[list[str], dict[str, str]]:
        """``docker create`` arguments, and the variables they name (passed by name, not value)."""
        entry_point = list(self.image.entry_point or config.get("Entrypoint") or [])
        command = list(self.image.command or config.get("Cmd") or [])
        argv = entry_point + command
        if not argv:
            raise ImageUnusable(
                f"The image {self.image.uri} has no ENTRYPOINT or CMD, and the function's "
                "ImageConfig sets none: Lambda would not know what to start."
            )
        memory = f"{self.spec.memory_mb}m"
        arguments = [
            "create",
            "--name",
            f"mock-lambda-{self.id}",
            "--label",
            f"{LABEL}={self.owner.label}",
            "--label",
            f"{OWNER_LABEL}={os.getpid()}",
            "--network",
            "host",
            "--read-only",
            "--tmpfs",
            f"/tmp:rw,exec,size={self.image.ephemeral_storage_mb}m,mode=1777",
            "--user",
            SANDBOX_USER,
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--memory",
            memory,
            "--memory-swap",
            memory,
            "--pids-limit",
            str(PROCESS_LIMIT),
            "--ulimit",
            f"nofile={OPEN_FILES_LIMIT}:{OPEN_FILES_LIMIT}",
            "--workdir",
            self.image.working_directory or config.get("WorkingDir") or TASK_ROOT,
            "--entrypoint",
            argv[0],
        ]
        if self.image.proportional_cpu:
            arguments += ["--cpus", f"{cpu_share(self.spec.memory_mb):.3f}"]
        variables = container_environment(
            self.spec, self._api.address, command[0] if command else ""
        )
        for name in sorted(variables):
            arguments += ["-e", name]
        return [*arguments, self.reference, *argv[1:]], variables

    def start(self) -> None:
        """Create the container (errors here are the caller's, Lambda-shaped), then start it."""
        self.reference, config = resolve_image(self.image.uri)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._api.start()
        arguments, variables = self.container_arguments(config)
        if not self.owner.started:
            sweep_abandoned_containers()
        self.owner.ensure_started()
        created = subprocess.run(
            ["docker", *arguments],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**_engine_environment(), **variables},
        )
        if created.returncode:
            self._api.stop()
            raise _create_error(self.image.uri, created.stderr)
        self.container_id = created.stdout.strip()
        self._spawned_at = time.perf_counter()
        self.process = subprocess.Popen(
            ["docker", "start", "--attach", self.container_id],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_engine_environment(),
        )
        assert self.process.stdout is not None
        self._output = OutputCapture(os.dup(self.process.stdout.fileno()))
        self.process.stdout.close()
        threading.Thread(target=self._wait_for_exit, daemon=True, name="mock-lambda-waiter").start()

    def kill(self) -> list[tuple[int, str]]:
        """Remove the container first (stopping the attached client would leave it running)."""
        if self.container_id is not None and not self._closing:
            _docker(["rm", "--force", self.container_id])
        return super().kill()

    def owns_peer(self, client_port: int, server_port: int) -> bool:
        """Is the connection from a process of this container? (Its processes are Docker's, not
        our children: the peer is found among all processes, then judged by its cgroup.)"""
        if self.container_id is None or not os.path.exists("/proc/net/tcp") or os.geteuid():
            return True  # cannot tell: no /proc, or another user's descriptors are unreadable
        owner = owner_of(client_port, server_port)
        if owner is None:
            return False
        inside = in_container(owner, self.container_id)
        return True if inside is None else inside

    def rss_bytes(self) -> int:
        """0: the engine's cgroup enforces MemorySize itself (the OOM killer, as on Lambda)."""
        return 0

    def _cgroup(self) -> Path | None:
        if self._cgroup_dir is None and self.container_id:
            for candidate in (
                Path("/sys/fs/cgroup/memory/docker") / self.container_id,
                Path("/sys/fs/cgroup/memory/system.slice") / f"docker-{self.container_id}.scope",
                Path("/sys/fs/cgroup/system.slice") / f"docker-{self.container_id}.scope",
                Path("/sys/fs/cgroup/docker") / self.container_id,
            ):
                if candidate.is_dir():
                    self._cgroup_dir = candidate
                    break
        return self._cgroup_dir

    def _peak_memory_mb(self) -> int:
        """Max Memory Used: the container cgroup's peak (v1 max_usage_in_bytes, v2 memory.peak)."""
        folder = self._cgroup()
        if folder is not None:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                with contextlib.suppress(OSError, ValueError):
                    peak = int((folder / name).read_text().split()[0])
                    self.peak_rss_bytes = max(self.peak_rss_bytes, peak)
                    break
        return -(-self.peak_rss_bytes // (1024 * 1024))

    def _drain_after_exit(self) -> list[tuple[int, str]]:
        self._peak_memory_mb()
        if self.container_id is not None:
            state = _docker(["inspect", "--format", "{{.State.OOMKilled}}", self.container_id])
            self._killed_for_memory = state.stdout.strip() == "true"
        return self.kill()

    def _exit_text(self) -> str:
        code = self._exit_code
        if code is not None and code > 128 and code - 128 in signal.valid_signals():
            self._exit_code = -(code - 128)  # the engine reports a signal as 128 + N
        return super()._exit_text()


def sweep_abandoned_containers() -> int:
    """Remove containers whose mock account's process is gone (killed before its reaper ran)."""
    listed = _docker(
        ["ps", "--all", "--filter", f"label={OWNER_LABEL}", "--format", "{{.ID}} {{.Labels}}"]
    )
    abandoned = []
    for line in listed.stdout.splitlines():
        container, _, labels = line.partition(" ")
        for label in labels.split(","):
            key, _, value = label.partition("=")
            if key == OWNER_LABEL and value.isdigit() and not Path(f"/proc/{value}").exists():
                abandoned.append(container)
    if abandoned:
        _docker(["rm", "--force", *abandoned])
    return len(abandoned)


def _create_error(uri: str, stderr: str) -> Exception:
    detail = (stderr.strip().splitlines() or ["no detail"])[-1]
    if "no space left on device" in stderr.lower():
        return ImageUnusable(
            f"The mock account's Docker engine has no room to start {uri} ({detail}). Free disk "
            "space (`docker system prune`) or use a smaller image, then invoke again."
        )
    if "no such image" in stderr.lower():
        return ImageUnusable(f"Source image {uri} does not exist in the local Docker engine.")
    return ImageUnusable(f"The mock account's Docker engine could not create {uri}: {detail}")


def _engine_environment() -> dict[str, str]:
    """What the docker client itself needs (PATH, DOCKER_HOST …), none of the caller's AWS keys."""
    return {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
