"""Opportunities: the `Opportunity` type, lists, createOpportunity, updateOpportunity.

The stage moves only through `moveOpportunityStage` (A4); here the fields
that the stages require (D3 rule 5) are recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Iterable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts import AccountNode
from api.campaigns import CampaignNode
from api.contacts import ContactNode
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
from api.enums import (
    ClosedLostReasonGQL,
    OpportunityStageGQL,
    OpportunityTypeGQL,
    PipelineGQL,
    ReferenceableCustomerGQL,
    RestrictedPartyScreeningGQL,
    SalesQualificationSourceGQL,
)
from api.errors import UserError, camel, user_errors
from api.inputs import (
    RecordChange,
    given,
    idempotency_field,
    mutate,
    mutate_once,
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
from api.users import UserNode
from domain import records as rec
from domain.enums import ClosedLostReason, RecordType
from domain.errors import Refusal, Refused
from domain.lifecycle.opportunity import (
    OPPORTUNITY_MACHINE,
    TERMS_MINIMUM_IACV,
    StageMoveRequest,
)
from domain.rules.permissions import STAGE_OVERRIDE_ROLES, role_names
from domain.services import opportunities as service
from domain.services import opportunity_pipeline as pipeline
from domain.services.listing import OpportunityQuery

# The class itself, for its own to-one fields (its name is not bound yet there).
OpportunitySelf = Annotated["OpportunityNode", strawberry.lazy("api.opportunities")]


@strawberry.type(description="A pipeline stage reachable from the current one.")
class OpportunityTransitionOption(TransitionOption):
    """A possible next stage."""

    to: OpportunityStageGQL = strawberry.field(description="The target stage.")


@strawberry.type(
    name="Opportunity",
    description="A potential deal. Its `stage` moves through the pipeline (D3, see "
    "`stateMachines`); the stage fields record what each stage requires.",
)
class OpportunityNode(RecordNode):
    """An opportunity."""

    model = rec.Opportunity

    custom_fields: strawberry.Private[dict[str, Any] | None]
    custom_field_values = custom_fields_field(RecordType.OPPORTUNITY)

    name: str = strawberry.field(description="Name of the deal.")
    type: OpportunityTypeGQL = strawberry.field(
        description="New business, add-on or renewal."
    )
    pipeline: PipelineGQL = strawberry.field(  # type: ignore[valid-type]
        description="The pipeline it moves through: its stages and moves "
        "(changeOpportunityPipeline changes it)."
    )
    stage: OpportunityStageGQL = strawberry.field(description="Pipeline stage (D3).")
    stage_changed_at: datetime = strawberry.field(
        description="When the stage last changed."
    )
    stale_since: datetime | None = strawberry.field(
        description="Stale since then: no completed activity for the timeouts "
        "table's days in this stage (set by the scheduler; null: not stale). A "
        "stage move or a completed activity on the opportunity clears it."
    )
    close_date: date | None = strawberry.field(description="Expected close date.")
    currency: str = strawberry.field(description="ISO 4217 currency of the amounts.")
    incremental_acv: Decimal = strawberry.field(
        description="Incremental annual contract value (IACV)."
    )
    initial_iacv: Decimal | None = strawberry.field(
        description="IACV when it became sales qualified; never changes after."
    )
    sales_accepted_date: datetime | None = strawberry.field(
        description="When it was sales-accepted (entered 1-Discovery)."
    )
    sales_qualified: bool = strawberry.field(
        description="Sales qualified (SQO): it left 1-Discovery forward."
    )
    sales_qualified_date: datetime | None = strawberry.field(
        description="When it became sales qualified."
    )
    sales_qualification_source: SalesQualificationSourceGQL | None = strawberry.field(
        description="Who generated the opportunity."
    )
    edition: str | None = strawberry.field(description="Product edition.")
    initial_source: str | None = strawberry.field(
        description="First known touch of the deal."
    )
    business_problem: str | None = strawberry.field(
        description="The customer's business problem (needed for acceptance)."
    )
    technical_requirements_confirmed: bool = strawberry.field(
        description="Technical requirements confirmed (needed for 4-Proposal)."
    )
    poc_ran: bool = strawberry.field(description="A proof of concept ran.")
    poc_notes: str | None = strawberry.field(
        description="POC notes (needed for 4-Proposal when a POC ran)."
    )
    poc_success_criteria: str | None = strawberry.field(
        description="POC success criteria (needed for 4-Proposal when a POC ran)."
    )
    po_will_be_issued: bool | None = strawberry.field(
        description="Whether a PO will be issued (null: not yet known)."
    )
    purchasing_plan: str | None = strawberry.field(
        description="The purchasing (close) plan (needed for 5-Negotiating)."
    )
    business_terms_agreed: bool = strawberry.field(
        description="Business terms agreed (needed for 6-Awaiting Signature)."
    )
    referenceable_customer: ReferenceableCustomerGQL | None = strawberry.field(
        description="Referenceable-customer answer (needed for 6-Awaiting Signature)."
    )
    signed_order_form_received: bool = strawberry.field(
        description="Signed order form received (needed for 7-Closed Won)."
    )
    po_received: bool = strawberry.field(
        description="PO received (needed for 7-Closed Won when one will be issued)."
    )
    restricted_party_screening: RestrictedPartyScreeningGQL = strawberry.field(
        description="Restricted-party screening (CLEARED needed for 7-Closed Won)."
    )
    finance_approved: bool = strawberry.field(
        description="Finance approval (needed for 7-Closed Won)."
    )
    closed_won_details: str | None = strawberry.field(
        description="Why it was won (needed for large deals)."
    )
    closed_lost_reasons: list[ClosedLostReasonGQL] = strawberry.field(
        description="Why it was lost (needed for 8-Closed Lost)."
    )
    closed_lost_detail: str | None = strawberry.field(
        description="Detail of the loss (needed for 8-Closed Lost)."
    )
    lost_from_stage: OpportunityStageGQL | None = strawberry.field(
        description="The stage it was closed lost from (where a reopen returns)."
    )
    closed_at: datetime | None = strawberry.field(description="When it was closed.")
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    account_id: strawberry.Private[int]
    owner_id: strawberry.Private[int | None]
    primary_contact_id: strawberry.Private[int | None]
    bill_to_contact_id: strawberry.Private[int | None]
    sold_to_contact_id: strawberry.Private[int | None]
    merged_into_id: strawberry.Private[int | None]
    duplicate_of_id: strawberry.Private[int | None]
    campaign_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        """Like every node, with the stored reason strings as enum values."""
        node = super().from_row(row)
        node.closed_lost_reasons = [
            ClosedLostReason(r) for r in node.closed_lost_reasons
        ]
        return node

    @strawberry.field(
        description="Every stage reachable from the current one: allowed now, or "
        "every reason it is blocked. moveOpportunityStage refuses with exactly these "
        "when given the same reason and override (and no fields)."
    )
    async def available_transitions(
        self,
        info: Info,
        reason: Annotated[
            str | None,
            strawberry.argument(
                description="Ask as if the move gave this reason (moving back, "
                "unqualifying and overrides need one)."
            ),
        ] = None,
        override: Annotated[
            bool,
            strawberry.argument(
                description="Ask as if the move asked for an override."
            ),
        ] = False,
    ) -> list[OpportunityTransitionOption]:
        """What may happen next, and why not."""
        actor = info.context.actor
        row = await info.context.records(rec.Opportunity).load(self.id)
        options = await info.context.read(
            lambda s: pipeline.available_transitions(
                s, row, actor, reason=reason, override=override
            )
        )
        return [
            OpportunityTransitionOption(
                to=o.to,
                label=OPPORTUNITY_MACHINE.label(o.to),
                allowed=o.allowed,
                blocked_by=user_errors(as_move_input(o.blocked_by)),
            )
            for o in options
        ]

    @strawberry.field(description="Every stage change, oldest first (from creation).")
    async def history(self, info: Info) -> list[TransitionRecordNode]:
        """The opportunity's ledger."""
        return await history_of(info, RecordType.OPPORTUNITY, self.id)

    account = to_one(
        AccountNode,
        "account_id",
        description="The account of the deal.",
    )

    owner = to_one(
        UserNode,
        "owner_id",
        description="Who works the deal.",
    )

    campaign = to_one(
        CampaignNode,
        "campaign_id",
        description="Primary campaign: the converted lead's first-touch campaign, "
        "or the one given at creation (D11 attribution).",
    )

    primary_contact = to_one(
        ContactNode,
        "primary_contact_id",
        description="The main person on the customer side.",
    )

    bill_to_contact = to_one(
        ContactNode,
        "bill_to_contact_id",
        description="Bill-to contact (needed for 5-Negotiating).",
    )

    sold_to_contact = to_one(
        ContactNode,
        "sold_to_contact_id",
        description="Sold-to contact (needed for 5-Negotiating).",
    )

    merged_into = to_one(
        OpportunitySelf,
        "merged_into_id",
        description="The opportunity this one was merged into (closed lost, reason "
        "MERGED_INTO_ANOTHER_OPPORTUNITY).",
    )

    duplicate_of = to_one(
        OpportunitySelf,
        "duplicate_of_id",
        description="The opportunity this one duplicates (10-Duplicate).",
    )


@strawberry.enum(description="Fields opportunities can be sorted by.")
class OpportunityOrderField(Enum):
    """Sortable opportunity fields (never null, so keyset paging holds)."""

    ID = strawberry.enum_value("ID", description="Creation order.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="Creation time.")
    INCREMENTAL_ACV = strawberry.enum_value(
        "INCREMENTAL_ACV", description="Incremental ACV."
    )


@strawberry.input(description="Sort order of an opportunity list.")
class OpportunityOrder(Order[OpportunityOrderField]):
    """Field and direction."""


OPPORTUNITY_ORDER = {
    OpportunityOrderField.ID: rec.Opportunity.id,
    OpportunityOrderField.CREATED_AT: rec.Opportunity.created_at,
    OpportunityOrderField.INCREMENTAL_ACV: rec.Opportunity.incremental_acv,
}


@strawberry.input(description="Filter opportunities; all given criteria must hold.")
class OpportunityFilter:
    """Opportunity criteria."""

    custom_fields: list[CustomFieldFilter] | None = custom_fields_filter()

    stage: list[OpportunityStageGQL] | None = strawberry.field(
        default=None, description="Any of these stages."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this user."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="At this account."
    )
    type: list[OpportunityTypeGQL] | None = strawberry.field(
        default=None, description="Any of these types."
    )
    sales_qualified: bool | None = strawberry.field(
        default=None, description="Sales qualified (SQO) or not."
    )
    pipeline: list[PipelineGQL] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="In any of these pipelines."
    )
    stale: bool | None = strawberry.field(
        default=None,
        description="true: only opportunities flagged stale (staleSince set); "
        "false: only those not flagged.",
    )
    search: str | None = strawberry.field(
        default=None, description="Substring of the name."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )


def opportunity_query(f: OpportunityFilter | None) -> OpportunityQuery:
    """GraphQL filter -> domain query."""
    f = f or OpportunityFilter()
    return OpportunityQuery(
        stage=f.stage or (),
        owner_id=decode_id(f.owner_id, UserNode, "ownerId") if f.owner_id else None,
        account_id=decode_id(f.account_id, AccountNode, "accountId")
        if f.account_id
        else None,
        type=f.type or (),
        sales_qualified=f.sales_qualified,
        pipeline=f.pipeline or (),
        stale=f.stale,
        search=f.search,
        created_after=f.created_after,
        created_before=f.created_before,
        custom=criteria(f.custom_fields),
    )


@strawberry.type
class OpportunityQueries:
    """Root fields about opportunities."""

    @strawberry.field(description="One opportunity by global id.")
    async def opportunity(
        self, info: Info, id: strawberry.ID
    ) -> OpportunityNode | None:
        """An opportunity, or null."""
        return await load_node(
            info, OpportunityNode, decode_id(id, OpportunityNode, "id")
        )

    @strawberry.field(description="Opportunities, filtered and sorted, keyset paged.")
    async def opportunities(
        self,
        info: Info,
        filter: OpportunityFilter | None = None,
        order_by: OpportunityOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OpportunityNode]:
        """A page of opportunities."""
        await check_criteria(info, RecordType.OPPORTUNITY, filter)
        statement = opportunity_query(filter).statement()
        order = ordering(OPPORTUNITY_ORDER, order_by)
        return await connection(
            info, OpportunityNode, statement, first, after, last, before, order=order
        )


@strawberry.input(
    description="The fields of createOpportunity and updateOpportunity (not in the "
    "schema)."
)
class OpportunityFields:
    """The fields both inputs have, optional (UNSET: not given) and worded for a
    change; CreateOpportunityInput redeclares the ones a creation requires or
    words otherwise."""

    custom_fields: list[CustomFieldValueInput] | None = custom_fields_input()

    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Name of the deal."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The account."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="New owner. A record owned by the Sales Admin placeholder may "
        "be adopted by anyone (ownerId: your own id), which raises an alert (D8).",
    )
    type: OpportunityTypeGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Kind of deal."
    )
    close_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Expected close date."
    )
    incremental_acv: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="IACV (not negative)."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO currency."
    )
    sales_qualification_source: SalesQualificationSourceGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Who generated it."
    )
    edition: str | None = strawberry.field(
        default=strawberry.UNSET, description="Product edition."
    )
    initial_source: str | None = strawberry.field(
        default=strawberry.UNSET, description="First known touch."
    )
    primary_contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Primary contact."
    )
    business_problem: str | None = strawberry.field(
        default=strawberry.UNSET, description="The customer's business problem."
    )


@strawberry.input(
    description="A new opportunity. It starts in 0-Pending Acceptance (or "
    "00-Pre Opportunity); only a WEB_DIRECT one may start in 7-Closed Won."
)
class CreateOpportunityInput(OpportunityFields):
    """createOpportunity input."""

    idempotency_key: str | None = idempotency_field(
        "the first opportunity (no second one)"
    )
    name: str = strawberry.field(description="Name of the deal.")
    account_id: strawberry.ID = strawberry.field(description="The account.")
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Owner (default: the account owner, else you).",
    )
    type: OpportunityTypeGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Kind of deal (default NEW_BUSINESS)."
    )
    pipeline: PipelineGQL | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET,
        description="The pipeline it moves through (default NEW_BUSINESS, whatever "
        "the type); its stage must be a start stage of it.",
    )
    incremental_acv: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="IACV (not negative; default 0)."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO currency (default USD)."
    )
    stage: OpportunityStageGQL | None = strawberry.field(
        default=strawberry.UNSET,
        description="Starting stage (default PENDING_ACCEPTANCE).",
    )
    campaign_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Primary campaign (D11 attribution); it never changes after.",
    )


@strawberry.input(
    description="The stage fields of updateOpportunity and moveOpportunityStage (not "
    "in the schema)."
)
class OpportunityStageFields:
    """What the stages require (D3 rule 5), merge and duplicate: set by a change
    only, optional (UNSET: not given)."""

    bill_to_contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Bill-to contact."
    )
    sold_to_contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Sold-to contact."
    )
    technical_requirements_confirmed: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Technical requirements confirmed."
    )
    poc_ran: bool | None = strawberry.field(
        default=strawberry.UNSET, description="A proof of concept ran."
    )
    poc_notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="POC notes."
    )
    poc_success_criteria: str | None = strawberry.field(
        default=strawberry.UNSET, description="POC success criteria."
    )
    po_will_be_issued: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether a PO will be issued."
    )
    purchasing_plan: str | None = strawberry.field(
        default=strawberry.UNSET, description="Purchasing (close) plan."
    )
    business_terms_agreed: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Business terms agreed."
    )
    referenceable_customer: ReferenceableCustomerGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Referenceable-customer answer."
    )
    signed_order_form_received: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Signed order form received."
    )
    po_received: bool | None = strawberry.field(
        default=strawberry.UNSET, description="PO received."
    )
    restricted_party_screening: RestrictedPartyScreeningGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Restricted-party screening result."
    )
    finance_approved: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Finance approval."
    )
    closed_won_details: str | None = strawberry.field(
        default=strawberry.UNSET, description="Why it was won."
    )
    closed_lost_reasons: list[ClosedLostReasonGQL] | None = strawberry.field(
        default=strawberry.UNSET, description="Why it was lost (replaces the list)."
    )
    closed_lost_detail: str | None = strawberry.field(
        default=strawberry.UNSET, description="Detail of the loss."
    )
    merged_into_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The opportunity it was merged into."
    )
    duplicate_of_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The opportunity it duplicates."
    )


@strawberry.input(
    description="Change an opportunity; only the given fields change. The stage "
    "moves with moveOpportunityStage."
)
class UpdateOpportunityInput(RecordChange, OpportunityFields, OpportunityStageFields):
    """updateOpportunity input."""

    id: strawberry.ID = strawberry.field(description="The opportunity.")
    expected_version: int | None = version_guard("opportunity")


@strawberry.type(description="Result of createOpportunity.")
class CreateOpportunityPayload:
    """The opportunity, or why not."""

    opportunity: OpportunityNode | None = strawberry.field(
        description="The new opportunity."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of updateOpportunity.")
class UpdateOpportunityPayload:
    """The opportunity, or why not."""

    opportunity: OpportunityNode | None = strawberry.field(
        description="The changed opportunity."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


OPPORTUNITY_IDS: dict[str, type] = {
    "account_id": AccountNode,
    "owner_id": UserNode,
    "primary_contact_id": ContactNode,
    "bill_to_contact_id": ContactNode,
    "sold_to_contact_id": ContactNode,
    "merged_into_id": OpportunityNode,
    "duplicate_of_id": OpportunityNode,
    "campaign_id": CampaignNode,
}


def opportunity_values(data: Any) -> dict[str, Any]:
    """The given input fields, ids decoded, closed-lost reasons as stored strings."""
    values = provided(data, ids=OPPORTUNITY_IDS)
    if values.get("closed_lost_reasons") is not None:
        values["closed_lost_reasons"] = [
            ClosedLostReason(r).value for r in values["closed_lost_reasons"]
        ]
    return values


@strawberry.type
class OpportunityMutations:
    """Root mutations about opportunities."""

    @strawberry.mutation(description="Create an opportunity (0-Pending Acceptance).")
    async def create_opportunity(
        self, info: Info, input: CreateOpportunityInput
    ) -> CreateOpportunityPayload:
        """Create an opportunity."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "createOpportunity",
            input,
            rec.Opportunity,
            lambda s: service.create_opportunity(
                opportunity_values(input), session=s, actor=actor
            ),
        )
        return CreateOpportunityPayload(
            opportunity=row and OpportunityNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(description="Change an opportunity's fields (not its stage).")
    async def update_opportunity(
        self, info: Info, input: UpdateOpportunityInput
    ) -> UpdateOpportunityPayload:
        """Change an opportunity."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: service.update_opportunity(
                decode_id(input.id, OpportunityNode, "id"),
                opportunity_values(input),
                session=s,
                actor=actor,
                expected_version=given(input.expected_version),
            ),
        )
        return UpdateOpportunityPayload(
            opportunity=row and OpportunityNode.from_row(row), user_errors=errors
        )


@strawberry.input(
    description="What the target stage requires (D3 rule 5), set in the same atomic "
    "call as the move; only the given fields change, and only if the move is made."
)
class OpportunityStageFieldsInput(OpportunityStageFields):
    """The stage fields of moveOpportunityStage."""

    business_problem: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The customer's business problem (needed for acceptance).",
    )
    primary_contact_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Primary contact: the right person (needed for acceptance).",
    )
    incremental_acv: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="IACV (not negative); leaving 1-Discovery snapshots it as "
        "initialIacv.",
    )


@strawberry.input(description="Move an opportunity to another stage (D3).")
class MoveOpportunityStageInput:
    """moveOpportunityStage input."""

    idempotency_key: str | None = idempotency_field(
        "the opportunity (as it is now, moved once)"
    )
    dry_run: bool = dry_run_field()
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    to: OpportunityStageGQL = strawberry.field(description="The stage to move to.")
    reason: str | None = strawberry.field(
        default=None,
        description="Why; required to move back, to unqualify and to override.",
    )
    note: str | None = strawberry.field(default=None, description="Free-text note.")
    override: bool = strawberry.field(
        default=False,
        description=f"{role_names(STAGE_OVERRIDE_ROLES)} only, with a reason: lift "
        "the final-stage and "
        "sales-accepted rules (recorded on the transition).",
    )
    expected_version: int | None = version_guard("opportunity")
    fields: OpportunityStageFieldsInput | None = strawberry.field(
        default=None,
        description="Stage fields to set with the move, atomically: checked with "
        "the move, written only if it is made.",
    )


@strawberry.type(description="Result of moveOpportunityStage.")
class MoveOpportunityStagePayload:
    """The moved opportunity, or every reason why not."""

    opportunity: OpportunityNode | None = strawberry.field(
        description="The opportunity after the move."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Every reason the move was refused (same as availableTransitions)."
    )
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.input(
    description="Move an open opportunity into another pipeline (issue 14): one "
    "that has its stage, with a reason."
)
class ChangeOpportunityPipelineInput:
    """changeOpportunityPipeline input."""

    idempotency_key: str | None = idempotency_field(
        "the opportunity (as it is now, moved once)"
    )
    dry_run: bool = dry_run_field()
    id: strawberry.ID = strawberry.field(description="The opportunity.")
    pipeline: PipelineGQL = strawberry.field(description="The pipeline to move to.")  # type: ignore[valid-type]
    reason: str = strawberry.field(description="Why (required, not blank).")
    expected_version: int | None = version_guard("opportunity")


@strawberry.type(description="Result of changeOpportunityPipeline.")
class ChangeOpportunityPipelinePayload:
    """The opportunity in its new pipeline, or every reason why not."""

    opportunity: OpportunityNode | None = strawberry.field(
        description="The opportunity after the change."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.input(description="Ask to modify the standard terms of a deal (D3 rule 9).")
class RequestTermsModificationInput:
    """requestTermsModification input."""

    idempotency_key: str | None = idempotency_field(
        "the opportunity (one request, one event)"
    )
    id: strawberry.ID = strawberry.field(description="The opportunity.")


@strawberry.type(description="Result of requestTermsModification.")
class RequestTermsModificationPayload:
    """The opportunity, or why the terms may not be modified."""

    opportunity: OpportunityNode | None = strawberry.field(
        description="The opportunity the request was raised for."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


def stage_field_values(data: OpportunityStageFieldsInput | None) -> dict[str, Any]:
    """The given stage fields, decoded; a malformed id is named by its input path."""
    if data is None:
        return {}
    try:
        return opportunity_values(data)
    except Refused as refused:
        raise Refused(
            replace(r, field=("fields", *r.field)) for r in refused.refusals
        ) from None


# The stage fields, as the API names them.
_STAGE_INPUT_FIELDS = frozenset(
    camel(f.name) for f in dataclasses.fields(OpportunityStageFieldsInput)
)


def as_move_input(refusals: Iterable[Refusal]) -> list[Refusal]:
    """A refusal about a stage field names where moveOpportunityStage takes it,
    ``["fields", "businessProblem"]``, whether or not it was given (the same
    path in ``availableTransitions`` and the move's ``userErrors``)."""
    return [
        replace(r, field=("fields", *r.field))
        if r.field and camel(r.field[0]) in _STAGE_INPUT_FIELDS
        else r
        for r in refusals
    ]


@strawberry.type
class OpportunityPipelineMutations:
    """Root mutations of the opportunity pipeline."""

    @strawberry.mutation(
        description="Move an opportunity to another stage, optionally setting the "
        "stage fields it requires in the same atomic call. Refused moves list every "
        "reason."
    )
    async def move_opportunity_stage(
        self, info: Info, input: MoveOpportunityStageInput
    ) -> MoveOpportunityStagePayload:
        """Move an opportunity."""
        actor = info.context.actor
        request = StageMoveRequest(
            to=input.to,
            reason=input.reason,
            note=input.note,
            override=input.override,
        )

        def use_case(s: AsyncSession) -> Awaitable[rec.Opportunity]:
            return pipeline.move_opportunity_stage(
                decode_id(input.id, OpportunityNode, "id"),
                request,
                fields=stage_field_values(input.fields),
                session=s,
                actor=actor,
                expected_version=input.expected_version,
            )

        row, errors, dry_run = await rehearsable(
            info,
            input.dry_run,
            use_case,
            lambda: mutate_once(
                info,
                "moveOpportunityStage",
                input,
                rec.Opportunity,
                use_case,
                refusals_as=as_move_input,
            ),
            refusals_as=as_move_input,
        )
        return MoveOpportunityStagePayload(
            opportunity=row and OpportunityNode.from_row(row),
            user_errors=errors,
            dry_run=dry_run,
        )

    @strawberry.mutation(
        description="Move an open opportunity into another pipeline: refused "
        "when closed (FINAL_STATE), when the pipeline lacks its stage "
        "(NOT_IN_PIPELINE) or without a reason; its stage and history stay, the "
        "moves ahead are the new pipeline's."
    )
    async def change_opportunity_pipeline(
        self, info: Info, input: ChangeOpportunityPipelineInput
    ) -> ChangeOpportunityPipelinePayload:
        """Change an opportunity's pipeline."""
        actor = info.context.actor

        def use_case(s: AsyncSession) -> Awaitable[rec.Opportunity]:
            return pipeline.change_opportunity_pipeline(
                decode_id(input.id, OpportunityNode, "id"),
                input.pipeline,
                reason=input.reason,
                session=s,
                actor=actor,
                expected_version=input.expected_version,
            )

        row, errors, dry_run = await rehearsable(
            info,
            input.dry_run,
            use_case,
            lambda: mutate_once(
                info, "changeOpportunityPipeline", input, rec.Opportunity, use_case
            ),
        )
        return ChangeOpportunityPipelinePayload(
            opportunity=row and OpportunityNode.from_row(row),
            user_errors=errors,
            dry_run=dry_run,
        )

    @strawberry.mutation(
        description="Ask to modify the standard terms (D3 rule 9): refused below "
        f"{TERMS_MINIMUM_IACV:,} USD IACV or for the Starter edition; else a "
        "TERMS_MODIFICATION_REQUESTED event."
    )
    async def request_terms_modification(
        self, info: Info, input: RequestTermsModificationInput
    ) -> RequestTermsModificationPayload:
        """Request a terms modification."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "requestTermsModification",
            input,
            rec.Opportunity,
            lambda s: pipeline.request_terms_modification(
                decode_id(input.id, OpportunityNode, "id"), session=s, actor=actor
            ),
        )
        return RequestTermsModificationPayload(
            opportunity=row and OpportunityNode.from_row(row), user_errors=errors
        )
