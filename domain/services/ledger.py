"""The transition ledger shared by both machines: one TransitionRecord and one
Event per status/stage change, in the caller's transaction (D1, D10)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import RecordType
from domain.records import TransitionRecord
from domain.rules.permissions import Actor
from domain.services.bulk import HeldRow, add_row
from domain.services.outbox import emit


def record_transition(
    session: AsyncSession,
    *,
    record_type: RecordType,
    record_id: int,
    from_state: str | None,
    to_state: str,
    entered_from_at: datetime | None,
    at: datetime,
    actor: Actor | None,
    reason: str | None = None,
    note: str | None = None,
    override: bool = False,
    event_kind: str,
    **payload: Any,
) -> TransitionRecord | HeldRow:
    """Append the change to the ledger and the outbox."""
    seconds = (
        max(0, int((at - entered_from_at).total_seconds()))
        if entered_from_at is not None
        else None
    )
    row = add_row(
        session,
        TransitionRecord,
        record_type=record_type,
        record_id=record_id,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id if actor else None,
        at=at,
        reason=reason,
        note=note,
        override=override,
        seconds_in_from=seconds,
    )
    emit(
        session,
        event_kind,
        record_type,
        record_id,
        actor,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        override=override,
        **payload,
    )
    return row


async def histories(
    session: AsyncSession, record_type: RecordType, record_ids: Sequence[int]
) -> list[list[TransitionRecord]]:
    """The ledger of each record, oldest first (one query for all of them)."""
    rows = (
        await session.execute(
            select(TransitionRecord)
            .where(
                col(TransitionRecord.record_type) == record_type,
                TransitionRecord.record_id.in_(set(record_ids)),  # type: ignore[attr-defined]
            )
            .order_by(TransitionRecord.record_id, TransitionRecord.id)  # type: ignore[arg-type]
        )
    ).scalars()
    found: dict[int, list[TransitionRecord]] = {i: [] for i in record_ids}
    for row in rows:
        found[row.record_id].append(row)
    return [found[i] for i in record_ids]
