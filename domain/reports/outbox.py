"""Outbox lag (D10): events written but not yet delivered.

An event is delivered once its ``delivered_at`` is set (by whatever delivers
the outbox: the webhook worker). Until a deliverer exists every event counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.records import Event
from domain.sqltypes import utcnow


@dataclass(frozen=True, slots=True)
class OutboxLag:
    """How many events wait, and how long the oldest has waited."""

    undelivered: int
    oldest_seconds: float


async def outbox_lag(
    session: AsyncSession, *, now: datetime | None = None
) -> OutboxLag:
    """Events with no ``delivered_at``: their count and the oldest one's age."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(Event.occurred_at)).where(
                col(Event.delivered_at).is_(None)
            )
        )
    ).one()
    if oldest is None:
        return OutboxLag(0, 0.0)
    now = now or utcnow()
    return OutboxLag(int(count), max(0.0, (now - oldest).total_seconds()))
