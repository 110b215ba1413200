"""Real concurrency: a served API (two worker processes) under simultaneous moves."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from domain.enums import LeadStatus, Role
from domain.records import Lead, TransitionRecord

SALESOPS = str(Path(sys.executable).parent / "salesops")


@pytest.fixture(scope="module")
def server(database_url):
    """`salesops serve --workers 2` on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [SALESOPS, "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the server did not become ready")
    yield base
    process.terminate()
    process.wait(15)


MOVE = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status } userErrors { code } } }"""


async def test_sixteen_simultaneous_moves_of_one_lead_apply_exactly_once(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    lead = await make.lead()
    lid = base64.b64encode(f"Lead:{lead.id}".encode()).decode()
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
