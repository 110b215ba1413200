"""The current scoring (D6), region (D5), stage requirements (D3 rule 5) and
timeouts (issue 14 item 4) tables, read cheaply and consistently.

They are versioned data in the database; ``rule_table_heads`` names the
current version of each. Reading them costs one small statement (the head
rows); the tables themselves are cached per process by (version, changed_at),
so a version is loaded from the database once per process, and a process
notices another one's edit on its next read.

Consistency with edits (PostgreSQL; SQLite runs one write transaction at a
time, so nothing interleaves there):

- A use case that scores a lead or derives a region from the tables
  (``lock=True``) holds both head rows ``FOR KEY SHARE`` until it commits, and
  takes them *before* it locks any lead or account row, email or pool (the
  one order of every lock is ``domain.services.locks``'s).
- An edit holds both head rows ``FOR UPDATE`` (``lock_for_edit``) for its whole
  transaction: it waits for the writers already running, and writers that
  start meanwhile wait for it, then read the new head (PostgreSQL re-reads a
  row updated by the transaction it waited for). So the edit's bulk recompute
  sees every committed write, and no write commits a score or region computed
  from the previous version after it. Both heads are locked, in name order,
  by everyone, so two edits (a scoring and a region one) queue instead of
  deadlocking on the leads they both update.
- Reads that only display or check (scoreBreakdown, the MQL guard, routing's
  threshold) take no lock.

Within one transaction the tables are read once (kept in ``session.info``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.records import (
    RegionTableRow,
    RuleTableHead,
    ScoringFreeMailDomain,
    ScoringTablePoints,
    ScoringTableVersion,
    StageRequirementsVersion,
    TimeoutsVersion,
)
from domain.rules import timeouts as timeout_rules
from domain.rules.scoring import DEFAULT_SCORING_TABLE, RULE_IDS, ScoringTable
from domain.rules.segmentation import RegionRow, RegionTable, region_table_of
from domain.rules.stage_requirements import StageRequirements, from_document
from domain.rules.timeouts import Timeouts

SCORING = "SCORING"
REGIONS = "REGIONS"
STAGE_REQUIREMENTS = "STAGE_REQUIREMENTS"
TIMEOUTS = "TIMEOUTS"
# Versions kept per process and table; older ones are dropped first.
CACHE_SIZE = 8
_MEMO = "salesops.rule_tables"


@dataclass(frozen=True, slots=True)
class RuleTables:
    """The rule tables a use case works with."""

    scoring: ScoringTable
    regions: RegionTable
    stage_requirements: StageRequirements
    timeouts: Timeouts


# Per table: (version, changed_at) -> table; changed_at tells apart two
# databases (or a test database reset) that reuse a version number.
_caches: dict[str, dict[tuple[int, datetime], Any]] = {
    SCORING: {},
    REGIONS: {},
    STAGE_REQUIREMENTS: {},
    TIMEOUTS: {},
}


async def load_scoring_table(session: AsyncSession, version: int) -> ScoringTable:
    """One stored version of the scoring table (no cache)."""
    row = await session.get(ScoringTableVersion, version)
    if row is None:
        raise LookupError(f"no scoring table version {version}")
    points: dict[str, int] = dict(
        (
            await session.execute(
                select(
                    col(ScoringTablePoints.rule), col(ScoringTablePoints.points)
                ).where(col(ScoringTablePoints.version) == version)
            )
        ).all()
    )
    domains = (
        await session.execute(
            select(col(ScoringFreeMailDomain.domain)).where(
                col(ScoringFreeMailDomain.version) == version
            )
        )
    ).scalars()
    # Only what is stored counts: a kind without a row scores 0 here as in the
    # SQL rescore (``domain.services.scoring_table``), which joins these rows.
    table = replace(
        DEFAULT_SCORING_TABLE,
        engagement_points=MappingProxyType({}),
        free_mail_domains=frozenset(domains),
        mql_threshold=row.mql_threshold,
        routing_threshold=row.routing_threshold,
        version=version,
    )
    return table.with_points({r: p for r, p in points.items() if r in RULE_IDS})


async def load_region_table(session: AsyncSession, version: int) -> RegionTable:
    """One stored version of the region table (no cache)."""
    rows = (
        await session.execute(
            select(
                col(RegionTableRow.country),
                col(RegionTableRow.state),
                col(RegionTableRow.region),
            ).where(col(RegionTableRow.version) == version)
        )
    ).all()
    return region_table_of(
        (RegionRow(country, state or None, region) for country, state, region in rows),
        version=version,
    )


async def load_stage_requirements(
    session: AsyncSession, version: int
) -> StageRequirements:
    """One stored version of the stage requirements (no cache)."""
    row = await session.get(StageRequirementsVersion, version)
    if row is None:
        raise LookupError(f"no stage requirements version {version}")
    return from_document(row.document, version)


async def load_timeouts(session: AsyncSession, version: int) -> Timeouts:
    """One stored version of the timeouts table (no cache)."""
    row = await session.get(TimeoutsVersion, version)
    if row is None:
        raise LookupError(f"no timeouts version {version}")
    return timeout_rules.from_document(row.document, version)


# How each table is loaded from its version (``table_at`` caches the result).
_LOADERS: dict[str, Callable[[AsyncSession, int], Awaitable[Any]]] = {
    SCORING: load_scoring_table,
    REGIONS: load_region_table,
    STAGE_REQUIREMENTS: load_stage_requirements,
    TIMEOUTS: load_timeouts,
}


@cache
def _heads_statement(lock: str | None) -> Any:
    """The heads' SELECT (``lock``: none, "share" or "update"), built once:
    building it and its cache key cost more than running it (measured)."""
    stmt = select(
        col(RuleTableHead.name),
        col(RuleTableHead.version),
        col(RuleTableHead.changed_at),
    ).order_by(RuleTableHead.name)
    if lock == "share":
        return stmt.with_for_update(read=True, key_share=True)
    if lock == "update":
        return stmt.with_for_update()
    return stmt


async def _heads(
    session: AsyncSession, lock: str | None
) -> dict[str, tuple[int, datetime]]:
    rows = await session.execute(_heads_statement(lock))
    return {name: (version, at) for name, version, at in rows}


async def table_at(
    session: AsyncSession, name: str, version: int, changed_at: datetime
) -> Any:
    """Table ``name`` of the head (version, changed_at) — as read by
    ``_heads`` or ``head_columns`` — loaded once per process."""
    cache = _caches[name]
    key = (version, changed_at)
    table = cache.get(key)
    if table is None:
        table = await _LOADERS[name](session, version)
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = table
    return table


def _transaction(session: AsyncSession) -> Any:
    return session.sync_session.get_transaction()


async def _read(session: AsyncSession, lock: str | None) -> RuleTables:
    memo = session.info.get(_MEMO)
    current = _transaction(session)
    if memo is not None and memo[0] is current and current is not None:
        held, tables = memo[1], memo[2]
        if lock is None or held == "update" or held == lock:
            return tables
    heads = await _heads(session, lock)
    tables = RuleTables(
        scoring=await table_at(session, SCORING, *heads[SCORING]),
        regions=await table_at(session, REGIONS, *heads[REGIONS]),
        stage_requirements=await table_at(
            session, STAGE_REQUIREMENTS, *heads[STAGE_REQUIREMENTS]
        ),
        timeouts=await table_at(session, TIMEOUTS, *heads[TIMEOUTS]),
    )
    session.info[_MEMO] = (_transaction(session), lock, tables)
    return tables


def head_columns(name: str) -> tuple[Any, Any]:
    """A table's head (version, changed_at) as two scalar subqueries, for a use
    case that reads it in the statement that locks its record (no lock on the
    head: for reads that only check, as the MQL guard and the stage guards;
    the table itself comes from the process's cache: ``table_at``)."""
    head = RuleTableHead.__table__.c  # type: ignore[attr-defined]
    return tuple(  # type: ignore[return-value]
        select(column).where(head.name == name).scalar_subquery()
        for column in (head.version, head.changed_at)
    )


async def rule_tables(session: AsyncSession, *, lock: bool = False) -> RuleTables:
    """The current tables; ``lock`` when the use case writes scores or regions
    from them (call it before locking any lead or account row)."""
    return await _read(session, "share" if lock else None)


async def lock_for_edit(session: AsyncSession) -> RuleTables:
    """The current tables, with every head locked for an edit until commit."""
    return await _read(session, "update")


def remember_edit(session: AsyncSession, tables: RuleTables) -> None:
    """After an edit wrote a new version: the rest of its transaction uses it."""
    session.info[_MEMO] = (_transaction(session), "update", tables)
