"""D11 sales capacity: months on average and SAOs needed per month."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.enums import ErrorCode
from domain.errors import Refused
from domain.rules.capacity import (
    CapacityInputs,
    CapacityResult,
    sales_capacity,
    validate_capacity_inputs,
)


def test_the_handbook_defaults_give_about_4_months_and_10_saos() -> None:
    result = sales_capacity(CapacityInputs())

    assert result == CapacityResult(
        months_to_close=Decimal("6.00"),
        months_to_lose=Decimal("3.00"),
        months_on_average=Decimal("3.99"),
        saos_needed_per_month=Decimal("10.03"),
    )


def test_no_inputs_means_the_defaults() -> None:
    assert sales_capacity() == sales_capacity(CapacityInputs())


def test_the_default_inputs_are_the_handbook_figures() -> None:
    inputs = CapacityInputs()

    assert inputs.days_to_close == 180
    assert inputs.win_rate == Decimal("0.33")
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
    result = sales_capacity(CapacityInputs(days_to_close=100, capacity_goal=7))

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
