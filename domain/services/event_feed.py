"""The outbox as a live feed (issue 12 item 3): events read in id order from a
cursor, on SQLite and PostgreSQL alike, so that every API process sees the
events every other process commits.

Ids are handed out when a row is inserted but become visible when its
transaction commits, and on PostgreSQL two transactions may commit in the
other order (id 11 visible before id 10). A cursor that only moved forward
would skip id 10 for good, so ``OutboxCursor`` remembers the ids it has passed
over without seeing them and asks for them again for ``GAP_SECONDS`` (a
rolled-back transaction leaves a gap that never fills). On SQLite writers
commit one at a time, in id order: no gap ever waits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import RecordType
from domain.records import Event
from domain.services.lookups import recipients_of

# How long an id passed over is waited for (a transaction's longest commit).
GAP_SECONDS = 30.0
# The most events one read returns.
PAGE = 500
# The most ids passed over that a cursor waits for at once (a jump of the
# sequence, e.g. after a bulk load, is not a thousand open transactions).
MAX_GAPS = 1000


@dataclass(frozen=True)
class FeedEvent:
    """An outbox event as the feed passes it on (plain values)."""

    id: int
    kind: str
    record_type: RecordType
    record_id: int
    actor_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime
    delivered_at: datetime | None
    recipient_ids: tuple[int, ...]

    def readable_by(self, reader: int | None) -> bool:
        """Whether a user reading only their own private items (``reader``; None:
        everything) may see it: plain records of a change are everyone's, events
        addressed to people are theirs (as ``events`` and ``node`` decide)."""
        return reader is None or not self.recipient_ids or reader in self.recipient_ids


async def last_event_id(session: AsyncSession) -> int:
    """The largest event id committed so far (0 when there is none)."""
    return int(await session.scalar(select(func.max(Event.id))) or 0)


async def events_after(
    session: AsyncSession,
    after: int,
    *,
    also: Sequence[int] = (),
    limit: int = PAGE,
) -> list[FeedEvent]:
    """Events with an id above ``after`` (and those of the ids ``also``), in id
    order, with their recipients."""
    condition = col(Event.id) > after
    if also:
        condition = or_(condition, col(Event.id).in_(list(also)))
    rows = (
        (
            await session.execute(
                select(Event).where(condition).order_by(col(Event.id)).limit(limit)
            )
        )
        .scalars()
        .all()
    )
    recipients = await recipients_of(session, [row.id for row in rows])  # type: ignore[misc]
    return [
        FeedEvent(
            id=row.id,  # type: ignore[arg-type]
            kind=row.kind,
            record_type=row.record_type,
            record_id=row.record_id,
            actor_id=row.actor_id,
            payload=dict(row.payload),
            occurred_at=row.occurred_at,
            delivered_at=row.delivered_at,
            recipient_ids=tuple(r.user_id for r in addressed),
        )
        for row, addressed in zip(rows, recipients, strict=True)
    ]


@dataclass
class OutboxCursor:
    """Where a reader of the outbox is: the largest id seen, and the ids below
    it not seen yet (each with the moment it stops being waited for)."""

    position: int
    gaps: dict[int, float] = field(default_factory=dict)

    async def read(self, session: AsyncSession) -> list[FeedEvent]:
        """The events committed since the last read (late ones too), in id order."""
        now = time.monotonic()
        self.gaps = {i: until for i, until in self.gaps.items() if until > now}
        found = await events_after(session, self.position, also=sorted(self.gaps))
        if not found and await last_event_id(session) < self.position:
            # The outbox was emptied and its ids start again (a restored or
            # reset database): follow it rather than wait for ids never to come.
            self.position = await last_event_id(session)
            self.gaps.clear()
        for event in found:
            self.gaps.pop(event.id, None)
            if event.id > self.position:
                for missing in range(
                    max(self.position + 1, event.id - MAX_GAPS), event.id
                ):
                    self.gaps[missing] = now + GAP_SECONDS
                self.position = event.id
        return found
