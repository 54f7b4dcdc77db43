"""Benchmark: the CPU one mock account costs to start, answer a few calls and stop (on demand).

Every notebook kernel, learner copy and test module starts an account of its own, so this cost is
paid a hundred times in ``make test``. Two variants, interleaved in one run:

- ``series``: the account as it runs (helpers/service_models.py's shared botocore loader, moto
  patch gap 17: one IAM backend, the managed policies' fields worked out once);
- ``moto's lookup``: the same account with moto's own ``get_account_id_from`` and
  ``_init_aws_policies`` put back, and each session on a loader of its own (``boto3.Session``).

Printed: median CPU seconds (user + system of this process) per round for each, and their ratio.
Results also go to benchmarks/results/bench_account_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

import boto3  # noqa: E402
from moto.iam import models as iam_models  # noqa: E402

from helpers.mock import MockAccount, patching  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_account_start.json"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_round(series: bool) -> tuple[float, float]:
    """(CPU s, wall s) of start, four calls as the root (STS, IAM, Lambda, S3), stop."""
    if not series:  # moto's own lookup and policy loading
        patched = (iam_models.get_account_id_from, iam_models.IAMBackend._init_aws_policies)
        iam_models.get_account_id_from = patching.original("account_of_access_key")
        iam_models.IAMBackend._init_aws_policies = patching.original("init_aws_policies")
    cpu, wall = _cpu(), time.perf_counter()
    try:
        with MockAccount() as account:
            if series:
                session = account.session()
            else:
                key = account.admin_credentials
                session = boto3.Session(
                    aws_access_key_id=key["access_key_id"],
                    aws_secret_access_key=key["secret_access_key"],
                    region_name=account.region,
                )
            for service, call in (
                ("sts", "get_caller_identity"),
                ("iam", "list_roles"),
                ("lambda", "list_functions"),
                ("s3", "list_buckets"),
            ):
                getattr(session.client(service, endpoint_url=account.endpoint_url), call)()
    finally:
        if not series:
            iam_models.get_account_id_from, iam_models.IAMBackend._init_aws_policies = patched
    return _cpu() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args(argv).rounds
    one_round(True)  # imports and first-time loads, paid once by any process: not counted
    figures: dict[str, list[float]] = {"series": [], "moto's lookup": []}
    for _ in range(rounds):
        for variant in figures:
            figures[variant].append(one_round(variant == "series")[0])
    medians = {variant: statistics.median(values) for variant, values in figures.items()}
    ratio = medians["moto's lookup"] / medians["series"]
    for variant, values in figures.items():
        shown = ", ".join(f"{value:.2f}" for value in values)
        print(f"{variant:>14}: median {medians[variant]:.2f} s of CPU per account ({shown})")
    print(f"ratio: moto's lookup costs {ratio:.1f}x the series' account ({rounds} rounds each)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"cpu_s": figures, "median": medians, "ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
