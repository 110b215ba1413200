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
UPDATE is held and sent with the held rows (``bulk.update_row``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from domain.records import Versioned
from domain.services.bulk import update_row


async def write_record(
    session: AsyncSession,
    record: Versioned,
    values: Mapping[str, Any],
    *,
    now: datetime,
) -> None:
    """UPDATE the record's row: ``values``, ``version + 1`` and ``updated_at``
    (as ``domain.db.bump_versions`` does for a flushed change), one statement
    (``bulk.update_row``: held for ``flush_bulk`` in a bulk use case on
    PostgreSQL).

    The caller holds the row's lock (the version it read is the row's)."""
    changes = {**values, "version": record.version + 1, "updated_at": now}
    table = type(record).__table__  # type: ignore[attr-defined]
    await update_row(session, table, "id", record.id, changes)  # type: ignore[attr-defined]
    for name, value in changes.items():
        set_committed_value(record, name, value)
