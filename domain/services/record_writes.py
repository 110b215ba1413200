"""One record's row changed with one Core UPDATE, for the hot moves.

The ORM's unit of work costs about a millisecond of CPU to write one changed
row (flush, change detection, statement compilation: measured on a lead move,
half the server's time). A move that has locked its row and knows exactly
which columns change writes them with one cached Core statement instead, and
the loaded object takes the new values as its committed state, so no later
flush writes them again (nor bumps the version twice).

A record written this way passes by the flush hooks: the caller keeps what
they would have kept (the funnel entry, ``domain.services.milestones``) in the
same transaction, as bulk writes do. In a bulk use case on PostgreSQL the
UPDATE is held and sent with the held rows (``bulk.write_held``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from domain.records import Versioned
from domain.services.bulk import holds_writes, write_held


async def write_record(
    session: AsyncSession,
    record: Versioned,
    values: Mapping[str, Any],
    *,
    now: datetime,
) -> None:
    """UPDATE the record's row: ``values``, ``version + 1`` and ``updated_at``
    (as ``domain.db.bump_versions`` does for a flushed change), one statement.

    The caller holds the row's lock (the version it read is the row's)."""
    changes = {**values, "version": record.version + 1, "updated_at": now}
    table: Table = type(record).__table__  # type: ignore[attr-defined]
    if holds_writes(session):
        # Sent with the use case's other writes as one statement: its values
        # bound anonymously, as ``write_held`` needs.
        held = update(table).where(table.c.id == record.id).values(changes)  # type: ignore[attr-defined]
        await write_held(session, held)
    else:
        statement = _update(table, tuple(changes))
        await session.execute(statement, {**changes, "record_id": record.id})  # type: ignore[attr-defined]
    for name, value in changes.items():
        set_committed_value(record, name, value)


@lru_cache(maxsize=256)
def _update(table: Table, columns: tuple[str, ...]) -> Update:
    """The UPDATE of these columns of one row, built once per set of columns
    (its cache key too: building it cost as much as running it)."""
    return (
        update(table)
        .where(table.c.id == bindparam("record_id"))
        .values({name: bindparam(name) for name in columns})
    )
