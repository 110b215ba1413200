"""Business days and SLA due times (D8): pure functions over UTC datetimes.

**Decision** (the spec says "the next business day at the same time"; the
handbook only says "one business day"): the due time is the same UTC time of
day on the N-th business day *after* the start's calendar date, skipping
Saturdays, Sundays and any listed holiday. The rule is applied literally
whatever day the start falls on, so:

- Monday 10:00 → Tuesday 10:00; Thursday 10:00 → Friday 10:00;
- Friday 10:00 → Monday 10:00;
- Saturday 10:00 → Monday 10:00; Sunday 23:00 → Monday 23:00.

A weekend start therefore gets less than one full business day of working
time; the SLA clock is not paused until Monday morning. Days are UTC days:
the service has no per-user time zone.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

# Monday is 0 … Sunday is 6 (``date.weekday()``).
WEEKEND_DAYS: frozenset[int] = frozenset({5, 6})
NO_HOLIDAYS: frozenset[date] = frozenset()


def require_utc(value: datetime, name: str = "datetime") -> datetime:
    """The same instant in UTC; a naive datetime is a bug and raises ValueError."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value.astimezone(UTC)


def is_business_day(day: date, holidays: Collection[date] = NO_HOLIDAYS) -> bool:
    """Monday to Friday, and not a listed holiday."""
    return day.weekday() not in WEEKEND_DAYS and day not in holidays


def sla_due_at(
    start: datetime,
    business_days: int = 1,
    *,
    holidays: Collection[date] = NO_HOLIDAYS,
) -> datetime:
    """The same UTC time on the N-th business day after ``start``'s date."""
    if business_days < 1:
        raise ValueError(f"business_days must be at least 1, got {business_days}")
    moment = require_utc(start, "start")
    remaining = business_days
    while remaining:
        moment += timedelta(days=1)
        if is_business_day(moment.date(), holidays):
            remaining -= 1
    return moment


class SlaStatus(StrEnum):
    """Where a lead's follow-up SLA stands."""

    OPEN = "OPEN"
    MET = "MET"
    BREACHED = "BREACHED"


def sla_status(
    due_at: datetime, followed_up_at: datetime | None, now: datetime
) -> SlaStatus:
    """MET when followed up by the due time, BREACHED once it passed, else OPEN."""
    due = require_utc(due_at, "due_at")
    if followed_up_at is not None:
        done = require_utc(followed_up_at, "followed_up_at")
        return SlaStatus.MET if done <= due else SlaStatus.BREACHED
    return SlaStatus.BREACHED if require_utc(now, "now") > due else SlaStatus.OPEN
