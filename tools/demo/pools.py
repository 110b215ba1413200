"""Who takes turns in each routing pool (D8) of the demo data set.

The pools are those the routing table names (seeded by migration 0002); their
members are the demo users whose role and region fit what each pool serves,
read from the same ``RoutingTable`` routing decides with:

- a BDR takes turns in the BDR pool of its region (``bdr_pools``) and in the
  trial pool of its region (``trial_pools``: EMEA, or US/APAC);
- an SDR of the public sector is in the public-sector pool; any other SDR
  pre-qualifies (unknown segment or region);
- a Customer Advocate is in the Customer Advocate pool of its region.

Members take turns in user order; an inactive or out-of-office member stays
listed (the rotation skips them), as a team's pool does when a rep leaves or
goes on holiday. The rows are those ``setRoutingPoolMembers`` writes: positions
from 0, no turn taken yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.enums import Region, Role
from domain.rules.routing import DEFAULT_ROUTING_TABLE, RoutingTable


def pools_of(role: Role, region: Region | None, table: RoutingTable) -> list[str]:
    """The pools a user of this role and region takes turns in."""
    if role is Role.BDR:
        found = [
            pools[region]
            for pools in (table.bdr_pools, table.trial_pools)
            if region is not None and region in pools
        ]
        return list(dict.fromkeys(found))
    if role is Role.SDR:
        if region is not None and table.bdr_pools.get(region) == (
            table.public_sector_pool
        ):
            return [table.public_sector_pool]
        return [table.prequalification_pool]
    if role is Role.CUSTOMER_ADVOCATE and region in table.customer_advocate_pools:
        return [table.customer_advocate_pools[region]]  # type: ignore[index]
    return []


def all_pools(table: RoutingTable) -> set[str]:
    """Every pool the routing table can route to."""
    return {
        *table.bdr_pools.values(),
        *table.trial_pools.values(),
        *table.customer_advocate_pools.values(),
        table.public_sector_pool,
        table.prequalification_pool,
    }


def pool_members(
    users: Iterable[tuple[int, Role, Region | None]],
    table: RoutingTable = DEFAULT_ROUTING_TABLE,
) -> dict[str, list[int]]:
    """The members of every pool of ``table``, in turn order, from (id, role,
    region) of the users; raises ValueError when a pool gets nobody."""
    members: dict[str, list[int]] = {key: [] for key in sorted(all_pools(table))}
    for user_id, role, region in sorted(users, key=lambda u: u[0]):
        for key in pools_of(role, region, table):
            members[key].append(user_id)
    empty = [key for key, ids in members.items() if not ids]
    if empty:
        raise ValueError(f"no demo user fits the routing pools {', '.join(empty)}")
    return members


def member_rows(members: dict[str, list[int]]) -> list[dict[str, Any]]:
    """The ``routing_pool_members`` rows (ids from 1, positions from 0)."""
    rows: list[dict[str, Any]] = []
    for key, user_ids in members.items():
        for position, user_id in enumerate(user_ids):
            rows.append(
                {
                    "id": len(rows) + 1,
                    "pool_key": key,
                    "user_id": user_id,
                    "position": position,
                }
            )
    return rows
