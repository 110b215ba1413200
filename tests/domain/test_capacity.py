"""D11 sales capacity: months on average and SAOs needed per month."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from domain.enums import ErrorCode
from domain.errors import Refused
from domain.rules.capacity import (
    CapacityInputs,
    CapacityResult,
    ClosedDeals,
    inputs_from_actuals,
    sales_capacity,
    validate_capacity_inputs,
)

DAY = 86_400


def test_the_handbook_defaults_give_exactly_4_months_and_10_saos() -> None:
    """002_91dd8e67a169a832.txt: "Months on average - 4 (33.3% times 6 and 66.7%
    of 3)" and "per month - 10 (40 opportunities / 4 months)"."""
    result = sales_capacity(CapacityInputs())

    assert result == CapacityResult(
        months_to_close=Decimal("6.00"),
        months_to_lose=Decimal("3.00"),
        months_on_average=Decimal("4.00"),
        saos_needed_per_month=Decimal("10.00"),
    )


def test_a_win_rate_given_as_0_33_is_taken_as_given() -> None:
    result = sales_capacity(CapacityInputs(win_rate=Decimal("0.33")))

    assert (result.months_on_average, result.saos_needed_per_month) == (
        Decimal("3.99"),
        Decimal("10.03"),
    )


def test_no_inputs_means_the_defaults() -> None:
    assert sales_capacity() == sales_capacity(CapacityInputs())


def test_the_default_inputs_are_the_handbook_figures() -> None:
    inputs = CapacityInputs()

    assert inputs.days_to_close == 180
    assert inputs.win_rate == Fraction(1, 3)
    assert inputs.months_to_lose is None
    assert inputs.capacity_goal == 40


def test_a_one_third_win_rate_gives_exactly_4_months_and_10_saos() -> None:
    result = sales_capacity(CapacityInputs(win_rate=Decimal(1) / Decimal(3)))

    assert result.months_on_average == Decimal("4.00")
    assert result.saos_needed_per_month == Decimal("10.00")


def test_an_explicit_months_to_lose_replaces_half_of_close() -> None:
    result = sales_capacity(
        CapacityInputs(
            days_to_close=90,
            win_rate=Decimal("0.5"),
            months_to_lose=Decimal("2"),
            capacity_goal=30,
        )
    )

    assert result == CapacityResult(
        months_to_close=Decimal("3.00"),
        months_to_lose=Decimal("2.00"),
        months_on_average=Decimal("2.50"),
        saos_needed_per_month=Decimal("12.00"),
    )


def test_a_win_rate_of_100_percent_uses_only_months_to_close() -> None:
    result = sales_capacity(CapacityInputs(days_to_close=120, win_rate=Decimal(1)))

    assert result.months_on_average == Decimal("4.00")
    assert result.saos_needed_per_month == Decimal("10.00")


def test_results_are_rounded_half_up_to_two_places() -> None:
    result = sales_capacity(
        CapacityInputs(days_to_close=100, win_rate=Decimal("0.33"), capacity_goal=7)
    )

    # 100/30 = 3.333… ; lose 1.666… ; average 0.33*3.333…+0.67*1.666… = 2.2166…
    assert result.months_to_close == Decimal("3.33")
    assert result.months_to_lose == Decimal("1.67")
    assert result.months_on_average == Decimal("2.22")
    # 7 / 2.21666… = 3.1578…, computed from the unrounded average
    assert result.saos_needed_per_month == Decimal("3.16")


def test_the_default_inputs_are_valid() -> None:
    assert validate_capacity_inputs(CapacityInputs()) == []


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        (CapacityInputs(days_to_close=0), "days_to_close"),
        (CapacityInputs(days_to_close=-30), "days_to_close"),
        (CapacityInputs(win_rate=Decimal(0)), "win_rate"),
        (CapacityInputs(win_rate=Decimal("-0.1")), "win_rate"),
        (CapacityInputs(win_rate=Decimal("1.01")), "win_rate"),
        (CapacityInputs(months_to_lose=Decimal(0)), "months_to_lose"),
        (CapacityInputs(capacity_goal=0), "capacity_goal"),
        (CapacityInputs(capacity_goal=-5), "capacity_goal"),
    ],
)
def test_each_invalid_input_is_refused_on_its_field(
    inputs: CapacityInputs, field: str
) -> None:
    refusals = validate_capacity_inputs(inputs)

    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.INVALID_INPUT, (field,))
    ]


def test_every_invalid_input_is_reported_at_once() -> None:
    inputs = CapacityInputs(
        days_to_close=0,
        win_rate=Decimal(2),
        months_to_lose=Decimal(-1),
        capacity_goal=0,
    )

    refusals = validate_capacity_inputs(inputs)

    assert [r.field for r in refusals] == [
        ("days_to_close",),
        ("win_rate",),
        ("months_to_lose",),
        ("capacity_goal",),
    ]
    assert {r.code for r in refusals} == {ErrorCode.INVALID_INPUT}


def test_computing_with_invalid_inputs_raises_the_same_refusals() -> None:
    inputs = CapacityInputs(days_to_close=0, capacity_goal=0)

    with pytest.raises(Refused) as raised:
        sales_capacity(inputs)

    assert raised.value.refusals == validate_capacity_inputs(inputs)


def test_actuals_give_the_win_rate_and_the_average_times() -> None:
    # 3 won in 90 + 50 + 60 days, 4 lost in 10 + 20 + 30 + 70 days
    deals = ClosedDeals(
        won_count=3, won_seconds=200 * DAY, lost_count=4, lost_seconds=130 * DAY
    )

    inputs = inputs_from_actuals(deals, capacity_goal=40)

    assert inputs.win_rate == Decimal(3) / Decimal(7)
    assert inputs.days_to_close == Decimal(200) / Decimal(3)
    assert inputs.months_to_lose == Decimal("32.5") / 30
    assert inputs.capacity_goal == 40
    assert sales_capacity(inputs) == CapacityResult(
        months_to_close=Decimal("2.22"),
        months_to_lose=Decimal("1.08"),
        months_on_average=Decimal("1.57"),
        saos_needed_per_month=Decimal("25.45"),
    )


def test_actuals_without_a_loss_take_half_of_close_to_lose() -> None:
    deals = ClosedDeals(
        won_count=2, won_seconds=150 * DAY, lost_count=0, lost_seconds=0
    )

    inputs = inputs_from_actuals(deals, capacity_goal=40)

    assert (inputs.win_rate, inputs.months_to_lose) == (Decimal(1), None)
    assert sales_capacity(inputs).months_to_lose == Decimal("1.25")


@pytest.mark.parametrize(
    "deals",
    [
        ClosedDeals(won_count=0, won_seconds=0, lost_count=0, lost_seconds=0),
        ClosedDeals(won_count=0, won_seconds=0, lost_count=3, lost_seconds=9 * DAY),
    ],
)
def test_actuals_without_a_win_are_refused(deals: ClosedDeals) -> None:
    with pytest.raises(Refused) as raised:
        inputs_from_actuals(deals, capacity_goal=40)

    assert [(r.code, r.field) for r in raised.value.refusals] == [
        (ErrorCode.INVALID_INPUT, ("from_actuals",))
    ]


@pytest.mark.parametrize(
    "deals",
    [
        ClosedDeals(won_count=1, won_seconds=0, lost_count=0, lost_seconds=0),
        ClosedDeals(won_count=1, won_seconds=DAY, lost_count=1, lost_seconds=0),
    ],
)
def test_actuals_closed_the_moment_they_were_accepted_are_refused(
    deals: ClosedDeals,
) -> None:
    with pytest.raises(Refused) as raised:
        inputs_from_actuals(deals, capacity_goal=40)

    assert raised.value.refusals[0].field == ("from_actuals",)
