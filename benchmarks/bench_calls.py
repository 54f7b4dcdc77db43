"""Benchmark: what recording and showing each cell's AWS calls costs (run on demand: ``make bench``).

One mock account, two sessions on it — one plain, one with ``helpers.calls`` recording — and the
same calls through each, interleaved in rounds so the machine's noise hits both alike. Printed as
the ratio recorded/plain of the median per call (goal <= 1.10: the record must not be noticed),
plus the time to build the shown block for a cell's worth of calls.

Results are also written to benchmarks/results/bench_calls.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

RESULTS = ROOT / "benchmarks" / "results" / "bench_calls.json"
ROUNDS = 15
CALLS_PER_ROUND = 40


def per_call_ms(client, role_name: str) -> float:
    started = time.perf_counter()
    for _ in range(CALLS_PER_ROUND):
        client.get_role(RoleName=role_name)
    return (time.perf_counter() - started) * 1000 / CALLS_PER_ROUND


def main() -> int:
    from helpers import calls
    from helpers.mock import MockAccount

    trust = (ROOT / "policies" / "lambda_trust_policy.json").read_text()
    with MockAccount(sandbox=False) as mock:
        plain = mock.session().client("iam")
        recorded_session = mock.session()
        log = calls.CallLog()
        calls.record_calls(recorded_session, log)
        recorded = recorded_session.client("iam")
        plain.create_role(RoleName="BenchRole", AssumeRolePolicyDocument=trust)
        for client in (plain, recorded):  # warm both clients up
            per_call_ms(client, "BenchRole")
        plain_ms, recorded_ms = [], []
        for _ in range(ROUNDS):
            plain_ms.append(per_call_ms(plain, "BenchRole"))
            recorded_ms.append(per_call_ms(recorded, "BenchRole"))
            log.take()
        # a heavy cell: 200 calls, of which 20 distinct, made into the shown block
        many = [
            calls.Call(
                "iam", "GetRole", (("RoleName", f"Role{i % 20}"),), f"aws iam get-role {i % 20}"
            )
            for i in range(200)
        ]
        started = time.perf_counter()
        for _ in range(50):
            shown = calls.block(many)
            repr(shown), shown._repr_html_()
        block_ms = (time.perf_counter() - started) * 1000 / 50
    ratio = statistics.median(recorded_ms) / statistics.median(plain_ms)
    figures = {
        "plain_median_ms_per_call": round(statistics.median(plain_ms), 3),
        "recorded_median_ms_per_call": round(statistics.median(recorded_ms), 3),
        "ratio_recorded_to_plain": round(ratio, 3),
        "block_for_200_calls_ms": round(block_ms, 3),
        "rounds": ROUNDS,
        "calls_per_round": CALLS_PER_ROUND,
    }
    for name, value in figures.items():
        print(f"{name:32} {value}")
    verdict = "PASS" if ratio <= 1.10 else "FAIL"
    print(f"{verdict}: recording costs {100 * (ratio - 1):+.1f}% per call (goal <= +10%)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
