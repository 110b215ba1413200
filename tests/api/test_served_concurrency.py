"""Real concurrency: a served API (two worker processes) under simultaneous moves."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select

from domain.enums import LeadStatus, Role
from domain.records import Lead, TransitionRecord
from tests.api.ids import gid

SALESOPS = str(Path(sys.executable).parent / "salesops")


MOVE = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status } userErrors { code } } }"""


async def test_sixteen_simultaneous_moves_of_one_lead_apply_exactly_once(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    lead = await make.lead()
    lid = gid("Lead", lead.id)
    body = {
        "query": MOVE,
        "variables": {"input": {"id": lid, "to": "NURTURE", "reason": "r"}},
    }

    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        responses = await asyncio.gather(
            *(client.post("/graphql", json=body) for _ in range(16))
        )

    assert [r.status_code for r in responses] == [200] * 16
    results = [r.json()["data"]["transitionLead"] for r in responses]
    applied = [r for r in results if r["userErrors"] == []]
    refused = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert len(applied) == 1
    assert refused == ["INVALID_TRANSITION"] * 15
    async with sessions() as s:
        assert (await s.get(Lead, lead.id)).status == LeadStatus.NURTURE
        assert await s.scalar(select(func.count()).select_from(TransitionRecord)) == 1
