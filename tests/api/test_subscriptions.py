"""GraphQL subscriptions (issue 12 item 3) with a real websocket client against
two `salesops serve` processes on one database: what one process commits
reaches a subscriber of the other; `after:` resumes; the token is required,
re-checked, and a foreign origin is refused at the upgrade."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from domain.enums import Role
from domain.rules.permissions import Actor
from domain.services.users import issue_token, revoke_token
from tests.api.ids import gid
from tests.api.test_opportunity_pipeline import a_deal

PROTOCOL = "graphql-transport-ws"
WAIT = 10  # seconds an expected message may take (two processes, a loaded box)

LEAD_CHANGES = """
subscription($filter: LeadStatusChangedFilter, $after: ID) {
  leadStatusChanged(filter: $filter, after: $after) {
    event { id type } from to lead { id status } } }"""
TRANSITION = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status } userErrors { code } } }"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def socket(
    base: str, params: dict[str, Any] | None, origin: str | None = None
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection, initialised with ``params``."""
    async with connect(
        ws_url(base), subprotocols=[PROTOCOL], origin=origin, open_timeout=WAIT
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": params}))
        yield ws


async def acknowledged(base: str, token: str) -> Any:
    """A connection authenticated with ``token`` (its ack received)."""
    manager = socket(base, {"Authorization": f"Bearer {token}"})
    ws = await manager.__aenter__()
    ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert ack["type"] == "connection_ack"
    return manager, ws


async def subscribe(ws: ClientConnection, query: str, **variables: Any) -> None:
    """Start operation "1"; give the server a moment to start reading the outbox."""
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    await asyncio.sleep(1.0)


async def next_data(ws: ClientConnection) -> dict[str, Any]:
    """The data of the next result."""
    message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]


async def nothing_more(ws: ClientConnection, seconds: float = 1.5) -> None:
    """No further message arrives meanwhile."""
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), seconds)


def move(base: str, token: str, lead_id: int, to: str, reason: str | None = None):
    """transitionLead through the served process at ``base``."""
    variables = {"input": {"id": gid("Lead", lead_id), "to": to, "reason": reason}}
    answer = httpx.post(
        f"{base}/graphql",
        json={"query": TRANSITION, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert answer["data"]["transitionLead"]["userErrors"] == [], answer
    return answer


async def test_a_move_through_one_process_reaches_a_subscriber_of_the_other(
    two_servers, make
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    watched, other = await make.lead(), await make.lead()
    manager, ws = await acknowledged(two_servers[1], token)
    try:
        await subscribe(ws, LEAD_CHANGES, filter={"to": ["NURTURE"]})

        move(two_servers[0], token, other.id, "UNQUALIFIED", "No budget")
        move(two_servers[0], token, watched.id, "NURTURE", "Later")

        data = await next_data(ws)
        assert data["leadStatusChanged"]["from"] == "RAW"
        assert data["leadStatusChanged"]["to"] == "NURTURE"
        assert data["leadStatusChanged"]["lead"] == {
            "id": gid("Lead", watched.id),
            "status": "NURTURE",
        }
        assert data["leadStatusChanged"]["event"]["type"] == "LEAD_STATUS_CHANGED"
        await nothing_more(ws)
    finally:
        await manager.__aexit__(None, None, None)


async def test_a_subscriber_resumes_after_the_last_event_it_saw(two_servers, make):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    leads = [await make.lead() for _ in range(3)]
    manager, ws = await acknowledged(two_servers[1], token)
    try:
        await subscribe(ws, LEAD_CHANGES)
        move(two_servers[0], token, leads[0].id, "NURTURE", "Later")
        last_seen = (await next_data(ws))["leadStatusChanged"]["event"]["id"]
    finally:
        await manager.__aexit__(None, None, None)
    # Missed while away:
    move(two_servers[0], token, leads[1].id, "NURTURE", "Later")
    move(two_servers[0], token, leads[2].id, "UNQUALIFIED", "No budget")

    manager, ws = await acknowledged(two_servers[1], token)
    try:
        await subscribe(ws, LEAD_CHANGES, after=last_seen)
        missed = [(await next_data(ws))["leadStatusChanged"] for _ in range(2)]

        assert [(m["lead"]["id"], m["to"]) for m in missed] == [
            (gid("Lead", leads[1].id), "NURTURE"),
            (gid("Lead", leads[2].id), "UNQUALIFIED"),
        ]
        await nothing_more(ws)
    finally:
        await manager.__aexit__(None, None, None)


async def test_a_revoked_token_closes_the_socket(two_servers, make):
    ops = await make.user(Role.SALES_OPS)
    admin = await make.user(Role.ADMIN)
    row, token = await make.run(lambda s: issue_token(ops.id, session=s, actor=None))
    manager, ws = await acknowledged(two_servers[0], token)
    try:
        await subscribe(ws, LEAD_CHANGES)
        await make.run(
            lambda s: revoke_token(row.id, session=s, actor=Actor(admin.id, admin.role))
        )
        started = time.monotonic()

        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)

        assert closed.value.rcvd.code == 4403
        assert time.monotonic() - started < 7  # re-checked every 5 seconds
    finally:
        await manager.__aexit__(None, None, None)


@pytest.mark.parametrize(
    "params",
    [{}, {"Authorization": "Bearer not-a-token"}, {"token": ""}],
    ids=["no token", "unknown token", "empty token"],
)
async def test_a_connection_without_a_valid_token_is_refused(two_servers, make, params):
    await make.user(Role.SALES_OPS)

    async with socket(two_servers[0], params) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), WAIT)

    assert closed.value.rcvd.code == 4403


async def test_the_token_may_come_as_token(two_servers, make):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)

    async with socket(two_servers[0], {"token": token}) as ws:
        ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))

    assert ack["type"] == "connection_ack"


async def test_a_page_of_a_foreign_origin_cannot_open_a_socket(two_servers, make):
    with pytest.raises(InvalidStatus) as refused:
        async with socket(two_servers[0], {}, origin="https://evil.example"):
            pass

    assert refused.value.response.status_code == 403


async def test_the_service_s_own_origin_may_open_a_socket(two_servers, make):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    # Its own GraphiQL page: the origin is the address the socket is opened on.
    async with socket(two_servers[0], {"token": token}, origin=two_servers[0]) as ws:
        ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))

    assert ack["type"] == "connection_ack"


STAGES = """
subscription { opportunityStageChanged(filter: {to: [DISCOVERY]}) {
  from to opportunity { id stage } } }"""
ASSIGNED = """
subscription { recordAssigned { type recordId } }"""
NOTIFICATIONS = """
subscription { notifications { type recordId recipients { capacity user { id } } } }"""
MOVE = """
mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) { userErrors { code } } }"""
TRANSFER = """
mutation($input: TransferLeadOwnershipInput!) {
  transferLeadOwnership(input: $input) { userErrors { code } } }"""


def call(base: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert "errors" not in answer, answer
    return answer["data"]


async def test_an_accepted_deal_reaches_who_asked_for_entries_into_discovery(
    two_servers, make
):
    ae = await make.user(Role.AE)
    token = await make.token(ae)
    deal = await a_deal(make, ae)
    manager, ws = await acknowledged(two_servers[1], token)
    try:
        await subscribe(ws, STAGES)

        moved = call(
            two_servers[0],
            token,
            MOVE,
            {"input": {"id": gid("Opportunity", deal.id), "to": "DISCOVERY"}},
        )

        assert moved["moveOpportunityStage"]["userErrors"] == []
        data = (await next_data(ws))["opportunityStageChanged"]
        assert data == {
            "from": "PENDING_ACCEPTANCE",
            "to": "DISCOVERY",
            "opportunity": {"id": gid("Opportunity", deal.id), "stage": "DISCOVERY"},
        }
    finally:
        await manager.__aexit__(None, None, None)


async def test_a_lead_transferred_to_me_reaches_my_assignments_and_notifications(
    two_servers, make
):
    ops = await make.user(Role.SALES_OPS)
    sdr = await make.user(Role.SDR)
    lead = await make.lead(owner_id=ops.id)
    ops_token, sdr_token = await make.token(ops), await make.token(sdr)
    assigned_manager, assigned = await acknowledged(two_servers[1], sdr_token)
    told_manager, told = await acknowledged(two_servers[1], sdr_token)
    try:
        await subscribe(assigned, ASSIGNED)
        await subscribe(told, NOTIFICATIONS)

        call(
            two_servers[0],
            ops_token,
            TRANSFER,
            {"input": {"id": gid("Lead", lead.id), "toUserId": gid("User", sdr.id)}},
        )

        got = (await next_data(assigned))["recordAssigned"]
        assert got == {"type": "LEAD_ASSIGNED", "recordId": gid("Lead", lead.id)}
        note = (await next_data(told))["notifications"]
        assert note["type"] == "LEAD_ASSIGNED"
        assert {"capacity": "NEW_OWNER", "user": {"id": gid("User", sdr.id)}} in (
            note["recipients"]
        )
    finally:
        await assigned_manager.__aexit__(None, None, None)
        await told_manager.__aexit__(None, None, None)
