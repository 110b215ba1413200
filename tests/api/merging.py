"""Builders and a whole-database picture for the merge tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import SQLModel

from domain.enums import ActivityChannel, ActivityKind, EngagementKind
from domain.records import Activity, Engagement, Lead
from domain.rules.permissions import Actor
from domain.services.leads import create_lead
from domain.sqltypes import utcnow

# The tables a merge changes and an undo must put back, row for row (the
# ledger — record_merges, events, transition records — keeps both).
RECORD_TABLES = (
    "leads",
    "contacts",
    "accounts",
    "account_domains",
    "account_team_members",
    "opportunities",
    "opportunity_contact_roles",
    "activities",
    "engagements",
    "funnel_entries",
    "support_hand_offs",
)

MERGE = """
mutation($input: Merge%sInput!) { merge%s(input: $input) {
  merge { id kind survivorId duplicateIds mergedAt undoneAt undoDeadline
          survivor { id } actor { id } }
  userErrors { code field message } } }"""
UNDO = """
mutation($id: ID!) { undoMerge(input: {id: $id}) {
  merge { id undoneAt } userErrors { code field message } } }"""


def merge_mutation(kind: str) -> str:
    """mergeLeads / mergeContacts / mergeAccounts."""
    return MERGE % (kind, kind)


async def picture(sessions: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of every record table, by id."""
    tables = SQLModel.metadata.tables
    async with sessions() as s:
        return {
            name: [
                dict(r._mapping)
                for r in await s.execute(
                    select(tables[name]).order_by(tables[name].c.id)
                )
            ]
            for name in RECORD_TABLES
        }


async def add_lead(s: Any, actor: Actor, *, days_old: int = 0, **values: Any) -> Lead:
    """A lead (duplicates allowed) created ``days_old`` days ago."""
    base = {"last_name": "Doe", "initial_source": "Web Direct", **values}
    lead = await create_lead(base, session=s, actor=actor, allow_duplicate=True)
    if days_old:
        await s.execute(
            update(Lead)
            .where(Lead.id == lead.id)  # type: ignore[arg-type]
            .values(created_at=utcnow() - timedelta(days=days_old))
        )
    return lead


def add_work(
    s: Any, *, activities: int = 0, engagements: int = 0, **about: Any
) -> None:
    """Activities and engagements about one record."""
    for n in range(activities):
        s.add(
            Activity(
                kind=ActivityKind.TASK,
                channel=ActivityChannel.CALL,
                subject=f"Call {n}",
                **about,
            )
        )
    for _ in range(engagements):
        s.add(Engagement(kind=EngagementKind.FEATURES_PAGE_VISIT, **about))
