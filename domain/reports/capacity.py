"""Sales capacity (D11): the formula of ``domain.rules.capacity``, on given figures
or on the actual closed deals.

With ``from_actuals`` one GROUP BY over ``opportunities`` reads, per stage,
the count and the total seconds from sales acceptance to close of the won
and lost deals (closed in the window, in scope) together with the count of
active opportunities (stages 1-6, now); the rule turns those sums into the
inputs (win rate, days to close, months to lose) and the figures.

**Decisions** where D11 is silent:

* Actual figures come from deals that were sales-accepted (a WEB_DIRECT deal
  created won never occupied a rep's capacity) and are now closed won or
  closed lost; the window (inclusive UTC days) applies to ``closed_at``.
* With ``from_actuals`` the measured figures replace the planning ones, so
  giving ``daysToClose``, ``winRate`` or ``monthsToLose`` as well is refused;
  ``capacityGoal`` is still the plan (default 40), and the current number of
  active opportunities is reported next to it for comparison.
* No won deal in scope: refused (see ``inputs_from_actuals``), never nulls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, OpportunityStage
from domain.errors import Refusal, refuse_if
from domain.lifecycle.opportunity import ACTIVE_STAGES, OUTCOME_STAGES
from domain.records import Opportunity
from domain.reports.scope import OpportunityScope
from domain.reports.sql import DayRange, epoch_seconds
from domain.rules.capacity import (
    CapacityInputs,
    CapacityResult,
    ClosedDeals,
    inputs_from_actuals,
    round_half_up,
    sales_capacity,
    validate_capacity_inputs,
)

Stage = OpportunityStage
Opp = Opportunity

# The figures fromActuals measures, and their API names (for messages).
MEASURED_FIGURES = {
    "days_to_close": "daysToClose",
    "win_rate": "winRate",
    "months_to_lose": "monthsToLose",
}


@dataclass(frozen=True)
class CapacityQuery:
    """The planning figures given (None: default), or actuals to measure."""

    days_to_close: int | None = None
    win_rate: Decimal | None = None
    months_to_lose: Decimal | None = None
    capacity_goal: int | None = None
    from_actuals: bool = False
    closed_window: DayRange = field(default_factory=DayRange)
    scope: OpportunityScope = field(default_factory=OpportunityScope)

    def refusals(self) -> list[Refusal]:
        """Figures that cannot be used, or that contradict ``from_actuals``."""
        found = validate_capacity_inputs(self.planning_inputs())
        if self.from_actuals:
            found += [
                Refusal.on(
                    name,
                    ErrorCode.INVALID_INPUT,
                    f"fromActuals measures {api_name}; give one or the other.",
                )
                for name, api_name in MEASURED_FIGURES.items()
                if getattr(self, name) is not None
            ]
        else:
            window = self.closed_window
            for name, api_name, given in (
                ("closed_after", "closedAfter", window.after is not None),
                ("closed_before", "closedBefore", window.before is not None),
                ("filter", "filter", not self.scope.is_empty),
            ):
                if given:
                    found.append(
                        Refusal.on(
                            name,
                            ErrorCode.INVALID_INPUT,
                            f"{api_name} selects the deals that fromActuals "
                            "measures; ask fromActuals: true with it.",
                        )
                    )
        found += self.closed_window.refusals("closed_after", "closed_before")
        return found

    def planning_inputs(self) -> CapacityInputs:
        """The given figures, defaults for the missing ones."""
        defaults = CapacityInputs()
        return CapacityInputs(
            days_to_close=defaults.days_to_close
            if self.days_to_close is None
            else self.days_to_close,
            win_rate=defaults.win_rate if self.win_rate is None else self.win_rate,
            months_to_lose=self.months_to_lose,
            capacity_goal=defaults.capacity_goal
            if self.capacity_goal is None
            else self.capacity_goal,
        )


@dataclass(frozen=True, slots=True)
class Actuals:
    """What the actual figures were measured on."""

    deals: ClosedDeals
    active_opportunities: int


@dataclass(frozen=True, slots=True)
class SalesCapacity:
    """The inputs used (rounded for display) and the figures."""

    days_to_close: Decimal
    win_rate: Decimal
    capacity_goal: int
    result: CapacityResult
    actuals: Actuals | None


async def _actuals(query: CapacityQuery, session: AsyncSession) -> Actuals:
    """Closed deals' counts and durations and the active count: one GROUP BY."""
    measured = and_(
        col(Opp.stage).in_(OUTCOME_STAGES),
        col(Opp.sales_accepted_date).is_not(None),
        col(Opp.closed_at).is_not(None),
        *query.closed_window.conditions(col(Opp.closed_at)),
    )
    duration = case(
        (
            col(Opp.stage).in_(OUTCOME_STAGES),
            epoch_seconds(col(Opp.closed_at))
            - epoch_seconds(col(Opp.sales_accepted_date)),
        ),
        else_=0,
    )
    stmt = query.scope.apply(
        select(col(Opp.stage), func.count(), func.sum(duration)).where(
            or_(col(Opp.stage).in_(ACTIVE_STAGES), measured)
        )
    ).group_by(col(Opp.stage))
    found = {
        Stage(stage): (int(count), int(seconds or 0))
        for stage, count, seconds in (await session.execute(stmt)).all()
    }
    won = found.get(Stage.CLOSED_WON, (0, 0))
    lost = found.get(Stage.CLOSED_LOST, (0, 0))
    return Actuals(
        deals=ClosedDeals(
            won_count=won[0],
            won_seconds=won[1],
            lost_count=lost[0],
            lost_seconds=lost[1],
        ),
        active_opportunities=sum(found.get(s, (0, 0))[0] for s in ACTIVE_STAGES),
    )


async def sales_capacity_report(
    query: CapacityQuery, *, session: AsyncSession
) -> SalesCapacity:
    """The capacity figures, from the given figures or from the actuals."""
    refuse_if(query.refusals())
    actuals: Actuals | None = None
    inputs = query.planning_inputs()
    if query.from_actuals:
        await query.scope.check(session)
        actuals = await _actuals(query, session)
        inputs = inputs_from_actuals(actuals.deals, inputs.capacity_goal)
    return SalesCapacity(
        days_to_close=round_half_up(inputs.days_to_close, 2),
        win_rate=round_half_up(inputs.win_rate, 4),
        capacity_goal=inputs.capacity_goal,
        result=sales_capacity(inputs),
        actuals=actuals,
    )
