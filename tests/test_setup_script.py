"""scripts/setup.sh: its installer switch, the pip settings it hands to uv, and its install routes
with a stand-in uv (fast: nothing is downloaded or installed)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

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


# The uv route's install step, with a stand-in uv that records how it is called (no network, no
# install). R, bubblewrap and curl must be present, or setup would install them.
needs_setup_tools = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("R", "Rscript", "curl", "bwrap")),
    reason="setup would install R, curl or bubblewrap first",
)
STAND_IN_UV = """#!/bin/bash
echo "$*" >> "$(dirname "$0")/calls"
[ "$1" = --version ] && {{ echo "uv {version}"; exit 0; }}
args=("$@")  # each requirements file, as it was when uv was called, beside the calls
for i in "${{!args[@]}}"; do
  [ "${{args[$i]}}" = -r ] && cp "${{args[$((i + 1))]}}" "$(dirname "$0")/$(basename "${{args[$((i + 1))]}}")"
done
[ "$1 $2" = "pip install" ] && exit "${{STAND_IN_UV_INSTALL_STATUS:-0}}"
exit 0
"""


def venv_with_stand_in_uv(tmp_path: Path) -> tuple[Path, Path]:
    version = re.search(r"^UV_VERSION=(\S+)", SETUP.read_text(), re.M)[1]
    venv = tmp_path / "venv"
    uv = venv / ".setup-tools" / f"uv-{version}" / "bin" / "uv"
    uv.parent.mkdir(parents=True)
    uv.write_text(STAND_IN_UV.format(version=version))
    uv.chmod(0o755)
    return venv, uv.parent / "calls"


def setup_env(venv: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV"))}
    # no index and no pip config: a pip that gets as far as installing fails at once
    env.update(VENV=str(venv), PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1")
    env.update(SERIES_CHROMIUM="/bin/true")  # setup would install chromium where it is missing
    env.update(extra)
    return env


def has_pip(venv: Path) -> bool:
    return any(venv.glob("lib/python3*/site-packages/pip/__init__.py"))


@needs_setup_tools
def test_the_uv_route_installs_the_complete_lock_and_ensurepips_pip_without_ensurepip(tmp_path):
    """The lock in two parts (the tools fetched meanwhile, installed last), no second resolver
    pass, pip's ensurepip version added without ensurepip (seconds), and a check at the end."""
    venv, calls = venv_with_stand_in_uv(tmp_path)
    done = run_setup(env=setup_env(venv, SETUP_INSTALLER="uv"))
    ensurepip_version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import ensurepip; print(ensurepip.version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    py = f"--python {venv / 'bin' / 'python'}"
    tools, rest = venv / ".setup-lock-tools.txt", venv / ".setup-lock-rest.txt"
    recorded = [c for c in calls.read_text().splitlines() if c != "--version"]
    assert set(recorded[:2]) == {  # at the same time
        f"pip install {py} --no-deps --target {venv / '.setup-tools-fetch'} -r {tools}",
        f"pip install {py} --no-deps -r {rest} pip=={ensurepip_version}",
    }
    assert recorded[2:] == [
        f"pip install -q {py} --no-deps --no-build-isolation -e .",
        f"pip install {py} --no-deps -r {tools}",
        f"pip check {py}",
    ]
    tools_part = (calls.parent / tools.name).read_text().splitlines()
    rest_part = (calls.parent / rest.name).read_text().splitlines()
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert sorted(tools_part + rest_part) == sorted(lock)  # every line once
    assert "playwright" in {line.split("==")[0] for line in tools_part}
    assert not has_pip(venv)  # the venv itself was made without pip
    # the stand-in installed nothing, so the rpy2 check (run again by step 3) says so
    assert done.returncode == 1
    assert "rpy2 could not talk to R" in done.stderr


@needs_setup_tools
def test_when_uv_fails_auto_falls_back_to_pip_and_the_venv_gets_ensurepips_pip(tmp_path):
    venv, _ = venv_with_stand_in_uv(tmp_path)
    env = setup_env(venv, SETUP_INSTALLER="auto", STAND_IN_UV_INSTALL_STATUS="1")
    done = run_setup(env=env)
    assert "uv could not install requirements.lock (above): installing with pip instead" in (
        done.stdout
    )
    assert has_pip(venv)  # from ensurepip, for the pip route
    # no index here, so pip stops too, and says so
    assert done.returncode == 1
    assert "stop: pip could not install requirements.lock" in done.stderr


@needs_setup_tools
def test_uv_forced_and_failing_stops_without_trying_pip(tmp_path):
    venv, _ = venv_with_stand_in_uv(tmp_path)
    env = setup_env(venv, SETUP_INSTALLER="uv", STAND_IN_UV_INSTALL_STATUS="1")
    done = run_setup(env=env)
    assert done.returncode == 1
    assert "stop: uv could not install requirements.lock" in done.stderr
    assert not has_pip(venv)
    # nothing of the attempt is left in the venv (the lock's two parts, the tools' scratch) but
    # uv itself and its reports
    left = {path.name for path in venv.glob(".setup-*")}
    assert left <= {".setup-tools", ".setup-uv.log", ".setup-uv.log.tools"}, left
