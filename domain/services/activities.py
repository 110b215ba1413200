"""Activities: tasks and events logged against records (D1).

A completed follow-up on a lead (``domain.rules.sla``) — logged completed, or
completed later with ``complete_activity`` — meets the lead's follow-up SLA
(D8) in the same transaction. Any completed activity restarts the timeout
clock of an ACCEPTED lead and clears an opportunity's stale flag
(``domain.rules.timeouts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.enums import ErrorCode, LeadStatus
from domain.errors import Refusal, Refused, refuse_if
from domain.lifecycle.lead import converted_lead_refusals
from domain.records import Account, Activity, Contact, Lead, Opportunity
from domain.rules.permissions import (
    Actor,
    Operation,
    may_create,
    may_edit_record,
    refusals_for,
)
from domain.rules.sla import sla_met_at_after
from domain.rules.timeouts import lead_timeout_at
from domain.rules.validation import Check, max_length, required
from domain.services.loading import (
    apply,
    check_values,
    check_version,
    load,
    load_optional,
    require_user,
)
from domain.services.ownership import standing
from domain.services.rule_tables import rule_tables
from domain.sqltypes import as_utc, utcnow

ACTIVITY_RULES: dict[str, list[Check]] = {
    "subject": [required, max_length(255)],
    "kind": [required],
    "channel": [required],
    "direction": [required],  # cannot be null (default OUTBOUND)
    "disposition": [max_length(120)],
    "source_system": [max_length(60)],
}
TARGETS: dict[str, type[SQLModel]] = {
    "lead_id": Lead,
    "contact_id": Contact,
    "account_id": Account,
    "opportunity_id": Opportunity,
}


async def _may_work_on(
    session: AsyncSession, actor: Actor, targets: Mapping[str, Any]
) -> None:
    """An activity is about records the actor owns, whose account they own or
    whose account team they are on (else ops; LOG_[LEAD_]ACTIVITY)."""
    for name, model in TARGETS.items():
        if targets.get(name) is None:
            continue
        record: Any = await load(session, model, targets[name], field=name)
        account_id = record.id if model is Account else record.account_id
        on = await standing(session, owner_id=record.owner_id, account_id=account_id)
        operation = (
            Operation.LOG_LEAD_ACTIVITY if model is Lead else Operation.LOG_ACTIVITY
        )
        refuse_if(refusals_for(actor, operation, on))


async def note_completed_activity(
    session: AsyncSession, activity: Activity, now: datetime
) -> None:
    """What a completed activity does to its lead and opportunity: meet the
    lead's follow-up SLA when it is a follow-up in time (D8), restart an
    ACCEPTED lead's timeout, clear the opportunity's stale flag. An activity
    completed in the future has not happened yet: it does neither of the last
    two."""
    if activity.completed_at is None:
        return
    done = as_utc(activity.completed_at)
    if activity.opportunity_id is not None and done <= now:
        opportunity = await load(session, Opportunity, activity.opportunity_id)
        if opportunity.stale_since is not None:
            opportunity.stale_since = None
    if activity.lead_id is None:
        return
    lead = await load(session, Lead, activity.lead_id, lock=True)
    if converted_lead_refusals(lead.id, lead.converted_at):
        return  # its SLA is history
    met_at = sla_met_at_after(
        started_at=lead.sla_started_at,
        met_at=lead.sla_met_at,
        channel=activity.channel,
        direction=activity.direction,
        completed_at=done,
        now=now,
    )
    if met_at != lead.sla_met_at:
        lead.sla_met_at = met_at
    if lead.status is LeadStatus.ACCEPTED and done <= now:
        timeouts = (await rule_tables(session)).timeouts
        restarted = lead_timeout_at(timeouts, lead.status_changed_at, done)
        if lead.timeout_at is None or (
            restarted is not None and restarted > as_utc(lead.timeout_at)
        ):
            lead.timeout_at = restarted


async def log_activity(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime | None = None,
) -> Activity:
    """Log a task or event on at least one lead, contact, account or opportunity."""
    check_values(values, ACTIVITY_RULES, required_fields=("subject", "kind", "channel"))
    if all(values.get(name) is None for name in TARGETS):
        refuse_if(
            [
                Refusal.on(
                    None,
                    ErrorCode.MISSING_FIELD,
                    "An activity needs a leadId, contactId, accountId or "
                    "opportunityId.",
                )
            ]
        )
    for name, model in TARGETS.items():
        await load_optional(session, model, values.get(name), field=name)
    await require_user(session, values.get("owner_id"), "ownerId")
    refuse_if(may_create(actor, Operation.COMPLETE_ACTIVITY, values.get("owner_id")))
    await _may_work_on(session, actor, values)
    data = dict(values)
    if data.get("owner_id") is None:
        data["owner_id"] = actor.id
    activity = Activity(**data)
    session.add(activity)
    await session.flush()
    await note_completed_activity(session, activity, now or utcnow())
    await session.flush()
    return activity


async def complete_activity(
    activity_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Activity:
    """Mark an open activity completed (now, or at ``completed_at``), with outcome.

    Its owner may, like SALES_OPS and ADMIN (and anyone while it is unowned),
    when they may also log activities on its records; completing it twice is
    refused.
    """
    now = now or utcnow()
    activity = await load(session, Activity, activity_id, lock=True)
    check_version(activity, expected_version)
    refuse_if(may_edit_record(actor, activity.owner_id, "activity"))
    await _may_work_on(session, actor, activity.model_dump(include=set(TARGETS)))
    if activity.completed_at is not None:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            "This activity was already completed at "
            f"{as_utc(activity.completed_at).isoformat()}.",
            "id",
        )
    data = {k: v for k, v in values.items() if v is not None}
    check_values(data, ACTIVITY_RULES)
    data["completed_at"] = data.get("completed_at") or now
    apply(activity, data)
    await session.flush()
    await note_completed_activity(session, activity, now)
    await session.flush()
    return activity
