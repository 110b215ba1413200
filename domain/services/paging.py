"""Keyset pages and counts of a list's SELECT.

Lists are paged by keyset on ``(sort column, id)``: a cursor is the sort key
of a row, so pages are stable while rows are inserted elsewhere, and a page
costs one indexed range scan however deep it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and whether more exist on either side."""

    rows: list[Any]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True, slots=True)
class PageWindow:
    """Which slice of an ordered list to read (Relay's first/after/last/before)."""

    first: int | None = None
    after: tuple[Any, int] | None = None
    last: int | None = None
    before: tuple[Any, int] | None = None


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    sort: Any,
    id_col: Any,
    descending: bool,
    window: PageWindow,
) -> Page:
    """Rows of ``stmt`` in (sort, id) order inside the window, one query."""
    key = tuple_(sort, id_col)
    # Bind cursor values with the columns' own types (Money -> cents, UTC times).
    types = (sort.type, id_col.type)
    forward = window.last is None
    if window.after is not None:
        after = tuple_(*window.after, types=types)
        stmt = stmt.where(key < after if descending else key > after)
    if window.before is not None:
        before = tuple_(*window.before, types=types)
        stmt = stmt.where(key > before if descending else key < before)
    # Reading backwards (last/before) walks the index the other way, then flips.
    walk_desc = descending if forward else not descending
    order = (sort.desc(), id_col.desc()) if walk_desc else (sort.asc(), id_col.asc())
    limit = window.first if forward else window.last
    assert limit is not None
    rows = list(
        (await session.execute(stmt.order_by(*order).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if forward:
        return Page(rows, has_next=more, has_previous=window.after is not None)
    rows.reverse()
    return Page(rows, has_next=window.before is not None, has_previous=more)


async def count(session: AsyncSession, stmt: Select[Any]) -> int:
    """How many rows ``stmt`` selects."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    return int((await session.execute(counted)).scalar_one())
