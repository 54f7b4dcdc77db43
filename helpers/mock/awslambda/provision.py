"""What execution environment a function version gets: its spec, its kind, its log permissions.

``fingerprint`` names everything an environment was built from, so one built for an older
configuration is never reused; ``build_environment`` makes the (not yet started) environment: an
awslambdaric worker for a zip, a container of the image for ``PackageType=Image``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .code import CodeStore
from .container import ContainerEnvironment, ImageSpec
from .environment import ExecutionEnvironment
from .environment_types import WorkerSpec
from .logs import stream_name
from .reaper import Reaper
from .roles import mint_credentials, role_allows


def fingerprint(fn: Any) -> str:
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
            image_config(fn),
            getattr(fn, "ephemeral_storage", 512),
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(config.encode()).hexdigest()


def image_config(fn: Any) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """(EntryPoint, Command, WorkingDirectory) overrides from the function's ImageConfig."""
    config = getattr(fn, "image_config", None)
    if config is None:
        return (), (), None
    return (
        tuple(config.entry_point or ()),
        tuple(config.cmd or ()),
        config.working_directory or None,
    )


def build_environment(
    fn: Any,
    fingerprint: str,
    *,
    account_id: str,
    endpoint_url: str,
    work_dir: Path,
    code: CodeStore,
    reaper: Reaper,
    proportional_cpu: bool,
    sandbox: bool = True,
) -> ExecutionEnvironment:
    """A new execution environment for ``fn`` (call ``start()`` on it)."""
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
        task_root=Path("/var/task") if image else code.task_root(fn.code_bytes, fn.code_digest),
        credentials=mint_credentials(account_id, fn.region, fn.role, fn.function_name),
        region=fn.region,
        endpoint_url=endpoint_url,
        log_group=log_group,
        log_stream=stream_name(version),
    )
    if image:
        entry_point, command, working_directory = image_config(fn)
        env: ExecutionEnvironment = ContainerEnvironment(
            spec,
            work_dir / "environments",
            fingerprint,
            ImageSpec(
                uri=fn.code["ImageUri"],
                entry_point=entry_point,
                command=command,
                working_directory=working_directory,
                ephemeral_storage_mb=int(getattr(fn, "ephemeral_storage", 512)),
                proportional_cpu=proportional_cpu,
            ),
            reaper,
        )
    else:
        env = ExecutionEnvironment(spec, work_dir / "environments", fingerprint)
        env.reaper = reaper  # a container is the reaper's by its label instead
        env.use_sandbox = sandbox
    env.log_permissions = log_permissions(account_id, spec, fn.role)
    return env


def log_permissions(account_id: str, spec: WorkerSpec, role_arn: str) -> tuple[bool, bool]:
    """(may create the group, may write the stream), from the role's policies as on AWS."""
    prefix = f"arn:aws:logs:{spec.region}:{account_id}:log-group:{spec.log_group}"
    stream_arn = f"{prefix}:log-stream:{spec.log_stream}"
    can_create_group = role_allows(account_id, role_arn, "logs:CreateLogGroup", prefix)
    can_write = role_allows(
        account_id, role_arn, "logs:CreateLogStream", stream_arn
    ) and role_allows(account_id, role_arn, "logs:PutLogEvents", stream_arn)
    return can_create_group, can_write
