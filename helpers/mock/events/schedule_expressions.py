"""EventBridge schedule expressions: ``rate(value unit)`` and six-field ``cron(...)`` (UTC).

Cron fields: minutes hours day-of-month month day-of-week year; ``*``, ``,``, ``-``, ``/``, ``?``,
month names (JAN…) and day names (SUN…, 1 = Sunday as in EventBridge). ``L``, ``W`` and ``#``
are not supported by the mock; such rules are reported instead of silently never firing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


class UnsupportedSchedule(ValueError):
    """An expression EventBridge may accept but the mock cannot evaluate."""


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, previous: datetime) -> datetime:
        return previous + timedelta(seconds=self.seconds)


def _field(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """Values a cron field allows; None means any (``*`` or ``?``)."""
    if text in ("*", "?"):
        return None
    if any(mark in text for mark in ("L", "W", "#")) and not (names and text.upper() in names):
        raise UnsupportedSchedule(
            f"cron field {text!r}: L, W and # are not supported by the mock account"
        )
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise UnsupportedSchedule(f"cron field {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    upper = text.strip().upper()
    if names and upper in names:
        return names[upper]
    return int(upper)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days_of_month: frozenset[int] | None
    months: frozenset[int] | None
    days_of_week: frozenset[int] | None  # 1 = Sunday
    years: frozenset[int] | None

    def _day_matches(self, day: datetime) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        weekday = (day.weekday() + 1) % 7 + 1  # Monday=0 → 2, Sunday=6 → 1
        return self.days_of_week is None or weekday in self.days_of_week

    def next_after(self, previous: datetime) -> datetime:
        """The first matching minute strictly after ``previous``."""
        start = (previous + timedelta(minutes=1)).replace(second=0, microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours or range(24)):
                    for minute in sorted(self.minutes or range(60)):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise UnsupportedSchedule("the cron expression never fires in the next five years")


Schedule = Rate | Cron


def parse(expression: str) -> Schedule:
    """Parse a ScheduleExpression; raises UnsupportedSchedule with the reason."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1:
            raise UnsupportedSchedule(f"{expression}: the rate must be at least 1")
        return Rate(value * _UNIT_S[unit])
    cron = _CRON.match(text)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            raise UnsupportedSchedule(
                f"{expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)"
            )
        return Cron(
            _field(fields[0], 0, 59),
            _field(fields[1], 0, 23),
            _field(fields[2], 1, 31),
            _field(fields[3], 1, 12, _MONTHS),
            _field(fields[4], 1, 7, _DAYS),
            _field(fields[5], 1970, 2199),
        )
    raise UnsupportedSchedule(f"{expression!r} is neither rate(...) nor cron(...)")


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
