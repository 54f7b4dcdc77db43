"""A fresh ``make setup`` two ways, side by side in one run: today's pip route against uv.

Each run is ``bash scripts/setup.sh`` into a new venv location in a scratch directory
(``VENV=…``), with ``SETUP_INSTALLER=pip`` or ``uv``, interleaved (pip, uv, pip, uv …) so that a
change in the machine's load hits both routes alike. R is already present (setup checks it, as it
always does); everything after that is timed: the venv, fetching uv (uv route), installing
``requirements.lock``, the editable install of ``helpers``, and setup's rpy2-talks-to-R check.

The routes differ in more than the installer (scripts/setup.sh, step 2). pip: ``python -m venv``
with ensurepip, ``pip install -r requirements.lock`` (resolves, compiles every module), pip's
editable install. uv: ``python -m venv --without-pip`` (uv adds ensurepip's pip version with the
lock), uv fetched by the chosen Python's pip while setup checks R, ``uv pip install --no-deps``
(the lock is complete; ``uv pip check`` confirms it) of all but the largest packages no kernel
imports (the tools: a second uv fetches them meanwhile), then two processes compiling what a
notebook kernel imports (one of them is the rpy2 check) while uv installs ``helpers`` editable and
the tools.

**Cold caches, both routes.** A room of laptops starts with empty caches, so that is the figure
that counts. Each run points pip (``PIP_CACHE_DIR``) and uv (``UV_CACHE_DIR``) at empty
directories of its own: nothing is read from, or cleared in, this machine's caches, which other
people use. Not under our control: the operating system's page cache and any HTTP cache between
this machine and the package index.

Where the time goes, per route, from each installer's own timestamps: pip's ``--log`` (resolve
and download are interleaved in pip: one package after the other), uv's report lines (each
printed with the time, by setup.sh). uv's "of which build rpy2-rinterface" is the span from its
"Building" line to its "Built" line: fetching the build requirements and building, while the other
downloads go on (so it also waits on the network and on CPU those downloads use).

Every run is also checked: setup succeeded, its rpy2 check passed, the venv holds exactly the
packages of ``requirements.lock`` (``pip freeze``), rpy2 is in ABI mode.

**First use, timed too.** pip compiles every module's ``.pyc`` at install; uv leaves that to
Python, which writes a module's ``.pyc`` the first time it is imported. So that the uv route's
saving is not just work moved to the learner's first notebook, each run then times the imports a
notebook kernel makes (``FIRST_USE``), twice: the first pays for any compiling, the second shows it
is paid once. The figures report setup alone and setup plus first use.

    .venv/bin/python benchmarks/bench_setup.py            # 2 rounds: pip, uv, pip, uv
    .venv/bin/python benchmarks/bench_setup.py --rounds 3

Wall seconds depend on what else the machine runs (the load average before each run is
recorded); CPU seconds (setup and everything it ran) are the work each route does.

Figures: printed, and written to benchmarks/results/bench_setup.json. Takes about 4 minutes
with 2 rounds. On demand only (``make bench``), not part of ``make test``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_setup.json"
ROUTES = ("pip", "uv")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> set[str]:
    pins = set()
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins.add(f"{normalized(name)}=={version.strip()}")
    return pins


def setup_environment(route: str, scratch: Path) -> dict[str, str]:
    """The caller's environment (its index settings included) with fresh caches and venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    # `make bench` puts .venv/bin first on PATH: a fresh machine has no .venv, so drop it
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(
        VENV=str(scratch / "venv"),
        SETUP_INSTALLER=route,
        PIP_CACHE_DIR=str(scratch / "pip-cache"),
        UV_CACHE_DIR=str(scratch / "uv-cache"),
        SETUP_PIP_LOG=str(scratch / "pip.log"),
        RPY2_CFFI_MODE="ABI",
    )
    env.pop("PIP_NO_CACHE_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# What a notebook kernel of the series imports (notebook 6's, the widest): timed after setup.
FIRST_USE = (
    "import ipykernel.kernelapp, nbclient, pandas, matplotlib.pyplot, boto3, rpy2.robjects, "
    "helpers.session, helpers.deploy, helpers.invoke, helpers.calls, helpers.mock.account"
)


def first_use_seconds(venv: Path) -> list[float]:
    """Wall seconds of FIRST_USE in the new venv, twice: compiling (if any), then compiled."""
    times = []
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", FIRST_USE],
            cwd=ROOT,
            # as under make, which unexports PYTHONDONTWRITEBYTECODE
            env={
                **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                "RPY2_CFFI_MODE": "ABI",
            },
            capture_output=True,
            check=True,
        )
        times.append(round(time.perf_counter() - started, 2))
    return times


# pip ---------------------------------------------------------------------------------------------
PIP_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{3}) (.*)$")
PIP_BUILD_STEPS = (
    "Installing build dependencies",
    "Getting requirements to build wheel",
    "Preparing metadata (pyproject.toml)",
    "Building wheel for ",
)


def pip_phases(log: Path) -> dict[str, float]:
    """Seconds per phase of one ``pip install -r requirements.lock`` from its ``--log``."""
    events: list[tuple[float, str]] = []
    for line in log.read_text(errors="replace").splitlines():
        match = PIP_LINE.match(line)
        if match:
            stamp = datetime.fromisoformat(match[1]).timestamp() + int(match[2]) / 1000
            events.append((stamp, match[3]))
    if not events:
        return {}
    first = lambda test: next((t for t, m in events if test(m)), None)  # noqa: E731
    start = events[0][0]
    collect = first(lambda m: m.startswith("Collecting "))
    install = first(lambda m: m.startswith("Installing collected packages"))
    done = first(lambda m: m.startswith("Successfully installed"))
    building = 0.0
    opened: dict[str, float] = {}
    for stamp, message in events:
        text = message.strip()
        for step in PIP_BUILD_STEPS:
            if text.startswith(step) and text.endswith(": started"):
                opened[text[: -len(": started")]] = stamp
            elif text.startswith(step) and ": finished" in text:
                begun = opened.pop(text.split(": finished", 1)[0], None)
                if begun is not None:
                    building += stamp - begun
    phases = {"start": (collect or start) - start}
    if collect and install:
        phases["resolve+download"] = install - collect - building
        phases["build rpy2-rinterface"] = building
    if install and done:
        phases["install+compile"] = done - install
    return {k: round(v, 2) for k, v in phases.items()}


# uv ----------------------------------------------------------------------------------------------
UV_SUMMARY = re.compile(
    r"^(Resolved|Prepared|Uninstalled|Installed|Bytecode compiled|Checked) \d+ \w+ in ([\d.]+)(ms|s)$"
)
UV_NAMES = {
    "Resolved": "resolve",
    "Prepared": "download+build",
    "Uninstalled": "uninstall",
    "Installed": "install",
    "Bytecode compiled": "compile",
    "Checked": "uv pip check",
}


def uv_phases(log: Path) -> dict[str, float]:
    """Seconds per phase from uv's reports (setup.sh prefixes each line with the time).

    setup.sh installs the lock in two parts: all but the tools, then the tools, which a second uv
    fetched meanwhile (its own log, ``<log>.tools``) and which then come from uv's cache.
    """
    phases: dict[str, float] = {}
    built: dict[str, float] = {}
    for path, prefix in (
        (log, ""),
        (log.with_name(log.name + ".tools"), "tools fetched meanwhile: "),
    ):
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stamp, _, text = line.partition(" ")
            text = text.strip()
            match = UV_SUMMARY.match(text)
            if match:
                seconds = float(match[2]) / (1000 if match[3] == "ms" else 1)
                name = prefix + UV_NAMES[match[1]]
                if name in phases:  # the second install of the main log: the tools
                    name += " (tools, from uv's cache)"
                phases[name] = round(seconds, 2)
            elif text.startswith(("Building ", "Built ")) and not prefix:
                with contextlib.suppress(ValueError):
                    built[text.split()[0]] = float(stamp)
    if "Building" in built and "Built" in built:
        phases["of which build rpy2-rinterface"] = round(built["Built"] - built["Building"], 2)
    return phases


# one fresh setup ---------------------------------------------------------------------------------
SUMMARY = re.compile(
    r"installed with (\w+) in ([\d.]+) s: venv ([\d.]+) s, uv ([\d.]+) s, "
    r"requirements.lock ([\d.]+) s, helpers ([\d.]+) s"
)


def one_setup(route: str, keep: bool) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-setup-{route}-"))
    try:
        env = setup_environment(route, scratch)
        load = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "setup.sh")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=1200,
        )
        seconds = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = done.stdout + done.stderr
        result: dict = {
            "route": route,
            "seconds": round(seconds, 1),
            "ok": done.returncode == 0,
            # CPU seconds of setup and everything it ran: the work, whatever the machine's load
            "cpu_seconds": round(
                (cpu_after.ru_utime - cpu_before.ru_utime)
                + (cpu_after.ru_stime - cpu_before.ru_stime),
                1,
            ),
            "loadavg_before": round(load, 2),
        }
        if done.returncode != 0:
            result["error"] = output[-3000:]
            return result
        summary = SUMMARY.search(output)
        if summary:
            result["route_used"] = summary[1]
            result["setup_steps"] = {
                "venv": float(summary[3]),
                "fetch uv (what is left of it after the R checks)": float(summary[4]),
                "requirements.lock (uv: all but the tools)": float(summary[5]),
                "helpers (editable); uv: + compiling a kernel's imports with rpy2 check, "
                "+ the tools": float(summary[6]),
                "R checks, rpy2 check (pip) and the rest": round(seconds - float(summary[2]), 1),
            }
        venv = scratch / "venv"
        result["first_use_seconds"] = first_use_seconds(venv)
        if route == "pip":
            result["installer_phases"] = pip_phases(scratch / "pip.log")
        else:
            result["installer_phases"] = uv_phases(venv / ".setup-uv.log")
        result["checks"] = check_venv(venv, output)
        return result
    finally:
        if keep:
            print(f"   (kept {scratch})")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        # the ~1 GB this run wrote and deleted is flushed now, not during the next run
        os.sync()
        time.sleep(3)


def check_venv(venv: Path, output: str) -> dict:
    python = str(venv / "bin" / "python")
    freeze = subprocess.run(
        [python, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    installed = set()
    for line in freeze.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            if normalized(name) not in ("pip", "wheel"):
                installed.add(f"{normalized(name)}=={version.strip()}")
    pins = locked()
    situation = subprocess.run(
        [python, "-m", "rpy2.situation"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RPY2_CFFI_MODE": "ABI"},
    ).stdout
    site = next((venv / "lib").glob("python3*/site-packages"))
    return {
        "rpy2 talks to R (setup's check)": "talks to R: ok" in output,
        "installed == requirements.lock": installed == pins,
        "not in the lock": sorted(installed - pins),
        "missing from the lock": sorted(pins - installed),
        "helpers editable": (
            subprocess.run(
                [python, "-c", "import helpers, sys; print(helpers.__file__)"],
                capture_output=True,
                text=True,
                check=False,
                cwd="/",  # not the checkout: its helpers/ would be found without any install
            ).stdout.startswith(str(ROOT))
        ),
        "rpy2 ABI mode present": bool(re.search(r"ABI: PRESENT", situation)),
        "pyc files": sum(1 for _ in site.rglob("*.pyc")),
    }


def machine() -> dict:
    def out(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    commit = out("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD").strip()
    uv_version = re.search(r"^UV_VERSION=(\S+)", (ROOT / "scripts" / "setup.sh").read_text(), re.M)
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": out("python3", "--version").strip(),
        "R": out("R", "--version").splitlines()[0] if out("R", "--version") else "",
        "uv pinned": uv_version[1] if uv_version else "",
        "commit": commit,
        "loadavg at start": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=2, help="pip, uv pairs (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep each run's scratch directory")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    info = machine()
    print(
        f"Fresh setups, cold caches, interleaved pip/uv, {args.rounds} round(s); "
        f"{info['cpus']} CPUs, load {info['loadavg at start']:.2f}"
    )
    runs = []
    for round_number in range(1, args.rounds + 1):
        for route in ROUTES:
            print(f"-- round {round_number}: {route} ...", flush=True)
            run = one_setup(route, args.keep)
            run["round"] = round_number
            runs.append(run)
            if not run["ok"]:
                print(run["error"], file=sys.stderr)
                print(f"[bench_setup] the {route} route failed (above)", file=sys.stderr)
                return 1
            phases = ", ".join(f"{k} {v:.1f}" for k, v in run["installer_phases"].items())
            steps = ", ".join(f"{k} {v:.1f}" for k, v in run.get("setup_steps", {}).items())
            checks = run["checks"]
            good = all(
                checks[k]
                for k in (
                    "rpy2 talks to R (setup's check)",
                    "installed == requirements.lock",
                    "helpers editable",
                    "rpy2 ABI mode present",
                )
            )
            print(
                f"   {run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} s CPU "
                f"(load before: {run['loadavg_before']:.2f})   setup: {steps}"
            )
            print(f"   {route}: {phases}")
            print(f"   checks: {'all pass' if good else checks}; {checks['pyc files']} .pyc files")
            first, again = run["first_use_seconds"]
            print(f"   first use (a kernel's imports): {first:.1f} s, then {again:.1f} s")
            if not good:
                return 1

    seconds = {route: [r["seconds"] for r in runs if r["route"] == route] for route in ROUTES}
    median = {route: statistics.median(values) for route, values in seconds.items()}
    ratio = median["pip"] / median["uv"]
    pairs = [round(p / u, 2) for p, u in zip(seconds["pip"], seconds["uv"], strict=True)]
    print()
    print(f"{'route':6} {'runs (s)':24} {'median (s)':>10}")
    for route in ROUTES:
        shown = ", ".join(f"{s:.1f}" for s in seconds[route])
        print(f"{route:6} {shown:24} {median[route]:>10.1f}")
    print(f"uv is {ratio:.1f}x faster than pip (median; per round: {pairs})")
    with_first_use = {
        route: [r["seconds"] + r["first_use_seconds"][0] for r in runs if r["route"] == route]
        for route in ROUTES
    }
    median_with_first_use = {r: statistics.median(v) for r, v in with_first_use.items()}
    ratio_with_first_use = median_with_first_use["pip"] / median_with_first_use["uv"]
    print(
        f"setup + first use (median): pip {median_with_first_use['pip']:.1f} s, "
        f"uv {median_with_first_use['uv']:.1f} s: uv {ratio_with_first_use:.1f}x faster"
    )
    cpu = {r: statistics.median(x["cpu_seconds"] for x in runs if x["route"] == r) for r in ROUTES}
    print(
        f"CPU seconds (median): pip {cpu['pip']:.1f}, uv {cpu['uv']:.1f}: {cpu['pip'] / cpu['uv']:.1f}x"
    )

    info["loadavg at end"] = os.getloadavg()[0]
    result = {
        "benchmark": "fresh make setup (R present): pip route vs uv route, one run, interleaved",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "caches": (
            "cold for both routes: each run had empty PIP_CACHE_DIR and UV_CACHE_DIR of its own "
            "(this machine's caches neither used nor cleared); OS page cache and any HTTP cache "
            "upstream not controlled"
        ),
        "machine": info,
        "seconds": seconds,
        "median_seconds": median,
        "ratio_pip_over_uv": round(ratio, 2),
        "ratio_per_round": pairs,
        "median_seconds_setup_plus_first_use": median_with_first_use,
        "ratio_pip_over_uv_setup_plus_first_use": round(ratio_with_first_use, 2),
        "median_cpu_seconds": cpu,
        "cpu_ratio_pip_over_uv": round(cpu["pip"] / cpu["uv"], 2),
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"written: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
