"""The outbox cursor (domain.services.event_feed): events in id order, and an
event whose transaction commits after a later id's is not skipped."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.enums import RecordType
from domain.records import Event
from domain.services import event_feed
from domain.services.event_feed import OutboxCursor


async def write_event(sessions: Any, event_id: int) -> None:
    """An event with this id, committed now (as a transaction that took the id
    earlier or later would)."""
    async with sessions() as s, s.begin():
        s.add(
            Event(
                id=event_id,
                kind="LEAD_STATUS_CHANGED",
                record_type=RecordType.LEAD,
                record_id=1,
                payload={"from_state": "RAW", "to_state": "NURTURE"},
            )
        )


async def read(sessions: Any, cursor: OutboxCursor) -> list[int]:
    async with sessions() as s:
        return [e.id for e in await cursor.read(s)]


async def test_a_late_commit_of_an_earlier_id_is_still_read(sessions, empty_database):
    cursor = OutboxCursor(position=0)
    await write_event(sessions, 1)
    await write_event(sessions, 3)  # id 2's transaction has not committed yet

    first = await read(sessions, cursor)
    await write_event(sessions, 2)
    second = await read(sessions, cursor)
    third = await read(sessions, cursor)

    assert (first, second, third) == ([1, 3], [2], [])
    assert cursor.gaps == {}


async def test_a_gap_never_filled_is_given_up_after_a_while(
    sessions, empty_database, monkeypatch
):
    monkeypatch.setattr(event_feed, "GAP_SECONDS", 0.05)
    cursor = OutboxCursor(position=0)
    await write_event(sessions, 2)  # id 1 was rolled back
    assert await read(sessions, cursor) == [2]
    assert list(cursor.gaps) == [1]

    await asyncio.sleep(0.1)
    assert await read(sessions, cursor) == []

    assert cursor.gaps == {}


async def test_a_cursor_follows_an_outbox_that_starts_again(sessions, empty_database):
    cursor = OutboxCursor(position=50)
    await write_event(sessions, 1)

    assert await read(sessions, cursor) == []
    assert await read(sessions, cursor) == [] and cursor.position == 1
    await write_event(sessions, 2)
    assert await read(sessions, cursor) == [2]
