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

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from domain.db import changed_columns
from domain.records import Lead, Versioned
from domain.services.bulk import holds_writes, update_row
from domain.services.match_keys import sources_set
from domain.services.milestones import ENTRIES, entry_changes, known_stamps


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
    (key,) = table.primary_key.columns  # ``id``; a routing pool's ``key``
    await update_row(session, table, key.key, getattr(record, key.key), changes)
    for name, value in changes.items():
        set_committed_value(record, name, value)
    _settle(session, record)


def _settle(session: AsyncSession, record: Versioned) -> None:
    """A record whose every change is now written leaves the session's dirty
    set, so the flush passes it by: attributes set to the value they had
    (an engagement's ``active_until``) and the written ones keep it marked
    modified, and a unit of work over such a record costs ~0.2 ms of CPU
    with the flush hooks for nothing (measured: 6 % of a recordEngagement).
    Only when no column has a change left and no relationship a pending one;
    SQLAlchemy's own step after a flush (``InstanceState._commit_all``)."""
    state = inspect(record)
    if not state.modified or changed_columns(record):
        return
    columns = state.mapper.column_attrs
    if all(key in columns for key in state.committed_state):
        state._commit_all(state.dict, session.sync_session.identity_map)


async def write_changed_lead(
    session: AsyncSession, lead: Lead, *, now: datetime
) -> None:
    """A lead changed through its attributes (an engagement's rescore, moves and
    routing) written like ``write_record`` instead of by the flush and its
    funnel hook: on PostgreSQL, in a bulk use case, its UPDATE and its funnel
    entry's are held and go with the held rows as one statement.

    Only for a lead whose entry stamps were read with its lock
    (``milestones.remember_stamps``) and none of whose match-key sources was
    set (the flush keys those); any other lead is left to the flush."""
    sync = session.sync_session
    known = known_stamps(sync)
    before = known.get(lead.id)  # type: ignore[arg-type]
    if not holds_writes(session) or before is None or sources_set(lead):
        return
    changes = changed_columns(lead)
    if not changes:
        return
    # The entry from the attributes' history, before they are committed.
    stamps, entry = entry_changes(lead, before)
    await write_record(session, lead, changes, now=now)
    if entry:
        await update_row(session, ENTRIES, "lead_id", lead.id, entry)
    known[lead.id] = stamps  # type: ignore[index]
