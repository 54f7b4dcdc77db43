"""Exercise of notebook 8: the learner's bill for a traffic profile, recomputed."""

from __future__ import annotations

from collections.abc import Mapping

from helpers.exercises.core import (
    TRAFFIC_PROFILE,
    ExerciseNotDone,
    _a,
    _problems,
    require_attempt,
)

# --------------------------------------------------------------------------- notebook 8


def check_traffic_profile(my_bill: object, warm_ms: float, init_ms: float) -> str:
    """Notebook 8: the learner priced :data:`TRAFFIC_PROFILE` with this notebook's durations.

    Why: a bill is a handful of inputs; getting each one right (requests, memory, architecture,
    cold starts, free tier) is the skill, so the check names the first input that differs.
    """
    from helpers import costs

    require_attempt(my_bill, "my_bill", "price the profile with my_bill = costs.monthly_cost(...)")
    if isinstance(my_bill, int | float):
        raise ExerciseNotDone(
            f"`my_bill` is a number ({my_bill!r}); keep the whole breakdown that "
            "costs.monthly_cost(...) returns, so the check can see what you priced."
        )
    if not isinstance(my_bill, Mapping) or "total" not in my_bill:
        raise ExerciseNotDone(
            f"`my_bill` is {_a(my_bill)}, not a bill: use the dict that "
            "costs.monthly_cost(...) returns."
        )
    profile = TRAFFIC_PROFILE
    expected = costs.monthly_cost(duration_ms=warm_ms, init_ms=init_ms, **profile)
    labels = {
        "requests": "requests a month",
        "memory_mb": "memory (MB)",
        "architecture": "architecture",
        "duration_ms": "duration per call (ms): this notebook's warm_ms",
        "billed_init_ms": "INIT per cold start (ms): this notebook's init_ms",
        "cold_starts": "cold starts (requests × cold_start_fraction)",
    }
    problems = [
        f"{label}: yours is {my_bill.get(key)!r}, the profile's is {expected[key]!r}"
        for key, label in labels.items()
        if my_bill.get(key) != expected[key]
    ]
    if not problems and my_bill.get("free_tier_deduction") != expected["free_tier_deduction"]:
        problems.append(
            "the free tier: this account's is used up by other functions (free_tier=False)"
        )
    if not problems and abs(float(my_bill["total"]) - expected["total"]) > 1e-9:
        problems.append(f"the total: yours is {my_bill['total']!r}, expected {expected['total']!r}")
    _problems(problems, "Not the profile yet")
    return (
        "Done: your bill prices the profile (10 million requests, 512 MB, arm64, 1 in 20 cold, "
        "no free tier)."
    )
