"""Leads: create and update (D1, D4, D5, D12). Status moves live in the lifecycle.

A lead linked to an account (``accountId``) takes the account's segment and
region (D5, ``lead_profile.refresh_lead_derived``); unlinking it (null)
returns it to its own profile's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import RecordType
from domain.errors import refuse_if
from domain.lifecycle.lead import converted_lead_refusals
from domain.records import Account, Campaign, Lead
from domain.rules.notifications import owner_change_recipients
from domain.rules.permissions import (
    Actor,
    Operation,
    is_placeholder,
    may_create,
    may_update_lead,
)
from domain.rules.routing import RoutingTable, score_check_routes
from domain.rules.scoring import ScoringTable, score
from domain.rules.validation import (
    Check,
    initial_source_change_refusals,
    known_initial_source,
    max_length,
    non_negative,
    normalize_email,
    required,
    valid_email,
)
from domain.services.custom_fields import with_custom_fields
from domain.services.duplicates import refuse_duplicate_email
from domain.services.engagements import rescore, score_columns
from domain.services.lead_profile import (
    lead_derived,
    linked_account,
    refresh_lead_derived,
)
from domain.services.loading import (
    apply,
    check_values,
    check_version,
    load,
    load_optional,
    require_user,
)
from domain.services.outbox import address, emit
from domain.services.ownership import assigned_event, owner_of, record_owner_change
from domain.services.routing import Routed, assign, record_routing, routing_table
from domain.services.rule_tables import RuleTables, rule_tables
from domain.sqltypes import utcnow

LEAD_RULES: dict[str, list[Check]] = {
    "first_name": [max_length(120)],
    "last_name": [max_length(120)],
    "email": [valid_email, max_length(320)],
    "company": [max_length(255)],
    "title": [max_length(200)],
    "number_of_employees": [non_negative],
    "is_public_sector": [required],
    "initial_source": [known_initial_source, max_length(120)],
}


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
    tables = await rule_tables(session, lock=True)
    await require_user(session, values.get("owner_id"), "ownerId")
    refuse_if(may_create(actor, Operation.CREATE_LEAD, values.get("owner_id")))
    await load_optional(
        session, Campaign, values.get("campaign_id"), field="campaignId"
    )
    data = dict(await with_custom_fields(session, RecordType.LEAD, values))
    data["email"] = normalize_email(data.get("email"))
    await refuse_duplicate_email(
        session, data["email"], allow_duplicate=allow_duplicate
    )
    account = await load_optional(
        session, Account, data.get("account_id"), field="accountId"
    )
    now = now or utcnow()
    lead = build_lead(data, actor=actor, tables=tables, account=account, now=now)
    # Routed before it is first written (its creation is one change); the
    # routing events follow once it has an id.
    routed = await _assign_on_score(
        session, lead, None, scoring=tables.scoring, now=now
    )
    session.add(lead)
    await session.flush()
    if lead.owner_id is not None:
        event = emit(
            session,
            assigned_event(RecordType.LEAD),
            RecordType.LEAD,
            lead.id,  # type: ignore[arg-type]
            actor,
            owner_id=lead.owner_id,
        )
        told = owner_change_recipients(
            lead.owner_id,
            None,
            actor.id,
            new_is_placeholder=is_placeholder(await owner_of(session, lead.owner_id)),
        )
        await address(session, event, [(r.user_id, r.capacity) for r in told])
    if routed is not None:
        await record_routing(session, lead, routed, actor=actor)
        await session.flush()
    return lead


@cache
def _lead_defaults() -> Mapping[str, Any]:
    """The columns of a new lead whose default is a value (not null, not the
    moments: those are the creation's), as the record declares them."""
    return MappingProxyType(
        {
            name: default
            for name, info in Lead.model_fields.items()
            if info.default_factory is None
            and (default := info.get_default()) is not None
        }
    )


def new_lead_values(
    data: Mapping[str, Any],
    *,
    actor: Actor,
    tables: RuleTables,
    account: Account | None,
    now: datetime,
) -> dict[str, Any]:
    """The new lead's columns as createLead writes them (``data`` checked, email
    normalized): the record's defaults, derived segment and region (D5), the
    demographic score (D6); a column not named is null (its id and match keys
    are the writer's)."""
    values = {
        **_lead_defaults(),
        **data,
        "created_by_id": actor.id,
        "created_at": now,
        "updated_at": now,
        "status_changed_at": now,
    }
    values["sales_segment"], values["region"] = lead_derived(
        values, tables.regions, account
    )
    demographic = score(values.get("title"), values.get("email"), (), tables.scoring)
    values.update(score_columns(demographic))
    return values


def build_lead(
    data: Mapping[str, Any],
    *,
    actor: Actor,
    tables: RuleTables,
    account: Account | None,
    now: datetime,
) -> Lead:
    """The new lead as createLead writes it (``new_lead_values``)."""
    return Lead(
        **new_lead_values(data, actor=actor, tables=tables, account=account, now=now)
    )


def new_lead_routes(
    owner_id: int | None, person_score: int, table: RoutingTable
) -> bool:
    """Would a new lead (its owner, first score) go to routing (D6, D8)?"""
    return score_check_routes(
        owned=owner_id is not None,
        score_before=None,
        score_after=person_score,
        table=table,
    )


async def _assign_on_score(
    session: AsyncSession,
    lead: Lead,
    score_before: int | None,
    *,
    scoring: ScoringTable,
    now: datetime,
) -> Routed | None:
    """Route an unowned lead whose score was set (creation: ``score_before``
    None) or changed at or above the routing threshold (D6, D8); its events are
    the caller's to record (``record_routing``)."""
    if not score_check_routes(
        owned=lead.owner_id is not None,
        score_before=score_before,
        score_after=lead.person_score,
        table=routing_table(scoring),
    ):
        return None
    return await assign(session, lead, now=now, trigger_kinds=frozenset())


async def update_lead(
    lead_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    allow_duplicate: bool = False,
) -> Lead:
    """Change a lead's profile; a converted lead is read-only (D7). A new email
    another lead or contact has is refused unless ``allow_duplicate`` (D12)."""
    # The tables first, then the lead's row (see rule_tables on lock order).
    tables = await rule_tables(session, lock=True)
    lead = await load(session, Lead, lead_id, lock=True)
    check_version(lead, expected_version)
    previous = await owner_of(session, lead.owner_id)
    changes_owner = "owner_id" in values and values["owner_id"] != lead.owner_id
    refuse_if(
        may_update_lead(
            actor, previous, values.get("owner_id"), changes_owner=changes_owner
        )
    )
    refuse_if(converted_lead_refusals(lead.id, lead.converted_at))
    refuse_if(initial_source_change_refusals(lead.initial_source, values))
    check_values(values, LEAD_RULES)
    await require_user(session, values.get("owner_id"), "ownerId")
    data = dict(
        await with_custom_fields(
            session, RecordType.LEAD, values, current=lead.custom_fields
        )
    )
    if "email" in data:
        data["email"] = normalize_email(data["email"])
        if data["email"] != lead.email:
            await refuse_duplicate_email(
                session,
                data["email"],
                allow_duplicate=allow_duplicate,
                exclude=("Lead", lead.id),  # type: ignore[arg-type]
            )
    if "account_id" in data:
        await load_optional(session, Account, data["account_id"], field="accountId")
    apply(lead, data)
    refresh_lead_derived(lead, tables.regions, await linked_account(session, lead))
    score_before = lead.person_score
    now = utcnow()
    if {"title", "email"} & data.keys():
        # The demographic part of the score follows the profile (D6).
        await rescore(session, lead, actor=actor, now=now, table=tables.scoring)
    # Routed before the flush: one change, one version.
    routed = await _assign_on_score(
        session, lead, score_before, scoring=tables.scoring, now=now
    )
    if routed is not None:
        await record_routing(session, lead, routed, actor=actor)
    await session.flush()
    if changes_owner:
        await record_owner_change(
            session,
            record_type=RecordType.LEAD,
            record_id=lead.id,  # type: ignore[arg-type]
            actor=actor,
            previous=previous,
            new_owner_id=lead.owner_id,
        )
    return lead
