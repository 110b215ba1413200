"""Concurrent writers queue instead of failing (SQLite IMMEDIATE, PG row locks)."""

from __future__ import annotations

import asyncio

from domain.enums import Role
from domain.records import Lead
from tests.api.ids import gid
from tests.conftest import row_count

CREATE = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code } }
}"""
UPDATE = """
mutation($input: UpdateLeadInput!) {
  updateLead(input: $input) { lead { version } userErrors { code } }
}"""


async def test_twenty_simultaneous_creates_all_succeed(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)

    results = await asyncio.gather(
        *(
            api(
                CREATE,
                {"input": {"email": f"c{n}@x.example", "initialSource": "Webcast"}},
                as_user=ops,
            )
            for n in range(20)
        )
    )

    assert [r.errors for r in results] == [[]] * 20
    assert all(r.data["createLead"]["userErrors"] == [] for r in results)
    assert await row_count(sessions, Lead) == 20


async def test_simultaneous_updates_with_the_same_expected_version_apply_once(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    lead_gid = gid("Lead", lead.id)

    results = await asyncio.gather(
        *(
            api(
                UPDATE,
                {"input": {"id": lead_gid, "expectedVersion": 1, "title": f"T{n}"}},
                as_user=ops,
            )
            for n in range(10)
        )
    )

    codes = sorted(
        (r.data["updateLead"]["userErrors"] or [{"code": "OK"}])[0]["code"]
        for r in results
    )
    assert codes == ["OK"] + ["STALE_VERSION"] * 9
    async with sessions() as session:
        assert (await session.get(Lead, lead.id)).version == 2
