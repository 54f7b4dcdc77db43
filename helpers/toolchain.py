"""Which R and Python the pinned packages are tested with: the rule ``make setup`` checks.

rpy2 compiles nothing against R in ABI mode, but it calls R's C API at run time, so each rpy2
release works with a range of R versions. The pins in ``requirements.lock``
(:data:`TESTED_RPY2`) are tested on the two platforms of :data:`TESTED_PLATFORMS`; the rule is:

- R older than :data:`R_OLDEST` is **unsupported**: setup stops and says what to install.
- R from :data:`R_OLDEST` to :data:`R_NEWEST` (minor versions, inclusive) is **ok**: the two
  ends are tested (``make test`` here, ``make test-trixie`` in a Debian 13 container) and the
  rpy2 pins support the releases between them.
- A newer R is **untested**: setup says so and goes on; its own rpy2 check then shows whether
  the pins still load. (The newest rpy2 needs ``R_getVar``, which R 4.2 lacks, so one pin cannot
  simply follow the newest R.)

Python follows the same pattern (:data:`PYTHON_OLDEST` … :data:`PYTHON_NEWEST`): every pin in
the lock has a wheel for each, except rpy2-rinterface, which builds from source on both.

Run as a script (no dependencies, so setup can call it before ``.venv`` exists)::

    python3 helpers/toolchain.py r "$(Rscript -e 'cat(as.character(getRversion()))')"
    python3 helpers/toolchain.py python 3.13.5

It prints the verdict's message, if any, and exits 0 (ok), 0 with a warning (untested) or
1 (unsupported, or a version it cannot read).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

R_OLDEST = (4, 2)
"""Debian 12's R 4.2.2: tested by ``make test``."""
R_NEWEST = (4, 5)
"""Debian 13's R 4.5: tested by ``make test-trixie``."""
PYTHON_OLDEST = (3, 11)
PYTHON_NEWEST = (3, 13)
TESTED_RPY2 = {"rpy2": "3.6.6", "rpy2-rinterface": "3.6.5", "rpy2-robjects": "3.6.6"}
"""The rpy2 pins the R range was tested with; tests check requirements.lock still has them."""
TESTED_PLATFORMS = (
    "Debian 12 (bookworm): R 4.2.2, Python 3.11 — make test",
    "Debian 13 (trixie): R 4.5, Python 3.13 — make test-trixie (container)",
)
LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"


@dataclass(frozen=True)
class Verdict:
    """``status`` is "ok", "untested" or "unsupported"; ``message`` says why and what to do."""

    status: str
    message: str = ""

    @property
    def stops_setup(self) -> bool:
        return self.status == "unsupported"


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from "4.5.0", "R version 4.2.2 (2022-10-31) …" or "3.13"; else None."""
    match = re.search(r"(?<![\d.])(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def _range(oldest: tuple[int, int], newest: tuple[int, int]) -> str:
    return f"{oldest[0]}.{oldest[1]} to {newest[0]}.{newest[1]}"


def _pins() -> str:
    return " ".join(f"{name}=={version}" for name, version in TESTED_RPY2.items())


def check_r(version_text: str) -> Verdict:
    """Whether the R that reports ``version_text`` is in the range the rpy2 pins are tested for."""
    version = parse_version(version_text)
    tested = _range(R_OLDEST, R_NEWEST)
    if version is None:
        return Verdict(
            "unsupported",
            f"Could not read R's version from {version_text.strip()[:80]!r}. Check that `R` on "
            "PATH is a working R (`Rscript -e 'getRversion()'` should print e.g. 4.5.0).",
        )
    shown = ".".join(map(str, version))
    if version[:2] < R_OLDEST:
        return Verdict(
            "unsupported",
            f"R {shown} is older than the series supports (R {tested}): the pinned rpy2 "
            f"({_pins()}) calls parts of R's C API that R {shown} lacks. Install R >= "
            f"{R_OLDEST[0]}.{R_OLDEST[1]} (Debian 12 and newer, Ubuntu 24.04: `apt-get install "
            "r-base-core`; elsewhere CRAN's packages or conda: `conda env create -f "
            "environment.yml`), put it first on PATH, and run this command again.",
        )
    if version[:2] > R_NEWEST:
        return Verdict(
            "untested",
            f"R {shown} is newer than the R the rpy2 pins are tested with (R {tested}). Setup "
            "goes on and its rpy2 check will show whether they load. If they do not, try the "
            "newest rpy2 (`.venv/bin/pip install -U rpy2 rpy2-rinterface rpy2-robjects`: fine on "
            "a new R, but it fails on R 4.2), or install an R in the tested range.",
        )
    return Verdict("ok")


def check_python(version_text: str) -> Verdict:
    """Whether this Python is one the lock's pins are tested with (they need wheels for it)."""
    version = parse_version(version_text)
    tested = _range(PYTHON_OLDEST, PYTHON_NEWEST)
    if version is None:
        return Verdict("unsupported", f"Could not read a Python version from {version_text!r}.")
    shown = ".".join(map(str, version))
    if version[:2] < PYTHON_OLDEST:
        return Verdict(
            "unsupported",
            f"Python {shown} is older than the series supports (Python {tested}): several "
            "pinned packages have no release for it. Install Python >= "
            f"{PYTHON_OLDEST[0]}.{PYTHON_OLDEST[1]}, remove .venv and run setup with it: "
            "`make setup PYTHON=/path/to/python3`.",
        )
    if version[:2] > PYTHON_NEWEST:
        return Verdict(
            "untested",
            f"Python {shown} is newer than the Python the lock is tested with (Python "
            f"{tested}). Setup goes on; if pip then tries to compile a package (no wheel for "
            f"Python {version[0]}.{version[1]} yet) and fails, remove .venv and run "
            f"`make setup PYTHON=python3.{PYTHON_NEWEST[1]}` (or another tested Python).",
        )
    return Verdict("ok")


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """Name (lower case) → version for every ``name==version`` line of requirements.lock."""
    pins = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def main(argv: list[str] | None = None) -> int:
    """``toolchain.py r|python VERSION``: print the verdict's message; exit 1 if setup must stop."""
    arguments = argv if argv is not None else sys.argv[1:]
    checks = {"r": check_r, "python": check_python}
    if len(arguments) != 2 or arguments[0] not in checks:
        print("usage: python3 helpers/toolchain.py r|python VERSION", file=sys.stderr)
        return 2
    verdict = checks[arguments[0]](arguments[1])
    if verdict.message:
        label = "stop" if verdict.stops_setup else "note"
        print(f"[setup] {label}: {verdict.message}", file=sys.stderr)
    return 1 if verdict.stops_setup else 0


if __name__ == "__main__":
    raise SystemExit(main())
