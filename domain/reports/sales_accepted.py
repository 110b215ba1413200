"""SAO / SQO / SCLAU per period (D11), by initial source type or qualification source.

- SAO: an opportunity whose ``sales_accepted_date`` falls in the period.
- SQO: one whose ``sales_qualified_date`` falls in the period (so an
  opportunity accepted in March and qualified in April is an SAO of March
  and an SQO of April).
- SCLAU: an SAO whose account is LARGE or STRATEGIC (a named account).

One statement: the SAO rows and the SQO rows of the window (UNION ALL),
grouped by period and group key; periods are UTC calendar months or
quarters, bucketed in SQL (``domain.reports.sql``).

**Decisions** where D11 is silent:

* The window is whole periods: every period from the one holding the first
  day to the one holding the last day, both in full (asking January 15 to
  February 2 by month reports all of January and February). At most 120
  periods (ten years of months).
* Every period of the window is listed, in order, even when nothing happened
  in it (zeros), so a chart has no gaps. Inside a period, ``groups`` lists
  only the keys with a non-zero count (sorted by key); the report's own
  ``groups`` are the totals of the window per key.
* The initial source type is that of the opportunity's ``initial_source``
  (copied from the lead on conversion), per ``domain.rules.
  initial_source_types``; no qualification source is the key ``NONE``.
* Segment and region criteria are the account's, as in every report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    case,
    func,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, SalesSegment
from domain.errors import Refusal, refuse_if
from domain.records import Account, Opportunity
from domain.reports.scope import OpportunityScope
from domain.reports.sql import DayRange, utc_month_index, utc_quarter_index
from domain.rules.initial_source_types import (
    INITIAL_SOURCE_TYPES,
    InitialSourceType,
    source_key,
)

Opp = Opportunity
Acct = Account

MAX_PERIODS = 120
NONE_KEY = "NONE"
LARGE_AND_UP = (SalesSegment.STRATEGIC, SalesSegment.LARGE)


class ReportPeriod(StrEnum):
    """The length of a reporting period (UTC calendar)."""

    MONTH = "MONTH"
    QUARTER = "QUARTER"


class SaoDimension(StrEnum):
    """What SAO counts can be broken down by."""

    INITIAL_SOURCE_TYPE = "INITIAL_SOURCE_TYPE"
    SALES_QUALIFICATION_SOURCE = "SALES_QUALIFICATION_SOURCE"
    PIPELINE = "PIPELINE"


_MONTHS_PER = {ReportPeriod.MONTH: 1, ReportPeriod.QUARTER: 3}


@dataclass(frozen=True, slots=True)
class Period:
    """One reporting period: its first and last day and its label."""

    index: int
    first: date
    last: date
    label: str


def period_index(day: date, unit: ReportPeriod) -> int:
    """The period holding ``day``: year x 12 + month - 1, or year x 4 + quarter - 1
    (the same integers as ``utc_month_index`` / ``utc_quarter_index``)."""
    if unit == ReportPeriod.MONTH:
        return day.year * 12 + day.month - 1
    return day.year * 4 + (day.month - 1) // 3


def period(index: int, unit: ReportPeriod) -> Period:
    """The period with that index."""
    months = _MONTHS_PER[unit]
    year, first_month = divmod(index * months, 12)
    first = date(year, first_month + 1, 1)
    after_year, after_month = divmod(index * months + months, 12)
    last = date(after_year, after_month + 1, 1) - timedelta(days=1)
    if unit == ReportPeriod.MONTH:
        label = f"{year:04d}-{first_month + 1:02d}"
    else:
        label = f"{year:04d}-Q{first_month // 3 + 1}"
    return Period(index=index, first=first, last=last, label=label)


def initial_source_type_column(column: Any) -> ColumnElement[str]:
    """SQL giving ``domain.rules.initial_source_types.initial_source_type``."""
    key = func.lower(func.trim(column))
    by_key = {
        source_key(name): kind.value for name, kind in INITIAL_SOURCE_TYPES.items()
    }
    return case(
        (column.is_(None), InitialSourceType.UNKNOWN.value),
        (key == "", InitialSourceType.UNKNOWN.value),
        else_=case(by_key, value=key, else_=InitialSourceType.OTHER.value),
    )


def _dimension_column(dimension: SaoDimension | None) -> ColumnElement[Any]:
    if dimension == SaoDimension.INITIAL_SOURCE_TYPE:
        return initial_source_type_column(col(Opp.initial_source))
    if dimension == SaoDimension.SALES_QUALIFICATION_SOURCE:
        # As plain text: NONE is not a value of the enum column's type.
        source = type_coerce(col(Opp.sales_qualification_source), String)
        return func.coalesce(source, NONE_KEY)
    if dimension == SaoDimension.PIPELINE:
        return type_coerce(col(Opp.pipeline), String)
    return literal_column("''")


@dataclass(frozen=True)
class SalesAcceptedQuery:
    """What to count: the days, the period length, the breakdown, the scope."""

    after: date
    before: date
    unit: ReportPeriod = ReportPeriod.MONTH
    group_by: SaoDimension | None = None
    scope: OpportunityScope = field(default_factory=OpportunityScope)

    @property
    def window(self) -> DayRange:
        """The days asked: ``after`` up to, not including, ``before``."""
        return DayRange(self.after, self.before)

    def refusals(self) -> list[Refusal]:
        """An empty window, or one of more than MAX_PERIODS periods."""
        found = self.window.refusals("after", "before")
        if not found:
            count = len(self._indexes())
            if count > MAX_PERIODS:
                found.append(
                    Refusal.on(
                        "before",
                        ErrorCode.INVALID_INPUT,
                        f"The window spans {count} periods; at most {MAX_PERIODS} "
                        "are reported at once.",
                    )
                )
        return found

    def _indexes(self) -> range:
        last_day = self.window.last
        assert last_day is not None
        return range(
            period_index(self.after, self.unit), period_index(last_day, self.unit) + 1
        )

    def periods(self) -> list[Period]:
        """Every period holding a day of the window, in order."""
        return [period(i, self.unit) for i in self._indexes()]


@dataclass(frozen=True, slots=True)
class SaoCounts:
    """SAO, SQO and SCLAU counts."""

    sao: int = 0
    sqo: int = 0
    sclau: int = 0

    def __add__(self, other: SaoCounts) -> SaoCounts:
        return SaoCounts(
            self.sao + other.sao, self.sqo + other.sqo, self.sclau + other.sclau
        )


@dataclass(frozen=True, slots=True)
class SaoGroup:
    """The counts of one key of the breakdown."""

    key: str
    counts: SaoCounts


@dataclass(frozen=True, slots=True)
class SaoPeriod:
    """One period: its counts and their breakdown."""

    period: Period
    counts: SaoCounts
    groups: list[SaoGroup]


@dataclass(frozen=True, slots=True)
class SalesAcceptedReport:
    """Every period of the window, and the window's totals."""

    periods: list[SaoPeriod]
    counts: SaoCounts
    groups: list[SaoGroup]


def _groups(found: dict[str, SaoCounts]) -> list[SaoGroup]:
    return [SaoGroup(key, found[key]) for key in sorted(found)]


async def sales_accepted_opportunities(
    query: SalesAcceptedQuery, *, session: AsyncSession
) -> SalesAcceptedReport:
    """SAO/SQO/SCLAU per period of the window (one query)."""
    refuse_if(query.refusals())
    await query.scope.check(session)
    periods = query.periods()
    window = DayRange(periods[0].first, periods[-1].last + timedelta(days=1))
    bucket_of = (
        utc_month_index if query.unit == ReportPeriod.MONTH else utc_quarter_index
    )
    key = _dimension_column(query.group_by)
    large_and_up = case((col(Acct.sales_segment).in_(LARGE_AND_UP), 1), else_=0)

    def leg(moment: Any, sao: int, sqo: int, sclau: Any) -> Any:
        stmt = select(
            bucket_of(moment).label("bucket"),
            key.label("key"),
            literal_column(str(sao)).label("sao"),
            literal_column(str(sqo)).label("sqo"),
            sclau.label("sclau"),
        ).where(*window.conditions(moment))
        return query.scope.apply(stmt.select_from(Opp), join_account=True)

    rows = union_all(
        leg(col(Opp.sales_accepted_date), 1, 0, large_and_up),
        leg(col(Opp.sales_qualified_date), 0, 1, literal_column("0")),
    ).subquery()
    stmt = select(
        rows.c.bucket,
        rows.c.key,
        func.sum(rows.c.sao),
        func.sum(rows.c.sqo),
        func.sum(rows.c.sclau),
    ).group_by(rows.c.bucket, rows.c.key)

    by_period: dict[int, dict[str, SaoCounts]] = {}
    for bucket, group_key, sao, sqo, sclau in (await session.execute(stmt)).all():
        counts = SaoCounts(int(sao), int(sqo), int(sclau))
        by_period.setdefault(int(bucket), {})[str(group_key)] = counts
    totals: dict[str, SaoCounts] = {}
    report_periods = []
    for p in periods:
        found = by_period.get(p.index, {})
        for group_key, counts in found.items():
            totals[group_key] = totals.get(group_key, SaoCounts()) + counts
        report_periods.append(
            SaoPeriod(
                period=p,
                counts=sum(found.values(), SaoCounts()),
                groups=_groups(found) if query.group_by else [],
            )
        )
    return SalesAcceptedReport(
        periods=report_periods,
        counts=sum(totals.values(), SaoCounts()),
        groups=_groups(totals) if query.group_by else [],
    )
