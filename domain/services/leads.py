"""Leads: create and update (D1, D4, D5, D12). Status moves live in the lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import ErrorCode, LeadStatus, RecordType
from domain.errors import Refused
from domain.records import Campaign, Lead
from domain.rules.permissions import Actor, may_edit_lead
from domain.rules.scoring import score
from domain.rules.segmentation import region_for, sales_segment_for
from domain.rules.validation import (
    known_initial_source,
    max_length,
    non_negative,
    normalize_email,
    required,
    valid_email,
)
from domain.services.common import (
    apply,
    check_values,
    check_version,
    emit,
    load,
    load_optional,
    refuse_duplicate_email,
    refuse_if,
    refuse_initial_source_change,
    require_user,
)
from domain.services.engagements import rescore
from domain.sqltypes import utcnow

LEAD_RULES = {
    "first_name": [max_length(120)],
    "last_name": [max_length(120)],
    "email": [valid_email, max_length(320)],
    "company": [max_length(255)],
    "title": [max_length(200)],
    "number_of_employees": [non_negative],
    "is_public_sector": [required],
    "initial_source": [known_initial_source, max_length(120)],
}


def refresh_lead_derived(lead: Lead) -> None:
    """Segment and region follow the lead's own profile (D5)."""
    lead.sales_segment = sales_segment_for(lead.number_of_employees)
    lead.region = region_for(
        lead.country, lead.state, is_public_sector=lead.is_public_sector
    )


async def create_lead(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    allow_duplicate: bool = False,
    now: datetime | None = None,
) -> Lead:
    """Create a RAW lead; a duplicate email is refused unless ``allow_duplicate``.

    ``campaign_id`` is the lead's first-touch campaign (D11 attribution).
    """
    check_values(values, LEAD_RULES, required_fields=("initial_source",))
    await require_user(session, values.get("owner_id"), "ownerId")
    await load_optional(
        session, Campaign, values.get("campaign_id"), field="campaignId"
    )
    data = dict(values)
    data["email"] = normalize_email(data.get("email"))
    await refuse_duplicate_email(
        session, data["email"], allow_duplicate=allow_duplicate
    )
    now = now or utcnow()
    lead = Lead(
        **data,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    refresh_lead_derived(lead)
    # The demographic part of the score counts from the start (D6).
    lead.person_score = score(lead.title, lead.email, ()).total
    session.add(lead)
    await session.flush()
    if lead.owner_id is not None:
        emit(
            session,
            "LEAD_ASSIGNED",
            RecordType.LEAD,
            lead.id,
            actor,
            owner_id=lead.owner_id,
        )
    return lead


async def update_lead(
    lead_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
) -> Lead:
    """Change a lead's profile; a converted lead is read-only (D7)."""
    lead = await load(session, Lead, lead_id, lock=True)
    check_version(lead, expected_version)
    refuse_if(may_edit_lead(actor, lead.owner_id))
    if lead.status == LeadStatus.QUALIFIED:
        raise Refused.one(
            ErrorCode.READ_ONLY_RECORD,
            f"Lead {lead.id} was converted and is read-only; edit the contact instead.",
        )
    refuse_initial_source_change(lead.initial_source, values)
    check_values(values, LEAD_RULES)
    await require_user(session, values.get("owner_id"), "ownerId")
    data = dict(values)
    if "email" in data:
        data["email"] = normalize_email(data["email"])
    previous_owner = lead.owner_id
    apply(lead, data)
    refresh_lead_derived(lead)
    if {"title", "email"} & data.keys():
        # The demographic part of the score follows the profile (D6).
        await rescore(session, lead, actor=actor, now=utcnow())
    await session.flush()
    if lead.owner_id != previous_owner:
        emit(
            session,
            "LEAD_ASSIGNED",
            RecordType.LEAD,
            lead.id,
            actor,
            owner_id=lead.owner_id,
            previous_owner_id=previous_owner,
        )
    return lead
