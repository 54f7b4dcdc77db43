"""Benchmark of the mock AWS account's Lambda emulator (run on demand: ``make bench``).

Figures, all from one run on this machine, printed as ratios against a baseline measured in the
same run:

1. warm invoke of a trivial handler through boto3, vs moto's own do-nothing invoke
   (moto server in-process, ``lambda.use_docker=False``, no IAM enforcement)      goal <= 1.5x
2. cold start of the R handler (first invoke after its environment was retired), vs a bare fresh
   Python process doing ``import rpy2`` + ``readRDS`` + one ``predict``             goal <= 1.2x
3. warm invoke of the R handler through boto3: median and p95                    goal median <= 10 ms

Results are also written to benchmarks/results/bench_mock.json.
"""

from __future__ import annotations

import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

HANDLER = ROOT / "lambda_package" / "handler.py"
RESULTS = ROOT / "benchmarks" / "results" / "bench_mock.json"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
WARM_N = 300
R_WARM_N = 200
COLD_N = 5
EVENT = {"gre": "800", "gpa": "4", "rank": "1"}

BASELINE_SCRIPT = """
import io, json, statistics, sys, time, zipfile, logging
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.core.config import default_user_config
default_user_config["lambda"] = {"use_docker": False}
from moto.server import ThreadedMotoServer
import boto3
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
kw = dict(endpoint_url=f"http://{host}:{port}", region_name="us-east-1", aws_access_key_id="AKIAEXAMPLE000000000", aws_secret_access_key="x")
iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
package = io.BytesIO()
with zipfile.ZipFile(package, "w") as archive:
    archive.writestr("handler.py", "def lambda_handler(e, c):\\n    return e\\n")
lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="handler.lambda_handler", Code={"ZipFile": package.getvalue()})
times = []
for i in range(int(sys.argv[1]) + 20):
    start = time.perf_counter()
    lam.invoke(FunctionName="f", Payload=b'{"n": 1}')["Payload"].read()
    if i >= 20:
        times.append((time.perf_counter() - start) * 1000)
server.stop()
print(json.dumps(times))
"""

BARE_R_SCRIPT = """
import os, sys, time
start = time.perf_counter()
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")
if sys.argv[2:] == ["boto3"]:  # what the handler also does at import: boto3 and an S3 client
    import boto3
    boto3.client("s3", region_name="us-east-1")
import rpy2.robjects as ro
fit = ro.r["readRDS"](sys.argv[1])
predict = ro.r("function(fit) as.numeric(stats::predict(fit, newdata = data.frame(gre = 800, gpa = 4, "
               "rank = factor('1', levels = fit$xlevels$rank)), type = 'response'))")
p = predict(fit)[0]
print((time.perf_counter() - start) * 1000, p)
"""


def _timed(call: Callable[[], object], n: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def moto_baseline_ms() -> list[float]:
    """moto's do-nothing invoke (no Docker, no enforcement), in a fresh process like ours."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BASELINE_SCRIPT), str(WARM_N)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare_r_ms(model_path: Path, *extra: str) -> list[float]:
    """Wall time of fresh processes that import rpy2, readRDS the model and predict once.

    With ``"boto3"`` the process also imports boto3 and creates an S3 client, as the handler must
    to fetch its model: the difference between the two baselines is that fixed cost.
    """
    times = []
    for _ in range(COLD_N):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", BARE_R_SCRIPT, str(model_path), *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    from helpers import r_model
    from helpers.mock import MockAccount

    results: dict[str, object] = {}
    baseline = moto_baseline_ms()

    with tempfile.TemporaryDirectory() as tmp, MockAccount() as account:
        model_path = r_model.train().save(Path(tmp) / "admission.rds")
        session = account.session()
        iam, lam, s3 = session.client("iam"), session.client("lambda"), session.client("s3")
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"
        ]["Arn"]
        iam.attach_role_policy(
            RoleName="bench",
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        iam.put_role_policy(
            RoleName="bench",
            PolicyName="read-model",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::bench-models/*",
                        }
                    ],
                }
            ),
        )

        # 1. trivial handler, warm
        lam.create_function(
            FunctionName="trivial",
            Runtime="python3.12",
            Role=role,
            Handler="handler.lambda_handler",
            Code={"ZipFile": _zip({"handler.py": "def lambda_handler(e, c):\n    return e\n"})},
        )
        ours = _timed(
            lambda: lam.invoke(FunctionName="trivial", Payload=b'{"n": 1}')["Payload"].read(),
            WARM_N,
        )
        results["warm_trivial_ms_median"] = statistics.median(ours)
        results["moto_do_nothing_ms_median"] = statistics.median(baseline)
        results["warm_trivial_ratio"] = statistics.median(ours) / statistics.median(baseline)

        # 2. and 3. the R handler
        if not HANDLER.exists():
            print(f"{HANDLER} is missing: R figures skipped")
        else:
            s3.create_bucket(Bucket="bench-models")
            s3.put_object(Bucket="bench-models", Key="admission.rds", Body=model_path.read_bytes())
            lam.create_function(
                FunctionName="admission",
                Runtime="python3.12",
                Role=role,
                Handler="handler.lambda_handler",
                Code={"ZipFile": _zip({"handler.py": HANDLER.read_text()})},
                MemorySize=1024,
                Timeout=30,
                Environment={
                    "Variables": {"MODEL_BUCKET": "bench-models", "MODEL_KEY": "admission.rds"}
                },
            )
            payload = json.dumps(EVENT).encode()
            cold, reports = [], []
            for i in range(COLD_N):
                lam.update_function_configuration(
                    FunctionName="admission", Description=f"cold {i}"
                )  # retires the environment
                start = time.perf_counter()
                response = lam.invoke(FunctionName="admission", Payload=payload, LogType="Tail")
                body = json.loads(response["Payload"].read())
                cold.append((time.perf_counter() - start) * 1000)
                assert "FunctionError" not in response and body["result"] is True, body
                reports.append(
                    next(
                        line
                        for line in base64.b64decode(response["LogResult"]).decode().splitlines()
                        if line.startswith("REPORT")
                    )
                )
            bare = bare_r_ms(model_path)
            bare_boto3 = bare_r_ms(model_path, "boto3")
            results["bare_r_boto3_process_ms_median"] = statistics.median(bare_boto3)
            results["r_cold_ratio_vs_bare_with_boto3"] = statistics.median(
                cold
            ) / statistics.median(bare_boto3)
            results["r_cold_ms_median"] = statistics.median(cold)
            results["bare_r_process_ms_median"] = statistics.median(bare)
            results["r_cold_ratio"] = statistics.median(cold) / statistics.median(bare)
            results["r_cold_report_example"] = reports[-1]
            warm = _timed(
                lambda: lam.invoke(FunctionName="admission", Payload=payload)["Payload"].read(),
                R_WARM_N,
            )
            results["r_warm_ms_median"] = statistics.median(warm)
            results["r_warm_ms_p95"] = _p95(warm)

    print(
        f"1. warm trivial invoke: {results['warm_trivial_ms_median']:.2f} ms vs moto do-nothing "
        f"{results['moto_do_nothing_ms_median']:.2f} ms -> {results['warm_trivial_ratio']:.2f}x (goal <= 1.5x)"
    )
    if "r_cold_ratio" in results:
        print(
            f"2. R handler cold start: {results['r_cold_ms_median']:.0f} ms vs bare process "
            f"{results['bare_r_process_ms_median']:.0f} ms -> {results['r_cold_ratio']:.2f}x (goal <= 1.2x)"
        )
        print(
            f"   vs bare process that also creates the S3 client: "
            f"{results['bare_r_boto3_process_ms_median']:.0f} ms -> "
            f"{results['r_cold_ratio_vs_bare_with_boto3']:.2f}x"
        )
        print(f"   {results['r_cold_report_example']}")
        print(
            f"3. R handler warm invoke: median {results['r_warm_ms_median']:.2f} ms, p95 "
            f"{results['r_warm_ms_p95']:.2f} ms (goal median <= 10 ms)"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
