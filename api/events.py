"""Events (D10): the outbox as a list — `events`, the `Event` type, recipients.

Every transition, conversion, assignment and alert is written as an event in
the transaction of the change; alerts and notifications are addressed to
users (``recipients``), so a user's notifications are
``events(filter: {recipientId: …})``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from api.accounts import AccountNode
from api.activities import ActivityNode
from api.campaigns import CampaignNode
from api.contacts import ContactNode
from api.context import Info, refused
from api.enums import RecordTypeGQL
from api.leads import LeadNode
from api.opportunities import OpportunityNode
from api.relay import (
    Connection,
    Order,
    RecordNode,
    connection,
    decode_id,
    encode_id,
    load_node,
    ordering,
    to_one,
)
from api.support import SupportHandOffNode
from api.users import UserNode
from domain import records as rec
from domain.enums import ErrorCode, RecordType
from domain.rules.permissions import private_reader
from domain.services.listing import EventQuery
from domain.services.lookups import recipients_of

NODE_OF: dict[RecordType, type[RecordNode]] = {
    RecordType.LEAD: LeadNode,
    RecordType.CONTACT: ContactNode,
    RecordType.ACCOUNT: AccountNode,
    RecordType.OPPORTUNITY: OpportunityNode,
    RecordType.USER: UserNode,
    RecordType.CAMPAIGN: CampaignNode,
    RecordType.SUPPORT_HAND_OFF: SupportHandOffNode,
    RecordType.ACTIVITY: ActivityNode,
}
RECORD_TYPE_OF = {
    node.__strawberry_definition__.name: kind  # type: ignore[attr-defined]
    for kind, node in NODE_OF.items()
}


@strawberry.type(
    name="EventRecipient",
    description="A user an event is addressed to, and in which capacity.",
)
class EventRecipientNode:
    """One addressee of an event."""

    capacity: str = strawberry.field(
        description="Why this user is told: SAL, SDR, CUSTOMER_SUCCESS (the "
        "account team), SALES_OPS (adoption alerts), NEW_OWNER or PREVIOUS_OWNER "
        "(ownership transfers), ACCOUNT_OWNER, OPPORTUNITY_OWNER or ACCOUNT_TEAM "
        "(a converted lead), ASSIGNEE (a ticket passed to sales), OWNER, MANAGER, "
        "TEAM_LEAD or SOURCING_REP (lost-deal and unqualified alerts)."
    )
    user_id: strawberry.Private[int]

    user = to_one(
        UserNode,
        "user_id",
        description="The addressee.",
    )


@strawberry.type(
    name="Event",
    description="Something that happened (D10): a transition, conversion, "
    "assignment or alert, written in the same transaction as the change.",
)
class EventNode(RecordNode):
    """An event."""

    model = rec.Event

    kind: str = strawberry.field(
        name="type",
        description="What happened, e.g. LEAD_STATUS_CHANGED, LEAD_ROUTED, "
        "LEAD_ASSIGNED (ACCOUNT_, CONTACT_, OPPORTUNITY_ASSIGNED), "
        "STRATEGIC_ACCOUNT_INBOUND, PROFESSIONAL_SERVICES_REQUEST, "
        "SALES_ADMIN_RECORD_ADOPTED, OPPORTUNITY_STAGE_CHANGED, LOST_DEAL_ALERT.",
    )
    record_type: RecordTypeGQL = strawberry.field(
        description="The kind of record it is about."
    )
    payload: JSON = strawberry.field(
        description="The details, as stored (snake_case keys, database ids)."
    )
    occurred_at: datetime = strawberry.field(description="When it happened.")
    delivered_at: datetime | None = strawberry.field(
        description="Always null: an event is delivered to each webhook "
        "subscription on its own.",
        deprecation_reason="Delivery is per webhook subscription: read "
        "webhookDeliveries (status, attempts, deliveredAt per subscription).",
    )
    record_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Any, required: bool = False
    ) -> list[EventNode | None]:
        """``node(id)`` of an event addressed to others is null (as if absent)."""
        nodes = await super().resolve_nodes(info=info, node_ids=node_ids)
        reader = private_reader(info.context.actor)
        if reader is None:
            return nodes
        addressed = await info.context.loader(
            "event_recipients", recipients_of
        ).load_many([int(i) for i in node_ids])
        return [
            node if not rows or reader in {r.user_id for r in rows} else None
            for node, rows in zip(nodes, addressed, strict=True)
        ]

    @strawberry.field(name="recordId", description="Global id of the record.")
    def record_global_id(self) -> strawberry.ID:
        """The record's global id (even if it was deleted since)."""
        return strawberry.ID(encode_id(NODE_OF[self.record_type], self.record_id))

    @strawberry.field(description="The record it is about (null if it is gone).")
    async def record(self, info: Info) -> relay.Node | None:
        """The record."""
        return await load_node(info, NODE_OF[self.record_type], self.record_id)

    actor = to_one(
        UserNode,
        "actor_id",
        description="Who caused it (null: the system).",
    )

    @strawberry.field(
        description="The users it is addressed to (empty for plain records of a "
        "change), in the order they were addressed."
    )
    async def recipients(self, info: Info) -> list[EventRecipientNode]:
        """Addressees."""
        rows = await info.context.loader("event_recipients", recipients_of).load(
            self.id
        )
        return [
            EventRecipientNode(capacity=r.capacity, user_id=r.user_id) for r in rows
        ]


@strawberry.enum(description="Fields events can be sorted by.")
class EventOrderField(Enum):
    """Sortable event fields."""

    ID = strawberry.enum_value("ID", description="Writing order.")
    OCCURRED_AT = strawberry.enum_value("OCCURRED_AT", description="When it happened.")


@strawberry.input(
    description="Sort order of an event list; {field: ID, direction: DESC} is "
    "newest first."
)
class EventOrder(Order[EventOrderField]):
    """Field and direction."""


EVENT_ORDER = {
    EventOrderField.ID: rec.Event.id,
    EventOrderField.OCCURRED_AT: rec.Event.occurred_at,
}


@strawberry.input(description="Filter events; all given criteria must hold.")
class EventFilter:
    """Event criteria."""

    type: list[str] | None = strawberry.field(
        default=None, description="Any of these event types."
    )
    record_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="About this record (global id of a lead, contact, account, "
        "opportunity, user, campaign or support hand-off).",
    )
    recipient_id: strawberry.ID | None = strawberry.field(
        default=None, description="Addressed to this user (their notifications)."
    )
    actor_id: strawberry.ID | None = strawberry.field(
        default=None, description="Caused by this user."
    )
    occurred_after: datetime | None = strawberry.field(
        default=None, description="Happened at or after this time."
    )
    occurred_before: datetime | None = strawberry.field(
        default=None, description="Happened before this time."
    )


def _record(global_id: strawberry.ID) -> tuple[RecordType, int]:
    """(record type, id) of any record's global id."""
    try:
        kind = RECORD_TYPE_OF[relay.GlobalID.from_id(global_id).type_name]
    except (KeyError, ValueError, TypeError) as exc:
        raise refused(
            ErrorCode.INVALID_INPUT,
            f"{global_id!r} is not the id of a record events are about.",
            "recordId",
        ) from exc
    return kind, decode_id(global_id, NODE_OF[kind], "recordId")


def event_query(f: EventFilter | None) -> EventQuery:
    """GraphQL filter -> domain query."""
    f = f or EventFilter()
    users: dict[str, Any] = {
        name: decode_id(value, UserNode, name.replace("_id", "Id"))
        for name in ("recipient_id", "actor_id")
        if (value := getattr(f, name))
    }
    return EventQuery(
        kinds=f.type or (),
        record=_record(f.record_id) if f.record_id else None,
        occurred_after=f.occurred_after,
        occurred_before=f.occurred_before,
        **users,
    )


@strawberry.type
class EventQueries:
    """Root fields about events."""

    @strawberry.field(
        description="Events (D10), filtered and sorted, keyset paged; a user's "
        "notifications are the events whose recipients include them. An event "
        "addressed to others is listed only to its recipients, SALES_OPS and ADMIN."
    )
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        order_by: EventOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[EventNode]:
        """A page of events."""
        reader = private_reader(info.context.actor)
        statement = replace(event_query(filter), reader_id=reader).statement()
        order = ordering(EVENT_ORDER, order_by)
        return await connection(
            info, EventNode, statement, first, after, last, before, order=order
        )
