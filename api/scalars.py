"""The ``Decimal``, ``Date`` and ``DateTime`` scalars, bounded.

Dates and times are those of strawberry's scalars, limited to the years
1000 to 8999: reports and SLAs add and subtract days and months, which
overflow Python's dates at the ends of its calendar (year 1, year 9999).

``Decimal``: what a request may give as an amount. strawberry's own accepts
``NaN``, ``Infinity`` and ``1e30``, which no money column can hold (money is
integer cents, D1). This one parses the same text but refuses a value that
is not finite, of a magnitude of 10^13 or more, or with more than 6 decimal
places. Whether an amount may have fractions of a cent is the domain's rule
(``domain.rules.validation.money``), answered in ``userErrors``.

Refusals are plain ``ValueError``: GraphQL then reports them as invalid
values at their place (the variable's path or the literal's argument), which
the error policy turns into ``INVALID_INPUT`` naming the field.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLError
from strawberry.schema.types.base_scalars import (
    DateDefinition,
    DateTimeDefinition,
    DecimalDefinition,
)
from strawberry.types.scalar import ScalarDefinition

MAX_MAGNITUDE = Decimal(10) ** 13
MAX_PLACES = 6
MAX_TEXT = 64


def parse_decimal(value: object) -> Decimal:
    """A finite decimal below 10^13 with at most 6 places, or a coercion error."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"Decimal cannot represent {value!r}.")
    text = value if isinstance(value, str) else str(value)
    try:
        amount = Decimal(text) if len(text) <= MAX_TEXT else None
    except decimal.DecimalException:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(
            f"Decimal cannot represent {text[:MAX_TEXT]!r}: not a finite number."
        )
    if abs(amount) >= MAX_MAGNITUDE:
        raise ValueError(
            f"Decimal cannot represent {text!r}: at most 10^13 in magnitude."
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise ValueError(
            f"Decimal cannot represent {text!r}: at most {MAX_PLACES} decimal places."
        )
    return amount


def _bounded(
    definition: ScalarDefinition, parse: Callable[[object], Any], origin: type
) -> ScalarDefinition:
    """Strawberry's scalar of the same name and description, parsing with ``parse``
    (literals are parsed through the value path, so one check serves both)."""
    return ScalarDefinition(
        name=definition.name,
        description=definition.description,
        specified_by_url=None,
        serialize=definition.serialize,
        parse_value=parse,
        parse_literal=None,
        origin=origin,
    )


BoundedDecimal = _bounded(DecimalDefinition, parse_decimal, Decimal)


MIN_YEAR = 1000
MAX_YEAR = 8999


def _within_years(parse: Callable[[object], Any], name: str) -> Callable[[object], Any]:
    def parse_bounded(value: object) -> Any:
        try:
            parsed = parse(value)
        except GraphQLError as error:
            raise ValueError(error.message) from None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise ValueError(
                f"{name} cannot represent {value!r}: years {MIN_YEAR} to "
                f"{MAX_YEAR} only."
            )
        return parsed

    return parse_bounded


BoundedDate = _bounded(
    DateDefinition, _within_years(DateDefinition.parse_value, "Date"), date
)
BoundedDateTime = _bounded(
    DateTimeDefinition,
    _within_years(DateTimeDefinition.parse_value, "DateTime"),
    datetime,
)
