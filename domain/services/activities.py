"""Activities: tasks and events logged against records (D1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import ErrorCode
from domain.errors import Refusal
from domain.records import Account, Activity, Contact, Lead, Opportunity
from domain.rules.permissions import Actor
from domain.rules.validation import max_length, required
from domain.services.common import check_values, load_optional, refuse_if, require_user

ACTIVITY_RULES = {
    "subject": [required, max_length(255)],
    "kind": [required],
    "channel": [required],
    "direction": [required],  # cannot be null (default OUTBOUND)
}
TARGETS = {
    "lead_id": Lead,
    "contact_id": Contact,
    "account_id": Account,
    "opportunity_id": Opportunity,
}


async def log_activity(
    values: Mapping[str, Any], *, session: AsyncSession, actor: Actor
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
    data = dict(values)
    if data.get("owner_id") is None:
        data["owner_id"] = actor.id
    activity = Activity(**data)
    session.add(activity)
    await session.flush()
    return activity
