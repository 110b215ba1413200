"""The follow-up SLA (D8): which activity is a follow-up, when the SLA was met.

A routed Contact Us or Professional Services lead must get a completed
follow-up activity within one business day (``business_days.sla_due_at``).
Decisions where the spec is silent:

- A follow-up is a completed activity logged on the lead that reaches the
  person: a call, a meeting or a web chat in either direction (a live
  conversation), or an email we sent (OUTBOUND). An inbound email is the
  person writing to us, not our follow-up; OTHER (research, notes) is not a
  follow-up. Task or event, and whoever logged it, make no difference.
- It counts from the moment the SLA started (routing) on: an activity
  completed before the request does not answer it. A completion time still
  in the future when it is recorded does not count (it has not happened).
- ``sla_met_at`` is the first follow-up's completion time, even a late one:
  the SLA is *met* when that is at or before the due time, *breached* when it
  came after it or when the due time passed without one, and *open* (neither)
  while the due time has not passed. A later, earlier-dated follow-up moves
  ``sla_met_at`` back (the first follow-up is what counts).
"""

from __future__ import annotations

from datetime import datetime

from domain.enums import ActivityChannel, ActivityDirection
from domain.rules.business_days import SlaStatus, require_utc, sla_status

FOLLOW_UP_CHANNELS = frozenset(
    {
        ActivityChannel.CALL,
        ActivityChannel.MEETING,
        ActivityChannel.WEB_CHAT,
        ActivityChannel.EMAIL,
    }
)


def is_follow_up(channel: ActivityChannel, direction: ActivityDirection) -> bool:
    """A call, meeting or web chat either way, or an email we sent."""
    if channel not in FOLLOW_UP_CHANNELS:
        return False
    return not (
        channel is ActivityChannel.EMAIL and direction is ActivityDirection.INBOUND
    )


def sla_met_at_after(
    *,
    started_at: datetime | None,
    met_at: datetime | None,
    channel: ActivityChannel,
    direction: ActivityDirection,
    completed_at: datetime | None,
    now: datetime,
) -> datetime | None:
    """The lead's ``sla_met_at`` once this activity is recorded (maybe unchanged)."""
    if started_at is None or completed_at is None:
        return met_at
    done = require_utc(completed_at, "completed_at")
    if not is_follow_up(channel, direction):
        return met_at
    if done < require_utc(started_at, "started_at") or done > require_utc(now, "now"):
        return met_at
    return done if met_at is None else min(require_utc(met_at, "met_at"), done)


def sla_flags(
    due_at: datetime | None, met_at: datetime | None, now: datetime
) -> tuple[bool | None, bool | None]:
    """(met, breached) of a lead; (None, None) when it has no SLA."""
    if due_at is None:
        return None, None
    status = sla_status(due_at, met_at, now)
    return status is SlaStatus.MET, status is SlaStatus.BREACHED
