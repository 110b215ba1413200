"""Support hand-off on the API (D13): passTicketToSales, resolveSupportHandOff,
the `SupportHandOff` type and the daily list `escalatedHandOffs`.

Who may call: any authenticated user may pass a ticket (support integrations
use a token of their own service user; there is no support role in A7's
`Role`, and creating the lead of a new sales quote is open to every user
anyway). Resolving: whoever passed it, its assignee, SALES_OPS or ADMIN.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from api.context import Info
from api.enums import EscalationReasonGQL, HandOffRuleGQL, SupportTicketKindGQL
from api.errors import UserError
from api.inputs import idempotency_field, mutate_once
from api.relay import (
    Connection,
    Ordering,
    RecordNode,
    connection,
    decode_id,
    load_node,
    to_one,
)
from api.users import UserNode
from domain import records as rec
from domain.enums import EscalationReason, HandOffRule
from domain.rules.permissions import HAND_OFF_RESOLVERS, role_names
from domain.rules.support import age_seconds
from domain.services import support as service
from domain.sqltypes import as_utc, utcnow

if TYPE_CHECKING:
    from api.accounts import AccountNode
    from api.leads import LeadNode
    from api.opportunities import OpportunityNode

AccountRef = Annotated["AccountNode", strawberry.lazy("api.accounts")]
LeadRef = Annotated["LeadNode", strawberry.lazy("api.leads")]
OpportunityRef = Annotated["OpportunityNode", strawberry.lazy("api.opportunities")]

SECONDS_PER_DAY = 86_400


@strawberry.type(
    name="SupportHandOff",
    description="A support ticket passed to sales (D13): who got it, by which rule "
    "and why, the escalation reasons, and whether it was followed up.",
)
class SupportHandOffNode(RecordNode):
    """A support hand-off."""

    model = rec.SupportHandOff

    requester_email: str = strawberry.field(
        description="The ticket requester's email (stored lower-case)."
    )
    kind: SupportTicketKindGQL = strawberry.field(
        description="NEW_BUSINESS or RENEWAL."
    )
    reasons: list[EscalationReasonGQL] = strawberry.field(
        description="Why it is escalated (empty: not escalated)."
    )
    escalated: bool = strawberry.field(
        description="True when escalation reasons were given: it is on the daily "
        "follow-up list until resolved."
    )
    ticket_reference: str | None = strawberry.field(
        description="The support system's ticket id, as given."
    )
    rule: HandOffRuleGQL = strawberry.field(description="The rule that decided.")
    reason: str = strawberry.field(description="The decision in words.")
    pool: str | None = strawberry.field(
        description="The territory's round-robin pool, when a territory decided."
    )
    lead_created: bool = strawberry.field(
        description="True when a new sales quote created the lead (false: none, or "
        "an existing lead with this email was reused)."
    )
    passed_at: datetime = strawberry.field(description="When it was passed to sales.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was resolved (null: still open)."
    )
    resolution_note: str | None = strawberry.field(description="How it was resolved.")
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When it was recorded.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    assignee_id: strawberry.Private[int | None]
    account_id: strawberry.Private[int | None]
    opportunity_id: strawberry.Private[int | None]
    lead_id: strawberry.Private[int | None]
    passed_by_id: strawberry.Private[int | None]
    resolved_by_id: strawberry.Private[int | None]
    # The moment ages are computed at (a list's asOf; None: now).
    as_of: strawberry.Private[datetime | None] = dataclasses.field(
        default=None, init=False
    )

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """Like every node, with the stored reason strings as enum values."""
        node = super().from_row(row)
        node.reasons = [EscalationReason(r) for r in node.reasons]
        return node

    @strawberry.field(
        description="True when the answer is a new sales quote (no account matched)."
    )
    def new_sales_quote(self) -> bool:
        """Whether the rule is NEW_SALES_QUOTE."""
        return self.rule == HandOffRule.NEW_SALES_QUOTE

    @strawberry.field(
        description="Seconds it has been open: from passedAt to the list's asOf "
        "(default now), or to resolvedAt once resolved."
    )
    def age_seconds(self) -> int:
        """The age in seconds."""
        return age_seconds(self.passed_at, self.resolved_at, self.as_of or utcnow())

    @strawberry.field(description="The age in whole days (rounded down).")
    def age_days(self) -> int:
        """The age in days."""
        return self.age_seconds() // SECONDS_PER_DAY

    assignee = to_one(
        UserNode,
        "assignee_id",
        description="Who takes the ticket (null: nobody available in the territory, "
        "or a new sales quote whose lead is unowned).",
    )

    account = to_one(
        AccountRef,
        "account_id",
        description="The requester's account, when one was found.",
    )

    opportunity = to_one(
        OpportunityRef,
        "opportunity_id",
        description="The open renewal opportunity (RENEWAL tickets).",
    )

    lead = to_one(
        LeadRef,
        "lead_id",
        description="The lead of a new sales quote (created, or reused when it "
        "already had this email).",
    )

    passed_by = to_one(
        UserNode,
        "passed_by_id",
        description="Who passed the ticket to sales.",
    )

    resolved_by = to_one(
        UserNode,
        "resolved_by_id",
        description="Who resolved it.",
    )


HAND_OFF_ORDER = Ordering(
    key="PASSED_AT:ASC",
    column=rec.SupportHandOff.passed_at,
    id_column=rec.SupportHandOff.id,
    descending=False,
)


@strawberry.type
class SupportQueries:
    """Root fields about support hand-offs."""

    @strawberry.field(description="One support hand-off by global id.")
    async def support_hand_off(
        self, info: Info, id: strawberry.ID
    ) -> SupportHandOffNode | None:
        """A hand-off, or null."""
        return await load_node(
            info, SupportHandOffNode, decode_id(id, SupportHandOffNode, "id")
        )

    @strawberry.field(
        description="The daily follow-up list (D13): escalated hand-offs open at "
        "`asOf`, oldest first, each with its age."
    )
    async def escalated_hand_offs(
        self,
        info: Info,
        assignee_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only those assigned to this user."),
        ] = None,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(
                description="The moment of the list (default now): hand-offs passed "
                "by then and not resolved by then; ages are computed at it."
            ),
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SupportHandOffNode]:
        """A page of open escalated hand-offs."""
        moment = as_utc(as_of) if as_of is not None else utcnow()
        query = service.EscalatedHandOffQuery(
            as_of=moment,
            assignee_id=decode_id(assignee_id, UserNode, "assigneeId")
            if assignee_id is not None
            else None,
        )
        page = await connection(
            info,
            SupportHandOffNode,
            query.statement(),
            first,
            after,
            last,
            before,
            order=HAND_OFF_ORDER,
        )
        for node in page.nodes:
            node.as_of = moment
        return page


@strawberry.input(
    description="Pass a support ticket to sales (D13): the requester's email and "
    "what the ticket asks for decide who gets it."
)
class PassTicketToSalesInput:
    """passTicketToSales input."""

    requester_email: str = strawberry.field(
        description="The ticket requester's email; its domain finds the account."
    )
    kind: SupportTicketKindGQL = strawberry.field(
        description="NEW_BUSINESS (a quote for a non-subscriber) or RENEWAL."
    )
    reasons: list[EscalationReasonGQL] = strawberry.field(
        default_factory=list,
        description="Why it is escalated; any reason puts it on the daily "
        "follow-up list (escalatedHandOffs).",
    )
    ticket_reference: str | None = strawberry.field(
        default=None,
        description="The support system's ticket id (up to 120 characters).",
    )
    idempotency_key: str | None = idempotency_field(
        "the first hand-off (no second hand-off)"
    )


@strawberry.type(description="Result of passTicketToSales.")
class PassTicketToSalesPayload:
    """The hand-off with its decision, or why not."""

    hand_off: SupportHandOffNode | None = strawberry.field(
        description="The hand-off: who gets the ticket, by which rule and why, or "
        "a new sales quote with its lead."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(
    description="Mark a hand-off followed up and resolved: it leaves the daily list."
)
class ResolveSupportHandOffInput:
    """resolveSupportHandOff input."""

    idempotency_key: str | None = idempotency_field("the hand-off (resolved once)")
    id: strawberry.ID = strawberry.field(description="The hand-off.")
    note: str | None = strawberry.field(
        default=None, description="How it was resolved."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="Refuse with STALE_VERSION if the hand-off moved on."
    )


@strawberry.type(description="Result of resolveSupportHandOff.")
class ResolveSupportHandOffPayload:
    """The resolved hand-off, or why not."""

    hand_off: SupportHandOffNode | None = strawberry.field(
        description="The hand-off, now resolved."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class SupportMutations:
    """Root mutations about support hand-offs."""

    @strawberry.mutation(
        description="Pass a support ticket to sales (D13): new business goes to the "
        "account owner, else the account's territory, else a new sales quote (with a "
        "Support lead); a renewal goes to its open renewal's owner, else the SMB "
        "territory. Escalation reasons are recorded."
    )
    async def pass_ticket_to_sales(
        self, info: Info, input: PassTicketToSalesInput
    ) -> PassTicketToSalesPayload:
        """Pass a ticket to sales."""
        actor = info.context.actor
        values = {
            "requester_email": input.requester_email,
            "kind": input.kind,
            "reasons": list(input.reasons),
            "ticket_reference": input.ticket_reference,
        }
        row, errors = await mutate_once(
            info,
            "passTicketToSales",
            input,
            rec.SupportHandOff,
            lambda s: service.pass_ticket_to_sales(values, session=s, actor=actor),
        )
        return PassTicketToSalesPayload(
            hand_off=row and SupportHandOffNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(
        description="Resolve a hand-off (whoever passed it, its assignee, "
        f"{role_names(HAND_OFF_RESOLVERS)}); it leaves escalatedHandOffs."
    )
    async def resolve_support_hand_off(
        self, info: Info, input: ResolveSupportHandOffInput
    ) -> ResolveSupportHandOffPayload:
        """Resolve a hand-off."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "resolveSupportHandOff",
            input,
            rec.SupportHandOff,
            lambda s: service.resolve_hand_off(
                decode_id(input.id, SupportHandOffNode, "id"),
                session=s,
                actor=actor,
                note=input.note,
                expected_version=input.expected_version,
            ),
        )
        return ResolveSupportHandOffPayload(
            hand_off=row and SupportHandOffNode.from_row(row), user_errors=errors
        )
