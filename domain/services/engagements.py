"""Engagements and the score they feed (D6), and the automatic moves they cause (D2).

The score is a pure function of the lead's profile, its engagements and the
current scoring table (``domain.rules.scoring.score``, the table read through
``domain.services.rule_tables``); it is recomputed whenever either changes and
stored on the lead (``person_score``, with the facts it rests on) so lists can
filter and sort by it and an edited table can rescore every lead in SQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import EngagementKind, ErrorCode, LeadStatus, RecordType
from domain.errors import Refused
from domain.records import Campaign, Engagement, Lead
from domain.rules.permissions import Actor, may_edit_lead
from domain.rules.routing import (
    DEFAULT_ROUTING_TABLE,
    NOT_ACTIVE,
    active_until_after,
)
from domain.rules.scoring import (
    EngagementFact,
    ScoreResult,
    ScoringTable,
    crossed,
    score,
)
from domain.services.common import emit, load, load_optional, refuse_if
from domain.services.lead_lifecycle import advance_automatically
from domain.services.routing import route
from domain.services.rule_tables import rule_tables
from domain.sqltypes import as_utc, utcnow

SCORE_EVENT = "LEAD_SCORE_CHANGED"
# The statuses from which scoring makes a lead an MQL (D2).
MQL_SOURCES = (LeadStatus.RAW, LeadStatus.INQUIRY, LeadStatus.NURTURE)
FORM_SUBMISSIONS = frozenset(
    {
        EngagementKind.TRIAL_REQUEST,
        EngagementKind.CONTACT_US_REQUEST,
        EngagementKind.PROFESSIONAL_SERVICES_REQUEST,
    }
)


async def score_of(
    session: AsyncSession, lead: Lead, table: ScoringTable | None = None
) -> ScoreResult:
    """The lead's score with its breakdown, from its profile and engagements, by
    ``table`` (default: the current one)."""
    if table is None:
        table = (await rule_tables(session)).scoring
    rows = (
        await session.execute(
            select(Engagement.id, Engagement.kind, Engagement.occurred_at).where(
                Engagement.lead_id == lead.id
            )
        )
    ).all()
    facts = [EngagementFact(id=i, kind=k, occurred_at=at) for i, k, at in rows]
    return score(lead.title, lead.email, facts, table)


def store_score(lead: Lead, result: ScoreResult) -> None:
    """Keep the score and the facts it rests on on the lead."""
    lead.person_score = result.total
    lead.score_title_seniority = result.facts.title_seniority
    lead.score_title_blank_or_technical = result.facts.title_blank_or_technical
    lead.score_email_domain = result.facts.email_domain
    lead.score_careers_penalties = result.facts.careers_penalties


async def rescore(
    session: AsyncSession,
    lead: Lead,
    *,
    actor: Actor | None,
    now: datetime,
    table: ScoringTable,
) -> ScoreResult:
    """Recompute and store the score; at or above the table's MQL threshold the
    lead becomes an MQL (from RAW, INQUIRY or NURTURE)."""
    before = lead.person_score
    result = await score_of(session, lead, table)
    store_score(lead, result)
    if result.total != before:
        emit(
            session,
            SCORE_EVENT,
            RecordType.LEAD,
            lead.id,  # type: ignore[arg-type]
            actor,
            before=before,
            after=result.total,
        )
    if result.total >= table.mql_threshold and lead.status in MQL_SOURCES:
        await advance_automatically(
            session,
            lead,
            LeadStatus.MQL,
            actor=actor,
            reason=f"Score {result.total} reached the MQL threshold "
            f"({table.mql_threshold})",
            now=now,
        )
    return result


async def record_engagement(
    lead_id: int,
    kind: EngagementKind,
    *,
    session: AsyncSession,
    actor: Actor,
    occurred_at: datetime | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Lead, Engagement]:
    """Record a marketing touch: score it, keep Active up to date, move the lead.

    RAW → INQUIRY and NURTURE → INQUIRY happen on the engagement; a score that
    reaches the MQL threshold (90 by default) makes the lead an MQL (a RAW lead
    is recorded passing INQUIRY).
    """
    now = now or utcnow()
    occurred = as_utc(occurred_at) if occurred_at else now
    # The tables first, then the lead's row (see rule_tables on lock order).
    table = (await rule_tables(session, lock=True)).scoring
    lead = await load(session, Lead, lead_id, lock=True, field="leadId")
    refuse_if(may_edit_lead(actor, lead.owner_id))
    if lead.converted_at is not None:
        raise Refused.one(
            ErrorCode.READ_ONLY_RECORD,
            f"Lead {lead.id} was converted; record engagements on its contact.",
            "leadId",
        )
    if occurred > now:
        raise Refused.one(
            ErrorCode.INVALID_INPUT, "occurredAt is in the future.", "occurredAt"
        )
    await load_optional(session, Campaign, campaign_id, field="campaignId")
    if lead.campaign_id is None and campaign_id is not None:
        # D11 attribution: the first engagement naming a campaign is the first touch.
        lead.campaign_id = campaign_id
    engagement = Engagement(
        lead_id=lead.id, kind=kind, occurred_at=occurred, campaign_id=campaign_id
    )
    session.add(engagement)
    await session.flush()
    lead.active_until = active_until_after(lead.active_until, kind, occurred)
    before = lead.person_score
    await rescore(session, lead, actor=actor, now=now, table=table)
    # A passive GitLab.com lead held by routing is routed once it raises its hand,
    # on everything it asked for so far (e.g. its unanswered Contact Us form).
    released = (
        lead.routing_rule == NOT_ACTIVE
        and kind in DEFAULT_ROUTING_TABLE.hand_raising_kinds
    )
    if lead.owner_id is None and (
        kind in FORM_SUBMISSIONS
        or crossed(before, lead.person_score, table.routing_threshold)
        or released
    ):
        # D8: a form submission or a score crossing the routing threshold (50)
        # routes an unowned lead.
        await route(
            session,
            lead,
            actor=actor,
            now=now,
            trigger_kinds=None if released else frozenset({kind}),
        )
    if lead.status in (LeadStatus.RAW, LeadStatus.NURTURE):
        await advance_automatically(
            session,
            lead,
            LeadStatus.INQUIRY,
            actor=actor,
            reason=f"Engagement: {kind.value}",
            now=now,
        )
    await session.flush()
    return lead, engagement
