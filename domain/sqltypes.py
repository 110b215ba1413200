"""Column types that behave the same on SQLite and PostgreSQL.

- ``UTCDateTime``: always timezone-aware UTC in Python; stored as
  ``timestamptz`` on PostgreSQL and as naive UTC text on SQLite.
- ``Money``: a ``Decimal`` with two places in Python, stored as integer cents
  (SQLite has no exact decimal; cents make sums exact on both databases).
- ``enum_column``: enum values stored as plain strings (no native PG enum, so
  adding a value is not a schema migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A timezone-aware UTC datetime; naive values are taken to be UTC."""
    zone = value.tzinfo
    if zone is UTC:
        return value
    if zone is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Store UTC; SQLite gets it naive (it has no time zones)."""
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        return as_utc(value)


def to_cents(amount: Decimal) -> int:
    """Exact integer cents for a decimal amount (banker's rounding past cents)."""
    return int((amount / CENT).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_cents(cents: int) -> Decimal:
    """The decimal amount for integer cents."""
    return (Decimal(cents) * CENT).quantize(CENT)


class Money(TypeDecorator[Decimal]):
    """A money amount as ``Decimal`` in Python, integer cents in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Any:
        """Decimal -> cents."""
        if value is None:
            return None
        return to_cents(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Cents -> Decimal."""
        if value is None:
            return None
        return from_cents(int(value))


def enum_column(enum: type[Enum]) -> SAEnum:
    """An enum stored as its value in a VARCHAR, without a native type."""
    return SAEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=40,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
