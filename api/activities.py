"""Activities: the `Activity` type, the `activities` list and logActivity."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.context import Info
from api.enums import ActivityChannelGQL, ActivityDirectionGQL, ActivityKindGQL
from api.errors import UserError
from api.inputs import idempotency_field, mutate_once, provided, version_guard
from api.leads import LeadNode
from api.opportunities import OpportunityNode
from api.relay import (
    Connection,
    Order,
    RecordNode,
    connection,
    decode_id,
    ordering,
    to_one,
)
from api.users import UserNode
from domain import records as rec
from domain.rules.permissions import CREATORS_FOR_OTHERS, role_names
from domain.services import activities as service
from domain.services.listing import ActivityQuery


@strawberry.type(
    name="Activity",
    description="A Task (to do) or an Event (happened) logged against a lead, "
    "contact, account or opportunity.",
)
class ActivityNode(RecordNode):
    """An activity."""

    model = rec.Activity

    kind: ActivityKindGQL = strawberry.field(description="TASK or EVENT.")
    channel: ActivityChannelGQL = strawberry.field(description="How it happened.")
    direction: ActivityDirectionGQL = strawberry.field(
        description="Who reached out: we (OUTBOUND) or the person (INBOUND)."
    )
    subject: str = strawberry.field(description="What it is about.")
    due_at: datetime | None = strawberry.field(description="When a task is due.")
    completed_at: datetime | None = strawberry.field(
        description="When it was done (null: still open)."
    )
    disposition: str | None = strawberry.field(
        description="Call disposition (e.g. Connected, Left voicemail)."
    )
    outcome: str | None = strawberry.field(description="What came of it.")
    source_system: str | None = strawberry.field(
        description="Where it was logged (e.g. OUTREACH, MARKETO)."
    )
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When it was logged.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    owner_id: strawberry.Private[int | None]
    lead_id: strawberry.Private[int | None]
    contact_id: strawberry.Private[int | None]
    account_id: strawberry.Private[int | None]
    opportunity_id: strawberry.Private[int | None]

    owner = to_one(
        UserNode,
        "owner_id",
        description="Who did (or is to do) it.",
    )

    lead = to_one(
        LeadNode,
        "lead_id",
        description="The lead it is about, if any.",
    )

    contact = to_one(
        ContactNode,
        "contact_id",
        description="The contact it is about, if any.",
    )

    account = to_one(
        AccountNode,
        "account_id",
        description="The account it is about, if any.",
    )

    opportunity = to_one(
        OpportunityNode,
        "opportunity_id",
        description="The opportunity it is about, if any.",
    )


@strawberry.enum(description="Fields activities can be sorted by.")
class ActivityOrderField(Enum):
    """Sortable activity fields."""

    ID = strawberry.enum_value("ID", description="Logging order.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="Logging time.")


@strawberry.input(description="Sort order of an activity list.")
class ActivityOrder(Order[ActivityOrderField]):
    """Field and direction."""


ACTIVITY_ORDER = {
    ActivityOrderField.ID: rec.Activity.id,
    ActivityOrderField.CREATED_AT: rec.Activity.created_at,
}


@strawberry.input(description="Filter activities; all given criteria must hold.")
class ActivityFilter:
    """Activity criteria."""

    lead_id: strawberry.ID | None = strawberry.field(
        default=None, description="About this lead."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=None, description="About this contact."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="About this account."
    )
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=None, description="About this opportunity."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this user."
    )
    channel: list[ActivityChannelGQL] | None = strawberry.field(
        default=None, description="Any of these channels."
    )
    completed: bool | None = strawberry.field(
        default=None, description="true: done; false: still open."
    )


ACTIVITY_IDS: dict[str, type] = {
    "lead_id": LeadNode,
    "contact_id": ContactNode,
    "account_id": AccountNode,
    "opportunity_id": OpportunityNode,
    "owner_id": UserNode,
}


def activity_query(f: ActivityFilter | None) -> ActivityQuery:
    """GraphQL filter -> domain query."""
    f = f or ActivityFilter()
    ids = {
        name: decode_id(value, node, name.replace("_id", "Id"))
        for name, node in ACTIVITY_IDS.items()
        if (value := getattr(f, name))
    }
    return ActivityQuery(**ids, channel=f.channel or (), completed=f.completed)


@strawberry.type
class ActivityQueries:
    """Root fields about activities."""

    @strawberry.field(description="Activities, filtered and sorted, keyset paged.")
    async def activities(
        self,
        info: Info,
        filter: ActivityFilter | None = None,
        order_by: ActivityOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ActivityNode]:
        """A page of activities."""
        statement = activity_query(filter).statement()
        order = ordering(ACTIVITY_ORDER, order_by)
        return await connection(
            info, ActivityNode, statement, first, after, last, before, order=order
        )


@strawberry.input(
    description="A task or event on at least one lead, contact, account or opportunity."
)
class LogActivityInput:
    """logActivity input."""

    idempotency_key: str | None = idempotency_field(
        "the first activity (no second activity)"
    )

    kind: ActivityKindGQL = strawberry.field(description="TASK or EVENT.")
    channel: ActivityChannelGQL = strawberry.field(description="How it happened.")
    subject: str = strawberry.field(description="What it is about.")
    direction: ActivityDirectionGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Who reached out (default OUTBOUND)."
    )
    due_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When a task is due."
    )
    completed_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When it was done."
    )
    disposition: str | None = strawberry.field(
        default=strawberry.UNSET, description="Call disposition."
    )
    outcome: str | None = strawberry.field(
        default=strawberry.UNSET, description="What came of it."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Who did it (default: you)."
    )
    source_system: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where it was logged."
    )
    lead_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The lead it is about."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The contact it is about."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The account it is about."
    )
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The opportunity it is about."
    )


@strawberry.type(description="Result of logActivity.")
class LogActivityPayload:
    """The activity, or why not."""

    activity: ActivityNode | None = strawberry.field(description="The new activity.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class ActivityMutations:
    """Root mutations about activities."""

    @strawberry.mutation(description="Log a task or an event.")
    async def log_activity(
        self, info: Info, input: LogActivityInput
    ) -> LogActivityPayload:
        """Log an activity."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "logActivity",
            input,
            rec.Activity,
            lambda s: service.log_activity(
                provided(input, ids=ACTIVITY_IDS), session=s, actor=actor
            ),
        )
        return LogActivityPayload(
            activity=row and ActivityNode.from_row(row), user_errors=errors
        )


@strawberry.input(
    description="Mark an open activity completed; a completed follow-up on a lead "
    "meets its follow-up SLA (D8)."
)
class CompleteActivityInput:
    """completeActivity input."""

    idempotency_key: str | None = idempotency_field("the activity (completed once)")
    id: strawberry.ID = strawberry.field(description="The activity (still open).")
    completed_at: datetime | None = strawberry.field(
        default=None, description="When it was done (default: now)."
    )
    outcome: str | None = strawberry.field(
        default=None, description="What came of it (unchanged when null)."
    )
    disposition: str | None = strawberry.field(
        default=None, description="Call disposition (unchanged when null)."
    )
    expected_version: int | None = version_guard("activity")


@strawberry.type(description="Result of completeActivity.")
class CompleteActivityPayload:
    """The completed activity, or why not."""

    activity: ActivityNode | None = strawberry.field(
        description="The completed activity."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class ActivityCompletionMutations:
    """Root mutations completing activities."""

    @strawberry.mutation(
        description="Complete an open task or event (its owner, "
        f"{role_names(CREATORS_FOR_OTHERS)}, who may also log activities on its "
        "records); completing twice is refused."
    )
    async def complete_activity(
        self, info: Info, input: CompleteActivityInput
    ) -> CompleteActivityPayload:
        """Complete an activity."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "completeActivity",
            input,
            rec.Activity,
            lambda s: service.complete_activity(
                decode_id(input.id, ActivityNode, "id"),
                {
                    "completed_at": input.completed_at,
                    "outcome": input.outcome,
                    "disposition": input.disposition,
                },
                session=s,
                actor=actor,
                expected_version=input.expected_version,
            ),
        )
        return CompleteActivityPayload(
            activity=row and ActivityNode.from_row(row), user_errors=errors
        )
