"""Webhooks (issue 12): subscriptions, their delivery log, redelivery and replay.

SALES_OPS and ADMIN only, reads included (a subscription's log shows every
event). The secret is in the payload of the mutation that made or rotated it,
and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from api.context import Info, refused
from api.enums import DeliveryStatusGQL, RecordTypeGQL, WebhookStatusGQL
from api.errors import UserError, client_message
from api.events import EventNode
from api.inputs import given, mutate, provided
from api.relay import Connection, RecordNode, connection, decode_id, to_one
from api.users import UserNode
from domain import records as rec
from domain.enums import ErrorCode
from domain.errors import Refused
from domain.rules.permissions import WEBHOOK_MANAGERS, may_manage_webhooks, role_list
from domain.services import webhooks as service


def https_only(info: Info) -> bool:
    """SALESOPS_WEBHOOK_HTTPS_ONLY of the serving app (on, outside a server)."""
    request = info.context.request
    settings = getattr(getattr(request, "app", None), "state", None)
    settings = getattr(settings, "settings", None)
    return bool(getattr(settings, "webhook_https_only", True))


def _reader(info: Info) -> None:
    """Refuse a read by someone who may not manage webhooks (FORBIDDEN)."""
    try:
        service.require_webhook_reader(info.context.actor)
    except Refused as exc:
        raise refused(
            ErrorCode.FORBIDDEN, client_message(exc.refusals[0].message)
        ) from exc


@strawberry.type(
    name="WebhookSubscription",
    description="An integration told about events by signed HTTP POSTs. The "
    "filter lists are ANDed, each 'any of' (empty: any).",
)
class WebhookSubscriptionNode(RecordNode):
    """A webhook subscription."""

    model = rec.WebhookSubscription

    url: str = strawberry.field(description="Where events are POSTed.")
    description: str | None = strawberry.field(description="What it is for.")
    status: WebhookStatusGQL = strawberry.field(description="Delivered or not.")
    event_types: list[str] = strawberry.field(
        description="Event types it wants (e.g. OPPORTUNITY_STAGE_CHANGED)."
    )
    record_types: list[str] = strawberry.field(
        description="Record types it wants (RecordType values)."
    )
    from_states: list[str] = strawberry.field(
        description="Transitions out of these states only (lead statuses or "
        "opportunity stages)."
    )
    to_states: list[str] = strawberry.field(
        description="Transitions into these states only."
    )
    cursor_event_id: int = strawberry.field(
        name="lastEventId",
        description="Database id of the last event the worker considered for it.",
    )
    retry_at: datetime | None = strawberry.field(
        description="When its oldest pending delivery is tried again (null: not "
        "waiting)."
    )
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    created_by_id: strawberry.Private[int | None]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Any, required: bool = False
    ) -> list[WebhookSubscriptionNode | None]:
        """``node(id)`` is null for those who may not manage webhooks."""
        if may_manage_webhooks(info.context.actor):
            return [None for _ in node_ids]
        return await super().resolve_nodes(info=info, node_ids=node_ids)

    created_by = to_one(
        UserNode,
        "created_by_id",
        description="Who registered it.",
    )


@strawberry.type(
    name="WebhookAttempt", description="One POST of a delivery, as it went."
)
class WebhookAttemptNode:
    """A delivery attempt."""

    attempt: int = strawberry.field(description="1 for the first try, then 2, 3…")
    attempted_at: datetime = strawberry.field(description="When it was sent.")
    succeeded: bool = strawberry.field(description="The target answered 2xx.")
    response_code: int | None = strawberry.field(
        description="The HTTP status (null: no answer — timeout, refused…)."
    )
    latency_ms: int = strawberry.field(description="From sending to the answer.")
    error: str | None = strawberry.field(description="What went wrong, if anything.")


@strawberry.type(
    name="WebhookDelivery",
    description="One event owed to one subscription, with its delivery log.",
)
class WebhookDeliveryNode(RecordNode):
    """A delivery."""

    model = rec.WebhookDelivery

    status: DeliveryStatusGQL = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(
        name="attemptCount", description="How many times it was sent."
    )
    redelivery: bool = strawberry.field(
        description="Asked for again by redeliverEvent."
    )
    created_at: datetime = strawberry.field(description="When it became owed.")
    delivered_at: datetime | None = strawberry.field(
        description="When the target accepted it."
    )
    subscription_id: strawberry.Private[int]
    event_id: strawberry.Private[int]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Any, required: bool = False
    ) -> list[WebhookDeliveryNode | None]:
        """``node(id)`` is null for those who may not manage webhooks."""
        if may_manage_webhooks(info.context.actor):
            return [None for _ in node_ids]
        return await super().resolve_nodes(info=info, node_ids=node_ids)

    subscription = to_one(
        WebhookSubscriptionNode,
        "subscription_id",
        description="The subscription (null if it was deleted).",
    )

    event = to_one(
        EventNode,
        "event_id",
        description="The event delivered.",
    )

    @strawberry.field(name="log", description="Every attempt, first first.")
    async def attempt_log(self, info: Info) -> list[WebhookAttemptNode]:
        """The attempts."""
        rows = await info.context.loader("webhook_attempts", service.attempts_of).load(
            self.id
        )
        return [
            WebhookAttemptNode(
                attempt=r.attempt,
                attempted_at=r.attempted_at,
                succeeded=r.succeeded,
                response_code=r.response_code,
                latency_ms=r.latency_ms,
                error=r.error,
            )
            for r in rows
        ]


@strawberry.input(description="Filter deliveries; all given criteria must hold.")
class WebhookDeliveryFilter:
    """Delivery criteria."""

    subscription_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this subscription."
    )
    event_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this event."
    )
    status: list[DeliveryStatusGQL] | None = strawberry.field(
        default=None, description="In any of these states (DEAD_LETTERED: given up)."
    )


@strawberry.type
class WebhookQueries:
    """Root fields about webhooks."""

    @strawberry.field(
        description=f"Webhook subscriptions ({role_list(WEBHOOK_MANAGERS)}), "
        "oldest first."
    )
    async def webhook_subscriptions(
        self,
        info: Info,
        status: Annotated[
            list[WebhookStatusGQL] | None,
            strawberry.argument(description="Only these statuses (all when omitted)."),
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookSubscriptionNode]:
        """A page of subscriptions."""
        _reader(info)
        statement = service.subscriptions_statement(statuses=status or ())
        return await connection(
            info, WebhookSubscriptionNode, statement, first, after, last, before
        )

    @strawberry.field(
        description="The delivery log: one entry per event owed to a "
        f"subscription, with its attempts ({role_list(WEBHOOK_MANAGERS)}), oldest "
        "first."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        filter: WebhookDeliveryFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookDeliveryNode]:
        """A page of deliveries."""
        _reader(info)
        f = filter or WebhookDeliveryFilter()
        subscription_id = event_id = None
        if f.subscription_id:
            subscription_id = decode_id(
                f.subscription_id, WebhookSubscriptionNode, "subscriptionId"
            )
        if f.event_id:
            event_id = decode_id(f.event_id, EventNode, "eventId")
        statement = service.deliveries_statement(
            subscription_id=subscription_id,
            event_id=event_id,
            statuses=f.status or (),
        )
        return await connection(
            info, WebhookDeliveryNode, statement, first, after, last, before
        )


@strawberry.input(description="What a subscription is sent; lists are 'any of'.")
class WebhookFilterFields:
    """The filter fields of create and update inputs."""

    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Event types (e.g. LEAD_STATUS_CHANGED); empty: any.",
    )
    record_types: list[RecordTypeGQL] | None = strawberry.field(
        default=strawberry.UNSET, description="Record types; empty: any."
    )
    from_states: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Transitions out of these lead statuses or opportunity stages.",
    )
    to_states: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Transitions into these lead statuses or opportunity stages "
        "(e.g. DISCOVERY).",
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What it is for (at most 200)."
    )
    status: WebhookStatusGQL | None = strawberry.field(
        default=strawberry.UNSET, description="ACTIVE (default), PAUSED or DISABLED."
    )


@strawberry.input(
    description=f"A new webhook ({role_list(WEBHOOK_MANAGERS)}): https:// (http:// "
    "on loopback), told of events from now on."
)
class CreateWebhookSubscriptionInput(WebhookFilterFields):
    """createWebhookSubscription input."""

    url: str = strawberry.field(description="Target URL.")


@strawberry.input(description="Change a webhook; fields not given stay.")
class UpdateWebhookSubscriptionInput(WebhookFilterFields):
    """updateWebhookSubscription input."""

    id: strawberry.ID = strawberry.field(description="The subscription.")
    expected_version: int | None = strawberry.field(
        default=None, description="Refuse with STALE_VERSION if it moved on."
    )
    url: str | None = strawberry.field(
        default=strawberry.UNSET, description="Target URL."
    )
    rotate_secret: bool = strawberry.field(
        default=False, description="Make a new secret (shown once, in the payload)."
    )


@strawberry.type(description="Result of createWebhookSubscription.")
class CreateWebhookSubscriptionPayload:
    """The subscription and its secret, or why not."""

    webhook_subscription: WebhookSubscriptionNode | None = strawberry.field(
        description="The new subscription."
    )
    secret: str | None = strawberry.field(
        description="The signing secret: shown this once, keep it."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of updateWebhookSubscription.")
class UpdateWebhookSubscriptionPayload:
    """The subscription (and a rotated secret), or why not."""

    webhook_subscription: WebhookSubscriptionNode | None = strawberry.field(
        description="The changed subscription."
    )
    secret: str | None = strawberry.field(
        description="The new secret when rotateSecret was asked (shown once)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(description="Remove a webhook, its deliveries and their log.")
class DeleteWebhookSubscriptionInput:
    """deleteWebhookSubscription input."""

    id: strawberry.ID = strawberry.field(description="The subscription.")


@strawberry.type(description="Result of deleteWebhookSubscription.")
class DeleteWebhookSubscriptionPayload:
    """The removed id, or why not."""

    deleted_id: strawberry.ID | None = strawberry.field(
        description="Global id of the removed subscription."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(
    description="Send one event to a webhook again, after what it has pending "
    "(whether or not it matches the filter, delivered or dead-lettered before)."
)
class RedeliverEventInput:
    """redeliverEvent input."""

    subscription_id: strawberry.ID = strawberry.field(description="The webhook.")
    event_id: strawberry.ID = strawberry.field(description="The event.")


@strawberry.type(description="Result of redeliverEvent.")
class RedeliverEventPayload:
    """The new delivery, or why not."""

    delivery: WebhookDeliveryNode | None = strawberry.field(
        description="The delivery queued."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(
    description="Deliver again every matching event that happened at or after "
    "`since` (the subscription goes back, never forward)."
)
class ReplayWebhookSubscriptionInput:
    """replayWebhookSubscription input."""

    id: strawberry.ID = strawberry.field(description="The subscription.")
    since: datetime = strawberry.field(description="From this time on.")


@strawberry.type(description="Result of replayWebhookSubscription.")
class ReplayWebhookSubscriptionPayload:
    """The subscription, moved back, or why not."""

    webhook_subscription: WebhookSubscriptionNode | None = strawberry.field(
        description="The subscription."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


def _node(row: Any) -> WebhookSubscriptionNode | None:
    return WebhookSubscriptionNode.from_row(row) if row is not None else None


@strawberry.type
class WebhookMutations:
    """Root mutations about webhooks."""

    @strawberry.mutation(description="Register a webhook subscription.")
    async def create_webhook_subscription(
        self, info: Info, input: CreateWebhookSubscriptionInput
    ) -> CreateWebhookSubscriptionPayload:
        """Register a webhook."""
        actor, strict = info.context.actor, https_only(info)
        row, errors = await mutate(
            info,
            lambda s: service.create_webhook_subscription(
                provided(input), session=s, actor=actor, https_only=strict
            ),
        )
        return CreateWebhookSubscriptionPayload(
            webhook_subscription=_node(row),
            secret=row.secret if row is not None else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Change a webhook subscription.")
    async def update_webhook_subscription(
        self, info: Info, input: UpdateWebhookSubscriptionInput
    ) -> UpdateWebhookSubscriptionPayload:
        """Change a webhook."""
        actor, strict = info.context.actor, https_only(info)
        values = provided(input, skip=frozenset({"rotate_secret"}))
        row, errors = await mutate(
            info,
            lambda s: service.update_webhook_subscription(
                decode_id(input.id, WebhookSubscriptionNode, "id"),
                values,
                session=s,
                actor=actor,
                expected_version=given(input.expected_version),
                rotate_secret=input.rotate_secret,
                https_only=strict,
            ),
        )
        return UpdateWebhookSubscriptionPayload(
            webhook_subscription=_node(row),
            secret=row.secret if row is not None and input.rotate_secret else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Remove a webhook subscription.")
    async def delete_webhook_subscription(
        self, info: Info, input: DeleteWebhookSubscriptionInput
    ) -> DeleteWebhookSubscriptionPayload:
        """Remove a webhook."""
        actor = info.context.actor
        gone, errors = await mutate(
            info,
            lambda s: service.delete_webhook_subscription(
                decode_id(input.id, WebhookSubscriptionNode, "id"),
                session=s,
                actor=actor,
            ),
        )
        return DeleteWebhookSubscriptionPayload(
            deleted_id=input.id if gone is not None else None, user_errors=errors
        )

    @strawberry.mutation(description="Send one event to a webhook again.")
    async def redeliver_event(
        self, info: Info, input: RedeliverEventInput
    ) -> RedeliverEventPayload:
        """Queue a redelivery."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: service.redeliver_event(
                decode_id(
                    input.subscription_id, WebhookSubscriptionNode, "subscriptionId"
                ),
                decode_id(input.event_id, EventNode, "eventId"),
                session=s,
                actor=actor,
            ),
        )
        return RedeliverEventPayload(
            delivery=WebhookDeliveryNode.from_row(row) if row is not None else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Deliver a webhook's events again since a time.")
    async def replay_webhook_subscription(
        self, info: Info, input: ReplayWebhookSubscriptionInput
    ) -> ReplayWebhookSubscriptionPayload:
        """Move a webhook back in time."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: service.replay_webhook_subscription(
                decode_id(input.id, WebhookSubscriptionNode, "id"),
                input.since,
                session=s,
                actor=actor,
            ),
        )
        return ReplayWebhookSubscriptionPayload(
            webhook_subscription=_node(row), user_errors=errors
        )
