"""Soak of the mock account (on demand): many invokes from many threads, mixed with faulty functions.

    .venv/bin/python benchmarks/soak_mock.py [--invokes 10000] [--threads 16]

Where a Docker engine runs, the function's container image joins the mix (its model bucket is
missing on purpose, so every call must end in the handler's own ModelUnavailable error). Every
invoke is checked: a healthy function's answer must be exactly the one expected for its input, and each faulty function must fail the way Lambda reports it (handled error, crash,
timeout, out of memory). Nothing may be lost: every call is accounted for as a correct answer,
an expected failure or a 429 throttle (the image function has reserved concurrency 2; boto3
would retry a throttle; here each is counted, not hidden). Afterwards
the account is stopped and the script checks that no worker process, container, listening port
or work folder of it is left. Results go to benchmarks/results/soak_mock.json.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "soak_mock.json"

HANDLERS = {
    "square": "def lambda_handler(event, context):\n    return {'n': event['n'], 'sq': event['n'] ** 2}\n",
    "raises": "def lambda_handler(event, context):\n    raise ValueError('bad ' + str(event['n']))\n",
    "crashes": "import os\n\ndef lambda_handler(event, context):\n    os._exit(3)\n",
    "sleeps": "import time\n\ndef lambda_handler(event, context):\n    time.sleep(5)\n",
    "hogs": "def lambda_handler(event, context):\n    blob = b'x' * (400 * 1024 * 1024)\n    return len(blob)\n",
}
WEIGHTS = {"square": 0.9, "raises": 0.04, "crashes": 0.02, "sleeps": 0.02, "hogs": 0.02}
EXPECTED_ERRORS = {
    "raises": "ValueError",
    "crashes": "Runtime.ExitError",
    "sleeps": "Sandbox.Timedout",
    "hogs": "Runtime.OutOfMemory",
}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def _ports_listening(pid: int) -> set[int]:
    """Listening TCP ports whose sockets belong to ``pid``."""
    inodes = set()
    for descriptor in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    ports = set()
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[3] == "0A" and int(fields[9]) in inodes:
                ports.add(int(fields[1].split(":")[1], 16))
    return ports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("RPY2_CFFI_MODE", "ABI")
    from botocore.config import Config

    from helpers.mock import MockAccount
    from helpers.mock.awslambda.reaper import LABEL

    listening_before = _ports_listening(os.getpid())
    account = MockAccount(concurrency_limit=32)  # above --threads: throttles only where set
    session = account.start()
    work_dir = Path(account._work_dir or "")
    iam = session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="soak", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    client = session.client(
        "lambda",
        config=Config(max_pool_connections=args.threads * 2, retries={"total_max_attempts": 1}),
    )
    from helpers.mock.awslambda.container import engine_problem

    weights = dict(WEIGHTS)
    if engine_problem() is None:  # the image that goes live joins the mix, in a container
        from helpers.image import build_image

        client.create_function(
            FunctionName="image",
            Role=role["Arn"],
            PackageType="Image",
            Code={"ImageUri": build_image(log=lambda line: None)},
            MemorySize=512,
            Timeout=30,
            Environment={"Variables": {"MODEL_BUCKET": "soak-models"}},
        )
        client.put_function_concurrency(FunctionName="image", ReservedConcurrentExecutions=2)
        weights["image"] = 0.02
    for kind, source in HANDLERS.items():
        client.create_function(
            FunctionName=kind,
            Role=role["Arn"],
            Runtime="python3.12",
            Handler="handler.lambda_handler",
            Code={"ZipFile": _zip(source)},
            Timeout=1 if kind == "sleeps" else 10,
            MemorySize=128,
        )
    rng = random.Random(7)
    plan = rng.choices(list(weights), weights=list(weights.values()), k=args.invokes)
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    lock = threading.Lock()

    def call(index: int) -> None:
        kind = plan[index]
        try:
            event = {"gre": "800", "gpa": "4", "rank": "1"} if kind == "image" else {"n": index}
            reply = client.invoke(FunctionName=kind, Payload=json.dumps(event), LogType="Tail")
        except client.exceptions.TooManyRequestsException:
            with lock:
                outcomes["throttled"] += 1
            return
        body = json.loads(reply["Payload"].read())
        if kind == "square":
            good = "FunctionError" not in reply and body == {"n": index, "sq": index * index}
        elif kind == "image":  # no model in the bucket: the handler's own clear 500
            good = reply.get("FunctionError") == "Unhandled" and "ModelUnavailable" in str(body)
        else:
            good = reply.get("FunctionError") == "Unhandled" and (
                body.get("errorType") == EXPECTED_ERRORS[kind]
            )
        with lock:
            outcomes[f"{kind} {'as expected' if good else 'WRONG'}"] += 1
            if not good and len(wrong) < 10:
                tail = base64.b64decode(reply.get("LogResult", "")).decode("utf-8", "replace")
                wrong.append(f"{kind} #{index}: {str(body)[:200]} | log: {tail[-600:]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(call, range(args.invokes)))
    elapsed = time.perf_counter() - started
    workers = account.lambda_service.worker_pids()
    label = account.lambda_service._reaper.label
    account.stop()
    time.sleep(1)
    left_processes = [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
    left_ports = sorted(_ports_listening(os.getpid()) - listening_before)
    left_folder = work_dir.exists() if str(work_dir) else False
    left_containers = (
        subprocess.run(
            ["docker", "ps", "--all", "--quiet", "--filter", f"label={LABEL}={label}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if "image" in weights
        else []
    )
    accounted = sum(outcomes.values())
    result = {
        "invokes": args.invokes,
        "threads": args.threads,
        "seconds": round(elapsed, 1),
        "invokes_per_second": round(args.invokes / elapsed, 1),
        "outcomes": dict(sorted(outcomes.items())),
        "accounted_for": accounted,
        "wrong_examples": wrong,
        "processes_left": left_processes,
        "ports_left": left_ports,
        "containers_left": left_containers,
        "work_folder_left": left_folder,
        "temp_folders_named_mock_left": sorted(
            p.name for p in Path(tempfile.gettempdir()).glob(f"mock-aws-{os.getpid()}-*")
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    ok = (
        accounted == args.invokes
        and not any("WRONG" in key for key in outcomes)
        and not left_processes
        and not left_ports
        and not left_folder
        and not left_containers
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
