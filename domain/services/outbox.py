"""The event outbox (D10): events written in the use case's transaction, and
the users each event is addressed to."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import RecordType
from domain.records import Event, EventRecipient
from domain.rules.permissions import Actor
from domain.services.bulk import HeldRow, add_row, write_after_bulk


def emit(
    session: AsyncSession,
    kind: str,
    record_type: RecordType,
    record_id: int,
    actor: Actor | None,
    **payload: Any,
) -> Event | HeldRow:
    """Write an outbox event in the current transaction (D10)."""
    return add_row(
        session,
        Event,
        kind=kind,
        record_type=record_type,
        record_id=record_id,
        actor_id=actor.id if actor else None,
        payload=payload,
    )


async def address(
    session: AsyncSession,
    event: Event | HeldRow,
    recipients: Sequence[tuple[int, str]],
) -> Event | HeldRow:
    """Address an emitted event to users, each in a capacity (e.g. "SAL"), D10.

    A user listed twice is addressed once, in the first capacity given. In a
    bulk use case the recipients are written by ``flush_bulk``, after the event.
    """
    rows = partial(_recipient_rows, event, list(recipients))
    if not write_after_bulk(session, event, rows):
        await session.flush()
        session.add_all(rows())
    return event


def _recipient_rows(
    event: Event | HeldRow, recipients: Sequence[tuple[int, str]]
) -> list[EventRecipient]:
    """One row per user, in the first capacity given (the event has its id)."""
    rows: dict[int, EventRecipient] = {}
    for user_id, capacity in recipients:
        if user_id not in rows:
            rows[user_id] = EventRecipient(
                event_id=event.id,  # type: ignore[arg-type]
                user_id=user_id,
                capacity=capacity,
            )
    return list(rows.values())
