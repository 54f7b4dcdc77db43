"""The Docker engine's command line as the mock account runs it (Lambda's containers, ECR pulls).

Output captured as text, never raising on a non-zero exit (callers read ``returncode`` and
``stderr`` to say what went wrong), no stdin, and a timeout: an engine that hangs must not hang
the account.
"""

from __future__ import annotations

import subprocess


def docker(
    arguments: list[str], timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``docker ARGUMENTS``, finished (``env``: the client's environment, default inherited)."""
    return subprocess.run(
        ["docker", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )
