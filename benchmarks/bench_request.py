"""Benchmark: the CPU of one call to the mock account, with and without moto patch gap 18 (on demand).

A test run makes tens of thousands of calls to mock accounts (every boto3 call, CLI command and
function's SDK call is one), and each costs client and server CPU in the same machine. Gap 18
(helpers/mock/moto_patches.py) stops moto's server from listing its package directory for every
request. Two variants, interleaved in one process and one account:

- ``series``: the account as it runs;
- ``moto's listing``: the same account with moto's own ``list_of_moto_modules`` put back.

Each round makes IAM ListRoles and S3 ListBuckets calls as the account root. Printed: median CPU
milliseconds per call (user + system of this process: boto3 and the account's server threads)
for each, and their ratio. Results also go to benchmarks/results/bench_request.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

from moto import backends as moto_backends  # noqa: E402

from helpers.mock import MockAccount, patching  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_request.json"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_round(clients: tuple, calls: int, series: bool) -> float:
    """CPU milliseconds per call over ``calls`` calls (half ListRoles, half ListBuckets)."""
    iam, s3 = clients
    patched = moto_backends.list_of_moto_modules
    if not series:
        moto_backends.list_of_moto_modules = patching.original("moto_service_folders")
    try:
        start = _cpu()
        for _ in range(calls // 2):
            iam.list_roles()
            s3.list_buckets()
        return (_cpu() - start) * 1000 / (calls // 2 * 2)
    finally:
        moto_backends.list_of_moto_modules = patched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    options = parser.parse_args(argv)
    figures: dict[str, list[float]] = {"series": [], "moto's listing": []}
    with MockAccount() as account:
        session = account.session()
        clients = (session.client("iam"), session.client("s3"))
        one_round(clients, 20, True)  # first calls: clients' models, connections
        for _ in range(options.rounds):
            for variant in figures:
                figures[variant].append(one_round(clients, options.calls, variant == "series"))
    medians = {variant: statistics.median(values) for variant, values in figures.items()}
    ratio = medians["moto's listing"] / medians["series"]
    for variant, values in figures.items():
        shown = ", ".join(f"{value:.2f}" for value in values)
        print(f"{variant:>15}: median {medians[variant]:.2f} ms of CPU per call ({shown})")
    print(f"ratio: moto's listing costs {ratio:.2f}x the series' account per call")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"calls": options.calls, "cpu_ms": figures, "median": medians, "ratio": ratio},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
