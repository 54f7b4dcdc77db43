"""API keys and usage plans: who may call a method that requires a key, and how often.

As API Gateway does for a method with ``apiKeyRequired``: the key comes from the ``x-api-key``
header (the API's ``apiKeySource`` HEADER, the default); it must exist, be enabled and belong to
a usage plan attached to this API and stage, otherwise 403 ``Forbidden``. The plan's throttle is
a token bucket per key (``burstLimit`` tokens, refilled at ``rateLimit`` a second): an empty
bucket is 429 ``Too Many Requests``. Its quota counts requests per key in the current DAY, WEEK
or MONTH (UTC; ``offset`` moves the start: the weekday from Sunday = 0, the day of the month
from the 1st = 0): past ``limit`` it is 429 ``Limit Exceeded``. A throttled request does not
count toward the quota.

The clock is injected (``clock`` returns epoch seconds), so tests drive the bucket and the
quota periods without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from . import moto_api


class KeyRejected(Exception):
    """No valid key for this API and stage: 403 Forbidden."""


class Throttled(Exception):
    """The key's token bucket is empty: 429 Too Many Requests."""


class QuotaExceeded(Exception):
    """The key used its quota for the period: 429 Limit Exceeded."""


@dataclass(frozen=True)
class Admission:
    """The key a request was admitted with (for ``$context.identity`` and the proxy event)."""

    key_id: str
    key_value: str


@dataclass
class _Bucket:
    tokens: float
    updated: float


def _period_start(now: float, period: str, offset: int) -> str:
    """A name for the quota period containing ``now`` (UTC)."""
    day = datetime.fromtimestamp(now, UTC).date()
    period = period.upper()
    if period == "WEEK":
        since_start = (day.isoweekday() % 7 - offset) % 7  # isoweekday: Monday 1 … Sunday 7
        return f"W{day - timedelta(days=since_start)}"
    if period == "MONTH":
        start_day = offset + 1
        if day.day >= start_day:
            return f"M{day.year}-{day.month}"
        previous = day.replace(day=1) - timedelta(days=1)
        return f"M{previous.year}-{previous.month}"
    return f"D{day}"


class UsagePlans:
    """Checks keys against moto's usage plans and keeps each key's bucket and quota count."""

    def __init__(self, account_id: str, clock: Callable[[], float]) -> None:
        self.account_id = account_id
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._used: dict[tuple[str, str, str], int] = {}

    def admit(self, region: str, api_id: str, stage: str, headers: dict[str, str]) -> Admission:
        """Check the request's key and charge it one request, or raise why not."""
        value = next((v for k, v in headers.items() if k.lower() == "x-api-key"), "")
        backend = moto_api.backend(self.account_id, region)
        key = next((k for k in backend.keys.values() if value and k.value == value), None)
        if key is None or not _enabled(key.enabled):
            raise KeyRejected()
        plans = [
            plan
            for plan in backend.usage_plans.values()
            if key.id in backend.usage_plan_keys.get(plan.id, {})
            and any(s.get("apiId") == api_id and s.get("stage") == stage for s in plan.api_stages)
        ]
        if not plans:
            raise KeyRejected()
        plan = plans[0]
        with self._lock:
            self._take_token(plan, key.id)
            self._count(plan, key.id)
        return Admission(key.id, key.value)

    def _take_token(self, plan: Any, key_id: str) -> None:
        throttle = plan.throttle or {}
        if "rateLimit" not in throttle and "burstLimit" not in throttle:
            return
        rate = float(throttle.get("rateLimit", 0) or 0)
        burst = float(throttle.get("burstLimit", 0) or 0)
        now = self.clock()
        bucket = self._buckets.setdefault((plan.id, key_id), _Bucket(burst, now))
        bucket.tokens = min(burst, bucket.tokens + max(0.0, now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise Throttled()
        bucket.tokens -= 1

    def _count(self, plan: Any, key_id: str) -> None:
        quota = plan.quota or {}
        if "limit" not in quota:
            return
        period = _period_start(
            self.clock(), str(quota.get("period", "DAY")), int(quota.get("offset", 0) or 0)
        )
        slot = (plan.id, key_id, period)
        used = self._used.get(slot, 0)
        if used >= int(quota["limit"]):
            raise QuotaExceeded()
        self._used[slot] = used + 1


def _enabled(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
