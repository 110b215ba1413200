"""Engagements and scores: `recordEngagement`, the `Engagement` type, score lines."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.context import Info
from api.enums import EngagementKindGQL
from api.errors import UserError
from api.inputs import mutate_once
from api.relay import RecordNode, decode_id, load_node
from domain import records as rec
from domain.rules.scoring import ScoreLine
from domain.services import engagements as service

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

    @strawberry.field(description="The lead it belongs to.")
    async def lead(self, info: Info) -> LeadRef | None:
        """The lead."""
        from api.leads import LeadNode

        return await load_node(info, LeadNode, self.lead_id)

    @strawberry.field(description="The campaign it came from, if any.")
    async def campaign(self, info: Info) -> CampaignRef | None:
        """The campaign."""
        from api.campaigns import CampaignNode

        return await load_node(info, CampaignNode, self.campaign_id)


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

    @strawberry.field(description="The engagement the points came from.")
    async def engagement(self, info: Info) -> EngagementNode | None:
        """The engagement, if any."""
        return await load_node(info, EngagementNode, self.engagement_id)

    @classmethod
    def from_line(cls, line: ScoreLine) -> ScoreLineNode:
        """Domain score line -> GraphQL object."""
        return cls(
            rule=line.rule,
            points=line.points,
            description=line.description,
            engagement_id=line.engagement_id,
        )


@strawberry.input(description="Record a marketing touch on a lead (D6).")
class RecordEngagementInput:
    """recordEngagement input."""

    lead_id: strawberry.ID = strawberry.field(description="The lead.")
    kind: EngagementKindGQL = strawberry.field(description="What happened.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When (default: now); not in the future."
    )
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The campaign it came from."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Repeat-safe key for integrations: the same key and input "
        "return the first engagement; another input is IDEMPOTENCY_KEY_REUSED.",
    )


@strawberry.type(description="Result of recordEngagement.")
class RecordEngagementPayload:
    """The engagement and the lead after scoring, or why not."""

    lead: LeadRef | None = strawberry.field(
        description="The lead with its new score (and status, when it moved)."
    )
    engagement: EngagementNode | None = strawberry.field(description="The engagement.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class EngagementMutations:
    """Root mutations about engagements."""

    @strawberry.mutation(
        description="Record an engagement: the lead is rescored with the current "
        "scoringTable; RAW/NURTURE leads become INQUIRY, and a score at or above "
        "the MQL threshold (90 by default) makes the lead an MQL."
    )
    async def record_engagement(
        self, info: Info, input: RecordEngagementInput
    ) -> RecordEngagementPayload:
        """Record an engagement."""
        from api.campaigns import CampaignNode
        from api.leads import LeadNode

        actor = info.context.actor

        async def use_case(s):  # type: ignore[no-untyped-def]
            _, engagement = await service.record_engagement(
                decode_id(input.lead_id, LeadNode, "leadId"),
                input.kind,
                session=s,
                actor=actor,
                occurred_at=input.occurred_at,
                campaign_id=input.campaign_id
                and decode_id(input.campaign_id, CampaignNode, "campaignId"),
            )
            return engagement

        engagement, errors = await mutate_once(
            info, "recordEngagement", input, rec.Engagement, use_case
        )
        if engagement is None:
            return RecordEngagementPayload(
                lead=None, engagement=None, user_errors=errors
            )
        return RecordEngagementPayload(
            lead=await load_node(info, LeadNode, engagement.lead_id),
            engagement=EngagementNode.from_row(engagement),
            user_errors=[],
        )
