"""The R/Python rule setup checks (helpers/toolchain.py), and that the lock still fits it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import toolchain

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4.5.0", (4, 5, 0)),
        ('R version 4.2.2 (2022-10-31) -- "Innocent and Trusting"', (4, 2, 2)),
        ("3.13", (3, 13, 0)),
        ("Python 3.11.2", (3, 11, 2)),
        ("R Under development (unstable)", None),
        ("", None),
    ],
)
def test_parse_version(text, expected):
    assert toolchain.parse_version(text) == expected


@pytest.mark.parametrize("version", ["4.2.2", "4.3.3", "4.4.1", "4.5.0", "4.5.2"])
def test_r_in_the_tested_range_is_ok(version):
    assert toolchain.check_r(version) == toolchain.Verdict("ok")


@pytest.mark.parametrize("version", ["4.1.3", "3.6.3"])
def test_older_r_stops_setup_and_says_what_to_install(version):
    verdict = toolchain.check_r(version)
    assert verdict.status == "unsupported" and verdict.stops_setup
    assert f"R {version} is older" in verdict.message
    assert "R 4.2 to 4.5" in verdict.message
    assert "rpy2==3.6.6" in verdict.message  # why: the pins
    assert "apt-get install r-base-core" in verdict.message  # what to do


@pytest.mark.parametrize("version", ["4.6.0", "5.0.1"])
def test_newer_r_is_untested_not_refused(version):
    verdict = toolchain.check_r(version)
    assert verdict.status == "untested" and not verdict.stops_setup
    assert "newer than" in verdict.message and "pip install -U rpy2" in verdict.message
    assert "fails on R 4.2" in verdict.message  # why the lock does not just take the newest


def test_unreadable_r_version_stops_setup():
    verdict = toolchain.check_r("R Under development (unstable)")
    assert verdict.stops_setup and "Could not read R's version" in verdict.message


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("3.10.12", "unsupported"),
        ("3.11.2", "ok"),
        ("3.12.3", "ok"),
        ("3.13.5", "ok"),
        ("3.14.0", "untested"),
    ],
)
def test_python_rule(version, status):
    verdict = toolchain.check_python(version)
    assert verdict.status == status
    assert bool(verdict.message) == (status != "ok")


def test_the_lock_pins_the_rpy2_the_range_was_tested_with():
    """Bumping rpy2 (`make lock`) means re-testing both ends: make test, make test-trixie."""
    locked = toolchain.locked_versions()
    assert {name: locked.get(name) for name in toolchain.TESTED_RPY2} == toolchain.TESTED_RPY2, (
        "requirements.lock's rpy2 pins differ from helpers.toolchain.TESTED_RPY2: run `make test` "
        "(R 4.2) and `make test-trixie` (R 4.5) with the new pins, then update TESTED_RPY2 and, "
        "if the range changed, R_OLDEST/R_NEWEST and docs/other-machines.md"
    )


def test_this_machine_is_in_the_tested_ranges():
    """The machine running the tests fits the rule: out of range fails, untested says so."""
    r = subprocess.run(
        ["Rscript", "--vanilla", "-e", "cat(as.character(getRversion()))"],
        capture_output=True,
        text=True,
        check=True,
    )
    verdicts = [toolchain.check_python(sys.version), toolchain.check_r(r.stdout)]
    assert not [v.message for v in verdicts if v.stops_setup]
    untested = [v.message for v in verdicts if v.status == "untested"]
    if untested:
        pytest.skip(" ".join(untested))


@pytest.mark.parametrize(
    ("arguments", "code", "said"),
    [
        (["r", "4.5.0"], 0, ""),
        (["r", "4.1.2"], 1, "[setup] stop: R 4.1.2 is older"),
        (["r", "4.7.0"], 0, "[setup] note: R 4.7.0 is newer"),
        (["python", "3.10.1"], 1, "[setup] stop: Python 3.10.1 is older"),
        (["r"], 2, "usage:"),
    ],
)
def test_the_script_setup_runs(arguments, code, said):
    """setup.sh runs the file with the system Python, before .venv exists: stdlib only."""
    done = subprocess.run(
        [sys.executable, "-I", str(ROOT / "helpers" / "toolchain.py"), *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == code
    assert said in done.stderr
    assert done.stdout == ""


def test_setup_stops_on_an_r_older_than_the_rule(tmp_path):
    """setup.sh applies the rule before it touches .venv: a fake R 4.1 on PATH stops it."""
    for name, output in (("R", "R version 4.1.2 (2021-11-01)"), ("Rscript", "4.1.2")):
        fake = tmp_path / name
        fake.write_text(f"#!/bin/sh\necho '{output}'\n")
        fake.chmod(0o755)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh")],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{tmp_path}:/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[setup] stop: R 4.1.2 is older than the series supports" in done.stderr
    assert "installing pinned packages" not in done.stdout


def test_test_trixie_says_how_to_call_it():
    """`make test-trixie` (scripts/trixie.sh) refuses an unknown step before it touches Docker."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "trixie.sh"), "everything"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 2
    assert "usage: scripts/trixie.sh [all|test|series|shell]" in done.stderr
