"""Sales capacity (D11): how many SAOs a month keep a rep at the capacity goal.

months_to_close = days_to_close / 30; months_to_lose defaults to half of it;
months_on_average = win_rate x months_to_close + (1 - win_rate) x
months_to_lose; SAOs needed per month = capacity_goal / months_on_average.

**Decision** (the handbook rounds to "≈ 4 months" and "10 SAOs"): a month is
30 days; every figure is computed exactly with ``Decimal`` and only the
results are rounded, half up, to 2 places. The defaults therefore give 6.00,
3.00, 3.99 (0.33 x 6 + 0.67 x 3) and 10.03 (40 / 3.99), not 4 and 10.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.enums import ErrorCode
from domain.errors import Refusal, Refused

DAYS_PER_MONTH = Decimal(30)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CapacityInputs:
    """The planning assumptions; ``months_to_lose`` None means half of close."""

    days_to_close: int = 180
    win_rate: Decimal = Decimal("0.33")
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


def _cents(value: Decimal) -> Decimal:
    """Rounded half up to 2 places."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def sales_capacity(inputs: CapacityInputs | None = None) -> CapacityResult:
    """The capacity figures; raises ``Refused`` with the validation refusals."""
    given = inputs if inputs is not None else CapacityInputs()
    refusals = validate_capacity_inputs(given)
    if refusals:
        raise Refused(refusals)
    months_to_close = Decimal(given.days_to_close) / DAYS_PER_MONTH
    months_to_lose = (
        given.months_to_lose
        if given.months_to_lose is not None
        else months_to_close / 2
    )
    months_on_average = (
        given.win_rate * months_to_close + (1 - given.win_rate) * months_to_lose
    )
    saos = Decimal(given.capacity_goal) / months_on_average
    return CapacityResult(
        months_to_close=_cents(months_to_close),
        months_to_lose=_cents(months_to_lose),
        months_on_average=_cents(months_on_average),
        saos_needed_per_month=_cents(saos),
    )
