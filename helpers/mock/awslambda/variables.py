"""The process environment Lambda gives a function: its variables, the role's credentials, TMPDIR.

``lambda_variables`` is what Lambda sets in every function's environment (zip worker and
container alike); ``worker_environment`` is a zip worker's whole environment, the image's own
settings (PATH, R_HOME, …) without the notebook's AWS_* ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .environment_types import WorkerSpec


def worker_environment(spec: WorkerSpec, runtime_api: str, tmp_dir: Path) -> dict[str, str]:
    """The process environment of a worker: the image's (PATH, R_HOME, …) plus Lambda's variables.

    Inherited AWS_* settings (profiles, the notebook's own keys) are dropped: the function gets
    its role's credentials only, as on Lambda.
    """
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_")
        and key not in ("PYTHONPATH", "PYTHONHOME", "TMPDIR", "_HANDLER", "LAMBDA_TASK_ROOT")
        # Lambda does not set it, and with it a signal that cuts a pipe write short loses the
        # rest of that write (CPython's unbuffered text streams do not retry): the runtime
        # already flushes every write.
        and key != "PYTHONUNBUFFERED"
    }
    env = dict(inherited)
    env.update(lambda_variables(spec, runtime_api, spec.handler, str(spec.task_root)))
    env.update(
        {
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
            "PYTHONPATH": str(spec.task_root),
            "LAMBDA_DISABLE_PREVIEW_WARN": "1",
            "TMPDIR": str(tmp_dir),
        }
    )
    return env


def lambda_variables(
    spec: WorkerSpec, runtime_api: str, handler: str, task_root: str
) -> dict[str, str]:
    """What Lambda sets in every function's environment, the role's credentials included."""
    return {
        **spec.variables,
        "_HANDLER": handler,
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": spec.log_stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_ACCESS_KEY_ID": spec.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": spec.credentials.secret_access_key,
        "AWS_SESSION_TOKEN": spec.credentials.session_token,
        "AWS_ENDPOINT_URL": spec.endpoint_url,
        "LAMBDA_TASK_ROOT": task_root,
        "TZ": ":UTC",
    }
