"""scripts/setup.sh: its installer switch and the pip settings it hands to uv (fast: no install)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup.sh"


def run_setup(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SETUP), *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_an_unknown_installer_is_refused_with_the_choices():
    """SETUP_INSTALLER=bogus stops setup before it touches R or a venv, naming the choices."""
    done = run_setup(env={**os.environ, "SETUP_INSTALLER": "bogus", "VENV": "/nonexistent"})
    assert done.returncode == 2
    assert (
        "SETUP_INSTALLER=bogus is not an installer setup knows: use uv, pip or auto" in done.stderr
    )
    assert "[setup] R:" not in done.stdout


def test_uv_is_pinned_to_one_exact_version():
    pins = re.findall(r"^UV_VERSION=(\S+)", SETUP.read_text(), re.M)
    assert len(pins) == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", pins[0])


def uv_settings(tmp_path: Path, config: str, **extra: str) -> dict[str, str]:
    """What setup would export for uv, given a pip config file and PIP_* variables."""
    conf = tmp_path / "pip.conf"
    conf.write_text(config)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "SSL_", "HTTP_PROXY", "HTTPS_PROXY"))
    }
    # PIP_CONFIG_FILE replaces the user's file; global ones (/etc) would still be read, so the
    # test only asserts on what it set, and on keys a global file could not set differently
    env.update(PIP_CONFIG_FILE=str(conf), HOME=str(tmp_path), **extra)
    done = run_setup("--uv-settings", env=env)
    assert done.returncode == 0, done.stderr
    exported = {}
    for line in done.stdout.splitlines():
        assert line.startswith("export "), line
        name, _, value = line[len("export ") :].partition("=")
        exported[name] = shlex.split(value)[0]
    return exported


def test_pip_settings_reach_uv(tmp_path):
    exported = uv_settings(
        tmp_path,
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url =\n    https://one.example/simple\n    https://two.example/simple\n"
        "timeout = 42\ntrusted-host = one.example\n",
        PIP_CERT="/some/ca.pem",
    )
    assert exported["UV_DEFAULT_INDEX"] == "https://mirror.example/simple"
    assert exported["UV_INDEX"] == "https://one.example/simple https://two.example/simple"
    assert exported["SSL_CERT_FILE"] == "/some/ca.pem"
    assert exported["UV_INSECURE_HOST"] == "one.example"
    # pip's semantics across several indexes (best version from all), not uv's first match
    assert exported["UV_INDEX_STRATEGY"] == "unsafe-best-match"
    assert exported["UV_PYTHON_DOWNLOADS"] == "never"


def test_the_environment_beats_the_config_file_and_uv_settings_win(tmp_path):
    exported = uv_settings(
        tmp_path,
        "[global]\nindex-url = https://from-file.example/simple\n",
        PIP_INDEX_URL="https://from-env.example/simple",
        UV_INDEX_STRATEGY="first-index",
    )
    assert exported["UV_DEFAULT_INDEX"] == "https://from-env.example/simple"
    assert "UV_INDEX_STRATEGY" not in exported  # already set by the caller: left alone
