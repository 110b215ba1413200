"""The follow-up SLA (D8): follow-ups and met/breached, pure and exhaustive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import ActivityChannel, ActivityDirection
from domain.rules.sla import is_follow_up, sla_flags, sla_met_at_after

START = datetime(2024, 3, 1, 15, 30, tzinfo=UTC)  # a Friday
DUE = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)
NOW = datetime(2024, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize("channel", list(ActivityChannel))
@pytest.mark.parametrize("direction", list(ActivityDirection))
def test_follow_ups_are_conversations_and_emails_we_send(channel, direction):
    expected = channel in (
        ActivityChannel.CALL,
        ActivityChannel.MEETING,
        ActivityChannel.WEB_CHAT,
    ) or (channel is ActivityChannel.EMAIL and direction is ActivityDirection.OUTBOUND)

    assert is_follow_up(channel, direction) is expected


def met_at(completed_at, *, met=None, started=START, channel=ActivityChannel.CALL):
    return sla_met_at_after(
        started_at=started,
        met_at=met,
        channel=channel,
        direction=ActivityDirection.OUTBOUND,
        completed_at=completed_at,
        now=NOW,
    )


def test_a_follow_up_from_the_start_on_sets_the_met_time():
    assert met_at(START) == START
    assert met_at(DUE + timedelta(hours=1)) == DUE + timedelta(hours=1)


def test_no_sla_an_open_activity_an_earlier_one_or_a_future_one_change_nothing():
    assert met_at(DUE, started=None) is None
    assert met_at(None) is None
    assert met_at(START - timedelta(seconds=1)) is None
    assert met_at(NOW + timedelta(seconds=1)) is None
    assert met_at(START, channel=ActivityChannel.OTHER) is None


def test_the_earliest_follow_up_is_kept():
    assert met_at(DUE, met=START + timedelta(hours=1)) == START + timedelta(hours=1)
    assert met_at(START + timedelta(hours=1), met=DUE) == START + timedelta(hours=1)


def test_a_naive_time_is_a_bug():
    with pytest.raises(ValueError):
        met_at(datetime(2024, 3, 2))


@pytest.mark.parametrize(
    ("met", "now", "expected"),
    [
        (None, DUE - timedelta(seconds=1), (False, False)),  # open
        (None, DUE, (False, False)),  # still within time at the due instant
        (None, DUE + timedelta(seconds=1), (False, True)),  # breached
        (DUE, NOW, (True, False)),  # met at the due instant
        (DUE + timedelta(seconds=1), NOW, (False, True)),  # met late
        (START, DUE - timedelta(hours=1), (True, False)),
    ],
)
def test_met_and_breached(met, now, expected):
    assert sla_flags(DUE, met, now) == expected


def test_no_sla_is_neither_met_nor_breached():
    assert sla_flags(None, None, NOW) == (None, None)
