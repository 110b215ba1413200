"""Outbox lag (issue 12): events not yet delivered to every matching ACTIVE
webhook subscription."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from domain.enums import DeliveryStatus, RecordType, Role, WebhookStatus
from domain.records import WebhookDelivery, WebhookSubscription
from domain.reports.outbox import OutboxLag, outbox_lag
from domain.rules.permissions import Actor
from domain.services.outbox import emit
from domain.services.webhooks import create_webhook_subscription


async def lag(sessions: Any) -> OutboxLag:
    async with sessions() as s:
        return await outbox_lag(s)


async def write_events(make: Any, n: int) -> list[int]:
    lead = await make.lead()

    async def write(s: Any) -> list[int]:
        rows = [emit(s, "TEST_EVENT", RecordType.LEAD, lead.id, None) for _ in range(n)]
        await s.flush()
        return [r.id for r in rows]

    return await make.run(write)


async def test_events_wait_past_the_slowest_active_cursor_and_while_pending(
    make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    actor = Actor(ops.id, ops.role)
    await write_events(make, 2)
    assert (await lag(sessions)).undelivered == 0  # nobody subscribed

    hooks = [
        await make.run(
            lambda s: create_webhook_subscription(
                {"url": "https://hooks.example.com/in"}, session=s, actor=actor
            )
        )
        for _ in range(2)
    ]
    ids = await write_events(make, 3)
    waiting = await lag(sessions)

    async def move(s: Any) -> None:
        # One hook is done; the other has looked at all and has one pending.
        await s.execute(update(WebhookSubscription).values(cursor_event_id=ids[-1]))
        s.add(WebhookDelivery(subscription_id=hooks[1].id, event_id=ids[0]))
        s.add(
            WebhookDelivery(
                subscription_id=hooks[0].id,
                event_id=ids[1],
                status=DeliveryStatus.DELIVERED,
            )
        )

    await make.run(move)
    pending = await lag(sessions)

    async def pause(s: Any) -> None:
        await s.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == hooks[1].id)
            .values(status=WebhookStatus.PAUSED)
        )

    await make.run(pause)

    assert waiting.undelivered == 3 and waiting.oldest_seconds >= 0
    assert pending.undelivered == 1
    assert (await lag(sessions)).undelivered == 0  # a paused hook waits for nothing
