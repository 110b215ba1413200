"""Webhook subscriptions (issue 12 item 1): register, change, remove; ask for an
event again (``redeliver_event``) or for everything since a time (``replay``).

Only SALES_OPS and ADMIN manage them (``may_manage_webhooks``): a subscription
sees every event, whoever it is addressed to. The secret is made here and
handed back once, by the mutation that made (or rotated) it.

A new subscription starts after the newest event: it is told what happens from
now on (``replay`` reaches back). PAUSED keeps its place, so resuming delivers
what happened meanwhile; DISABLED lets events go by, so enabling it again
starts after the newest event, as a new one would.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import (
    DeliveryStatus,
    ErrorCode,
    LeadStatus,
    OpportunityStage,
    WebhookStatus,
)
from domain.errors import Refusal, refuse_if
from domain.records import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from domain.rules.permissions import Actor, may_manage_webhooks
from domain.rules.validation import Check, max_length, validate
from domain.rules.webhooks import SECRET_PREFIX, url_refusals
from domain.services.loading import check_version, load

SUBSCRIPTION_RULES: dict[str, list[Check]] = {"description": [max_length(200)]}
STATES = frozenset(LeadStatus) | frozenset(OpportunityStage)
EVENT_TYPE_MAX_LENGTH = 60
FILTER_MAX_ITEMS = 50


def new_secret() -> str:
    """A signing secret: 32 random bytes, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _filter_refusals(values: Mapping[str, Any]) -> list[Refusal]:
    """Event types are names (A-Z, digits, _); states are lead or stage names."""
    found: list[Refusal] = []
    for name in ("event_types", "record_types", "from_states", "to_states"):
        items = values.get(name) or []
        if len(items) > FILTER_MAX_ITEMS:
            found.append(
                Refusal.on(
                    name,
                    ErrorCode.INVALID_INPUT,
                    f"At most {FILTER_MAX_ITEMS} values.",
                )
            )
    for kind in values.get("event_types") or []:
        if (
            not kind
            or len(kind) > EVENT_TYPE_MAX_LENGTH
            or not kind.replace("_", "").isalnum()
            or kind != kind.upper()
        ):
            found.append(
                Refusal.on(
                    "event_types",
                    ErrorCode.INVALID_INPUT,
                    f"{kind!r} is not an event type (e.g. LEAD_STATUS_CHANGED).",
                )
            )
    for name in ("from_states", "to_states"):
        for state in values.get(name) or []:
            if state not in STATES:
                found.append(
                    Refusal.on(
                        name,
                        ErrorCode.INVALID_INPUT,
                        f"{state!r} is neither a lead status nor an opportunity stage.",
                    )
                )
    return found


def _check(values: Mapping[str, Any], *, https_only: bool) -> None:
    """Refuse a bad URL, description or filter (every reason at once)."""
    found = validate(values, SUBSCRIPTION_RULES) + _filter_refusals(values)
    if "url" in values:
        found += url_refusals(values["url"] or "", https_only=https_only)
    refuse_if(found)


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """Filter lists stored as plain strings, without repeats, in the given order."""
    out = dict(values)
    for name in ("event_types", "record_types", "from_states", "to_states"):
        if name in out:
            out[name] = list(dict.fromkeys(str(v) for v in out[name] or []))
    return out


async def newest_event_id(session: AsyncSession) -> int:
    """The id of the newest event (0 when there is none)."""
    newest = await session.scalar(select(func.max(col(Event.id))))
    return int(newest or 0)


async def create_webhook_subscription(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    https_only: bool = True,
) -> WebhookSubscription:
    """Register a webhook (SALES_OPS, ADMIN); told of events from now on."""
    refuse_if(may_manage_webhooks(actor))
    if "url" not in values:
        values = {**values, "url": ""}
    _check(values, https_only=https_only)
    subscription = WebhookSubscription(
        **_plain(values),
        secret=new_secret(),
        created_by_id=actor.id,
        cursor_event_id=await newest_event_id(session),
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def update_webhook_subscription(
    subscription_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    rotate_secret: bool = False,
    https_only: bool = True,
) -> WebhookSubscription:
    """Change a webhook's URL, filter or status, or give it a new secret."""
    refuse_if(may_manage_webhooks(actor))
    subscription = await load(session, WebhookSubscription, subscription_id, lock=True)
    check_version(subscription, expected_version)
    _check(values, https_only=https_only)
    values = _plain(values)
    if (
        subscription.status is WebhookStatus.DISABLED
        and values.get("status", WebhookStatus.DISABLED) is not WebhookStatus.DISABLED
    ):
        # What happened while it was disabled is not owed to it.
        subscription.cursor_event_id = max(
            subscription.cursor_event_id, await newest_event_id(session)
        )
    for name, value in values.items():
        setattr(subscription, name, value)
    if rotate_secret:
        subscription.secret = new_secret()
    await session.flush()
    return subscription


async def delete_webhook_subscription(
    subscription_id: int, *, session: AsyncSession, actor: Actor
) -> int:
    """Remove a webhook with its deliveries and their log."""
    refuse_if(may_manage_webhooks(actor))
    await load(session, WebhookSubscription, subscription_id, lock=True)
    deliveries = select(col(WebhookDelivery.id)).where(
        col(WebhookDelivery.subscription_id) == subscription_id
    )
    await session.execute(
        delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries))
    )
    await session.execute(
        delete(WebhookDelivery).where(
            col(WebhookDelivery.subscription_id) == subscription_id
        )
    )
    await session.execute(
        delete(WebhookSubscription).where(
            col(WebhookSubscription.id) == subscription_id
        )
    )
    return subscription_id


async def redeliver_event(
    subscription_id: int, event_id: int, *, session: AsyncSession, actor: Actor
) -> WebhookDelivery:
    """Send one event to a webhook again (after its pending ones), whether it
    matched its filter or was delivered or dead-lettered before."""
    refuse_if(may_manage_webhooks(actor))
    await load(session, WebhookSubscription, subscription_id, field="subscription_id")
    await load(session, Event, event_id, field="event_id")
    delivery = WebhookDelivery(
        subscription_id=subscription_id, event_id=event_id, redelivery=True
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def replay_webhook_subscription(
    subscription_id: int,
    since: datetime,
    *,
    session: AsyncSession,
    actor: Actor,
) -> WebhookSubscription:
    """Deliver again every matching event that happened at or after ``since``.

    The subscription's place goes back to just before the first such event (it
    never moves forward: what it has not reached yet is still owed).
    """
    refuse_if(may_manage_webhooks(actor))
    subscription = await load(session, WebhookSubscription, subscription_id, lock=True)
    first = await session.scalar(
        select(func.min(Event.id)).where(col(Event.occurred_at) >= since)
    )
    if first is not None:
        subscription.cursor_event_id = min(subscription.cursor_event_id, first - 1)
    await session.flush()
    return subscription


def require_webhook_reader(actor: Actor) -> None:
    """Reading subscriptions and their log is for those who manage them."""
    refuse_if(may_manage_webhooks(actor))


def subscriptions_statement(*, statuses: Sequence[WebhookStatus] = ()) -> Select[Any]:
    """The SELECT of subscriptions (optionally of some statuses)."""
    stmt = select(WebhookSubscription)
    if statuses:
        stmt = stmt.where(col(WebhookSubscription.status).in_(statuses))
    return stmt


def deliveries_statement(
    *,
    subscription_id: int | None = None,
    event_id: int | None = None,
    statuses: Sequence[DeliveryStatus] = (),
) -> Select[Any]:
    """The SELECT of deliveries, by subscription, event and status."""
    stmt = select(WebhookDelivery)
    if subscription_id is not None:
        stmt = stmt.where(col(WebhookDelivery.subscription_id) == subscription_id)
    if event_id is not None:
        stmt = stmt.where(col(WebhookDelivery.event_id) == event_id)
    if statuses:
        stmt = stmt.where(col(WebhookDelivery.status).in_(statuses))
    return stmt


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[int]
) -> list[list[WebhookAttempt]]:
    """Each delivery's attempts, first first (one query for all of them)."""
    rows = (
        await session.execute(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(set(delivery_ids)))
            .order_by(col(WebhookAttempt.delivery_id), col(WebhookAttempt.attempt))
        )
    ).scalars()
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    for row in rows:
        found[row.delivery_id].append(row)
    return [found[i] for i in delivery_ids]
