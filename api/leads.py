"""Leads: the `Lead` type, `leads`/`lead`, createLead and updateLead."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts import AccountNode
from api.campaigns import CampaignNode
from api.context import Info
from api.custom_fields import (
    CustomFieldFilter,
    CustomFieldValueInput,
    check_criteria,
    criteria,
    custom_fields_field,
    custom_fields_filter,
    custom_fields_input,
)
from api.dry_runs import DryRun, dry_run_field, dry_run_outcome, rehearsable
from api.engagements import ScoreLineNode
from api.enums import LeadStatusGQL, RegionGQL, SalesSegmentGQL
from api.errors import UserError, user_errors
from api.inputs import (
    RecordChange,
    given,
    idempotency_field,
    mutate,
    mutate_once,
    mutate_once_with,
    provided,
    version_guard,
)
from api.machines import TransitionOption, TransitionRecordNode, history_of
from api.relay import (
    Connection,
    Order,
    RecordNode,
    connection,
    decode_id,
    load_node,
    ordering,
    to_one,
)
from api.routing import RoutingDecision
from api.users import UserNode
from domain import records as rec
from domain.enums import MergeKind, RecordType
from domain.lifecycle.lead import LEAD_MACHINE, LeadTransitionRequest
from domain.rules.permissions import LEAD_TRANSFER_ROLES, role_names
from domain.rules.sla import sla_flags
from domain.services import lead_lifecycle as lifecycle
from domain.services import leads as service
from domain.services.engagements import score_of
from domain.services.listing import LeadQuery
from domain.sqltypes import utcnow

if TYPE_CHECKING:
    from api.contacts import ContactNode
    from api.merges import PossibleDuplicate
    from api.opportunities import OpportunityNode

ContactRef = Annotated["ContactNode", strawberry.lazy("api.contacts")]
OpportunityRef = Annotated["OpportunityNode", strawberry.lazy("api.opportunities")]
DuplicateRef = Annotated["PossibleDuplicate", strawberry.lazy("api.merges")]


@strawberry.type(description="A lead status reachable from the current one.")
class LeadTransitionOption(TransitionOption):
    """A possible next lead status."""

    to: LeadStatusGQL = strawberry.field(description="The target status.")


@strawberry.type(
    name="Lead",
    description="A prospect not yet qualified. Its `status` moves through the lead "
    "lifecycle (see `stateMachines`); a converted lead is read-only.",
)
class LeadNode(RecordNode):
    """A lead."""

    model = rec.Lead

    custom_fields: strawberry.Private[dict[str, Any] | None]
    custom_field_values = custom_fields_field(RecordType.LEAD)

    first_name: str | None = strawberry.field(description="First name.")
    last_name: str | None = strawberry.field(description="Last name.")
    email: str | None = strawberry.field(description="Email (stored lower-case).")
    company: str | None = strawberry.field(description="Company name as given.")
    title: str | None = strawberry.field(description="Job title (scored, D6).")
    phone: str | None = strawberry.field(description="Phone number.")
    number_of_employees: int | None = strawberry.field(
        description="Total employees of the company (sets the segment)."
    )
    street: str | None = strawberry.field(description="Street address.")
    city: str | None = strawberry.field(description="City.")
    state: str | None = strawberry.field(description="State or province.")
    postal_code: str | None = strawberry.field(description="Zip / postal code.")
    country: str | None = strawberry.field(description="Country (name or ISO code).")
    is_public_sector: bool = strawberry.field(
        description="US public sector (government)."
    )
    sales_segment: SalesSegmentGQL = strawberry.field(
        description="Derived from numberOfEmployees (D5)."
    )
    region: RegionGQL | None = strawberry.field(
        description="Derived from country/state/public sector (D5)."
    )
    initial_source: str = strawberry.field(
        description="First known touch; never changes."
    )
    lead_source: str | None = strawberry.field(description="Latest source; may change.")
    status: LeadStatusGQL = strawberry.field(description="Lifecycle status (D2).")
    status_changed_at: datetime = strawberry.field(
        description="When the status last changed."
    )
    person_score: int = strawberry.field(description="MQL score (D6).")
    active_until: datetime | None = strawberry.field(
        description="Active (hand-raiser) until then (D8)."
    )
    last_interesting_moment: str | None = strawberry.field(
        description="Latest notable marketing moment."
    )
    sla_started_at: datetime | None = strawberry.field(
        description="When the follow-up SLA started: when routing a Contact Us or "
        "Professional Services request set it (null: no SLA)."
    )
    sla_due_at: datetime | None = strawberry.field(
        description="Follow-up due by then: the same time on the next business day "
        "(Mon-Fri, UTC) after slaStartedAt (D8)."
    )
    sla_met_at: datetime | None = strawberry.field(
        description="When the first follow-up was completed: a call, meeting or web "
        "chat, or an email we sent, completed after slaStartedAt. Later than "
        "slaDueAt means the SLA was met late (breached)."
    )
    sla_escalated_at: datetime | None = strawberry.field(
        description="When a breached follow-up SLA was escalated to the owner's "
        "manager (the LEAD_SLA_BREACHED event; null: not escalated)."
    )
    timeout_at: datetime | None = strawberry.field(
        description="When this ACCEPTED lead times out unless a completed activity "
        "is logged on it first: it then goes back to the routing pool (or to "
        "NURTURE, as the timeouts table says) with the reason TIMEOUT. Each "
        "completed activity restarts the clock; null in any other status."
    )
    converted_at: datetime | None = strawberry.field(
        description="When it was converted."
    )
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When the lead was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    owner_id: strawberry.Private[int | None]
    account_id: strawberry.Private[int | None]
    routing_rule: strawberry.Private[str | None]
    routing_reason: strawberry.Private[str | None]
    routing_pool: strawberry.Private[str | None]
    routed_to_id: strawberry.Private[int | None]
    routed_at: strawberry.Private[datetime | None]
    converted_account_id: strawberry.Private[int | None]
    converted_contact_id: strawberry.Private[int | None]
    converted_opportunity_id: strawberry.Private[int | None]
    campaign_id: strawberry.Private[int | None]

    @strawberry.field(
        description="Every status reachable from the current one: allowed now, or "
        "every reason it is blocked. transitionLead refuses with exactly these."
    )
    async def available_transitions(self, info: Info) -> list[LeadTransitionOption]:
        """What may happen next, and why not."""
        actor = info.context.actor
        row = await info.context.records(rec.Lead).load(self.id)
        options = await info.context.read(
            lambda s: lifecycle.available_transitions(s, row, actor)
        )
        return [
            LeadTransitionOption(
                to=o.to,
                label=LEAD_MACHINE.label(o.to),
                allowed=o.allowed,
                blocked_by=user_errors(o.blocked_by),
            )
            for o in options
        ]

    @strawberry.field(
        description="How personScore is made up: one line per rule and engagement; "
        "the points sum to personScore."
    )
    async def score_breakdown(self, info: Info) -> list[ScoreLineNode]:
        """The score's lines."""
        row = await info.context.records(rec.Lead).load(self.id)
        result = await info.context.read(lambda s: score_of(s, row))
        return [ScoreLineNode.from_line(line) for line in result.breakdown]

    @strawberry.field(
        description="Follow-up SLA met: a follow-up was completed by slaDueAt. "
        "false while open or breached; null when the lead has no SLA."
    )
    def sla_met(self) -> bool | None:
        """Met on time."""
        return sla_flags(self.sla_due_at, self.sla_met_at, utcnow())[0]

    @strawberry.field(
        description="Follow-up SLA breached: slaDueAt passed without a follow-up, or "
        "the first follow-up came after it. false while still within time or met; "
        "null when the lead has no SLA."
    )
    def sla_breached(self) -> bool | None:
        """Missed."""
        return sla_flags(self.sla_due_at, self.sla_met_at, utcnow())[1]

    @strawberry.field(description="The last routing decision (null: never routed).")
    def routing(self) -> RoutingDecision | None:
        """Rule, reason, pool, assignee, when."""
        if self.routed_at is None:
            return None
        return RoutingDecision(
            rule=self.routing_rule or "",
            reason=self.routing_reason or "",
            pool=self.routing_pool,
            at=self.routed_at,
            assignee_id=self.routed_to_id,
        )

    @strawberry.field(description="Every status change, oldest first.")
    async def history(self, info: Info) -> list[TransitionRecordNode]:
        """The lead's ledger."""
        return await history_of(info, RecordType.LEAD, self.id)

    owner = to_one(
        UserNode,
        "owner_id",
        description="Who works the lead (null: unowned, in nurture).",
    )

    @strawberry.field(
        description="Leads that are likely the same person (D12), best first: same "
        "normalized email, same name and email domain or company, same phone."
    )
    async def possible_duplicates(
        self,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description="How many (1 to 500).")
        ] = 10,
    ) -> list[DuplicateRef]:
        """Likely duplicates of this lead."""
        from api.merges import duplicates_of

        return await duplicates_of(info, MergeKind.LEAD, self.id, first)

    campaign = to_one(
        CampaignNode,
        "campaign_id",
        description="First-touch campaign: given at creation, else the campaign of "
        "the first engagement that names one (D11 attribution).",
    )

    account = to_one(
        AccountNode,
        "account_id",
        description="The account the lead was matched to, if any.",
    )

    converted_account = to_one(
        AccountNode,
        "converted_account_id",
        description="The account this lead became (after conversion).",
    )

    converted_contact = to_one(
        ContactRef,
        "converted_contact_id",
        description="The contact this lead became (after conversion).",
    )

    converted_opportunity = to_one(
        OpportunityRef,
        "converted_opportunity_id",
        description="The opportunity created from this lead, if any.",
    )


@strawberry.enum(description="Fields leads can be sorted by.")
class LeadOrderField(Enum):
    """Sortable lead fields."""

    ID = strawberry.enum_value("ID", description="Creation order.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="Creation time.")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT", description="Last change.")
    PERSON_SCORE = strawberry.enum_value("PERSON_SCORE", description="Score.")


@strawberry.input(description="Sort order of a lead list.")
class LeadOrder(Order[LeadOrderField]):
    """Field and direction."""


LEAD_ORDER = {
    LeadOrderField.ID: rec.Lead.id,
    LeadOrderField.CREATED_AT: rec.Lead.created_at,
    LeadOrderField.UPDATED_AT: rec.Lead.updated_at,
    LeadOrderField.PERSON_SCORE: rec.Lead.person_score,
}


@strawberry.input(description="Filter leads; all given criteria must hold.")
class LeadFilter:
    """Lead criteria."""

    custom_fields: list[CustomFieldFilter] | None = custom_fields_filter()

    status: list[LeadStatusGQL] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this user."
    )
    unowned: bool | None = strawberry.field(
        default=None, description="true: only unowned leads; false: only owned."
    )
    segment: list[SalesSegmentGQL] | None = strawberry.field(
        default=None, description="Any of these segments."
    )
    region: list[RegionGQL] | None = strawberry.field(
        default=None, description="Any of these regions."
    )
    initial_source: str | None = strawberry.field(
        default=None, description="Exactly this initial source."
    )
    score_at_least: int | None = strawberry.field(
        default=None, description="personScore at least this."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )
    search: str | None = strawberry.field(
        default=None, description="Substring of name, email or company."
    )
    sla_breached: bool | None = strawberry.field(
        default=None,
        description="true: leads whose follow-up SLA is breached (see "
        "Lead.slaBreached); false: leads with an SLA not breached (met, or still "
        "within time). Leads without an SLA match neither.",
    )
    sla_met: bool | None = strawberry.field(
        default=None,
        description="true: leads whose follow-up SLA was met on time; false: leads "
        "with an SLA not met (yet, or late). Leads without an SLA match neither.",
    )
    timeout_before: datetime | None = strawberry.field(
        default=None,
        description="ACCEPTED leads whose timeoutAt falls before this time (e.g. "
        "the end of the week: the leads about to go back to the pool).",
    )


def lead_query(f: LeadFilter | None) -> LeadQuery:
    """GraphQL filter -> domain query."""
    f = f or LeadFilter()
    return LeadQuery(
        status=f.status or (),
        owner_id=decode_id(f.owner_id, UserNode, "ownerId") if f.owner_id else None,
        unowned=f.unowned,
        segment=f.segment or (),
        region=f.region or (),
        initial_source=f.initial_source,
        score_at_least=f.score_at_least,
        created_after=f.created_after,
        created_before=f.created_before,
        search=f.search,
        sla_breached=f.sla_breached,
        sla_met=f.sla_met,
        timeout_before=f.timeout_before,
        custom=criteria(f.custom_fields),
    )


@strawberry.type
class LeadQueries:
    """Root fields about leads."""

    @strawberry.field(description="One lead by global id.")
    async def lead(self, info: Info, id: strawberry.ID) -> LeadNode | None:
        """A lead, or null."""
        return await load_node(info, LeadNode, decode_id(id, LeadNode, "id"))

    @strawberry.field(description="Leads, filtered and sorted, keyset paged.")
    async def leads(
        self,
        info: Info,
        filter: LeadFilter | None = None,
        order_by: LeadOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LeadNode]:
        """A page of leads."""
        await check_criteria(info, RecordType.LEAD, filter)
        statement = lead_query(filter).statement()
        order = ordering(LEAD_ORDER, order_by)
        return await connection(
            info, LeadNode, statement, first, after, last, before, order=order
        )


@strawberry.input(
    description="The profile fields of createLead and updateLead (not in the schema)."
)
class LeadFields:
    """Every profile field, optional (UNSET: not given) and worded for a change;
    CreateLeadInput redeclares the ones a creation requires or words otherwise."""

    custom_fields: list[CustomFieldValueInput] | None = custom_fields_input()

    initial_source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Immutable once set: a change is refused."
    )
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="First name."
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Last name."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email.")
    company: str | None = strawberry.field(
        default=strawberry.UNSET, description="Company."
    )
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="Job title."
    )
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone.")
    number_of_employees: int | None = strawberry.field(
        default=strawberry.UNSET, description="Total employees."
    )
    street: str | None = strawberry.field(
        default=strawberry.UNSET, description="Street."
    )
    city: str | None = strawberry.field(default=strawberry.UNSET, description="City.")
    state: str | None = strawberry.field(
        default=strawberry.UNSET, description="State/province."
    )
    postal_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="Postal code."
    )
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="Country."
    )
    is_public_sector: bool | None = strawberry.field(
        default=strawberry.UNSET, description="US public sector."
    )
    lead_source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Lead source."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="New owner. A lead owned by a BDR changes hands only by that "
        f"BDR, {role_names(LEAD_TRANSFER_ROLES)} (see transferLeadOwnership); a "
        "lead owned by the Sales "
        "Admin placeholder may be adopted by anyone (ownerId: your id), which "
        "raises an alert.",
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Link the lead to this account: it takes the account's segment "
        "and region (D5); null unlinks it. Routing links a matching account itself.",
    )


@strawberry.input(description="A new lead. It starts RAW.")
class CreateLeadInput(LeadFields):
    """createLead input."""

    initial_source: str = strawberry.field(
        description="First known touch (required; 'Unknown' is refused)."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Owner (default: unowned until routed)."
    )
    campaign_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="First-touch campaign (default: the campaign of the first "
        "engagement that names one). It never changes after.",
    )
    allow_duplicate: bool = strawberry.field(
        default=False, description="Create even if a lead/contact has this email."
    )
    idempotency_key: str | None = idempotency_field("the first lead (no second lead)")


@strawberry.input(description="Change a lead's profile; only the given fields change.")
class UpdateLeadInput(RecordChange, LeadFields):
    """updateLead input."""

    id: strawberry.ID = strawberry.field(description="The lead.")
    expected_version: int | None = version_guard("lead")
    allow_duplicate: bool = strawberry.field(
        default=False,
        description="Change the email even if another lead/contact has it.",
    )


@strawberry.type(description="Result of createLead.")
class CreateLeadPayload:
    """The lead, or why not."""

    lead: LeadNode | None = strawberry.field(description="The new lead.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of updateLead.")
class UpdateLeadPayload:
    """The lead, or why not."""

    lead: LeadNode | None = strawberry.field(description="The changed lead.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


LEAD_IDS = {
    "owner_id": UserNode,
    "account_id": AccountNode,
    "campaign_id": CampaignNode,
}


@strawberry.type
class LeadMutations:
    """Root mutations about leads."""

    @strawberry.mutation(
        description="Create a lead (RAW). Duplicate emails are refused."
    )
    async def create_lead(
        self, info: Info, input: CreateLeadInput
    ) -> CreateLeadPayload:
        """Create a lead."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "createLead",
            input,
            rec.Lead,
            lambda s: service.create_lead(
                provided(input, ids=LEAD_IDS),
                session=s,
                actor=actor,
                allow_duplicate=input.allow_duplicate,
            ),
        )
        return CreateLeadPayload(
            lead=row and LeadNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(description="Change a lead's profile (not its status).")
    async def update_lead(
        self, info: Info, input: UpdateLeadInput
    ) -> UpdateLeadPayload:
        """Change a lead."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: service.update_lead(
                decode_id(input.id, LeadNode, "id"),
                provided(input, ids=LEAD_IDS),
                session=s,
                actor=actor,
                expected_version=given(input.expected_version),
                allow_duplicate=input.allow_duplicate,
            ),
        )
        return UpdateLeadPayload(
            lead=row and LeadNode.from_row(row), user_errors=errors
        )


@strawberry.input(description="Move a lead to another status (D2).")
class TransitionLeadInput:
    """transitionLead input."""

    idempotency_key: str | None = idempotency_field(
        "the lead (as it is now, moved once)"
    )
    id: strawberry.ID = strawberry.field(description="The lead.")
    to: LeadStatusGQL = strawberry.field(description="The status to move to.")
    reason: str | None = strawberry.field(
        default=None,
        description="Why; required for UNQUALIFIED, NURTURE and BAD_DATA.",
    )
    note: str | None = strawberry.field(default=None, description="Free-text note.")
    purchase_reference: str | None = strawberry.field(
        default=None,
        description="The purchasing record, required for WEB_PORTAL_PURCHASE.",
    )
    expected_version: int | None = version_guard("lead")
    dry_run: bool = dry_run_field()


@strawberry.type(description="Result of transitionLead.")
class TransitionLeadPayload:
    """The moved lead, or every reason why not."""

    lead: LeadNode | None = strawberry.field(description="The lead after the move.")
    user_errors: list[UserError] = strawberry.field(
        description="Every reason the move was refused (same as availableTransitions)."
    )
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.input(
    description="Convert a lead into an account, a contact and (optionally) an "
    "opportunity, in one atomic step (D7)."
)
class ConvertLeadInput:
    """convertLead input."""

    idempotency_key: str | None = idempotency_field(
        "the records of the first conversion (converted once)"
    )
    id: strawberry.ID = strawberry.field(
        description="The lead (ACCEPTED or QUALIFYING)."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Use this account; default: the lead's linked account, else "
        "matched by email domain, then by company name, else a new PROSPECT account.",
    )
    opportunity_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Attach the lead to this open opportunity of the account (as a "
        "contact role) instead of creating one.",
    )
    create_opportunity: bool = strawberry.field(
        default=True, description="Create an opportunity in PENDING_ACCEPTANCE."
    )
    opportunity_name: str | None = strawberry.field(
        default=None, description="Name of the new opportunity."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The sales rep (AE, SAL, AM, RD) who takes the new opportunity "
        "when field sales does not own the account (whose owner takes it); required "
        "when you are not field sales yourself (ASSIGNEE_REQUIRED).",
    )
    expected_version: int | None = version_guard("lead")
    dry_run: bool = dry_run_field()


@strawberry.type(description="Result of convertLead: what the lead became.")
class ConvertLeadPayload:
    """The records of the conversion, or why not."""

    lead: LeadNode | None = strawberry.field(description="The lead, now QUALIFIED.")
    account: AccountNode | None = strawberry.field(description="The account.")
    contact: ContactRef | None = strawberry.field(description="The contact.")
    opportunity: OpportunityRef | None = strawberry.field(
        description="The new or attached opportunity (null when none)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.type
class LeadLifecycleMutations:
    """Root mutations of the lead lifecycle."""

    @strawberry.mutation(
        description="Move a lead to another status. Refused moves list every reason."
    )
    async def transition_lead(
        self, info: Info, input: TransitionLeadInput
    ) -> TransitionLeadPayload:
        """Move a lead."""
        actor = info.context.actor
        request = LeadTransitionRequest(
            to=input.to,
            reason=input.reason,
            note=input.note,
            purchase_reference=input.purchase_reference,
        )

        def use_case(s: AsyncSession) -> Awaitable[rec.Lead]:
            return lifecycle.transition_lead(
                decode_id(input.id, LeadNode, "id"),
                request,
                session=s,
                actor=actor,
                expected_version=input.expected_version,
            )

        row, errors, dry_run = await rehearsable(
            info,
            input.dry_run,
            use_case,
            lambda: mutate_once(info, "transitionLead", input, rec.Lead, use_case),
        )
        return TransitionLeadPayload(
            lead=row and LeadNode.from_row(row), user_errors=errors, dry_run=dry_run
        )

    @strawberry.mutation(
        description="Convert a lead (D7): account matched or created, contact reused "
        "or created, opportunity created or attached; all or nothing."
    )
    async def convert_lead(
        self, info: Info, input: ConvertLeadInput
    ) -> ConvertLeadPayload:
        """Convert a lead."""
        from api.contacts import ContactNode
        from api.opportunities import OpportunityNode

        actor = info.context.actor

        async def use_case(s):  # type: ignore[no-untyped-def]
            return await lifecycle.convert_lead(
                decode_id(input.id, LeadNode, "id"),
                session=s,
                actor=actor,
                account_id=input.account_id
                and decode_id(input.account_id, AccountNode, "accountId"),
                opportunity_id=input.opportunity_id
                and decode_id(input.opportunity_id, OpportunityNode, "opportunityId"),
                create_opportunity=input.create_opportunity,
                opportunity_name=input.opportunity_name,
                owner_id=input.owner_id
                and decode_id(input.owner_id, UserNode, "ownerId"),
                expected_version=input.expected_version,
            )

        done, errors, dry_run = await rehearsable(
            info,
            input.dry_run,
            use_case,
            lambda: mutate_once_with(
                info,
                "convertLead",
                input,
                use_case,
                remember=lifecycle.Conversion.remembered,
                recall=lambda s, seen: lifecycle.recalled_conversion(
                    s, seen.record_ids
                ),
            ),
        )
        if done is None:
            return ConvertLeadPayload(
                lead=None,
                account=None,
                contact=None,
                opportunity=None,
                user_errors=errors,
                dry_run=dry_run,
            )
        return ConvertLeadPayload(
            lead=LeadNode.from_row(done.lead),
            account=AccountNode.from_row(done.account),
            contact=ContactNode.from_row(done.contact),
            opportunity=done.opportunity and OpportunityNode.from_row(done.opportunity),
            user_errors=[],
            dry_run=dry_run,
        )
