"""SQL building blocks the reports share, equal on SQLite and PostgreSQL.

- ``utc_month_index`` / ``utc_quarter_index``: a timestamp's UTC calendar
  month (year x 12 + month - 1) or quarter (year x 4 + quarter - 1) as one
  integer, so a GROUP BY on it buckets by period. SQLite stores UTC text and
  reads it with ``strftime``; PostgreSQL reads ``timestamptz AT TIME ZONE
  'UTC'``, so the session's time zone never matters.
- ``epoch_seconds``: whole seconds since 1970 (fractions dropped), an integer
  on both databases, so durations add up exactly.
- ``middle_rows``: the median of a group, as the sum and the number (1 or 2)
  of its middle values (see ``Median``).
- ``DayRange``: UTC days [after, before) as a half-open range of instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from domain.enums import ErrorCode
from domain.errors import Refusal


class _UTCPart(FunctionElement[int]):
    """One integer field of a timestamp read in UTC (``YEAR`` or ``MONTH``)."""

    type = Integer()
    inherit_cache = True
    part = ""


class _UTCYear(_UTCPart):
    part = "YEAR"
    inherit_cache = True


class _UTCMonth(_UTCPart):
    part = "MONTH"
    inherit_cache = True


_STRFTIME = {"YEAR": "%Y", "MONTH": "%m"}


@compiles(_UTCYear)
@compiles(_UTCMonth)
def _utc_part_default(element: _UTCPart, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(EXTRACT({element.part} FROM {column} AT TIME ZONE 'UTC') AS INTEGER)"


@compiles(_UTCYear, "sqlite")
@compiles(_UTCMonth, "sqlite")
def _utc_part_sqlite(element: _UTCPart, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(strftime('{_STRFTIME[element.part]}', {column}) AS INTEGER)"


class _EpochSeconds(FunctionElement[int]):
    """Whole seconds since 1970-01-01 UTC."""

    type = BigInteger()
    inherit_cache = True


@compiles(_EpochSeconds)
def _epoch_default(element: _EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


@compiles(_EpochSeconds, "sqlite")
def _epoch_sqlite(element: _EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def utc_month_index(column: Any) -> ColumnElement[int]:
    """year x 12 + (month - 1) of the UTC timestamp."""
    return _UTCYear(column) * 12 + _UTCMonth(column) - 1


def utc_quarter_index(column: Any) -> ColumnElement[int]:
    """year x 4 + (quarter - 1) of the UTC timestamp (integer division)."""
    return _UTCYear(column) * 4 + (_UTCMonth(column) - 1) // 3


def epoch_seconds(column: Any) -> ColumnElement[int]:
    """Whole seconds since 1970 of the timestamp."""
    return _EpochSeconds(column)


def middle_rows(
    value: Any, position: Any, size: Any
) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """SUM and COUNT of a group's middle value(s), for ``Median``.

    ``position`` is the row's ROW_NUMBER (from 1) in ascending ``value``
    order within its group and ``size`` the group's COUNT: the middle rows
    are those at (size + 1) / 2 and (size + 2) / 2 in integer division —
    one row when the size is odd, two when it is even.
    """
    middle = position.in_([(size + 1) // 2, (size + 2) // 2])
    return (
        func.sum(case((middle, value), else_=0)),
        func.sum(case((middle, 1), else_=0)),
    )


def median(middle_sum: int | None, middle_count: int | None) -> float | None:
    """The median from ``middle_rows``: the middle value, or the mean of the two
    middle values when the group's size is even; None for an empty group."""
    if not middle_count:
        return None
    return int(middle_sum or 0) / int(middle_count)


@dataclass(frozen=True, slots=True)
class DayRange:
    """UTC days from ``after`` (inside) up to ``before`` (outside), either open:
    the API's one window shape (``…After`` / ``…Before``), as instants
    [start, end). A quarter is ``after=2024-01-01, before=2024-04-01``."""

    after: date | None = None
    before: date | None = None

    @property
    def start(self) -> datetime | None:
        """The first instant inside (00:00 UTC of ``after``)."""
        return day_start(self.after) if self.after is not None else None

    @property
    def end(self) -> datetime | None:
        """The first instant outside (00:00 UTC of ``before``)."""
        return day_start(self.before) if self.before is not None else None

    @property
    def last(self) -> date | None:
        """The last day inside."""
        return self.before - timedelta(days=1) if self.before is not None else None

    def refusals(self, after_field: str, before_field: str) -> list[Refusal]:
        """An empty window (``before`` not after ``after``) is refused on
        ``before_field``."""
        if (
            self.after is not None
            and self.before is not None
            and self.before <= self.after
        ):
            return [
                Refusal.on(
                    before_field,
                    ErrorCode.INVALID_INPUT,
                    f"The window is empty: it ends before {self.before.isoformat()}, "
                    f"which is not after its start ({self.after.isoformat()}).",
                )
            ]
        return []

    def conditions(self, column: Any) -> list[ColumnElement[bool]]:
        """``column`` inside the window."""
        found = []
        if self.start is not None:
            found.append(column >= self.start)
        if self.end is not None:
            found.append(column < self.end)
        return found


def day_start(day: date) -> datetime:
    """00:00 UTC of the day."""
    return datetime.combine(day, time(0), tzinfo=UTC)
