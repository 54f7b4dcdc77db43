"""Cold path of the handler in a fresh process: import, model load, first prediction.

Each repetition starts a new Python process (as a new Lambda execution environment would) that
imports ``lambda_package/handler.py``, reads the model from its /tmp cache (the S3 download is
left out: it is network, not R) and predicts once. A pure-Python predictor from the exported
coefficients is timed the same way, as the floor. Figures are medians; compare the ratio, since
this machine is shared and noisy.

    .venv/bin/python benchmarks/bench_handler_cold.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HANDLER_PROBE = r"""
import json, os, sys, tempfile, time, resource
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
tempfile.tempdir = sys.argv[2]
import handler
t1 = time.perf_counter()
handler.load_model()
t2 = time.perf_counter()
p = handler.predict(800.0, 4.0, "1")
t3 = time.perf_counter()
warm = []
for i in range(30):
    s = time.perf_counter(); handler.predict(500.0 + i, 3.0, str(1 + i % 4)); warm.append(time.perf_counter() - s)
warm.sort()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first_predict": t3 - t2,
                  "warm_predict": warm[len(warm) // 2], "total": t3 - t0, "p": p,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PURE_PROBE = r"""
import json, math, sys, time
t0 = time.perf_counter()
exported = json.load(open(sys.argv[1]))
c = {k: float(v) for k, v in exported["coefficients"].items()}
p = 1 / (1 + math.exp(-(c["(Intercept)"] + c["gre"] * 800 + c["gpa"] * 4)))
print(json.dumps({"total": time.perf_counter() - t0, "p": p}))
"""


def run(code: str, *args: str) -> dict:
    started = __import__("time").perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"probe failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = __import__("time").perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from helpers import r_model

    model = r_model.train()
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "tmp"
        cache.mkdir()
        model.save(cache / "admission.rds")
        coefficients = r_model.write_coefficients_json(model, Path(scratch) / "coef.json")
        handler_runs, pure_runs = [], []
        for _ in range(args.repeat):  # interleaved, so drift on the machine hits both alike
            handler_runs.append(run(HANDLER_PROBE, str(ROOT / "lambda_package"), str(cache)))
            pure_runs.append(run(PURE_PROBE, str(coefficients)))

    def med(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs) * 1000

    assert all(abs(r["p"] - handler_runs[0]["p"]) < 1e-12 for r in handler_runs + pure_runs)
    rows = {
        "import handler (rpy2 + R start + boto3)": med(handler_runs, "import"),
        "readRDS admission.rds": med(handler_runs, "load"),
        "first predict": med(handler_runs, "first_predict"),
        "cold path (import + load + first predict)": med(handler_runs, "total"),
        "warm predict (median of 30 calls after the first)": med(handler_runs, "warm_predict"),
        "whole fresh process, R handler": med(handler_runs, "process"),
        "whole fresh process, pure Python": med(pure_runs, "process"),
    }
    print(f"median of {args.repeat} fresh processes, ms")
    for name, value in rows.items():
        print(f"  {name:<45} {value:8.1f}")
    ratio = rows["whole fresh process, R handler"] / rows["whole fresh process, pure Python"]
    rss = statistics.median(r["max_rss_mb"] for r in handler_runs)
    print(f"  {'R handler / pure Python (whole process)':<45} {ratio:8.1f}x")
    print(f"  {'peak RSS of the R handler process, MB':<45} {rss:8.1f}")
    out = ROOT / "benchmarks" / "results" / "handler_cold.json"
    out.write_text(
        json.dumps({"repeat": args.repeat, "ms": rows, "ratio": ratio, "rss_mb": rss}, indent=2)
    )


if __name__ == "__main__":
    main()
