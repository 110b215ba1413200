"""Outbox lag (D10, issue 12): events not yet delivered to every matching
ACTIVE webhook subscription.

An event waits while it is past the cursor of some ACTIVE subscription (the
worker has not looked at it for that subscription yet: it may or may not
match, so this is an upper bound that the worker closes as it moves) or while
a delivery of it to an ACTIVE subscription is pending (a retry, a redelivery).
With no ACTIVE subscription nothing waits. One range scan on the primary key
past the slowest cursor, plus the pending deliveries' index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import DeliveryStatus, WebhookStatus
from domain.records import Event, WebhookDelivery, WebhookSubscription
from domain.sqltypes import utcnow


@dataclass(frozen=True, slots=True)
class OutboxLag:
    """How many events wait, and how long the oldest has waited."""

    undelivered: int
    oldest_seconds: float


async def outbox_lag(
    session: AsyncSession, *, now: datetime | None = None
) -> OutboxLag:
    """Events some ACTIVE subscription still waits for: their count and the
    oldest one's age."""
    active = col(WebhookSubscription.status) == WebhookStatus.ACTIVE
    slowest = await session.scalar(
        select(func.min(col(WebhookSubscription.cursor_event_id))).where(active)
    )
    if slowest is None:
        return OutboxLag(0, 0.0)
    pending = select(col(WebhookDelivery.event_id)).where(
        col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        col(WebhookDelivery.subscription_id).in_(
            select(col(WebhookSubscription.id)).where(active)
        ),
    )
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(col(Event.occurred_at))).where(
                or_(col(Event.id) > slowest, col(Event.id).in_(pending))
            )
        )
    ).one()
    if oldest is None:
        return OutboxLag(0, 0.0)
    now = now or utcnow()
    return OutboxLag(int(count), max(0.0, (now - oldest).total_seconds()))
