"""Field validation as data: each input field has a list of named checks.

A check takes ``(field, value)`` and returns refusals (empty = valid). Field
names are the domain's snake_case; the API edge shows them in camelCase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from domain.enums import ErrorCode
from domain.errors import Refusal, camel
from domain.rules.matching import is_valid_email

Check = Callable[[str, Any], list[Refusal]]

UNKNOWN_SOURCE = "unknown"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def required(field: str, value: Any) -> list[Refusal]:
    """The field must have a non-blank value."""
    if _blank(value):
        return [
            Refusal.on(field, ErrorCode.MISSING_FIELD, f"{camel(field)} is required.")
        ]
    return []


def valid_email(field: str, value: Any) -> list[Refusal]:
    """A syntactically valid email address (or nothing)."""
    if _blank(value):
        return []
    if not isinstance(value, str) or not is_valid_email(value):
        return [
            Refusal.on(
                field,
                ErrorCode.INVALID_INPUT,
                f"{value!r} is not a valid email address.",
            )
        ]
    return []


def non_negative(field: str, value: Any) -> list[Refusal]:
    """A number that is zero or more (or nothing)."""
    if value is None:
        return []
    if not isinstance(value, int | Decimal) or value < 0:
        return [
            Refusal.on(
                field, ErrorCode.INVALID_INPUT, f"{camel(field)} must not be negative."
            )
        ]
    return []


def money(field: str, value: Any) -> list[Refusal]:
    """An amount of zero or more with at most two decimal places (cents)."""
    found = non_negative(field, value)
    if (
        not found
        and isinstance(value, Decimal)
        and value != value.quantize(Decimal("0.01"))
    ):
        found.append(
            Refusal.on(
                field,
                ErrorCode.INVALID_INPUT,
                f"{camel(field)} has more than two decimal places.",
            )
        )
    return found


def known_initial_source(field: str, value: Any) -> list[Refusal]:
    """Records made by hand must name their first touch; 'Unknown' is refused (D4)."""
    found = required(field, value)
    if not found and str(value).strip().lower() == UNKNOWN_SOURCE:
        found.append(
            Refusal.on(
                field,
                ErrorCode.INVALID_INPUT,
                "'Unknown' is not accepted as an initial source for records "
                "created by hand; name the first known touch.",
            )
        )
    return found


def initial_source_change_refusals(
    current: str | None, values: Mapping[str, Any]
) -> list[Refusal]:
    """D4: once set, ``initial_source`` never changes (the first known touch)."""
    new = values.get("initial_source", current)
    if current is not None and new != current:
        return [
            Refusal.on(
                "initial_source",
                ErrorCode.IMMUTABLE_FIELD,
                f"initialSource is {current!r} and can never change (the first "
                "known touch is kept).",
            )
        ]
    return []


def max_length(limit: int) -> Check:
    """A string of at most ``limit`` characters."""

    def check(field: str, value: Any) -> list[Refusal]:
        if isinstance(value, str) and len(value) > limit:
            return [
                Refusal.on(
                    field,
                    ErrorCode.INVALID_INPUT,
                    f"{camel(field)} is longer than {limit} characters.",
                )
            ]
        return []

    check.__name__ = f"max_length_{limit}"
    return check


def currency_code(field: str, value: Any) -> list[Refusal]:
    """An ISO 4217 code: three capital letters."""
    if value is None or (isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value)):
        return []
    return [
        Refusal.on(field, ErrorCode.INVALID_INPUT, f"{value!r} is not an ISO currency.")
    ]


def validate(
    values: Mapping[str, Any],
    rules: Mapping[str, Sequence[Check]],
    *,
    required_fields: Sequence[str] = (),
) -> list[Refusal]:
    """Every refusal for ``values``: required fields first, then each field's checks."""
    found: list[Refusal] = []
    for field in required_fields:
        if field not in rules:
            found += required(field, values.get(field))
    for field, checks in rules.items():
        if field in values or field in required_fields:
            for check in checks:
                found += check(field, values.get(field))
    # A field's checks may overlap (e.g. known_initial_source includes required).
    return list(dict.fromkeys(found))


def normalize_email(value: str | None) -> str | None:
    """Emails are compared and stored trimmed and lower-cased."""
    if value is None or not value.strip():
        return None
    return value.strip().lower()
