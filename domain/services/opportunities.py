"""Opportunities: create and update (D1, D3 rule 1); stages move in the lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import OpportunityStage, Pipeline, RecordType
from domain.errors import refuse_if
from domain.lifecycle.opportunity import creation_refusals
from domain.records import Account, Campaign, Contact, Opportunity
from domain.rules.permissions import (
    Actor,
    Operation,
    may_create,
    may_update_record,
    refusals,
)
from domain.rules.validation import (
    Check,
    currency_code,
    max_length,
    money,
    required,
)
from domain.services.custom_fields import with_custom_fields
from domain.services.customers import follow_the_deal
from domain.services.ledger import record_transition
from domain.services.loading import (
    apply,
    check_values,
    check_version,
    load,
    load_optional,
    require_user,
)
from domain.services.ownership import (
    may_place_on,
    owner_of,
    record_owner_change,
    standing,
)
from domain.sqltypes import utcnow

OPPORTUNITY_RULES: dict[str, list[Check]] = {
    "name": [required, max_length(255)],
    "account_id": [required],
    "incremental_acv": [required, money],
    "currency": [required, currency_code],
    # Columns that cannot be null: an explicit null is refused, not stored.
    "type": [required],
    "technical_requirements_confirmed": [required],
    "poc_ran": [required],
    "business_terms_agreed": [required],
    "signed_order_form_received": [required],
    "po_received": [required],
    "restricted_party_screening": [required],
    "finance_approved": [required],
    "closed_lost_reasons": [required],
}

CONTACT_FIELDS = ("primary_contact_id", "bill_to_contact_id", "sold_to_contact_id")
OPPORTUNITY_FIELDS = ("merged_into_id", "duplicate_of_id")


async def _check_references(session: AsyncSession, values: Mapping[str, Any]) -> None:
    if "account_id" in values:
        await load(session, Account, values["account_id"], field="accountId")
    await require_user(session, values.get("owner_id"), "ownerId")
    for name in CONTACT_FIELDS:
        await load_optional(session, Contact, values.get(name), field=name)
    for name in OPPORTUNITY_FIELDS:
        await load_optional(session, Opportunity, values.get(name), field=name)


async def create_opportunity(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime | None = None,
) -> Opportunity:
    """Create an opportunity in PENDING_ACCEPTANCE (or PRE_OPPORTUNITY; D3 rule 1).

    Only a WEB_DIRECT opportunity may be created directly in CLOSED_WON, by
    SALES_OPS or ADMIN; every deal needs an account the actor may write. The
    owner defaults to the account owner, then to the creating user.
    ``campaign_id`` is its primary campaign (D11 attribution).
    """
    check_values(values, OPPORTUNITY_RULES, required_fields=("name", "account_id"))
    stage = values.get("stage") or OpportunityStage.PENDING_ACCEPTANCE
    refuse_if(
        creation_refusals(
            stage,
            values.get("sales_qualification_source"),
            values.get("pipeline") or Pipeline.NEW_BUSINESS,
        )
    )
    if stage == OpportunityStage.CLOSED_WON:
        refuse_if(refusals(actor, Operation.CREATE_WON_OPPORTUNITY))
    await _check_references(session, values)
    refuse_if(may_create(actor, Operation.CREATE_OPPORTUNITY, values.get("owner_id")))
    await may_place_on(
        session, actor, values["account_id"], Operation.CREATE_DEAL_ON_ACCOUNT
    )
    await load_optional(
        session, Campaign, values.get("campaign_id"), field="campaignId"
    )
    account = await load(session, Account, values["account_id"], field="accountId")
    values = await with_custom_fields(session, RecordType.OPPORTUNITY, values)
    data = {**values, "stage": stage}
    if data.get("owner_id") is None:
        data["owner_id"] = account.owner_id or actor.id
    now = now or utcnow()
    opportunity = Opportunity(
        **data, created_at=now, updated_at=now, stage_changed_at=now
    )
    if stage == OpportunityStage.CLOSED_WON:
        opportunity.closed_at = opportunity.created_at
    session.add(opportunity)
    await session.flush()
    # The ledger starts at creation (from null), as for a converted lead's
    # opportunity, so history and time-in-stage cover the first stage too.
    record_transition(
        session,
        record_type=RecordType.OPPORTUNITY,
        record_id=opportunity.id,  # type: ignore[arg-type]
        from_state=None,
        to_state=stage.value,
        entered_from_at=None,
        at=opportunity.stage_changed_at,
        actor=actor,
        event_kind="OPPORTUNITY_CREATED",
        stage=stage.value,
        owner_id=opportunity.owner_id,
    )
    # A web-direct purchase created won makes its account a customer (D1).
    await follow_the_deal(
        session,
        opportunity,
        from_stage=None,
        to=stage,
        closed_at=None,
        actor=actor,
        now=now,
    )
    return opportunity


async def update_opportunity(
    opportunity_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
) -> Opportunity:
    """Change an opportunity's fields; the stage moves only via moveOpportunityStage."""
    opportunity = await load(session, Opportunity, opportunity_id, lock=True)
    check_version(opportunity, expected_version)
    previous = await owner_of(session, opportunity.owner_id)
    changes_owner = "owner_id" in values and values["owner_id"] != opportunity.owner_id
    on = await standing(session, owner_id=None, account_id=opportunity.account_id)
    refuse_if(
        may_update_record(
            actor,
            previous,
            values.get("owner_id"),
            "opportunity",
            changes_owner=changes_owner,
            account_owner_id=on.account_owner_id,
        )
    )
    check_values(values, OPPORTUNITY_RULES)
    await _check_references(session, values)
    values = await with_custom_fields(
        session, RecordType.OPPORTUNITY, values, current=opportunity.custom_fields
    )
    if values.get("account_id", opportunity.account_id) != opportunity.account_id:
        # Moving a deal between accounts: onto one the actor may write.
        await may_place_on(
            session, actor, values["account_id"], Operation.MOVE_DEAL_TO_ACCOUNT
        )
    apply(opportunity, values)
    await session.flush()
    if changes_owner:
        await record_owner_change(
            session,
            record_type=RecordType.OPPORTUNITY,
            record_id=opportunity.id,  # type: ignore[arg-type]
            actor=actor,
            previous=previous,
            new_owner_id=opportunity.owner_id,
        )
    return opportunity
