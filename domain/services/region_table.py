"""Editing the D5 region table, and re-deriving regions in bulk (updateRegionTable).

An edit writes a new version of the table (every row, who, when, why; the old
versions stay readable) and, in the same transaction, re-derives the region of
every lead (from its address) and every account (from its billing address).
Contacts and users store no derived region. The steps every versioned table
shares (permission, head lock, version check, version row, head, funnel
entries) are ``domain.services.versioned_table``'s; this module holds what is
the region table's own: its rows and its re-derivation. Funnel entries copy
the region (a lead's, or a direct opportunity's account's), so the edit
refreshes them in the same transaction.

The re-derivation keeps ``region_for`` the one definition of a region: the
distinct (country, state, public sector, region) combinations are read with a
GROUP BY (a few thousand even for millions of records), ``region_for`` decides
each with the new table, and one UPDATE … FROM per batch of changed
combinations (a VALUES list joined on the address) writes the records whose
region changes (``version`` + 1). No statement runs per record.

Decisions where the spec is silent: SALES_OPS and ADMIN edit the table;
``expectedVersion`` is required. A lead's region follows its own address, except
that an open lead linked to an account with a region takes the account's (as
``lead_profile.refresh_lead_derived`` does, D5): accounts are re-derived first,
leads by address apart from those, then the linked leads follow their accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.errors import refuse_if
from domain.records import (
    Account,
    Lead,
    RegionTableRow,
    RegionTableVersion,
)
from domain.rules.permissions import Actor
from domain.rules.segmentation import (
    RegionRow,
    RegionTable,
    RegionTableEdit,
    region_for,
    region_table_of,
)
from domain.services.rule_tables import (
    REGIONS,
)
from domain.services.versioned_table import VersionedTable, edit_table, version_rows

# Changed address combinations per UPDATE (4 bound values each).
BATCH = 500


@dataclass(frozen=True, slots=True)
class RegionTableChange:
    """A new version of the region table and how many records it re-derived."""

    version: RegionTableVersion
    leads_rederived: int
    accounts_rederived: int


REGION_TABLE: VersionedTable[RegionTable] = VersionedTable(
    head=REGIONS,
    field="regions",
    title="the region table",
    record=RegionTableVersion,
    derives=frozenset({"region"}),
)


async def update_region_table(
    edit: RegionTableEdit,
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int,
    note: str | None = None,
    now: datetime | None = None,
) -> RegionTableChange:
    """Write the next version of the region table and re-derive every region."""

    def apply(current: RegionTable) -> RegionTable:
        refuse_if(edit.refusals(current))
        return edit.applied_to(current)

    row = await edit_table(
        REGION_TABLE,
        session=session,
        actor=actor,
        expected_version=expected_version,
        note=note,
        now=now,
        apply=apply,
        version_values=lambda _table: {},
        write_rows=_write_rows,
        rederive=_rederive,
    )
    return RegionTableChange(
        version=row,
        leads_rederived=row.leads_rederived,
        accounts_rederived=row.accounts_rederived,
    )


async def _write_rows(
    session: AsyncSession, table: RegionTable, _current: RegionTable
) -> None:
    session.add_all(
        RegionTableRow(
            version=table.version, country=country, state=state, region=region
        )
        for (country, state), region in table.regions.items()
    )


async def _rederive(
    session: AsyncSession, table: RegionTable, now: datetime
) -> dict[str, int]:
    """Accounts first, then leads by address, then linked leads by account (D5)."""
    accounts = await rederive_regions(
        session, Account, Account.billing_country, Account.billing_state, table, now=now
    )
    leads = await rederive_regions(
        session,
        Lead,
        Lead.country,
        Lead.state,
        table,
        now=now,
        where=~_takes_account_region(),
    ) + await _follow_linked_accounts(session, now)
    return {"accounts_rederived": accounts, "leads_rederived": leads}


async def rederive_regions(
    session: AsyncSession,
    model: Any,
    country: Any,
    state: Any,
    table: RegionTable,
    *,
    now: datetime,
    where: Any = true(),
) -> int:
    """Give every record of ``model`` (matching ``where``) the region its address
    has by ``table``; how many records changed."""
    # The same literal in SELECT and GROUP BY (bound values would not match).
    blank = literal_column("''", String)
    address = (
        func.coalesce(country, blank),
        func.coalesce(state, blank),
        model.is_public_sector,
        model.region,
    )
    combos = (
        await session.execute(select(*address).where(where).group_by(*address))
    ).all()
    changed: dict[tuple[str, str, bool], str | None] = {}
    for c, s, public, region in combos:
        new = region_for(c or None, s or None, is_public_sector=public, table=table)
        if new != region:
            changed[(c, s, bool(public))] = new.value if new else None
    total = 0
    items = list(changed.items())
    for start in range(0, len(items), BATCH):
        total += await _update_batch(
            session, model, country, state, items[start : start + BATCH], now, where
        )
    return total


def _account_region() -> Any:
    """The region of the lead's linked account (a correlated subquery)."""
    return (
        select(col(Account.region))
        .where(col(Account.id) == Lead.account_id)
        .correlate(Lead)
        .scalar_subquery()
    )


def _takes_account_region() -> Any:
    """An open lead linked to an account that has a region (D5: it takes that)."""
    return and_(
        Lead.account_id.is_not(None),  # type: ignore[union-attr]
        Lead.converted_at.is_(None),  # type: ignore[union-attr]
        _account_region().is_not(None),
    )


async def _follow_linked_accounts(session: AsyncSession, now: datetime) -> int:
    """Open linked leads take their account's (re-derived) region; how many changed."""
    result = await session.execute(
        update(Lead)
        .where(_takes_account_region(), Lead.region.is_distinct_from(_account_region()))  # type: ignore[union-attr]
        .values(region=_account_region(), version=Lead.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _update_batch(
    session: AsyncSession,
    model: Any,
    country: Any,
    state: Any,
    items: Sequence[tuple[tuple[str, str, bool], str | None]],
    now: datetime,
    where: Any,
) -> int:
    """One UPDATE … FROM a VALUES list of (country, state, public sector, region).

    The list is a subquery, not a CTE: SQLite's driver reports no row count for
    a statement that starts with WITH. Both databases name the columns of a
    VALUES list column1, column2, …
    """
    params: dict[str, Any] = {}
    rows = []
    for i, ((c, s, p), r) in enumerate(items):
        params.update({f"c{i}": c, f"s{i}": s, f"p{i}": p, f"r{i}": r})
        rows.append(f"(:c{i}, :s{i}, :p{i}, :r{i})")
    wanted = (
        text(
            "SELECT column1 AS country, column2 AS state, column3 AS public, "
            f"column4 AS region FROM (VALUES {', '.join(rows)}) AS v"
        )
        .bindparams(
            *(bindparam(f"p{i}", type_=Boolean) for i in range(len(items))),
            **params,
        )
        .columns(
            column("country", String),
            column("state", String),
            column("public", Boolean),
            column("region", String),
        )
        .subquery("wanted")
    )
    result = await session.execute(
        update(model)
        .where(
            func.coalesce(country, "") == wanted.c.country,
            func.coalesce(state, "") == wanted.c.state,
            model.is_public_sector == wanted.c.public,
            model.region.is_distinct_from(wanted.c.region),
            where,
        )
        .values(region=wanted.c.region, version=model.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StoredRegionTable:
    """One stored version as the API shows it: the version row and its rows."""

    version: RegionTableVersion
    rows: list[RegionRow]


async def region_table_versions(
    session: AsyncSession, *, version: int | None = None, limit: int | None = None
) -> list[StoredRegionTable]:
    """Stored versions, newest first: one ``version``, or the ``limit`` newest."""
    versions = await version_rows(session, REGION_TABLE, version=version, limit=limit)
    found: dict[int, list[RegionRow]] = {v.version: [] for v in versions}
    for n, country, state, region in await session.execute(
        select(
            col(RegionTableRow.version),
            col(RegionTableRow.country),
            col(RegionTableRow.state),
            col(RegionTableRow.region),
        ).where(col(RegionTableRow.version).in_(list(found)))
    ):
        found[n].append(RegionRow(country, state or None, region))
    return [
        StoredRegionTable(
            version=v, rows=list(region_table_of(found[v.version]).rows())
        )
        for v in versions
    ]
