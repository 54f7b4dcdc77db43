"""The records an execution environment is made from and hands back (no behaviour of their own).

``WorkerSpec`` is what Lambda knows about a function version when it starts an environment,
``State`` where the environment is in its life, ``Invocation`` one request travelling through it
and ``Outcome`` how that request ended: what the service, the logs and the Invoke API read.
"""

from __future__ import annotations

import enum
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .roles import RoleCredentials


class State(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


@dataclass(frozen=True)
class WorkerSpec:
    """What Lambda knows about a function version when it starts an environment for it."""

    function_name: str
    version: str
    function_arn: str
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: float
    variables: dict[str, str]
    task_root: Path
    credentials: RoleCredentials
    region: str
    endpoint_url: str
    log_group: str
    log_stream: str


@dataclass
class Invocation:
    """One request travelling through an environment."""

    request_id: str
    payload: bytes
    function_arn: str
    timeout_s: float
    trace_id: str = field(
        default_factory=lambda: (
            f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        )
    )
    deadline_ms: int = 0
    delivered: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    delivered_at: float = 0.0
    done_at: float = 0.0
    kind: str = ""
    body: bytes = b""
    error_type: str | None = None


@dataclass
class Outcome:
    """How an invocation ended, with what the logs and the caller need."""

    status: str  # ok | error | init_error | timeout | crash | oom
    body: bytes
    duration_ms: float
    init_duration_ms: float | None
    max_memory_mb: int
    init_output: list[tuple[int, str]]
    output: list[tuple[int, str]]
    exit_description: str = ""
    response_too_large: bool = False
    """The handler's result was larger than the Runtime API accepts (nothing of it was kept)."""

    @property
    def reusable(self) -> bool:
        """Whether the environment can serve again (a runtime refused its result exits, as on AWS)."""
        return self.status in ("ok", "error") and not self.response_too_large
