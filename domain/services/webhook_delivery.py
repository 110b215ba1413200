"""Webhook delivery (issue 12 item 2): what the worker claims, sends and records.

The outbox (``events``) is read in id order. Each subscription has a cursor
(the last event considered for it); a worker *claims* a subscription with a
lease (``claim``), turns the events past its cursor that match its filter into
pending deliveries (``fan_out``), sends its oldest pending deliveries in order
(the worker's loop, ``tools.worker``) and writes what happened (``record``):
an attempt row per POST, the delivery DELIVERED, retried later (the whole
subscription waits: order per subscription) or DEAD_LETTERED after the
maximum number of attempts, then the lease released.

At least once: a delivery is marked only after its POST was answered, so a
worker killed mid-batch leaves it pending, and the next lease holder sends it
again (the body carries the event id for de-duplication).

Several workers: on PostgreSQL the claim is ``SELECT … FOR UPDATE SKIP
LOCKED`` and then a lease (owner, expiry) written in the same short
transaction, so no two workers hold one subscription and no transaction stays
open during HTTP calls; a killed worker's lease expires after
``lease_seconds``. On SQLite one worker process is the supported setup (its
claims are serialised by the database's single writer anyway).

Watermark (``safe_event_id``): on PostgreSQL ids are taken from a sequence
when a row is inserted, but transactions commit in any order, so event 101 may
be visible while 100 is still being written. Advancing a cursor past 100 then
would skip it forever. Before reading, the worker takes the newest visible id
M, then lists the transactions that hold a write lock on ``events`` right now
(``pg_locks``: an INSERT takes ``RowExclusiveLock`` on the table before it
draws its id, and keeps it until commit or rollback; a bulk write that draws
its events' ids before writing them, ``bulk.insert_with_ids``, takes that lock
first); any id ≤ M that is not visible belongs to one of them. It waits
(polling ``pg_locks``, a few milliseconds in practice) until every one of them
has ended; then every id ≤ M is committed or never will be, and M is safe. If
they do not end within the settle time, nothing past the previous watermark is
read this round. Chosen over ``pg_snapshot_xmin`` (which needs a transaction
id stored on every event and orders by transaction start, not by id) and over
a fixed settle delay (which is a guess: a slow transaction outlives any
delay). SQLite has one writer at a time: ids commit in order, M is always
safe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import write_transaction
from domain.enums import DeliveryStatus, WebhookStatus
from domain.records import (
    Event,
    EventRecipient,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from domain.rules.webhooks import EventFilter, backoff_seconds, gives_up, matches
from domain.sqltypes import utcnow

FAN_OUT_BATCH = 1000
ERROR_MAX_LENGTH = 500

_IN_FLIGHT = text(
    "SELECT virtualtransaction FROM pg_locks "
    "WHERE locktype = 'relation' AND relation = CAST('events' AS regclass) "
    "AND mode = 'RowExclusiveLock' AND granted AND pid <> pg_backend_pid()"
)
_STILL_IN_FLIGHT = text(
    "SELECT count(*) FROM pg_locks "
    "WHERE locktype = 'relation' AND relation = CAST('events' AS regclass) "
    "AND virtualtransaction = ANY(:writers)"
)


async def safe_event_id(
    session: AsyncSession, *, settle_seconds: float = 2.0
) -> int | None:
    """The newest event id below which no event can still appear (see the
    module docstring); None when in-flight writers did not end in time."""
    newest = int(await session.scalar(select(func.max(col(Event.id)))) or 0)
    bind = session.bind
    if bind is None or bind.dialect.name == "sqlite":
        await session.commit()
        return newest
    writers = list((await session.execute(_IN_FLIGHT)).scalars())
    await session.commit()
    deadline = time.monotonic() + settle_seconds
    delay = 0.001
    while writers:
        left = await session.scalar(_STILL_IN_FLIGHT, {"writers": writers})
        await session.commit()
        if not left:
            break
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(delay)
        delay = min(0.05, delay * 2)
    return newest


@dataclass(frozen=True, slots=True)
class Claim:
    """A subscription this worker holds the lease of, as plain values."""

    id: int
    url: str
    secret: str
    wanted: EventFilter
    cursor_event_id: int


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
    watermark: int,
) -> Claim | None:
    """Lease one ACTIVE subscription that has work and no live lease: events
    past its cursor (up to ``watermark``) or a pending delivery due now."""
    has_pending = (
        select(col(WebhookDelivery.id))
        .where(
            col(WebhookDelivery.subscription_id) == WebhookSubscription.id,
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        )
        .exists()
    )
    async with write_transaction(session):
        row = (
            await session.execute(
                select(WebhookSubscription)
                .where(
                    col(WebhookSubscription.status) == WebhookStatus.ACTIVE,
                    or_(
                        col(WebhookSubscription.lease_owner).is_(None),
                        col(WebhookSubscription.lease_expires_at) < now,
                    ),
                    or_(
                        col(WebhookSubscription.retry_at).is_(None),
                        col(WebhookSubscription.retry_at) <= now,
                    ),
                    or_(
                        col(WebhookSubscription.cursor_event_id) < watermark,
                        has_pending,
                    ),
                )
                # Least recently served first (a release keeps the expiry).
                .order_by(
                    col(WebhookSubscription.lease_expires_at).is_not(None),
                    col(WebhookSubscription.lease_expires_at),
                    col(WebhookSubscription.id),
                )
                .limit(1)
                .with_for_update(skip_locked=True, of=WebhookSubscription)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        await session.execute(
            update(WebhookSubscription)
            .where(col(WebhookSubscription.id) == row.id)
            .values(
                lease_owner=worker,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                retry_at=None,
            )
        )
        return Claim(
            id=row.id,  # type: ignore[arg-type]
            url=row.url,
            secret=row.secret,
            wanted=EventFilter(
                row.event_types, row.record_types, row.from_states, row.to_states
            ),
            cursor_event_id=row.cursor_event_id,
        )


async def fan_out(
    session: AsyncSession, held: Claim, *, watermark: int, limit: int = FAN_OUT_BATCH
) -> int:
    """Turn the events past the cursor (up to ``watermark``) that match the
    filter into pending deliveries, and move the cursor; how many matched."""
    if held.cursor_event_id >= watermark:
        return 0
    async with write_transaction(session):
        alive = await session.scalar(
            select(col(WebhookSubscription.id))
            .where(col(WebhookSubscription.id) == held.id)
            .with_for_update()
        )
        if alive is None:  # deleted since the claim
            return 0
        rows = (
            await session.execute(
                select(
                    col(Event.id),
                    col(Event.kind),
                    col(Event.record_type),
                    col(Event.payload),
                )
                .where(col(Event.id) > held.cursor_event_id, col(Event.id) <= watermark)
                .order_by(col(Event.id))
                .limit(limit)
            )
        ).all()
        wanted = [
            {"subscription_id": held.id, "event_id": event_id}
            for event_id, kind, record_type, payload in rows
            if matches(held.wanted, kind, str(record_type), payload or {})
        ]
        if wanted:
            await session.execute(insert(WebhookDelivery), wanted)
        cursor = rows[-1][0] if len(rows) == limit else watermark
        await session.execute(
            update(WebhookSubscription)
            .where(col(WebhookSubscription.id) == held.id)
            .values(cursor_event_id=cursor)
        )
    return len(wanted)


@dataclass(frozen=True, slots=True)
class Due:
    """A pending delivery with what its body is made of."""

    delivery_id: int
    attempts: int
    event: Event
    recipients: list[tuple[int, str]]


async def due(session: AsyncSession, held: Claim, *, limit: int) -> list[Due]:
    """The subscription's oldest pending deliveries, in order, with their events
    and recipients (two queries)."""
    rows = (
        await session.execute(
            select(WebhookDelivery, Event)
            .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
            .where(
                col(WebhookDelivery.subscription_id) == held.id,
                col(WebhookDelivery.status) == DeliveryStatus.PENDING,
            )
            .order_by(col(WebhookDelivery.id))
            .limit(limit)
        )
    ).all()
    event_ids = {event.id for _, event in rows}
    told: dict[int, list[tuple[int, str]]] = {i: [] for i in event_ids}  # type: ignore[misc]
    if event_ids:
        for r in (
            await session.execute(
                select(EventRecipient)
                .where(col(EventRecipient.event_id).in_(event_ids))
                .order_by(col(EventRecipient.id))
            )
        ).scalars():
            told[r.event_id].append((r.user_id, r.capacity))
    await session.commit()
    return [
        Due(d.id, d.attempts, event, told[event.id])  # type: ignore[arg-type, index]
        for d, event in rows
    ]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one POST went."""

    delivery_id: int
    attempt: int
    at: datetime
    succeeded: bool
    response_code: int | None
    latency_ms: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """When to retry and when to give up."""

    max_attempts: int
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0


async def record(
    session: AsyncSession,
    held: Claim,
    outcomes: Sequence[Outcome],
    *,
    worker: str,
    policy: Policy,
    now: datetime,
) -> list[int]:
    """Write the attempts and their deliveries' new state, set the retry time
    after a failure, and release the lease (its expiry stays: it orders the
    next claims); the ids dead-lettered."""
    dead: list[int] = []
    retry_at: datetime | None = None
    async with write_transaction(session):
        alive = await session.scalar(
            select(col(WebhookSubscription.id))
            .where(col(WebhookSubscription.id) == held.id)
            .with_for_update()
        )
        if alive is None:  # deleted meanwhile: its deliveries are gone too
            return []
        if outcomes:
            await session.execute(
                insert(WebhookAttempt),
                [
                    {
                        "delivery_id": o.delivery_id,
                        "attempt": o.attempt,
                        "attempted_at": o.at,
                        "response_code": o.response_code,
                        "latency_ms": o.latency_ms,
                        "error": (o.error or "")[:ERROR_MAX_LENGTH] or None,
                        "succeeded": o.succeeded,
                    }
                    for o in outcomes
                ],
            )
        delivered = [o.delivery_id for o in outcomes if o.succeeded]
        if delivered:
            # One statement for the batch (each outcome is its row's next attempt).
            await session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_(delivered))
                .values(
                    status=DeliveryStatus.DELIVERED,
                    attempts=col(WebhookDelivery.attempts) + 1,
                    delivered_at=now,
                )
            )
        for o in outcomes:
            if o.succeeded:
                continue
            if gives_up(o.attempt, policy.max_attempts):
                status = DeliveryStatus.DEAD_LETTERED
                dead.append(o.delivery_id)
            else:
                status = DeliveryStatus.PENDING
                retry_at = now + timedelta(
                    seconds=backoff_seconds(
                        o.attempt, base=policy.backoff_base, cap=policy.backoff_cap
                    )
                )
            await session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id) == o.delivery_id)
                .values(status=status, attempts=o.attempt)
            )
        await session.execute(
            update(WebhookSubscription)
            .where(
                col(WebhookSubscription.id) == held.id,
                col(WebhookSubscription.lease_owner) == worker,
            )
            .values(lease_owner=None, retry_at=retry_at)
        )
    return dead


async def release(session: AsyncSession, held: Claim, *, worker: str) -> None:
    """Give the lease back without delivering (nothing was due)."""
    await record(
        session, held, [], worker=worker, policy=Policy(max_attempts=1), now=utcnow()
    )
