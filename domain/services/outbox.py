"""The event outbox (D10): events written in the use case's transaction, and
the users each event is addressed to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import RecordType
from domain.records import Event, EventRecipient
from domain.rules.permissions import Actor
from domain.services.bulk import HeldRow, add_row, write_after_bulk

_CAPTURE = "salesops.emitted"


@dataclass(frozen=True)
class EmittedEvent:
    """An event as a use case wrote it: what, about which record, to whom."""

    kind: str
    record_type: RecordType
    record_id: int
    actor_id: int | None
    payload: dict[str, Any]
    # (user id, capacity), in the order addressed, each user once.
    recipients: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Emitted:
    """The events written while ``capture_emitted`` is active, in order."""

    rows: list[Event | HeldRow] = field(default_factory=list)
    recipients: dict[int, list[tuple[int, str]]] = field(default_factory=dict)

    def events(self) -> list[EmittedEvent]:
        """Each captured event with its recipients."""
        found = []
        for row in self.rows:
            values = row.values if isinstance(row, HeldRow) else row.model_dump()
            found.append(
                EmittedEvent(
                    kind=values["kind"],
                    record_type=values["record_type"],
                    record_id=values["record_id"],
                    actor_id=values["actor_id"],
                    payload=dict(values["payload"]),
                    recipients=list(self.recipients.get(id(row), [])),
                )
            )
        return found


@contextmanager
def capture_emitted(session: AsyncSession) -> Iterator[Emitted]:
    """Keep every event ``emit`` writes on this session meanwhile (a dry run
    reports what it would emit, whichever path wrote them)."""
    emitted = Emitted()
    session.info[_CAPTURE] = emitted
    try:
        yield emitted
    finally:
        session.info.pop(_CAPTURE, None)


def emit(
    session: AsyncSession,
    kind: str,
    record_type: RecordType,
    record_id: int,
    actor: Actor | None,
    **payload: Any,
) -> Event | HeldRow:
    """Write an outbox event in the current transaction (D10)."""
    row = add_row(
        session,
        Event,
        kind=kind,
        record_type=record_type,
        record_id=record_id,
        actor_id=actor.id if actor else None,
        payload=payload,
    )
    if (emitted := session.info.get(_CAPTURE)) is not None:
        emitted.rows.append(row)
    return row


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
    if (emitted := session.info.get(_CAPTURE)) is not None:
        addressed = emitted.recipients.setdefault(id(event), [])
        known = {user_id for user_id, _ in addressed}
        for user_id, capacity in recipients:
            if user_id not in known:
                known.add(user_id)
                addressed.append((user_id, capacity))
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
