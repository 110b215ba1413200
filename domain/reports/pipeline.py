"""Pipeline (D11): open opportunities by stage, with count and IACV sum.

One GROUP BY over ``opportunities`` (joined to ``accounts`` only when a
criterion or the grouping needs the account): per stage, and per stage and
group when a grouping is asked; the totals and the groups' totals are sums
of those few rows.

**Decisions** where D11 is silent:

* The pipeline is the open stages from 0-Pending Acceptance to 6-Awaiting
  Signature; 00-Pre Opportunity is "not yet an opportunity" and is left out
  unless the ``stage`` criterion names it. A closed stage is refused there.
* Every pipeline stage is listed, in stage order, with zeros when empty, in
  the totals and in each group, so rows line up as a matrix.
* IACV is the current ``incremental_acv``, summed exactly (integer cents) as
  recorded; amounts are not converted between currencies.
* ``closeDate`` criteria are inclusive days; an opportunity without a close
  date is left out when either end is given.
* Groups are the values that have at least one open opportunity, the largest
  IACV first (then count, then key). An empty owner or region is the group
  ``NONE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, OpportunityStage
from domain.errors import Refusal, refuse_if
from domain.lifecycle.opportunity import OPEN_STAGES, PIPELINE_STAGES
from domain.records import Account, Opportunity
from domain.reports.scope import OpportunityScope
from domain.reports.sql import DayRange
from domain.sqltypes import Money

Stage = OpportunityStage
Opp = Opportunity
Acct = Account

NONE_KEY = "NONE"
ZERO = Decimal("0.00")


class PipelineDimension(StrEnum):
    """What the pipeline can be broken down by."""

    OWNER = "OWNER"
    SEGMENT = "SEGMENT"
    REGION = "REGION"
    TYPE = "TYPE"
    PIPELINE = "PIPELINE"


_GROUP_COLUMNS: dict[PipelineDimension, Any] = {
    PipelineDimension.OWNER: col(Opp.owner_id),
    PipelineDimension.SEGMENT: col(Acct.sales_segment),
    PipelineDimension.REGION: col(Acct.region),
    PipelineDimension.TYPE: col(Opp.type),
    PipelineDimension.PIPELINE: col(Opp.pipeline),
}


@dataclass(frozen=True)
class PipelineQuery:
    """What to report: the scope, stages, close-date window, grouping."""

    scope: OpportunityScope = field(default_factory=OpportunityScope)
    stages: Sequence[Stage] = ()
    close_window: DayRange = field(default_factory=DayRange)
    group_by: PipelineDimension | None = None

    def refusals(self) -> list[Refusal]:
        """Criteria that make no sense: closed stages, a backwards window."""
        found = self.close_window.refusals("close_date_after", "close_date_before")
        closed = [s.value for s in self.stages if s not in OPEN_STAGES]
        if closed:
            found.insert(
                0,
                Refusal.on(
                    "stage",
                    ErrorCode.INVALID_INPUT,
                    f"The pipeline holds open stages only; {', '.join(closed)} "
                    "is closed.",
                ),
            )
        return found

    @property
    def report_stages(self) -> tuple[Stage, ...]:
        """The stages listed, in stage order."""
        if not self.stages:
            return PIPELINE_STAGES
        return tuple(s for s in OPEN_STAGES if s in self.stages)


@dataclass(frozen=True, slots=True)
class StageTotal:
    """How many open opportunities a stage holds and their IACV."""

    stage: Stage
    count: int = 0
    iacv: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PipelineGroup:
    """One value of the grouping (an owner id, a segment…) and its pipeline."""

    key: str
    owner_id: int | None
    count: int
    iacv: Decimal
    stages: list[StageTotal]


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The pipeline: per stage, in total, and per group when asked."""

    stages: list[StageTotal]
    count: int
    iacv: Decimal
    groups: list[PipelineGroup]


def _key(value: Any) -> str:
    if value is None:
        return NONE_KEY
    return str(getattr(value, "value", value))


def _lined_up(
    stages: tuple[Stage, ...], found: dict[Stage, tuple[int, Decimal]]
) -> list[StageTotal]:
    return [StageTotal(s, *found[s]) if s in found else StageTotal(s) for s in stages]


async def pipeline(query: PipelineQuery, *, session: AsyncSession) -> Pipeline:
    """The open pipeline for the query, aggregated by the database (one query)."""
    refuse_if(query.refusals())
    await query.scope.check(session)
    stages = query.report_stages
    group_column = _GROUP_COLUMNS[query.group_by] if query.group_by else None
    iacv = type_coerce(func.coalesce(func.sum(col(Opp.incremental_acv)), 0), Money)
    columns: list[Any] = [col(Opp.stage), func.count(), iacv]
    if group_column is not None:
        columns.append(group_column)
    stmt = query.scope.apply(
        select(*columns).where(col(Opp.stage).in_(stages)),
        join_account=query.group_by
        in (PipelineDimension.SEGMENT, PipelineDimension.REGION),
    )
    window = query.close_window
    if window.after is not None:
        stmt = stmt.where(col(Opp.close_date) >= window.after)
    if window.before is not None:
        stmt = stmt.where(col(Opp.close_date) < window.before)
    stmt = stmt.group_by(
        col(Opp.stage), *([group_column] if group_column is not None else [])
    )
    rows = (await session.execute(stmt)).all()

    totals: dict[Stage, tuple[int, Decimal]] = {}
    by_group: dict[Any, dict[Stage, tuple[int, Decimal]]] = {}
    for row in rows:
        stage, count, amount = Stage(row[0]), int(row[1]), row[2]
        before = totals.get(stage, (0, ZERO))
        totals[stage] = (before[0] + count, before[1] + amount)
        if group_column is not None:
            by_group.setdefault(row[3], {})[stage] = (count, amount)
    groups = [
        PipelineGroup(
            key=_key(value),
            owner_id=value if query.group_by == PipelineDimension.OWNER else None,
            count=sum(c for c, _ in found.values()),
            iacv=sum((a for _, a in found.values()), ZERO),
            stages=_lined_up(stages, found),
        )
        for value, found in by_group.items()
    ]
    groups.sort(key=lambda g: (-g.iacv, -g.count, g.key))
    return Pipeline(
        stages=_lined_up(stages, totals),
        count=sum(c for c, _ in totals.values()),
        iacv=sum((a for _, a in totals.values()), ZERO),
        groups=groups,
    )
