"""Benchmark: the CPU a new process spends to import the helpers and start a mock account (on demand).

Every notebook kernel, learner copy, ``make lab`` or ``python -m helpers.mock`` process, plan-mode
run and test worker pays this before it does anything, a few dozen times in ``make test``. Two
variants, interleaved in one run, each a fresh ``python`` process:

- ``series``: as the helpers are, where moto's API Gateway (and the OpenAPI validator it imports)
  waits for the first API Gateway request, and matplotlib for the first chart;
- ``eager``: the same process that first imports ``moto.apigateway.models`` and
  ``matplotlib.figure``, as the helpers did at import before.

The process imports ``helpers.costs`` and ``helpers.mock``, starts an account, makes four calls as
the root (STS, IAM, Lambda, S3) and stops it. Printed: median CPU seconds (user + system of the
process, from ``resource``) for each variant, and their ratio. Results also go to
benchmarks/results/bench_process_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_process_start.json"

PROCESS = """
import resource, sys
if sys.argv[1] == "eager":
    import matplotlib.figure, moto.apigateway.models
import helpers.costs
from helpers.mock import MockAccount

with MockAccount() as account:
    session = account.session()
    for service, call in (("sts", "get_caller_identity"), ("iam", "list_roles"),
                          ("lambda", "list_functions"), ("s3", "list_buckets")):
        getattr(session.client(service), call)()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime + usage.ru_stime)
"""


def one_process(variant: str) -> float:
    """CPU seconds of one fresh process of the variant."""
    environment = {**os.environ, "RPY2_CFFI_MODE": os.environ.get("RPY2_CFFI_MODE", "ABI")}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)  # as under make: .pyc files are used
    done = subprocess.run(
        [sys.executable, "-c", PROCESS, variant],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environment,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args(argv).rounds
    one_process("eager")  # writes any .pyc still missing: not counted
    figures: dict[str, list[float]] = {"series": [], "eager": []}
    for _ in range(rounds):
        for variant in figures:
            figures[variant].append(one_process(variant))
    medians = {variant: statistics.median(values) for variant, values in figures.items()}
    ratio = medians["series"] / medians["eager"]
    for variant, values in figures.items():
        shown = ", ".join(f"{value:.2f}" for value in values)
        print(f"{variant:>6}: median {medians[variant]:.2f} s of CPU per process ({shown})")
    print(f"ratio: a series process costs {ratio:.2f}x an eager one ({rounds} rounds each)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"cpu_s": figures, "median": medians, "ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
