"""Engagements and the score they feed (D6), and the automatic moves they cause (D2).

The score is a pure function of the lead's profile and its engagements
(``domain.rules.scoring.score``); it is recomputed whenever either changes and
stored on the lead (``person_score``) so lists can filter and sort by it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import EngagementKind, ErrorCode, LeadStatus, RecordType
from domain.errors import Refused
from domain.lifecycle.lead import MQL_THRESHOLD
from domain.records import Campaign, Engagement, Lead
from domain.rules.permissions import Actor, may_edit_lead
from domain.rules.routing import DEFAULT_ROUTING_TABLE, active_until_after
from domain.rules.scoring import EngagementFact, ScoreResult, score
from domain.services.common import emit, load, load_optional, refuse_if
from domain.services.lead_lifecycle import advance_automatically
from domain.services.routing import route
from domain.sqltypes import as_utc, utcnow

SCORE_EVENT = "LEAD_SCORE_CHANGED"
# The statuses from which scoring makes a lead an MQL (D2).
MQL_SOURCES = (LeadStatus.RAW, LeadStatus.INQUIRY, LeadStatus.NURTURE)
ROUTING_THRESHOLD = DEFAULT_ROUTING_TABLE.score_threshold
FORM_SUBMISSIONS = frozenset(
    {
        EngagementKind.TRIAL_REQUEST,
        EngagementKind.CONTACT_US_REQUEST,
        EngagementKind.PROFESSIONAL_SERVICES_REQUEST,
    }
)


async def score_of(session: AsyncSession, lead: Lead) -> ScoreResult:
    """The lead's score with its breakdown, from its profile and engagements."""
    rows = (
        await session.execute(
            select(Engagement.id, Engagement.kind, Engagement.occurred_at).where(
                Engagement.lead_id == lead.id
            )
        )
    ).all()
    facts = [EngagementFact(id=i, kind=k, occurred_at=at) for i, k, at in rows]
    return score(lead.title, lead.email, facts)


async def rescore(
    session: AsyncSession, lead: Lead, *, actor: Actor | None, now: datetime
) -> ScoreResult:
    """Recompute and store the score; at or above the threshold the lead becomes an
    MQL (from RAW, INQUIRY or NURTURE)."""
    before = lead.person_score
    result = await score_of(session, lead)
    lead.person_score = result.total
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
    if result.total >= MQL_THRESHOLD and lead.status in MQL_SOURCES:
        await advance_automatically(
            session,
            lead,
            LeadStatus.MQL,
            actor=actor,
            reason=f"Score {result.total} reached the MQL threshold ({MQL_THRESHOLD})",
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
    reaches 90 makes the lead an MQL (a RAW lead is recorded passing INQUIRY).
    """
    now = now or utcnow()
    occurred = as_utc(occurred_at) if occurred_at else now
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
    await rescore(session, lead, actor=actor, now=now)
    if lead.owner_id is None and (
        kind in FORM_SUBMISSIONS or before < ROUTING_THRESHOLD <= lead.person_score
    ):
        # D8: a form submission or a score crossing 50 routes an unowned lead.
        await route(
            session, lead, actor=actor, now=now, trigger_kinds=frozenset({kind})
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
