"""Pipe-to-spend (D11): pipeline IACV created per campaign channel, over spend.

Decisions where D11 is silent:

* Pipeline created is the IACV (``incremental_acv``, as it stands) of the
  opportunities created in the window whose primary campaign is of the
  channel; opportunities that are not, or turned out not to be, pipeline
  (00-Pre Opportunity, 9-Unqualified, 10-Duplicate) are left out.
  An opportunity's primary campaign is its converted lead's first-touch
  campaign, or the one given at creation; one without a campaign is in no
  channel (and only in the totals' ``unattributed`` figures).
* Spend is that of the channel's campaigns that started in the window: a
  campaign counts when the first moment of its start date (UTC) is in the
  window; one without a start date counts from its creation.
* The window is optional on both ends (at or after ``created_after``, before
  ``created_before``); without one, everything counts.
* Every channel is listed, in the order of D11, even with nothing in it. The
  ratio is pipeline / spend, null when spend is 0. Money stays Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import CampaignChannel, ErrorCode
from domain.errors import Refusal, Refused
from domain.lifecycle.opportunity import NOT_PIPELINE_STAGES
from domain.records import Campaign, Opportunity
from domain.sqltypes import as_utc

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class SpendLine:
    """Pipeline created and spend of one channel (or of all: ``channel`` None)."""

    channel: CampaignChannel | None
    opportunities: int
    pipeline_iacv: Decimal
    campaigns: int
    spend: Decimal

    @property
    def ratio(self) -> float | None:
        """Pipeline IACV per unit of spend (None when nothing was spent)."""
        return float(self.pipeline_iacv / self.spend) if self.spend else None


@dataclass(frozen=True, slots=True)
class PipeToSpendReport:
    """One line per channel, the totals, and the pipeline no campaign claims."""

    channels: list[SpendLine]
    total: SpendLine
    unattributed_opportunities: int
    unattributed_pipeline_iacv: Decimal


def _first_day_from(moment: datetime) -> date:
    """The first date whose midnight (UTC) is at or after ``moment``."""
    moment = as_utc(moment)
    day = moment.date()
    return day if moment == datetime.combine(day, time(), UTC) else day + timedelta(1)


def _started_in(after: datetime | None, before: datetime | None) -> list[Any]:
    found: list[ColumnElement[bool]] = []
    if after is not None:
        found.append(
            or_(
                col(Campaign.start_date) >= _first_day_from(after),
                and_(
                    Campaign.start_date.is_(None),  # type: ignore[union-attr]
                    col(Campaign.created_at) >= after,
                ),
            )
        )
    if before is not None:
        found.append(
            or_(
                col(Campaign.start_date) < _first_day_from(before),
                and_(
                    Campaign.start_date.is_(None),  # type: ignore[union-attr]
                    col(Campaign.created_at) < before,
                ),
            )
        )
    return found


async def pipe_to_spend(
    session: AsyncSession,
    *,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> PipeToSpendReport:
    """Pipe-to-spend by channel for the window, or ``Refused`` (INVALID_INPUT)."""
    if (
        created_after is not None
        and created_before is not None
        and created_before < created_after
    ):
        raise Refused(
            [
                Refusal(
                    code=ErrorCode.INVALID_INPUT,
                    message="The window ends (createdBefore) before it starts "
                    "(createdAfter).",
                    field=("filter", "created_before"),
                )
            ]
        )
    created = []
    if created_after is not None:
        created.append(Opportunity.created_at >= created_after)  # type: ignore[operator]
    if created_before is not None:
        created.append(Opportunity.created_at < created_before)  # type: ignore[operator]
    pipeline = await session.execute(
        select(  # type: ignore[call-overload]
            Campaign.channel,
            func.count(col(Opportunity.id)),
            func.sum(Opportunity.incremental_acv),
        )
        .select_from(Opportunity)
        .outerjoin(Campaign, Campaign.id == Opportunity.campaign_id)
        .where(Opportunity.stage.not_in(NOT_PIPELINE_STAGES), *created)  # type: ignore[attr-defined]
        .group_by(Campaign.channel)
    )
    piped = {channel: (int(n), iacv or ZERO) for channel, n, iacv in pipeline}
    spent = {
        channel: (int(n), spend or ZERO)
        for channel, n, spend in await session.execute(
            select(
                col(Campaign.channel),
                func.count(col(Campaign.id)),
                func.sum(Campaign.spend),
            )
            .where(*_started_in(created_after, created_before))
            .group_by(Campaign.channel)
        )
    }
    lines = [
        SpendLine(
            channel=channel,
            opportunities=piped.get(channel, (0, ZERO))[0],
            pipeline_iacv=piped.get(channel, (0, ZERO))[1],
            campaigns=spent.get(channel, (0, ZERO))[0],
            spend=spent.get(channel, (0, ZERO))[1],
        )
        for channel in CampaignChannel
    ]
    unattributed = piped.get(None, (0, ZERO))
    total = SpendLine(
        channel=None,
        opportunities=sum(line.opportunities for line in lines),
        pipeline_iacv=sum((line.pipeline_iacv for line in lines), ZERO),
        campaigns=sum(line.campaigns for line in lines),
        spend=sum((line.spend for line in lines), ZERO),
    )
    return PipeToSpendReport(
        channels=lines,
        total=total,
        unattributed_opportunities=unattributed[0],
        unattributed_pipeline_iacv=unattributed[1],
    )
