"""Reports of D11 on the API (A5, A7): `funnel` and `pipeToSpend`.

Group keys are strings: an enum's value, an owner's global id, an initial
source as recorded, and ``NONE`` for records without a value (a lead has no
sales qualification source; a record may have no region, owner or campaign).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from api.context import Info
from api.enums import (
    CampaignChannelGQL,
    FunnelDimensionGQL,
    FunnelMilestoneNameGQL,
    FunnelSourceGQL,
    RegionGQL,
    SalesQualificationSourceGQL,
    SalesSegmentGQL,
)
from api.relay import decode_id, encode_id
from api.users import UserNode
from domain.enums import FunnelDimension, FunnelSource
from domain.errors import Refused
from domain.reports import funnel as funnel_report
from domain.reports import spend as spend_report

NO_VALUE = "NONE"


@strawberry.input(
    description="Which funnel records count; every given criterion must hold (lists: "
    "any of the values)."
)
class FunnelFilter:
    """Funnel criteria."""

    created_after: datetime | None = strawberry.field(
        default=None,
        description="Cohort window start: records that entered the funnel (a "
        "lead at RAW, a direct opportunity at PENDING_ACCEPTANCE) at or after "
        "this time.",
    )
    created_before: datetime | None = strawberry.field(
        default=None,
        description="Cohort window end: records that entered the funnel before "
        "this time (not before createdAfter).",
    )
    segment: list[SalesSegmentGQL] | None = strawberry.field(
        default=None, description="Any of these sales segments."
    )
    region: list[RegionGQL] | None = strawberry.field(
        default=None, description="Any of these regions."
    )
    initial_source: list[str] | None = strawberry.field(
        default=None, description="Any of these initial sources (exact)."
    )
    sales_qualification_source: list[SalesQualificationSourceGQL] | None = (
        strawberry.field(
            default=None,
            description="Any of these sales qualification sources (records that "
            "became opportunities).",
        )
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this user (it must exist)."
    )
    campaign_channel: list[CampaignChannelGQL] | None = strawberry.field(
        default=None,
        description="Attributed to a campaign of any of these channels.",
    )


@strawberry.type(
    name="FunnelMilestone",
    description="One milestone of the funnel: how many records reached it, and "
    "how they got there from the previous milestone.",
)
class FunnelMilestoneFigures:
    """A milestone's figures."""

    milestone: FunnelMilestoneNameGQL = strawberry.field(description="The milestone.")
    count: int = strawberry.field(
        description="Records that reached it (a skipped milestone counts as reached)."
    )
    conversion_rate: float | None = strawberry.field(
        description="The share of the records at the previous milestone that "
        "reached this one (for leads: count / the previous count; direct "
        "opportunities entering at PENDING_ACCEPTANCE are not in its rate; null "
        "for RAW, or when the previous count is 0)."
    )
    median_seconds_from_previous: float | None = strawberry.field(
        description="Median seconds from the previous milestone to this one over "
        "the records that moved from one to the other (leads only up to "
        "PENDING_ACCEPTANCE; an even number of them: the mean of the two middle "
        "values; null for RAW or when none did)."
    )

    @classmethod
    def of(cls, figures: funnel_report.MilestoneFigures) -> FunnelMilestoneFigures:
        """From the domain's figures."""
        return cls(
            milestone=figures.milestone,
            count=figures.count,
            conversion_rate=figures.conversion_rate,
            median_seconds_from_previous=figures.median_seconds_from_previous,
        )


@strawberry.type(description="The funnel of one group of records.")
class FunnelGroup:
    """A group's milestones."""

    key: str = strawberry.field(
        description="The group's value: an enum value, an owner's global id, an "
        "initial source; NONE for records without one."
    )
    milestones: list[FunnelMilestoneFigures] = strawberry.field(
        description="The group's milestones, in funnel order."
    )


@strawberry.type(
    description="The customer-lifecycle funnel (D11): each milestone a subset of "
    "the previous one."
)
class Funnel:
    """Milestones of all records counted, and of each group."""

    milestones: list[FunnelMilestoneFigures] = strawberry.field(
        description="Every milestone, in funnel order, over all records counted."
    )
    groups: list[FunnelGroup] = strawberry.field(
        description="One entry per group when grouped (they sum to the total); "
        "empty otherwise."
    )


@strawberry.input(description="Which pipeline and spend count.")
class PipeToSpendFilter:
    """Pipe-to-spend criteria."""

    created_after: datetime | None = strawberry.field(
        default=None,
        description="Opportunities created, campaigns started, at or after this time.",
    )
    created_before: datetime | None = strawberry.field(
        default=None,
        description="Opportunities created, campaigns started, before this time.",
    )


@strawberry.type(description="Pipeline created and spend of one campaign channel.")
class PipeToSpendLine:
    """One channel's figures."""

    channel: CampaignChannelGQL = strawberry.field(description="The channel.")
    opportunities: int = strawberry.field(
        description="Opportunities created whose primary campaign is of the channel."
    )
    pipeline_iacv: Decimal = strawberry.field(description="Their IACV (exact decimal).")
    campaigns: int = strawberry.field(description="Campaigns of the channel counted.")
    spend: Decimal = strawberry.field(description="Their spend (exact decimal).")
    ratio: float | None = strawberry.field(
        description="The pipeline IACV divided by the spend (null when spend is 0)."
    )


@strawberry.type(
    description="Pipe-to-spend (D11): pipeline IACV created per campaign channel, "
    "divided by campaign spend."
)
class PipeToSpend:
    """Every channel, and the totals."""

    channels: list[PipeToSpendLine] = strawberry.field(
        description="Every channel, in the order of D11."
    )
    pipeline_iacv: Decimal = strawberry.field(
        description="Pipeline IACV created over all channels."
    )
    spend: Decimal = strawberry.field(description="Spend over all channels.")
    ratio: float | None = strawberry.field(
        description="The pipeline IACV divided by the spend, over all channels (null "
        "when spend is 0)."
    )
    unattributed_opportunities: int = strawberry.field(
        description="Opportunities created without a campaign (in no channel)."
    )
    unattributed_pipeline_iacv: Decimal = strawberry.field(
        description="Their IACV (not in the totals)."
    )


def _key(dimension: FunnelDimension, value: Any) -> str:
    if value is None:
        return NO_VALUE
    if dimension is FunnelDimension.OWNER:
        return encode_id(UserNode, value)
    return value.value if isinstance(value, Enum) else str(value)


def _filter(f: FunnelFilter | None, source: FunnelSource) -> funnel_report.FunnelFilter:
    f = f or FunnelFilter()
    owner = None
    if f.owner_id is not None:
        try:
            owner = decode_id(f.owner_id, UserNode, "owner_id")
        except Refused as refused:
            raise Refused(
                replace(r, field=("filter", *r.field)) for r in refused.refusals
            ) from None
    return funnel_report.FunnelFilter(
        created_after=f.created_after,
        created_before=f.created_before,
        segment=f.segment or (),
        region=f.region or (),
        initial_source=f.initial_source or (),
        sales_qualification_source=f.sales_qualification_source or (),
        owner_id=owner,
        campaign_channel=f.campaign_channel or (),
        source=source,
    )


@strawberry.type
class FunnelQueries:
    """Root fields of the funnel and pipe-to-spend reports."""

    @strawberry.field(
        description="The customer-lifecycle funnel (D11): count, conversion rate "
        "and median time from the previous milestone, filtered, optionally grouped."
    )
    async def funnel(
        self,
        info: Info,
        filter: Annotated[
            FunnelFilter | None,
            strawberry.argument(description="Which records count (all by default)."),
        ] = None,
        group_by: Annotated[
            FunnelDimensionGQL | None,
            strawberry.argument(description="Break the funnel down by this."),
        ] = None,
        source: Annotated[
            FunnelSourceGQL,
            strawberry.argument(
                description="Which records count: LEAD (leads, entering at RAW), "
                "DIRECT (opportunities created without a lead, entering at "
                "PENDING_ACCEPTANCE) or ALL (both; the default)."
            ),
        ] = FunnelSource.ALL,
    ) -> Funnel:
        """The funnel."""
        criteria = _filter(filter, FunnelSource(source.value))
        dimension = FunnelDimension(group_by.value) if group_by else None
        report = await info.context.read(
            lambda s: funnel_report.funnel(s, criteria, dimension)
        )
        return Funnel(
            milestones=[FunnelMilestoneFigures.of(m) for m in report.milestones],
            groups=[
                FunnelGroup(
                    key=_key(dimension, g.key),  # type: ignore[arg-type]
                    milestones=[FunnelMilestoneFigures.of(m) for m in g.milestones],
                )
                for g in report.groups
            ],
        )

    @strawberry.field(
        description="Pipe-to-spend (D11): pipeline IACV created per campaign "
        "channel divided by the channel's spend, optionally in a window."
    )
    async def pipe_to_spend(
        self, info: Info, filter: PipeToSpendFilter | None = None
    ) -> PipeToSpend:
        """Pipe-to-spend by channel."""
        f = filter or PipeToSpendFilter()
        report = await info.context.read(
            lambda s: spend_report.pipe_to_spend(
                s, created_after=f.created_after, created_before=f.created_before
            )
        )
        return PipeToSpend(
            channels=[
                PipeToSpendLine(
                    channel=line.channel,
                    opportunities=line.opportunities,
                    pipeline_iacv=line.pipeline_iacv,
                    campaigns=line.campaigns,
                    spend=line.spend,
                    ratio=line.ratio,
                )
                for line in report.channels
            ],
            pipeline_iacv=report.total.pipeline_iacv,
            spend=report.total.spend,
            ratio=report.total.ratio,
            unattributed_opportunities=report.unattributed_opportunities,
            unattributed_pipeline_iacv=report.unattributed_pipeline_iacv,
        )
