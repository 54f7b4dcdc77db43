"""environment.yml (conda) offers the same pinned set as requirements.in (the .venv)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirements_in() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _environment_yml() -> dict[str, str]:
    """Pins from environment.yml, conda (name=version) and pip (name==version) alike."""
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s*-\s+([A-Za-z0-9_.\[\]-]+)\s*(==|=)\s*([^\s#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_every_pin_in_requirements_in_is_in_environment_yml_with_the_same_version():
    conda = _environment_yml()
    differences = {
        name: (version, conda.get(name))
        for name, version in _requirements_in().items()
        if conda.get(name) != version
    }
    assert not differences, f"requirements.in vs environment.yml (pip, conda): {differences}"


def test_environment_yml_has_nothing_requirements_in_lacks_except_python_r_and_pip():
    extra = set(_environment_yml()) - set(_requirements_in()) - {"python", "r-base"}
    assert not extra, f"in environment.yml only: {sorted(extra)}"


def test_the_lock_pins_every_direct_requirement_at_the_same_version():
    lock = _lock()
    for name, version in _requirements_in().items():
        base = re.sub(r"\[.*\]", "", name)
        assert lock.get(base) == version, (
            f"{base}: requirements.in {version}, lock {lock.get(base)}"
        )
