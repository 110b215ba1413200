"""Batch lookups for the API's DataLoaders: many records by id in one query."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.records import EventRecipient

R = TypeVar("R", bound=SQLModel)


async def by_ids(
    session: AsyncSession, model: type[R], ids: Sequence[int]
) -> list[R | None]:
    """Records for ids, in the same order, None where missing (one query)."""
    rows = (
        await session.execute(select(model).where(model.id.in_(set(ids))))  # type: ignore[attr-defined]
    ).scalars()
    found = {row.id: row for row in rows}  # type: ignore[attr-defined]
    return [found.get(i) for i in ids]


async def recipients_of(
    session: AsyncSession, event_ids: Sequence[int]
) -> list[list[EventRecipient]]:
    """The recipients of each event, in the order they were addressed (one query)."""
    rows = (
        await session.execute(
            select(EventRecipient)
            .where(EventRecipient.event_id.in_(set(event_ids)))  # type: ignore[attr-defined]
            .order_by(EventRecipient.id)  # type: ignore[arg-type]
        )
    ).scalars()
    found: dict[int, list[EventRecipient]] = {i: [] for i in event_ids}
    for row in rows:
        found[row.event_id].append(row)
    return [found[i] for i in event_ids]
