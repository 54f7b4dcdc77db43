"""The container image beside the zip, in the mock account: same handler, same event, measured.

Live mode deploys the image; mock mode's function is the zip. Where a Docker engine runs, this
module runs *the image that goes live* in the mock account as a second function, under the
limits Lambda sets (read-only, non-root, memory and CPU share of its MemorySize), and measures it
next to the zip: cold start, warm calls, memory, size. The second function is deleted afterwards.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.deploy import IMAGE_MEMORY_MB, IMAGE_TIMEOUT_S, function_configuration
from helpers.invoke import force_cold_start, invoke
from helpers.lab import function_container
from helpers.mock.awslambda.container import engine_problem
from helpers.session import Account, tags_for

EVENT_2017 = {"gre": "800", "gpa": "4", "rank": "1"}
WARM_CALLS = 10


@dataclass
class RouteComparison:
    """What running both routes showed (``ran`` False: why not, in ``reason``)."""

    ran: bool
    reason: str = ""
    image: str = ""
    table: pd.DataFrame | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.ran:
            return f"The image route was not run here. {self.reason}"
        box = self.sandbox
        return (
            f"image {self.image}\n"
            f"container: read-only root {box['read_only_root']}, user {box['user']}, "
            f"memory {box['memory_limit_mb']} MB, {box['cpus']:.3f} vCPU, "
            f"capabilities dropped {box['capabilities_dropped']}, network {box['network']}\n"
            f"same answer as the zip: {self.answers['image'] == self.answers['zip']}"
        )


def _measure(account: Account, name: str) -> dict[str, Any]:
    force_cold_start(account, name)
    cold = invoke(account, EVENT_2017, function_name=name)
    if not cold.ok:
        raise RuntimeError(f"{name} failed: {cold.payload}")
    warm = [invoke(account, EVENT_2017, function_name=name) for _ in range(WARM_CALLS)]
    return {
        "answer": cold.payload,
        "init_ms": cold.report.get("init_ms"),
        "cold_client_ms": cold.client_ms,
        "warm_median_ms": statistics.median(call.client_ms for call in warm),
        "max_memory_mb": max(call.report.get("max_memory_mb", 0) for call in [cold, *warm]),
    }


def _container_facts(account: Account, name: str) -> dict[str, Any]:
    if account.mock is not None:
        (environment,) = account.mock.lambda_service.environments(name)
        container = f"mock-lambda-{environment.id}"
    else:  # attached to the Lab session's account, which runs in another process
        container = function_container(name)
    found = subprocess.run(
        ["docker", "inspect", container],
        capture_output=True,
        text=True,
        check=True,
    )
    container = json.loads(found.stdout)[0]
    host = container["HostConfig"]
    return {
        "read_only_root": host["ReadonlyRootfs"],
        "user": container["Config"]["User"],
        "memory_limit_mb": host["Memory"] // 2**20,
        "cpus": host["NanoCpus"] / 1e9,
        "capabilities_dropped": host["CapDrop"],
        "network": host["NetworkMode"],
    }


def compare_routes(account: Account, role_arn: str, zip_size_bytes: int) -> RouteComparison:
    """Run the image as a second function next to the zip function and measure both."""
    if not account.settings.is_mock:
        return RouteComparison(False, "live mode: the function itself runs the image")
    problem = engine_problem()
    if problem:
        return RouteComparison(False, problem)
    from helpers.image import ImageBuildError, build_image, image_size_mb

    try:
        reference = build_image(log=lambda line: None)  # about a minute the first time
    except ImageBuildError as error:
        return RouteComparison(False, f"The image could not be built here: {error}")
    lam = account.client("lambda")
    name = account.names.image_function
    configuration = function_configuration(account.names, role_arn, "Image")
    lam.create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": reference},
        Tags=tags_for(account),
        **configuration,
    )
    try:
        image = _measure(account, name)
        sandbox = _container_facts(account, name)
        zipped = _measure(account, account.names.function_name)
    finally:
        lam.delete_function(FunctionName=name)
    zip_memory = lam.get_function_configuration(FunctionName=account.names.function_name)
    table = pd.DataFrame(
        [
            {
                "route": "zip (this machine's R)",
                "memory_mb": zip_memory["MemorySize"],
                "package": _size(zip_size_bytes),
                "init_ms": zipped["init_ms"],
                "warm_ms": zipped["warm_median_ms"],
                "max_memory_used_mb": zipped["max_memory_mb"],
            },
            {
                "route": "image (goes live)",
                "memory_mb": IMAGE_MEMORY_MB,
                "package": _size(image_size_mb(reference) * 1e6),
                "init_ms": image["init_ms"],
                "warm_ms": image["warm_median_ms"],
                "max_memory_used_mb": image["max_memory_mb"],
            },
        ]
    ).set_index("route")
    return RouteComparison(
        True,
        image=reference,
        table=table.round(1),
        answers={"zip": zipped["answer"], "image": image["answer"]},
        sandbox={**sandbox, "timeout_s": IMAGE_TIMEOUT_S},
    )


def _size(size_bytes: float) -> str:
    """3.8 KB, 401 MB: a size a reader can compare at a glance (MB would round a zip to 0.0)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size_bytes >= scale:
            return (
                f"{size_bytes / scale:.1f} {unit}"
                if size_bytes < 10 * scale
                else f"{size_bytes / scale:.0f} {unit}"
            )
    return f"{size_bytes:.0f} bytes"
