"""The ``Decimal`` scalar, bounded: what a request may give as an amount.

strawberry's own ``Decimal`` accepts ``NaN``, ``Infinity`` and ``1e30``,
which no money column can hold (money is integer cents, D1). This one parses
the same text but refuses, as a coercion error (``INVALID_INPUT`` naming the
field), a value that is not finite, of a magnitude of 10^13 or more, or with
more than 6 decimal places. Whether an amount may have fractions of a cent
is the domain's rule (``domain.rules.validation.money``), answered in
``userErrors``.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

MAX_MAGNITUDE = Decimal(10) ** 13
MAX_PLACES = 6
MAX_TEXT = 64


def parse_decimal(value: object) -> Decimal:
    """A finite decimal below 10^13 with at most 6 places, or a coercion error."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise StrawberryInputCoercionError(f"Decimal cannot represent {value!r}.")
    text = value if isinstance(value, str) else str(value)
    try:
        amount = Decimal(text) if len(text) <= MAX_TEXT else None
    except decimal.DecimalException:
        amount = None
    if amount is None or not amount.is_finite():
        raise StrawberryInputCoercionError(
            f"Decimal cannot represent {text[:MAX_TEXT]!r}: not a finite number."
        )
    if abs(amount) >= MAX_MAGNITUDE:
        raise StrawberryInputCoercionError(
            f"Decimal cannot represent {text!r}: at most 10^13 in magnitude."
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise StrawberryInputCoercionError(
            f"Decimal cannot represent {text!r}: at most {MAX_PLACES} decimal places."
        )
    return amount


BoundedDecimal = ScalarDefinition(
    name=DecimalDefinition.name,
    description=DecimalDefinition.description,
    specified_by_url=None,
    serialize=DecimalDefinition.serialize,
    parse_value=parse_decimal,
    parse_literal=None,
    origin=Decimal,
)
