"""One pipeline for the versioned rule tables (D5 regions, D6 scoring): an edit
makes a new version and re-derives what the table decides, in one transaction.

Every edit goes the same way, whichever table it changes:

1. only SALES_OPS and ADMIN edit a table; the head rows are locked for the edit
   (``rule_tables.lock_for_edit``) and the edit must be made on the current
   version (``expectedVersion``, else STALE_VERSION);
2. the table-specific edit is applied to the current table (refused with every
   reason it fails);
3. the new version row (who, when, why) and the table's rows are written, the
   head moves to the new version, and the rest of the transaction reads it;
4. the records the table derives are re-derived in bulk (set-based SQL, counts
   kept on the version row);
5. bulk statements pass by the flush hook that keeps funnel entries (D11), so
   when the re-derivation writes a column an entry copies
   (``milestones.COPIED_COLUMNS``) the entries are refreshed in the same
   transaction.

What differs stays with each table (``scoring_table``, ``region_table``): how an
edit applies, the columns of its version row, its rows, its re-derivation, and
how a stored version is read back for the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.errors import refuse_if
from domain.records import Account, Lead, Opportunity, RuleTableHead
from domain.rules.permissions import Actor, may_edit_rule_tables
from domain.services.loading import check_version
from domain.services.milestones import COPIED_COLUMNS, refresh_entries
from domain.services.rule_tables import (
    RuleTables,
    lock_for_edit,
    remember_edit,
    rule_tables,
)
from domain.sqltypes import utcnow


class Table(Protocol):
    """A rule table: immutable data with the number of its version."""

    @property
    def version(self) -> int:
        """Its version number."""
        ...


T = TypeVar("T", bound=Table)


@dataclass(frozen=True, slots=True)
class VersionedTable(Generic[T]):
    """What the pipeline needs to know of one versioned table."""

    head: str  # its row in rule_table_heads
    field: str  # its attribute in RuleTables
    title: str  # how refusals name it ("the scoring table")
    record: type[Any]  # the model of its version rows
    # The lead and account columns its re-derivation writes.
    derives: frozenset[str]

    def of(self, tables: RuleTables) -> T:
        """This table among the current ones."""
        table: T = getattr(tables, self.field)
        return table

    def replaced(self, tables: RuleTables, table: T) -> RuleTables:
        """The current tables with this one replaced by ``table``."""
        changes: dict[str, Any] = {self.field: table}
        return replace(tables, **changes)

    def moves_funnel_entries(self) -> bool:
        """Whether its re-derivation writes a column that funnel entries copy."""
        return bool(self.derives & COPIED_COLUMNS)


async def edit_table(
    kind: VersionedTable[T],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int,
    note: str | None,
    now: datetime | None,
    apply: Callable[[T], T],
    version_values: Callable[[T], dict[str, Any]],
    write_rows: Callable[[AsyncSession, T, T], Awaitable[None]],
    rederive: Callable[[AsyncSession, T, datetime], Awaitable[dict[str, int]]],
) -> Any:
    """Write the next version of a table and re-derive from it; its version row.

    ``apply(current)`` gives the new table (or raises ``Refused``);
    ``version_values(new)`` the table's own columns of the version row;
    ``write_rows(session, new, current)`` writes its rows; ``rederive(session,
    new, now)`` re-derives in bulk and returns counts kept on the version row.
    Like the version bump of a flush, ``rederive`` stamps every record it
    changes with ``version + 1`` and ``updated_at = now``: the funnel entries
    refreshed are those of the records so stamped.
    """
    refuse_if(may_edit_rule_tables(actor, kind.title))
    tables = await lock_for_edit(session)
    current = kind.of(tables)
    check_version(current, expected_version)
    table = apply(current)
    now = now or utcnow()

    row = kind.record(
        version=table.version,
        changed_by_id=actor.id,
        changed_at=now,
        note=(note or "").strip() or None,
        **version_values(table),
    )
    session.add(row)
    await session.flush()
    await write_rows(session, table, current)
    head = await session.get(RuleTableHead, kind.head)
    assert head is not None  # seeded by the migration
    head.version = row.version
    head.changed_at = now
    await session.flush()
    remember_edit(session, kind.replaced(tables, table))

    for name, count in (await rederive(session, table, now)).items():
        setattr(row, name, count)
    if kind.moves_funnel_entries():
        # Only the records the re-derivation changed (it stamps them updated_at = now).
        await session.run_sync(
            refresh_entries,
            lead_ids=select(col(Lead.id)).where(col(Lead.updated_at) == now),
            opportunity_ids=select(col(Opportunity.id)).where(
                col(Opportunity.account_id).in_(
                    select(col(Account.id)).where(col(Account.updated_at) == now)
                )
            ),
        )
    await session.flush()
    return row


async def edit_document_table(
    kind: VersionedTable[T],
    table: T,
    *,
    validate: Callable[[T], list[Any]],
    to_document: Callable[[T], dict[str, Any]],
    rederive: Callable[[AsyncSession, T, datetime], Awaitable[dict[str, int]]]
    | None = None,
    session: AsyncSession,
    actor: Actor,
    expected_version: int,
    note: str | None,
    now: datetime | None,
) -> Any:
    """``edit_table`` for a table stored as one document per version (stage
    requirements, timeouts): ``table`` as given, validated whole, becomes the
    next version (its own ``version`` is ignored); no rows of its own;
    ``rederive`` what it derives, if anything. Its version row."""

    def apply(current: T) -> T:
        refuse_if(validate(table))
        return replace(table, version=current.version + 1)  # type: ignore[type-var]

    async def no_rows(*_: Any) -> None:
        return None

    async def nothing_derived(*_: Any) -> dict[str, int]:
        return {}

    return await edit_table(
        kind,
        session=session,
        actor=actor,
        expected_version=expected_version,
        note=note,
        now=now,
        apply=apply,
        version_values=lambda new: {"document": to_document(new)},
        write_rows=no_rows,
        rederive=rederive or nothing_derived,
    )


async def version_rows(
    session: AsyncSession,
    kind: VersionedTable[Any],
    *,
    version: int | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Stored version rows, newest first: one ``version``, or the ``limit`` newest."""
    record = kind.record
    stmt = select(record).order_by(record.version.desc())
    if version is not None:
        stmt = stmt.where(record.version == version)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars())


async def current_version(session: AsyncSession, kind: VersionedTable[Any]) -> int:
    """The version of the table in force now."""
    return kind.of(await rule_tables(session)).version
