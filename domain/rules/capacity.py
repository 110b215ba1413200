"""Sales capacity (D11): how many SAOs a month keep a rep at the capacity goal.

months_to_close = days_to_close / 30; months_to_lose defaults to half of it;
months_on_average = win_rate x months_to_close + (1 - win_rate) x
months_to_lose; SAOs needed per month = capacity_goal / months_on_average.

**Decision** (round 2, D11): the default win rate is the handbook's exact
third — its "33.3 % times 6 and 66.7 % of 3" is 1/3 and 2/3, and its worked
example gives "Months on average - 4" and "10 (40 opportunities / 4 months)".
A month is 30 days; every figure is computed exactly (``Fraction``: no
rounding inside the formula, a third stays a third) and only the results are
rounded, half up, to 2 places. The defaults therefore give 6.00, 3.00, 4.00
(1/3 x 6 + 2/3 x 3) and 10.00 (40 / 4). A win rate given as a decimal
(``0.33``) is taken exactly as given: 0.33 gives 3.99 and 10.03.

From actual closed deals (``inputs_from_actuals``), **decisions**: a deal's
time runs from its sales acceptance (entering 1-Discovery, where the capacity
stages 1-6 begin) to its close; the win rate is won / (won + lost); days to
close is the average of the won deals, months to lose the average of the
lost ones (half of close when none was lost: with a 100 % win rate it weighs
nothing). Without a won deal there is no win rate or time to close to plan
with: that is refused (INVALID_INPUT on ``fromActuals``), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from domain.enums import ErrorCode
from domain.errors import Refusal, Refused

DAYS_PER_MONTH = Decimal(30)
SECONDS_PER_DAY = Decimal(86_400)
# The handbook's "33.3 %" and "66.7 %" are thirds: kept exact, never 0.333….
HANDBOOK_WIN_RATE = Fraction(1, 3)

# A planning figure: a Decimal from a client, or an exact fraction.
Exact = Decimal | Fraction


@dataclass(frozen=True, slots=True)
class CapacityInputs:
    """The planning assumptions; ``months_to_lose`` None means half of close."""

    days_to_close: int | Decimal = 180
    win_rate: Exact = HANDBOOK_WIN_RATE
    months_to_lose: Decimal | None = None
    capacity_goal: int = 40


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """The figures of the capacity formula, each rounded half up to 2 places."""

    months_to_close: Decimal
    months_to_lose: Decimal
    months_on_average: Decimal
    saos_needed_per_month: Decimal


def validate_capacity_inputs(inputs: CapacityInputs) -> list[Refusal]:
    """Reasons the inputs cannot be used (empty when they can)."""
    refusals: list[Refusal] = []
    if inputs.days_to_close <= 0:
        refusals.append(
            Refusal.on(
                "days_to_close",
                ErrorCode.INVALID_INPUT,
                "Days to close must be a positive number of days.",
            )
        )
    if not Decimal(0) < inputs.win_rate <= Decimal(1):
        refusals.append(
            Refusal.on(
                "win_rate",
                ErrorCode.INVALID_INPUT,
                "The win rate must be above 0 and at most 1 (100 %).",
            )
        )
    if inputs.months_to_lose is not None and inputs.months_to_lose <= 0:
        refusals.append(
            Refusal.on(
                "months_to_lose",
                ErrorCode.INVALID_INPUT,
                "Months to lose must be positive when given.",
            )
        )
    if inputs.capacity_goal <= 0:
        refusals.append(
            Refusal.on(
                "capacity_goal",
                ErrorCode.INVALID_INPUT,
                "The capacity goal must be a positive number of opportunities.",
            )
        )
    return refusals


@dataclass(frozen=True, slots=True)
class ClosedDeals:
    """Actual closed deals: how many, and their total seconds from acceptance."""

    won_count: int
    won_seconds: int
    lost_count: int
    lost_seconds: int


def inputs_from_actuals(deals: ClosedDeals, capacity_goal: int) -> CapacityInputs:
    """The planning inputs measured on closed deals; refused without a won deal."""
    if deals.won_count == 0:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"No won deal in the scope ({deals.lost_count} lost): the actuals give "
            "no win rate or days to close. Widen the window or filter, or give the "
            "figures instead of fromActuals.",
            "from_actuals",
        )
    if deals.won_seconds <= 0 or (deals.lost_count and deals.lost_seconds <= 0):
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            "The closed deals in the scope closed the moment they were accepted: "
            "there is no time to close to plan with.",
            "from_actuals",
        )
    days_to_close = Decimal(deals.won_seconds) / deals.won_count / SECONDS_PER_DAY
    months_to_lose = (
        Decimal(deals.lost_seconds)
        / deals.lost_count
        / SECONDS_PER_DAY
        / DAYS_PER_MONTH
        if deals.lost_count
        else None
    )
    return CapacityInputs(
        days_to_close=days_to_close,
        win_rate=Decimal(deals.won_count) / (deals.won_count + deals.lost_count),
        months_to_lose=months_to_lose,
        capacity_goal=capacity_goal,
    )


def round_half_up(value: Exact | int, places: int = 2) -> Decimal:
    """An exact value rounded half up to ``places`` decimals (no float, no
    28-digit Decimal on the way: the fraction itself is rounded)."""
    scaled = Fraction(value) * 10**places
    whole = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    signed = -whole if scaled < 0 else whole
    return Decimal(signed).scaleb(-places)


def sales_capacity(inputs: CapacityInputs | None = None) -> CapacityResult:
    """The capacity figures; raises ``Refused`` with the validation refusals."""
    given = inputs if inputs is not None else CapacityInputs()
    refusals = validate_capacity_inputs(given)
    if refusals:
        raise Refused(refusals)
    win_rate = Fraction(given.win_rate)
    months_to_close = Fraction(given.days_to_close) / Fraction(DAYS_PER_MONTH)
    months_to_lose = (
        Fraction(given.months_to_lose)
        if given.months_to_lose is not None
        else months_to_close / 2
    )
    months_on_average = win_rate * months_to_close + (1 - win_rate) * months_to_lose
    saos = given.capacity_goal / months_on_average
    return CapacityResult(
        months_to_close=round_half_up(months_to_close),
        months_to_lose=round_half_up(months_to_lose),
        months_on_average=round_half_up(months_on_average),
        saos_needed_per_month=round_half_up(saos),
    )
