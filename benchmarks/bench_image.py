"""Benchmark of the admission handler as a container image, against the zip route (on demand).

Everything comes from one run on this machine (shared and noisy), so the goals are ratios between
figures measured side by side, with samples of the routes interleaved:

1. image route, CPU in proportion to memory as on Lambda (MemorySize / 1,769 MB of a vCPU), at
   128, 256, 512 and 1,024 MB: cold start (client wall time of the first invoke after the
   environment was retired, and the REPORT's Init Duration), warm invoke median and p95 through
   boto3, Max Memory Used, and every failed invoke (OOM, timeout, error). Timeout is 60 s so the
   figures show how long INIT really takes; Lambda stops an INIT at 10 s, which is flagged.
2. image route at the engine's full CPU (``MockAccount(proportional_cpu=False)``), 512 MB: cold
   start and warm invoke.
3. zip route, same handler, 512 MB (the mock does not limit a zip function's CPU): cold start and
   warm invoke, in both accounts, interleaved with the image functions.
4. the image's size (``docker image inspect``).

Goals, printed as PASS/MISS with the ratio:
- warm image invoke (proportional CPU, 512 MB) within 1.5x the zip route's warm invoke (512 MB);
- image cold start at full CPU (512 MB) within 2.5x the zip route's cold start, same account;
- no OOM at the live memory size (``helpers.deploy.IMAGE_MEMORY_MB``); reported for every size.

Needs a Docker engine (skipped otherwise) and builds the image if it is not cached
(``make image``). Results are also written to benchmarks/results/bench_image.json.
"""

from __future__ import annotations

import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

RESULTS = ROOT / "benchmarks" / "results" / "bench_image.json"
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
POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
)
BUCKET = "serverless-poc-models"
KEY = "admission.rds"
EVENT = {"gre": "800", "gpa": "4", "rank": "1"}
PAYLOAD = json.dumps(EVENT).encode()
SIZES_MB = (128, 256, 512, 1024)
COMPARE_MB = 512
TIMEOUT_S = 60
LAMBDA_INIT_LIMIT_S = 10.0
COLD_N = 3
WARM_N = 50
WARM_BATCH = 10
WARMUP_N = 5
WARM_GOAL = 1.5
COLD_GOAL = 2.5
REPORT_FIELDS = re.compile(r"(Init Duration|Billed Duration|Duration|Max Memory Used): ([\d.]+)")


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _report(log_result: str | None) -> dict[str, Any]:
    """The REPORT line of a LogType=Tail response, as numbers (plus Status and Error Type)."""
    text = base64.b64decode(log_result or "").decode(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith("REPORT")), "")
    fields: dict[str, Any] = {name: float(value) for name, value in REPORT_FIELDS.findall(line)}
    for part in line.split("\t"):
        if part.startswith(("Status: ", "Error Type: ")):
            name, _, value = part.partition(": ")
            fields[name] = value
    return fields


def _invoke(lam: Any, name: str, tail: bool = False) -> dict[str, Any]:
    """One synchronous invoke: client wall time, and what went wrong if anything did."""
    arguments: dict[str, Any] = {"FunctionName": name, "Payload": PAYLOAD}
    if tail:
        arguments["LogType"] = "Tail"
    start = time.perf_counter()
    try:
        response = lam.invoke(**arguments)
        raw = response["Payload"].read()
    except Exception as error:  # a client-side failure counts as a failed invoke too
        wall = (time.perf_counter() - start) * 1000
        return {"wall_ms": wall, "error": f"{type(error).__name__}: {error}"}
    wall = (time.perf_counter() - start) * 1000
    sample: dict[str, Any] = {"wall_ms": wall, "error": None}
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")
    if "FunctionError" in response or not (isinstance(body, dict) and body.get("result") is True):
        kind = body.get("errorType") if isinstance(body, dict) else None
        message = body.get("errorMessage") if isinstance(body, dict) else body
        sample["error"] = f"{kind or response.get('FunctionError')}: {str(message)[:300]}"
    if tail:
        sample["report"] = _report(response.get("LogResult"))
    return sample


class Route:
    """One function under test: its samples and failures."""

    def __init__(self, label: str, function: str, memory_mb: int) -> None:
        self.label, self.function, self.memory_mb = label, function, memory_mb
        self.cold: list[dict[str, Any]] = []
        self.warm_ms: list[float] = []
        self.final_report: dict[str, Any] = {}
        self.failures: list[str] = []
        self.warm_invokes_expected = 0
        self.warm_env_invocations: int | None = None

    def record(self, phase: str, sample: dict[str, Any]) -> bool:
        if sample["error"]:
            self.failures.append(f"{phase}: {sample['error']}")
            return False
        return True

    def summary(self) -> dict[str, Any]:
        cold_ok = [s for s in self.cold if not s["error"]]
        reports = [s.get("report", {}) for s in self.cold]
        init = [r["Init Duration"] for r in reports if "Init Duration" in r]
        memory = [r.get("Max Memory Used", 0) for r in reports]
        memory.append(self.final_report.get("Max Memory Used", 0))
        return {
            "function": self.function,
            "memory_mb": self.memory_mb,
            "cold_wall_ms_median": _median([s["wall_ms"] for s in cold_ok]),
            "cold_wall_ms": [round(s["wall_ms"], 1) for s in self.cold],
            "init_duration_ms_median": _median(init),
            "init_duration_ms_max": max(init) if init else None,
            "init_over_lambda_limit": any(ms > LAMBDA_INIT_LIMIT_S * 1000 for ms in init),
            "cold_first_invoke_duration_ms_median": _median(
                [s["report"]["Duration"] for s in cold_ok if "Duration" in s["report"]]
            ),
            "warm_ms_median": _median(self.warm_ms),
            "warm_ms_p95": _p95(self.warm_ms) if self.warm_ms else None,
            "warm_n": len(self.warm_ms),
            "max_memory_used_mb": max(memory),
            "oom": any("OutOfMemory" in f for f in self.failures),
            "timeout": any("Timedout" in f or "timed out" in f for f in self.failures),
            "failures": self.failures,
            "cold_reports": reports,
            "warm_env_invocations": self.warm_env_invocations,
            "warm_invokes_expected": self.warm_invokes_expected,
        }


def _prepare_account(session: Any, model_path: Path) -> str:
    """The execution role and the model bucket, as the series sets them up; returns the role ARN."""
    iam, s3 = session.client("iam"), session.client("s3")
    role = iam.create_role(RoleName="bench-image", AssumeRolePolicyDocument=json.dumps(TRUST))
    for policy in POLICIES:
        iam.attach_role_policy(RoleName="bench-image", PolicyArn=policy)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=model_path.read_bytes())
    return role["Role"]["Arn"]


def _create(lam: Any, route: Route, role: str, *, image: str | None, zip_path: Path) -> None:
    arguments: dict[str, Any] = {
        "FunctionName": route.function,
        "Role": role,
        "MemorySize": route.memory_mb,
        "Timeout": TIMEOUT_S,
        "Environment": {"Variables": {"MODEL_BUCKET": BUCKET, "MODEL_KEY": KEY}},
    }
    if image:
        arguments.update(PackageType="Image", Code={"ImageUri": image})
    else:
        arguments.update(
            Runtime="python3.12",
            Handler="handler.lambda_handler",
            Code={"ZipFile": zip_path.read_bytes()},
        )
    lam.create_function(**arguments)


def _measure(account: Any, lam: Any, routes: list[Route]) -> None:
    """Cold starts, then warm invokes, of every route, interleaved round by round."""
    service = account.lambda_service
    for round_ in range(COLD_N):
        for route in routes:
            service.retire(route.function)
            sample = _invoke(lam, route.function, tail=True)
            route.cold.append(sample)
            route.record(f"cold {round_ + 1}", sample)
            report = sample.get("report", {})
            print(
                f"   cold {round_ + 1}/{COLD_N} {route.label:<22} {sample['wall_ms']:8.0f} ms wall, "
                f"init {report.get('Init Duration', float('nan')):8.0f} ms"
                + (f"  FAILED {sample['error'][:120]}" if sample["error"] else ""),
                flush=True,
            )
    # Warm phase: only routes whose last cold start worked (its environment stays from here on),
    # and a route is not timed further once a warm invoke fails (its failures say so): each
    # failure would start a new environment, which is no warm figure and may take a minute.
    live = [route for route in routes if not route.cold[-1]["error"]]
    for route in live:
        route.warm_invokes_expected = 1  # the last cold invoke
        for _ in range(WARMUP_N):
            route.warm_invokes_expected += 1
            if not route.record("warm-up", _invoke(lam, route.function)):
                break
    for _ in range(WARM_N // WARM_BATCH):
        for route in live:
            if any(not f.startswith("cold") for f in route.failures):
                continue
            for _ in range(WARM_BATCH):
                sample = _invoke(lam, route.function)
                route.warm_invokes_expected += 1
                if not route.record("warm", sample):
                    break
                route.warm_ms.append(sample["wall_ms"])
    for route in routes:  # one more with the log tail: the environment's peak memory so far
        sample = _invoke(lam, route.function, tail=True)
        route.record("final", sample)
        route.final_report = sample.get("report", {})
        if route in live:
            route.warm_invokes_expected += 1
            environments = service.environments(route.function)
            route.warm_env_invocations = sum(e.invocations for e in environments)
            if (
                "Init Duration" in route.final_report
                or len(environments) != 1
                or route.warm_env_invocations != route.warm_invokes_expected
            ):
                route.failures.append("warm: the environment was replaced during the warm phase")


def _image_size(ref: str) -> int:
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", ref],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def _containers_left() -> list[str]:
    done = subprocess.run(
        ["docker", "ps", "--all", "--filter", "label=serverless-poc.mock-account", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.split()


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _goal(name: str, ratio: float | None, limit: float, detail: str) -> dict[str, Any]:
    verdict = "MISS" if ratio is None or ratio > limit else "PASS"
    shown = "n/a" if ratio is None else f"{ratio:.2f}x"
    print(f"{verdict}  {name}: {shown} (goal <= {limit}x) {detail}")
    return {"name": name, "ratio": ratio, "limit": limit, "verdict": verdict}


def _fmt(value: float | None, spec: str = "8.0f") -> str:
    return format(value, spec) if value is not None else format("-", ">" + spec.split(".")[0])


def main() -> int:
    from helpers.mock.awslambda.container import cpu_share, engine_problem

    problem = engine_problem()
    if problem:
        print(f"bench_image skipped: {problem}")
        return 0

    from helpers import r_model
    from helpers.deploy import IMAGE_MEMORY_MB as live_mb
    from helpers.deploy import IMAGE_TIMEOUT_S as live_timeout_s
    from helpers.image import build_image
    from helpers.mock import MockAccount
    from helpers.packaging import build_function_zip

    began = time.perf_counter()
    ref = build_image(log=lambda line: None)
    results: dict[str, Any] = {"image": ref, "image_size_bytes": _image_size(ref)}
    results["live_memory_mb"], results["live_timeout_s"] = live_mb, live_timeout_s

    import botocore.config

    client_config = botocore.config.Config(
        read_timeout=TIMEOUT_S + 2 * LAMBDA_INIT_LIMIT_S + 60,
        retries={"total_max_attempts": 1},  # a retried invoke would hide a failure and its time
    )
    proportional = [Route(f"image {mb} MB", f"image-{mb}", mb) for mb in SIZES_MB]
    zip_a = Route(f"zip {COMPARE_MB} MB", f"zip-{COMPARE_MB}", COMPARE_MB)
    full = Route(f"image {COMPARE_MB} MB full CPU", f"image-full-{COMPARE_MB}", COMPARE_MB)
    zip_b = Route(f"zip {COMPARE_MB} MB (2nd acct)", f"zip-{COMPARE_MB}", COMPARE_MB)

    with tempfile.TemporaryDirectory() as tmp:
        model_path = r_model.train().save(Path(tmp) / KEY)
        zip_path = build_function_zip(output=Path(tmp) / "function.zip")
        for label, account_cpu, routes in (
            ("proportional CPU (as Lambda)", True, [zip_a, *proportional]),
            ("full CPU", False, [zip_b, full]),
        ):
            print(f"== mock account, image functions at {label}", flush=True)
            account = MockAccount(proportional_cpu=account_cpu, idle_timeout_s=3600)
            try:
                session = account.start()
                role = _prepare_account(session, model_path)
                lam = session.client("lambda", config=client_config)
                for route in routes:
                    image = None if route.function.startswith("zip") else ref
                    _create(lam, route, role, image=image, zip_path=zip_path)
                _measure(account, lam, routes)
            finally:
                account.stop()
    left = _containers_left()
    elapsed = time.perf_counter() - began

    routes = {r.label: r.summary() for r in (*proportional, zip_a, full, zip_b)}
    results["routes"] = routes
    results["containers_left_after_stop"] = left
    results["elapsed_s"] = elapsed

    print()
    print(
        f"image {ref}: {results['image_size_bytes'] / 1e6:.0f} MB; "
        f"live function: {live_mb} MB, Timeout {live_timeout_s} s; this run: Timeout {TIMEOUT_S} s"
    )
    header = (
        f"{'route':<26}{'vCPU':>6}{'cold wall':>10}{'INIT':>9}{'INIT max':>9}{'1st dur':>9}"
        f"{'warm med':>10}{'warm p95':>10}{'max mem':>9}  INIT>10s  failures"
    )
    print(header)
    print("-" * len(header))
    for route in (*proportional, full, zip_a, zip_b):
        s = routes[route.label]
        if route.label.startswith("zip") or route is full:
            vcpu = "all"
        else:
            vcpu = f"{cpu_share(route.memory_mb):.3f}"
        failures = s["failures"]
        print(
            f"{route.label:<26}{vcpu:>6}{_fmt(s['cold_wall_ms_median'], '10.0f')}"
            f"{_fmt(s['init_duration_ms_median'], '9.0f')}{_fmt(s['init_duration_ms_max'], '9.0f')}"
            f"{_fmt(s['cold_first_invoke_duration_ms_median'], '9.0f')}"
            f"{_fmt(s['warm_ms_median'], '10.2f')}{_fmt(s['warm_ms_p95'], '10.2f')}"
            f"{s['max_memory_used_mb']:>6.0f} MB  {'YES' if s['init_over_lambda_limit'] else 'no':<8}  "
            f"{len(failures) or 'none'}"
        )
    print(
        "(ms; cold wall = client time of the first invoke after retire, medians of "
        f"{COLD_N}; INIT = REPORT Init Duration; 1st dur = that invoke's Duration; "
        f"warm = {WARM_N} invokes)"
    )
    for route in (*proportional, full, zip_a, zip_b):
        for failure in routes[route.label]["failures"]:
            print(f"   {route.label}: {failure}")

    print()
    image_warm = routes[f"image {COMPARE_MB} MB"]
    goals = [
        _goal(
            f"warm image invoke vs zip, {COMPARE_MB} MB",
            _ratio(image_warm["warm_ms_median"], routes[zip_a.label]["warm_ms_median"]),
            WARM_GOAL,
            f"({_fmt(image_warm['warm_ms_median'], '.2f')} vs "
            f"{_fmt(routes[zip_a.label]['warm_ms_median'], '.2f')} ms median)",
        ),
        _goal(
            f"image cold start at full CPU vs zip, {COMPARE_MB} MB",
            _ratio(
                routes[full.label]["cold_wall_ms_median"],
                routes[zip_b.label]["cold_wall_ms_median"],
            ),
            COLD_GOAL,
            f"({_fmt(routes[full.label]['cold_wall_ms_median'], '.0f')} vs "
            f"{_fmt(routes[zip_b.label]['cold_wall_ms_median'], '.0f')} ms median wall)",
        ),
    ]
    for route in proportional:
        s = routes[route.label]
        live = " (the live memory size)" if route.memory_mb == live_mb else ""
        verdict = "MISS" if s["oom"] else "PASS"
        print(
            f"{verdict}  no OOM at {route.memory_mb} MB{live}: "
            f"{'OOM' if s['oom'] else 'no OOM'}, max memory {s['max_memory_used_mb']:.0f} MB"
        )
        goals.append(
            {"name": f"no OOM at {route.memory_mb} MB", "verdict": verdict, "live": bool(live)}
        )
    results["goals"] = goals
    slow = [
        f"{label} (max {s['init_duration_ms_max'] / 1000:.1f} s)"
        for label, s in routes.items()
        if s["init_over_lambda_limit"]
    ]
    if slow:
        print(
            f"INIT over Lambda's {LAMBDA_INIT_LIMIT_S:.0f} s limit: {', '.join(slow)}. On Lambda "
            "that INIT is cut off and retried inside the first invoke, under the function's Timeout "
            f"({live_timeout_s} s live)."
        )
    print(
        f"containers left after stop: {len(left) if left else 'none'}; took {elapsed:.0f} s",
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
