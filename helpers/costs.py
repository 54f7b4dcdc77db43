"""What the admission function costs per month: the 2017 free-tier arithmetic, redone for today's prices.

All prices and allowances are from the AWS Lambda pricing page (checked late 2026). They change; the constants below are the
only place to update them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn (0.5 s of CPU otherwise)
    from matplotlib.figure import Figure

# aws-facts.md, "Pricing".
PRICE_PER_MILLION_REQUESTS = 0.20  # USD, both architectures
PRICE_PER_GB_SECOND = {
    "x86_64": 0.0000166667,  # USD per GB-s
    "arm64": 0.0000133334,  # Graviton: 20% less per GB-s
}
FREE_REQUESTS_PER_MONTH = 1_000_000  # always-free tier
FREE_GB_SECONDS_PER_MONTH = 400_000  # always-free tier ("up to 3.2 million seconds" at 128 MB)
BILLING_GRANULARITY_MS = 1  # today: duration rounded up to the next 1 ms
BILLING_GRANULARITY_MS_2017 = 100  # 2017: rounded up to the next 100 ms
# aws-facts.md, "Lambda limits": memory 128–10,240 MB; 1,769 MB buys one full vCPU.
MEMORY_RANGE_MB = (128, 10_240)
IMAGE_INIT_STAND_IN_MS = 3000.0
"""INIT of the live image at 512 MB, measured in the mock account (benchmarks/bench_image.py):
priced when AWS reports no Init Duration because it initialised the environment proactively."""
ONE_VCPU_MB = 1_769
SECONDS_PER_DAY = 86_400
# The 2017 console test (original-series.md, Part II): first call 658.93 ms at 128 MB.
COLD_CALL_MS_2017 = 658.93


class CostModelError(ValueError):
    """An input the cost model cannot price; the message says what range is allowed."""


def _check_memory(memory_mb: float) -> float:
    low, high = MEMORY_RANGE_MB
    if not low <= memory_mb <= high:
        raise CostModelError(
            f"memory_mb={memory_mb!r} is outside Lambda's range: choose {low}-{high} MB "
            f"(the default is {low} MB)."
        )
    return memory_mb / 1024


def _check_architecture(architecture: str) -> float:
    try:
        return PRICE_PER_GB_SECOND[architecture]
    except KeyError:
        raise CostModelError(
            f"architecture={architecture!r} is not one Lambda prices; use one of "
            f"{sorted(PRICE_PER_GB_SECOND)}."
        ) from None


def _check_non_negative(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise CostModelError(f"{name}={value!r} must be a finite number >= 0.")


def free_tier_compute_seconds(memory_mb: float) -> float:
    """Seconds of compute the 400,000 free GB-s buy at this memory size (3.2 million s at 128 MB)."""
    return FREE_GB_SECONDS_PER_MONTH / _check_memory(memory_mb)


def free_tier_table(
    memory_sizes: Sequence[float] = (128, 512, 1024, 1769, 3008, 10_240),
) -> pd.DataFrame:
    """The free tier's compute at several memory sizes, in seconds, hours and days of non-stop work."""
    rows = []
    for memory in memory_sizes:
        seconds = free_tier_compute_seconds(memory)
        rows.append(
            {
                "memory MB": memory,
                "GB": memory / 1024,
                "free compute s": seconds,
                "free compute hours": seconds / 3600,
                "free compute days": seconds / SECONDS_PER_DAY,
            }
        )
    return pd.DataFrame(rows)


def billed_ms(duration_ms: float, granularity_ms: int = BILLING_GRANULARITY_MS) -> int:
    """Duration as billed: rounded up to the next multiple of the granularity (1 ms now, 100 in 2017)."""
    _check_non_negative("duration_ms", duration_ms)
    if not (isinstance(granularity_ms, int) and granularity_ms > 0):
        raise CostModelError(
            f"granularity_ms={granularity_ms!r} must be a positive whole number of ms "
            f"({BILLING_GRANULARITY_MS} today, {BILLING_GRANULARITY_MS_2017} in 2017)."
        )
    units = duration_ms / granularity_ms
    if abs(units - round(units)) < 1e-9:  # 300.00000000000006 ms is 300 ms, not 301
        units = round(units)
    return math.ceil(units) * granularity_ms


def monthly_cost(
    requests: int,
    duration_ms: float,
    memory_mb: float,
    architecture: str = "x86_64",
    free_tier: bool = True,
    init_ms: float = 0.0,
    cold_start_fraction: float = 0.0,
    granularity_ms: int = BILLING_GRANULARITY_MS,
) -> dict[str, Any]:
    """A month's bill in USD, broken down into requests, duration, INIT and the free-tier deduction.

    Since 1 Aug 2025 the INIT phase of a cold start is billed for zip functions on managed runtimes:
    ``init_ms`` for ``cold_start_fraction`` of the requests, at the duration rate. This model lets
    INIT GB-s use the same free allowance as duration (both are duration to AWS). The deduction is
    capped at what was used, so the total is never negative.
    """
    _check_non_negative("requests", requests)
    _check_non_negative("init_ms", init_ms)
    if not 0.0 <= cold_start_fraction <= 1.0:
        raise CostModelError(
            f"cold_start_fraction={cold_start_fraction!r} must be between 0 (always warm) and 1 "
            "(every call a cold start)."
        )
    gigabytes = _check_memory(memory_mb)
    rate = _check_architecture(architecture)
    billed = billed_ms(duration_ms, granularity_ms)
    billed_init = billed_ms(init_ms, granularity_ms)
    cold_starts = requests * cold_start_fraction

    duration_gb_s = requests * billed / 1000 * gigabytes
    init_gb_s = cold_starts * billed_init / 1000 * gigabytes
    gb_seconds = duration_gb_s + init_gb_s
    free_requests = min(requests, FREE_REQUESTS_PER_MONTH) if free_tier else 0
    free_gb_s = min(gb_seconds, FREE_GB_SECONDS_PER_MONTH) if free_tier else 0.0

    request_cost = requests / 1_000_000 * PRICE_PER_MILLION_REQUESTS
    duration_cost = duration_gb_s * rate
    init_cost = init_gb_s * rate
    deduction = free_requests / 1_000_000 * PRICE_PER_MILLION_REQUESTS + free_gb_s * rate
    # The total is priced from what is left after the allowance (not gross minus deduction), so it
    # cannot dip below zero or wobble with floating-point rounding.
    total = (requests - free_requests) / 1_000_000 * PRICE_PER_MILLION_REQUESTS + max(
        0.0, gb_seconds - free_gb_s
    ) * rate
    return {
        "requests": requests,
        "memory_mb": memory_mb,
        "architecture": architecture,
        "duration_ms": duration_ms,
        "billed_ms": billed,
        "granularity_ms": granularity_ms,
        "cold_starts": cold_starts,
        "billed_init_ms": billed_init,
        "gb_seconds": duration_gb_s,
        "init_gb_seconds": init_gb_s,
        "request_cost": request_cost,
        "duration_cost": duration_cost,
        "init_cost": init_cost,
        "gross": request_cost + duration_cost + init_cost,
        "free_tier_deduction": deduction,
        "total": total,
    }


def scaled_duration_ms(
    duration_ms_at_128: float, memory_mb: float, floor_ms: float | None
) -> float:
    """Duration at another memory size under the series' simple CPU model.

    ``floor_ms=None``: duration stays as measured (the cautious reading: more memory, same time).
    Otherwise CPU share grows with memory up to one vCPU at 1,769 MB (R's predict is single-threaded,
    so more vCPUs do not help): duration = measured x 128 / min(memory, 1769), never below
    ``floor_ms`` (e.g. the warm duration measured at a large size, where S3 and I/O dominate).
    """
    _check_memory(memory_mb)
    if floor_ms is None:
        return duration_ms_at_128
    _check_non_negative("floor_ms", floor_ms)
    return max(floor_ms, duration_ms_at_128 * 128 / min(memory_mb, ONE_VCPU_MB))


def cost_by_memory(
    requests: int,
    duration_ms_at_128: float,
    memory_sizes: Sequence[float] = (128, 256, 512, 1024, 1769, 3008),
    floor_ms: float | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Monthly cost at each memory size; durations follow ``scaled_duration_ms`` (constant by default).

    ``options`` go to ``monthly_cost`` (architecture, free_tier, init_ms, cold_start_fraction,
    granularity_ms).
    """
    rows = []
    for memory in memory_sizes:
        duration = scaled_duration_ms(duration_ms_at_128, memory, floor_ms)
        rows.append(_row(monthly_cost(requests, duration, memory, **options)))
    return pd.DataFrame(rows)


def cost_by_requests(
    request_counts: Sequence[int], duration_ms: float, memory_mb: float = 128, **options: Any
) -> pd.DataFrame:
    """Monthly cost at each monthly request count, at a fixed duration and memory size."""
    return pd.DataFrame(
        [_row(monthly_cost(count, duration_ms, memory_mb, **options)) for count in request_counts]
    )


def _row(cost: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": cost["requests"],
        "memory MB": cost["memory_mb"],
        "architecture": cost["architecture"],
        "duration ms": cost["duration_ms"],
        "billed ms": cost["billed_ms"],
        "GB-s": cost["gb_seconds"] + cost["init_gb_seconds"],
        "request $": cost["request_cost"],
        "duration $": cost["duration_cost"],
        "init $": cost["init_cost"],
        "free tier $": cost["free_tier_deduction"],
        "total $": cost["total"],
    }


def plot_cost_curves(
    requests: int = 3_000_000,
    duration_ms: float = 200.0,
    memory_sizes: Sequence[float] = (128, 256, 512, 1024, 1769, 3008, 5120, 10_240),
    request_counts: Sequence[int] = (
        100_000,
        300_000,
        1_000_000,
        3_000_000,
        10_000_000,
        30_000_000,
        100_000_000,
    ),
    memory_mb: float = 128,
    floor_ms: float | None = None,
    **options: Any,
) -> Figure:
    """Two panels: monthly cost against memory, and against monthly requests, both architectures (linear axes).

    Made through pyplot, so a notebook shows it like the series' other plots.
    """
    import matplotlib.pyplot as plt

    options.pop("architecture", None)
    figure = plt.figure(figsize=(11, 4), layout="constrained")
    by_memory, by_requests = figure.subplots(1, 2)
    for architecture in PRICE_PER_GB_SECOND:
        memory_table = cost_by_memory(
            requests, duration_ms, memory_sizes, floor_ms, architecture=architecture, **options
        )
        by_memory.plot(
            memory_table["memory MB"], memory_table["total $"], marker="o", label=architecture
        )
        request_table = cost_by_requests(
            request_counts, duration_ms, memory_mb, architecture=architecture, **options
        )
        by_requests.plot(
            request_table["requests"], request_table["total $"], marker="o", label=architecture
        )
    duration_note = "constant" if floor_ms is None else f"scaled, floor {floor_ms:g} ms"
    by_memory.set(
        title=f"{requests:,} requests/month, {duration_ms:g} ms at 128 MB ({duration_note})",
        xlabel="memory (MB)",
        ylabel="USD per month (after free tier)",
    )
    by_requests.set(
        title=f"{memory_mb:g} MB, {duration_ms:g} ms per call",
        xlabel="requests per month",
        ylabel="USD per month (after free tier)",
    )  # linear axes: the bill is a straight line past the free tier (a log x bent it into a hook)
    by_requests.axvline(FREE_REQUESTS_PER_MONTH, color="grey", linestyle=":", label="free requests")
    for axes in (by_memory, by_requests):
        axes.grid(True, alpha=0.3)
        axes.legend()
    return figure


def compare_2017(duration_ms: float = COLD_CALL_MS_2017, memory_mb: float = 128) -> dict[str, Any]:
    """Billed duration and GB-s of one call with 2017's 100 ms rounding against today's 1 ms."""
    gigabytes = _check_memory(memory_mb)
    then = billed_ms(duration_ms, BILLING_GRANULARITY_MS_2017)
    now = billed_ms(duration_ms, BILLING_GRANULARITY_MS)
    return {
        "duration_ms": duration_ms,
        "memory_mb": memory_mb,
        "billed_ms_2017": then,
        "billed_ms_now": now,
        "extra_ms_2017": then - now,
        "gb_seconds_2017": then / 1000 * gigabytes,
        "gb_seconds_now": now / 1000 * gigabytes,
        "extra_percent_2017": 100 * (then - now) / now if now else 0.0,
    }


# Storage prices used only for the live-mode estimate (us-east-1, standard tiers; AWS price pages).
ECR_PRICE_PER_GB_MONTH = 0.10
S3_PRICE_PER_GB_MONTH = 0.023
SERIES_INVOCATIONS = 120  # notebooks 7 and 8, plus keep-warm pings, generously rounded up
SERIES_SECONDS_PER_INVOCATION = 1.5  # a cold start of the R image at 128 MB, pessimistically


def series_live_estimate(image_gb: float = 0.5, days_kept: float = 1.0) -> pd.DataFrame:
    """What running the whole series once in a live account costs, item by item (USD).

    Lambda stays inside the always-free tier by orders of magnitude; what costs anything is
    storing the container image in ECR until notebook 11 deletes it (billed per GB-month,
    prorated), and cents' fractions for the S3 objects. Assumes the free tier is otherwise unused.
    """
    gb_seconds = SERIES_INVOCATIONS * SERIES_SECONDS_PER_INVOCATION * 128 / 1024
    month_share = days_kept / 30
    rows = [
        (
            "Lambda requests",
            f"{SERIES_INVOCATIONS} of 1,000,000 free",
            0.0,
        ),
        (
            "Lambda compute",
            f"{gb_seconds:.0f} GB-s of 400,000 free",
            0.0,
        ),
        (
            "ECR image storage",
            f"{image_gb:.1f} GB for {days_kept:g} day(s)",
            image_gb * ECR_PRICE_PER_GB_MONTH * month_share,
        ),
        ("S3 objects", "about 50 KB", 0.00005 * S3_PRICE_PER_GB_MONTH * month_share),
        ("CloudWatch Logs", "under 1 MB (5 GB free)", 0.0),
        ("IAM, EventBridge rule", "no charge", 0.0),
    ]
    table = pd.DataFrame(rows, columns=["item", "usage", "USD"])
    table.loc[len(table)] = ["total", "", table["USD"].sum()]
    table["USD"] = table["USD"].map(lambda value: f"{value:.4f}")
    return table


# -- notebook 9: what sits in front of the function (API Gateway REST or HTTP API, function URL) --
# Sources: Amazon API Gateway pricing (https://aws.amazon.com/api-gateway/pricing/) and AWS
# Lambda pricing (https://aws.amazon.com/lambda/pricing/), us-east-1, checked late 2026.
# Re-check before teaching: prices and tiers change, and differ by region.
REST_API_PRICE_PER_MILLION = 3.50  # USD, first 333 million requests a month
REST_API_FIRST_TIER = 333_000_000
HTTP_API_PRICE_PER_MILLION = 1.00  # USD, first 300 million requests a month (512 KB units)
HTTP_API_FIRST_TIER = 300_000_000
FUNCTION_URL_PRICE_PER_MILLION = 0.0  # no charge beyond the function's own requests and duration
FRONT_DOOR_SOURCES = (
    "https://aws.amazon.com/api-gateway/pricing/",
    "https://aws.amazon.com/lambda/pricing/",
)


def front_door_costs(requests: int, lambda_total: float = 0.0) -> pd.DataFrame:
    """A month of ``requests`` through each way of exposing the function, in USD.

    ``lambda_total`` is the function's own bill for those requests (``monthly_cost(...)
    ["total"]``): the same whichever front door calls it. Only the first price tier is modelled
    (333 M REST, 300 M HTTP API requests a month); data transfer out is billed extra (EC2 data
    transfer rates) and is not included, nor are caching, custom domains or the 12-month free
    tier older accounts had. Re-check the prices (FRONT_DOOR_SOURCES) before teaching.
    """
    _check_non_negative("requests", requests)
    _check_non_negative("lambda_total", lambda_total)
    if requests > min(REST_API_FIRST_TIER, HTTP_API_FIRST_TIER):
        raise CostModelError(
            f"requests={requests:,} is past API Gateway's first price tier (300 M a month for "
            "HTTP APIs, 333 M for REST APIs); this model prices the first tier only. See "
            f"{FRONT_DOOR_SOURCES[0]} for the cheaper tiers."
        )
    rows = [
        (
            "REST API (2017's kind)",
            REST_API_PRICE_PER_MILLION,
            "API keys, usage plans, mapping templates, request validation, caching, WAF",
        ),
        (
            "HTTP API",
            HTTP_API_PRICE_PER_MILLION,
            "JWT authorizers, built-in CORS, no mapping templates; no API keys or usage plans",
        ),
        (
            "Lambda function URL",
            FUNCTION_URL_PRICE_PER_MILLION,
            "one HTTPS endpoint per function, built-in CORS; auth NONE or AWS_IAM only",
        ),
    ]
    table = pd.DataFrame(
        [
            {
                "front door": name,
                "USD per million": price,
                "front door $": requests / 1_000_000 * price,
                "Lambda $": lambda_total,
                "total $": requests / 1_000_000 * price + lambda_total,
                "what it offers": offers,
            }
            for name, price, offers in rows
        ]
    )
    return table.set_index("front door")
