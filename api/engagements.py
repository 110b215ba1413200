"""Engagements and scores: `recordEngagement`, `recordEngagements` (a batch), the
`Engagement` type, score lines."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Info
from api.dry_runs import DryRun, dry_run_field, dry_run_outcome, rehearsable
from api.enums import EngagementKindGQL
from api.errors import UserError, each_item
from api.inputs import idempotency_field, mutate_once, mutate_once_many
from api.relay import RecordNode, decode_id, load_node, to_one
from domain import records as rec
from domain.errors import Refusal, Refused, refuse_if
from domain.lifecycle.lead import AutomaticTrigger, automatic_sources
from domain.rules.scoring import MQL_THRESHOLD, ScoreLine
from domain.services import engagements as service

# An engagement as answered: the values the service wrote (first time) or the
# stored record (a replayed idempotencyKey); both have the same attributes.
Recorded = service.EngagementRow | rec.Engagement

# The statuses an engagement moves to INQUIRY, from the lead machine: "RAW/NURTURE".
_ON_ENGAGEMENT = "/".join(
    s.value for s in automatic_sources(AutomaticTrigger.ENGAGEMENT)
)

if TYPE_CHECKING:
    from api.campaigns import CampaignNode
    from api.leads import LeadNode

LeadRef = Annotated["LeadNode", strawberry.lazy("api.leads")]
CampaignRef = Annotated["CampaignNode", strawberry.lazy("api.campaigns")]


@strawberry.type(
    name="Engagement", description="A marketing touch that feeds the score (D6)."
)
class EngagementNode(RecordNode):
    """An engagement."""

    model = rec.Engagement

    kind: EngagementKindGQL = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")
    created_at: datetime = strawberry.field(description="When it was recorded.")
    lead_id: strawberry.Private[int | None]
    campaign_id: strawberry.Private[int | None]

    lead = to_one(
        LeadRef,
        "lead_id",
        description="The lead it belongs to.",
    )

    campaign = to_one(
        CampaignRef,
        "campaign_id",
        description="The campaign it came from, if any.",
    )


@strawberry.type(
    name="ScoreLine",
    description="One line of a score: which rule gave how many points, and from "
    "which engagement (none for the demographic rules). Lines sum to personScore.",
)
class ScoreLineNode:
    """A score line."""

    rule: str = strawberry.field(
        description="Rule id: an EngagementKind, or TITLE_SENIORITY, "
        "TITLE_BLANK_OR_TECHNICAL, COMPANY_EMAIL, FREE_MAIL, CAREERS_PAGE_VISITS."
    )
    points: int = strawberry.field(description="Points given (may be negative).")
    description: str = strawberry.field(description="The rule in words.")
    engagement_id: strawberry.Private[int | None]

    engagement = to_one(
        EngagementNode,
        "engagement_id",
        description="The engagement the points came from.",
    )

    @classmethod
    def from_line(cls, line: ScoreLine) -> ScoreLineNode:
        """Domain score line -> GraphQL object."""
        return cls(
            rule=line.rule,
            points=line.points,
            description=line.description,
            engagement_id=line.engagement_id,
        )


@strawberry.input(
    description="One engagement to record: the lead, what happened, when, from "
    "which campaign."
)
class NewEngagementInput:
    """An engagement's values (recordEngagement, each item of recordEngagements)."""

    lead_id: strawberry.ID = strawberry.field(description="The lead.")
    kind: EngagementKindGQL = strawberry.field(description="What happened.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When (default: now); not in the future."
    )
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The campaign it came from."
    )


@strawberry.input(description="Record a marketing touch on a lead (D6).")
class RecordEngagementInput(NewEngagementInput):
    """recordEngagement input."""

    idempotency_key: str | None = idempotency_field(
        "the first engagement (no second engagement)"
    )
    dry_run: bool = dry_run_field()


@strawberry.input(
    description="Record a batch of engagements (a marketing-automation sync): "
    "exactly as if recorded one by one in the order given, in one transaction."
)
class RecordEngagementsInput:
    """recordEngagements input."""

    engagements: list[NewEngagementInput] = strawberry.field(
        description=f"The engagements, applied in this order: 1 to "
        f"{service.MAX_BATCH:,} per call."
    )
    idempotency_key: str | None = idempotency_field(
        "the first answer (the same engagements)"
    )


def new_engagement(item: NewEngagementInput) -> service.NewEngagement:
    """GraphQL input -> the domain's engagement to record (ids decoded); every
    malformed id refused at once."""
    from api.campaigns import CampaignNode
    from api.leads import LeadNode

    found: list[Refusal] = []
    lead_id = campaign_id = None
    try:
        lead_id = decode_id(item.lead_id, LeadNode, "leadId")
    except Refused as refused:
        found += refused.refusals
    try:
        campaign_id = item.campaign_id and decode_id(
            item.campaign_id, CampaignNode, "campaignId"
        )
    except Refused as refused:
        found += refused.refusals
    refuse_if(found)
    return service.NewEngagement(
        lead_id=lead_id,  # type: ignore[arg-type]
        kind=item.kind,  # type: ignore[arg-type]
        occurred_at=item.occurred_at,
        campaign_id=campaign_id or None,
    )


def new_engagements(items: list[NewEngagementInput]) -> list[service.NewEngagement]:
    """A batch's items -> the domain's engagements; every malformed id of every
    item refused at once, under ``engagements.<index>``."""
    return each_item(items, new_engagement, "engagements")


@strawberry.type(description="Result of recordEngagement.")
class RecordEngagementPayload:
    """The engagement and the lead after scoring, or why not."""

    lead: LeadRef | None = strawberry.field(
        description="The lead with its new score (and status, when it moved)."
    )
    engagement: EngagementNode | None = strawberry.field(description="The engagement.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.type(description="One engagement of a batch, as recorded, and its lead.")
class RecordedEngagement:
    """An engagement recorded by recordEngagements."""

    engagement: EngagementNode = strawberry.field(description="The engagement.")
    lead: LeadRef = strawberry.field(
        description="Its lead as the whole batch left it (score, status, owner)."
    )


@strawberry.type(description="Result of recordEngagements.")
class RecordEngagementsPayload:
    """The recorded engagements in input order, or why none was."""

    results: list[RecordedEngagement] = strawberry.field(
        description="One per engagement given, in the same order (empty when refused)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Every reason the batch was refused; fields are paths like "
        "engagements.3.occurredAt."
    )


@strawberry.type
class EngagementMutations:
    """Root mutations about engagements."""

    @strawberry.mutation(
        description="Record an engagement: the lead is rescored with the current "
        f"scoringTable; {_ON_ENGAGEMENT} leads become INQUIRY, and a score at or "
        f"above the MQL threshold ({MQL_THRESHOLD} by default) makes the lead an "
        "MQL."
    )
    async def record_engagement(
        self, info: Info, input: RecordEngagementInput
    ) -> RecordEngagementPayload:
        """Record an engagement."""
        from api.leads import LeadNode

        actor = info.context.actor

        async def recorded(s: AsyncSession) -> tuple[rec.Lead, Recorded]:
            new = new_engagement(input)
            return await service.record_engagement(
                new.lead_id,
                new.kind,
                session=s,
                actor=actor,
                occurred_at=new.occurred_at,
                campaign_id=new.campaign_id,
            )

        # The lead as the service left it, beside the engagement it answered
        # with: the payload needs no second read of it. A replayed answer
        # (idempotencyKey) is another engagement object: its lead is read.
        held: dict[str, tuple[Recorded, rec.Lead]] = {}

        async def real() -> tuple[
            tuple[rec.Lead | None, Recorded] | None, list[UserError]
        ]:
            async def use_case(s: AsyncSession) -> Recorded:
                lead, engagement = await recorded(s)
                held["done"] = (engagement, lead)
                return engagement

            engagement, errors = await mutate_once(
                info,
                "recordEngagement",
                input,
                rec.Engagement,
                use_case,  # type: ignore[arg-type]
            )
            if engagement is None:
                return None, errors
            done = held.get("done")
            lead = done[1] if done is not None and done[0] is engagement else None
            return (lead, engagement), errors

        async def breakdown(
            s: AsyncSession, done: tuple[rec.Lead | None, Recorded]
        ) -> list[ScoreLineNode]:
            assert done[0] is not None
            scored = await service.score_of(s, done[0])
            return [ScoreLineNode.from_line(line) for line in scored.breakdown]

        done, errors, dry_run = await rehearsable(
            info, input.dry_run, recorded, real, score_breakdown=breakdown
        )
        if done is None:
            return RecordEngagementPayload(
                lead=None, engagement=None, user_errors=errors, dry_run=dry_run
            )
        lead, engagement = done
        return RecordEngagementPayload(
            # As the service left it (a dry run's: as it would be); a replayed
            # answer's is read.
            lead=LeadNode.from_row(lead)
            if lead is not None
            else await load_node(info, LeadNode, engagement.lead_id),
            engagement=EngagementNode.from_row(engagement),
            user_errors=[],
            dry_run=dry_run,
        )

    @strawberry.mutation(
        description="Record a batch of engagements (a marketing-automation sync), "
        "exactly as recordEngagement one by one in the order given would: the "
        "same scores, status moves, routing and events, in one transaction. All "
        f"or nothing: 1 to {service.MAX_BATCH:,} engagements; when any is "
        "refused nothing is recorded and userErrors lists every reason, its "
        "field under engagements.<index> (an empty batch is refused too)."
    )
    async def record_engagements(
        self, info: Info, input: RecordEngagementsInput
    ) -> RecordEngagementsPayload:
        """Record a batch of engagements."""
        actor = info.context.actor

        # The leads as the service left them, by the engagement objects it
        # answered with: the results need no second read. A replayed answer
        # (idempotencyKey) is other objects: its leads are read, in one query.
        held: dict[int, tuple[Recorded, rec.Lead]] = {}

        async def use_case(s):  # type: ignore[no-untyped-def]
            # Refused before decoding thousands of ids it would not record.
            refuse_if(service.batch_size_refusals(len(input.engagements)))
            recorded = await service.record_engagements(
                new_engagements(input.engagements), session=s, actor=actor
            )
            held.clear()
            held.update((id(e), (e, lead)) for lead, e in recorded)
            return [engagement for _, engagement in recorded]

        rows, errors = await mutate_once_many(
            info, "recordEngagements", input, rec.Engagement, use_case
        )
        if rows is None:
            return RecordEngagementsPayload(results=[], user_errors=errors)
        return RecordEngagementsPayload(
            results=await recorded_engagements(info, rows, held), user_errors=[]
        )


async def recorded_engagements(
    info: Info,
    rows: list[Recorded],
    held: dict[int, tuple[Recorded, rec.Lead]],
) -> list[RecordedEngagement]:
    """The batch's results: each engagement with its lead, taken from ``held``
    (by engagement object) when the service gave it, else read (one query)."""
    from api.leads import LeadNode

    def given(row: Recorded) -> rec.Lead | None:
        pair = held.get(id(row))
        return pair[1] if pair is not None and pair[0] is row else None

    missing = sorted({row.lead_id for row in rows if given(row) is None})  # type: ignore[type-var]
    read = await info.context.records(rec.Lead).load_many(missing) if missing else []
    leads = {lead.id: lead for lead in read if lead is not None}
    nodes: dict[int, LeadNode] = {}
    results = []
    for row in rows:
        lead = given(row) or leads[row.lead_id]  # type: ignore[index]
        node = nodes.get(lead.id)  # type: ignore[arg-type]
        if node is None:
            node = nodes[lead.id] = LeadNode.from_row(lead)  # type: ignore[index]
        results.append(
            RecordedEngagement(engagement=EngagementNode.from_row(row), lead=node)
        )
    return results
