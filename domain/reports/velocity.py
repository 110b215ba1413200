"""Stage velocity (D11): time spent in each stage by won versus lost opportunities.

Read from the ledger: every TransitionRecord of an opportunity that leaves a
stage carries ``seconds_in_from``, the time spent in the stage it left (the
creation row starts the clock, so the first stage counts too).

One statement: the ledger rows of the closed won and closed lost
opportunities in scope are summed per opportunity and stage, ranked within
each (outcome, stage) by ROW_NUMBER, and aggregated per (outcome, stage)
into the count, the total seconds and the middle value(s) for the median.
A second small GROUP BY counts the won and lost opportunities themselves.

**Decisions** where D11 is silent:

* Won and lost are the opportunities now in 7-Closed Won and 8-Closed Lost
  (a reopened one counts again once it closes). ``closedAfter``/``closedBefore``
  are UTC days on ``closed_at``: on or after the first, before the second.
* The time an opportunity spent in a stage is the sum of its visits (a deal
  moved back to 3-Technical Evaluation and forward again spent both spells
  there); the statistics are over opportunities: ``count`` is how many
  spent time in the stage, ``averageSeconds`` their mean, ``medianSeconds``
  their median.
* Median: the values of a group sorted ascending, n of them; for odd n the
  value at position (n + 1) / 2; for even n the mean of the values at
  positions n / 2 and n / 2 + 1. Computed in SQL with ROW_NUMBER and COUNT
  windows (no percentile function), identically on SQLite and PostgreSQL;
  the final division happens in Python on the exact integer sums.
* The stages reported are the open stages 00-Pre Opportunity to
  6-Awaiting Signature, always all of them (count 0 and null times when no
  deal spent time there). Time spent closed lost before a reopen is not
  selling time and is not reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import OpportunityStage, RecordType
from domain.errors import refuse_if
from domain.lifecycle.opportunity import OPEN_STAGES, OUTCOME_STAGES
from domain.records import Opportunity, TransitionRecord
from domain.reports.scope import OpportunityScope
from domain.reports.sql import DayRange, median, middle_rows

Stage = OpportunityStage
Opp = Opportunity
T = TransitionRecord


@dataclass(frozen=True)
class VelocityQuery:
    """Which closed opportunities to measure."""

    scope: OpportunityScope = field(default_factory=OpportunityScope)
    closed_window: DayRange = field(default_factory=DayRange)


@dataclass(frozen=True, slots=True)
class StageTime:
    """Time spent in one stage by the deals of one outcome."""

    count: int = 0
    total_seconds: int = 0
    average_seconds: float | None = None
    median_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class StageVelocityRow:
    """One stage: the won deals' time there and the lost deals'."""

    stage: Stage
    won: StageTime
    lost: StageTime


@dataclass(frozen=True, slots=True)
class StageVelocity:
    """How many deals were won and lost, and their time per stage."""

    won_count: int
    lost_count: int
    stages: list[StageVelocityRow]


def _closed(query: VelocityQuery) -> list[ColumnElement[bool]]:
    """Conditions on the opportunities measured."""
    return [
        col(Opp.stage).in_(OUTCOME_STAGES),
        *query.closed_window.conditions(col(Opp.closed_at)),
    ]


async def stage_velocity(
    query: VelocityQuery, *, session: AsyncSession
) -> StageVelocity:
    """Time in stage for won versus lost deals (two queries)."""
    refuse_if(query.closed_window.refusals("closed_after", "closed_before"))
    await query.scope.check(session)

    # The deals measured, as an IN list: the ledger is then read through its
    # (record_type, record_id) index for those deals only, on both databases
    # (joined directly, SQLite without statistics walks the whole ledger).
    measured = (
        query.scope.apply(select(col(Opp.id)).where(*_closed(query)))
        .correlate(None)
        .scalar_subquery()
    )
    per_deal = (
        select(
            col(Opp.stage).label("outcome"),
            col(T.from_state).label("stage"),
            func.sum(col(T.seconds_in_from)).label("seconds"),
        )
        .select_from(T)
        .join(Opp, col(Opp.id) == col(T.record_id))
        .where(
            col(T.record_type) == RecordType.OPPORTUNITY,
            col(T.record_id).in_(measured),
            col(T.from_state).in_([s.value for s in OPEN_STAGES]),
            col(T.seconds_in_from).is_not(None),
        )
        .group_by(col(Opp.stage), col(T.from_state), col(T.record_id))
        .subquery()
    )
    partition = (per_deal.c.outcome, per_deal.c.stage)
    ranked = select(
        per_deal.c.outcome,
        per_deal.c.stage,
        per_deal.c.seconds,
        func.row_number()
        .over(partition_by=partition, order_by=per_deal.c.seconds)
        .label("position"),
        func.count().over(partition_by=partition).label("size"),
    ).subquery()
    middle_sum, middle_count = middle_rows(
        ranked.c.seconds, ranked.c.position, ranked.c.size
    )
    stmt = select(
        ranked.c.outcome,
        ranked.c.stage,
        func.count(),
        func.sum(ranked.c.seconds),
        middle_sum,
        middle_count,
    ).group_by(ranked.c.outcome, ranked.c.stage)
    times: dict[tuple[Stage, Stage], StageTime] = {}
    for outcome, stage, count, total, mid_sum, mid_count in (
        await session.execute(stmt)
    ).all():
        times[(Stage(outcome), Stage(stage))] = StageTime(
            count=int(count),
            total_seconds=int(total),
            average_seconds=int(total) / int(count),
            median_seconds=median(mid_sum, mid_count),
        )

    counted = query.scope.apply(
        select(col(Opp.stage), func.count()).where(*_closed(query))
    ).group_by(col(Opp.stage))
    deals = {Stage(s): int(n) for s, n in (await session.execute(counted)).all()}
    return StageVelocity(
        won_count=deals.get(Stage.CLOSED_WON, 0),
        lost_count=deals.get(Stage.CLOSED_LOST, 0),
        stages=[
            StageVelocityRow(
                stage=stage,
                won=times.get((Stage.CLOSED_WON, stage), StageTime()),
                lost=times.get((Stage.CLOSED_LOST, stage), StageTime()),
            )
            for stage in OPEN_STAGES
        ],
    )
