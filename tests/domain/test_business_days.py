"""D8 SLA due times: the next business day at the same time (Mon-Fri, UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.rules.business_days import (
    SlaStatus,
    is_business_day,
    require_utc,
    sla_due_at,
    sla_status,
)


def utc(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in March 2024 (Monday 4 … Sunday 10, Monday 11), UTC."""
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (utc(4), utc(5)),  # Monday -> Tuesday
        (utc(5), utc(6)),  # Tuesday -> Wednesday
        (utc(6), utc(7)),  # Wednesday -> Thursday
        (utc(7), utc(8)),  # Thursday -> Friday
        (utc(8), utc(11)),  # Friday -> Monday
        (utc(9), utc(11)),  # Saturday -> Monday
        (utc(10), utc(11)),  # Sunday -> Monday
    ],
)
def test_one_business_day_is_the_next_business_day_at_the_same_time(
    start: datetime, due: datetime
) -> None:
    assert sla_due_at(start) == due


def test_friday_late_evening_is_due_monday_late_evening() -> None:
    assert sla_due_at(utc(8, 23, 59)) == utc(11, 23, 59)


def test_sunday_just_before_midnight_is_due_monday_just_before_midnight() -> None:
    assert sla_due_at(utc(10, 23, 30)) == utc(11, 23, 30)


def test_saturday_just_after_midnight_is_due_monday_at_the_same_time() -> None:
    assert sla_due_at(utc(9, 0, 1)) == utc(11, 0, 1)


def test_seconds_and_microseconds_are_kept() -> None:
    start = datetime(2024, 3, 6, 9, 15, 42, 123456, tzinfo=UTC)

    assert sla_due_at(start) == datetime(2024, 3, 7, 9, 15, 42, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (utc(4), 2, utc(6)),  # Monday + 2 -> Wednesday
        (utc(7), 2, utc(11)),  # Thursday + 2 -> Monday
        (utc(8), 5, utc(15)),  # Friday + 5 -> next Friday
        (utc(9), 2, utc(12)),  # Saturday + 2 -> Tuesday
    ],
)
def test_several_business_days_skip_every_weekend(
    start: datetime, days: int, due: datetime
) -> None:
    assert sla_due_at(start, days) == due


def test_holidays_are_skipped_like_weekends() -> None:
    good_friday = date(2024, 3, 29)
    thursday = datetime(2024, 3, 28, 10, tzinfo=UTC)

    due = sla_due_at(thursday, holidays={good_friday})

    assert due == datetime(2024, 4, 1, 10, tzinfo=UTC)


def test_the_due_time_is_utc_whatever_the_zone_of_the_start() -> None:
    friday_evening_in_new_york = datetime(
        2024, 3, 8, 20, 0, tzinfo=timezone(timedelta(hours=-5))
    )  # Saturday 01:00 UTC

    due = sla_due_at(friday_evening_in_new_york)

    assert due == utc(11, 1, 0)
    assert due.tzinfo is UTC


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_due_at(datetime(2024, 3, 4, 10))


@pytest.mark.parametrize("days", [0, -1])
def test_fewer_than_one_business_day_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        sla_due_at(utc(4), days)


@pytest.mark.parametrize(
    ("day", "expected"),
    [(4, True), (5, True), (6, True), (7, True), (8, True), (9, False), (10, False)],
)
def test_business_days_are_monday_to_friday(day: int, expected: bool) -> None:
    assert is_business_day(date(2024, 3, day)) is expected


def test_require_utc_converts_other_zones() -> None:
    paris = datetime(2024, 3, 4, 12, tzinfo=timezone(timedelta(hours=1)))

    assert require_utc(paris) == utc(4, 11)
    assert require_utc(paris).tzinfo is UTC


def test_a_follow_up_by_the_due_time_meets_the_sla() -> None:
    assert sla_status(utc(5), utc(5), utc(20)) is SlaStatus.MET
    assert sla_status(utc(5), utc(4, 15), utc(20)) is SlaStatus.MET


def test_a_late_follow_up_breaches_the_sla() -> None:
    assert sla_status(utc(5), utc(5, 10, 1), utc(20)) is SlaStatus.BREACHED


def test_no_follow_up_is_open_until_the_due_time_then_breached() -> None:
    assert sla_status(utc(5), None, utc(5)) is SlaStatus.OPEN
    assert sla_status(utc(5), None, utc(5, 10, 1)) is SlaStatus.BREACHED
