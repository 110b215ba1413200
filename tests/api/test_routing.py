"""Routing (D8): rules in order, pools with a stored round robin, SLAs, routeLead."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, text

from domain.enums import EngagementKind, Role
from domain.records import Engagement, Event, FunnelEntry, Lead, RoutingPoolMember
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.routing import RoutingLookups
from domain.sqltypes import utcnow
from tests.api.ids import gid

RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    lead { owner { id } slaDueAt routing { rule reason pool assignee { id } at } }
    userErrors { code field message }
  }
}"""
SET_POOL = """
mutation($input: SetRoutingPoolMembersInput!) {
  setRoutingPoolMembers(input: $input) { pool { key members { id } } userErrors { code } }
}"""
ROUTE = """
mutation($input: RouteLeadInput!) {
  routeLead(input: $input) { lead { owner { id } routing { rule pool } } userErrors { code } }
}"""


async def pool(api, ops, key, users):
    data = (
        await api(
            SET_POOL,
            {"input": {"pool": key, "userIds": [gid("User", u.id) for u in users]}},
            as_user=ops,
        )
    ).ok()["setRoutingPoolMembers"]
    assert data["userErrors"] == []
    return data


SET_POOL_ERRORS = """
mutation($input: SetRoutingPoolMembersInput!) {
  setRoutingPoolMembers(input: $input) {
    pool { key } userErrors { code field message }
  }
}"""


async def test_every_bad_member_of_a_pool_list_is_reported_at_its_index(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    members = [gid("User", bdr.id), "nope", gid("Lead", 1), gid("User", 999)]

    malformed = (
        await api(
            SET_POOL_ERRORS,
            {"input": {"pool": "BDR_EMEA", "userIds": members}},
            as_user=ops,
        )
    ).ok()["setRoutingPoolMembers"]
    unknown = (
        await api(
            SET_POOL_ERRORS,
            {"input": {"pool": "BDR_EMEA", "userIds": [members[3], members[0]] * 2}},
            as_user=ops,
        )
    ).ok()["setRoutingPoolMembers"]

    assert malformed == {
        "pool": None,
        "userErrors": [
            {
                "code": "INVALID_INPUT",
                "field": ["userIds", "1"],
                "message": "'nope' is not a global id.",
            },
            {
                "code": "INVALID_INPUT",
                "field": ["userIds", "2"],
                "message": f"{gid('Lead', 1)!r} is not the id of a User.",
            },
        ],
    }
    missing = f"No such record: {gid('User', 999)}."
    twice = f"User {gid('User', bdr.id)} is listed twice."
    assert [(e["field"], e["code"], e["message"]) for e in unknown["userErrors"]] == [
        (["userIds", "0"], "NOT_FOUND", missing),
        (["userIds", "2"], "NOT_FOUND", missing),
        (["userIds", "3"], "INVALID_INPUT", twice),
    ]
    async with sessions() as s:
        kept = await s.scalars(
            select(RoutingPoolMember.user_id).where(
                RoutingPoolMember.pool_key == "BDR_EMEA"
            )
        )
        assert list(kept) == [bdr.id]


async def test_contact_us_from_an_smb_goes_round_robin_to_the_customer_advocates(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    advocates = [await make.user(Role.CUSTOMER_ADVOCATE) for _ in range(3)]
    away = await make.user(
        Role.CUSTOMER_ADVOCATE, out_of_office_until=utcnow() + timedelta(days=3)
    )
    await pool(
        api,
        ops,
        "CUSTOMER_ADVOCATE_NCSA",
        [advocates[0], away, advocates[1], advocates[2]],
    )

    owners = []
    for n in range(4):
        lead = await make.lead(
            by=ops,
            number_of_employees=20,
            country="US",
            state="NY",
            email=f"p{n}@small{n}.example",
            company=f"Small {n}",
        )
        data = (
            await api(
                RECORD,
                {
                    "input": {
                        "leadId": gid("Lead", lead.id),
                        "kind": "CONTACT_US_REQUEST",
                    }
                },
                as_user=ops,
            )
        ).ok()["recordEngagement"]["lead"]
        owners.append(data["owner"]["id"])
        assert data["routing"]["rule"] == "CONTACT_US"
        assert data["routing"]["pool"] == "CUSTOMER_ADVOCATE_NCSA"

    assert owners == [gid("User", u.id) for u in (*advocates, advocates[0])]


async def test_a_contact_us_lead_gets_a_one_business_day_sla(api, make):
    ops = await make.user(Role.SALES_OPS)
    await pool(api, ops, "BDR_EMEA", [await make.user(Role.BDR)])
    lead = await make.lead(by=ops, number_of_employees=5000, country="DE")
    at = utcnow()

    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", lead.id), "kind": "CONTACT_US_REQUEST"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    from datetime import datetime

    due = datetime.fromisoformat(data["slaDueAt"])
    assert data["routing"]["pool"] == "BDR_EMEA"
    assert timedelta(days=1) <= due - at <= timedelta(days=3, minutes=1)
    assert due.weekday() < 5


async def test_a_lead_of_a_named_account_goes_to_the_owner_and_alerts(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    await make.run(
        lambda s: create_account(
            {"name": "Initech", "owner_id": sal.id, "is_named": True},
            session=s,
            actor=Actor(ops.id, ops.role),
            domains=["initech.example"],
        )
    )
    lead = await make.lead(by=ops, email="peter@initech.example")

    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", lead.id), "kind": "TRIAL_REQUEST"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    # D8 rule 1 (round 2): a named account's owner, whatever the request.
    assert data["routing"]["rule"] == "NAMED_ACCOUNT"
    assert data["owner"]["id"] == gid("User", sal.id)
    async with sessions() as s:
        kinds = set((await s.execute(select(Event.kind))).scalars())
    assert {"LEAD_ROUTED", "STRATEGIC_ACCOUNT_INBOUND"} <= kinds


async def apac_lead(api, make):
    """A SALES_OPS user, the APAC BDR pool's one member, and an unowned
    Japanese lead whom a high-intent engagement takes past 50 points."""
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_APAC", [bdr])
    lead = await make.lead(
        by=ops,
        title="Developer",
        email="h@corp.example",
        number_of_employees=500,
        country="JP",
    )
    return ops, bdr, lead


async def test_a_score_crossing_fifty_routes_to_the_regions_bdr_pool(
    api, make, sessions
):
    ops, bdr, lead = await apac_lead(api, make)

    data = (
        await api(
            RECORD,
            {
                "input": {
                    "leadId": gid("Lead", lead.id),
                    "kind": "HIGH_INTENT_LIVE_ATTENDED",
                }
            },
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    assert data["routing"]["rule"] == "SCORE_AT_LEAST_50"
    assert data["owner"]["id"] == gid("User", bdr.id)
    # The lead's row and its funnel entry were written together (on PostgreSQL
    # one statement, past the flush): one version more, the entry's owner moved.
    async with sessions() as session:
        stored = await session.get(Lead, lead.id)
        entry = (
            await session.execute(
                select(FunnelEntry.owner_id, FunnelEntry.inquiry_at).where(
                    FunnelEntry.lead_id == lead.id
                )
            )
        ).one()
    assert (stored.owner_id, stored.version) == (bdr.id, lead.version + 1)
    assert entry == (bdr.id, stored.status_changed_at)


async def test_an_empty_pool_leaves_the_lead_unowned_and_says_so(api, make):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(by=ops, number_of_employees=5000, country="FR")

    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", lead.id), "kind": "CONTACT_US_REQUEST"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    assert data["owner"] is None
    assert data["routing"]["assignee"] is None
    assert "Nobody in BDR_EMEA is available" in data["routing"]["reason"]


async def test_route_lead_is_for_ops_and_pool_members_must_exist(api, make):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    lead = await make.lead(by=ops)

    forbidden = (
        await api(ROUTE, {"input": {"id": gid("Lead", lead.id)}}, as_user=ae)
    ).ok()
    unknown = (
        await api(
            SET_POOL,
            {"input": {"pool": "BDR_EMEA", "userIds": [gid("User", 999)]}},
            as_user=ops,
        )
    ).ok()
    no_pool = (
        await api(SET_POOL, {"input": {"pool": "NOPE", "userIds": []}}, as_user=ops)
    ).ok()

    assert [e["code"] for e in forbidden["routeLead"]["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in unknown["setRoutingPoolMembers"]["userErrors"]] == [
        "NOT_FOUND"
    ]
    assert [e["code"] for e in no_pool["setRoutingPoolMembers"]["userErrors"]] == [
        "NOT_FOUND"
    ]


async def test_two_processes_routing_forty_leads_at_once_share_them_evenly(
    two_servers, api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    bdrs = [await make.user(Role.BDR) for _ in range(4)]
    await pool(api, ops, "BDR_EMEA", bdrs)
    token = await make.token(ops)
    lead_ids = []
    for n in range(40):
        lead = await make.lead(
            by=ops,
            number_of_employees=5000,
            country="DE",
            email=f"l{n}@big{n}.example",
            company=f"Big {n}",
        )
        lead_ids.append(lead.id)

    async def add_engagements(s):
        for lead_id in lead_ids:
            s.add(Engagement(lead_id=lead_id, kind=EngagementKind.CONTACT_US_REQUEST))

    await make.run(add_engagements)

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{two_servers[n % 2]}/graphql",
                    json={
                        "query": ROUTE,
                        "variables": {"input": {"id": gid("Lead", lead_id)}},
                    },
                )
                for n, lead_id in enumerate(lead_ids)
            )
        )

    assert all(a.status_code == 200 for a in answers)
    assert all(a.json()["data"]["routeLead"]["userErrors"] == [] for a in answers)
    async with sessions() as s:
        owners = (
            (await s.execute(select(Lead.owner_id).where(Lead.id.in_(lead_ids))))
            .scalars()
            .all()
        )
    assert Counter(owners) == {b.id: 10 for b in bdrs}


async def test_a_single_engagement_routes_while_another_pool_is_held(api, make, engine):
    """One engagement takes at most one turn, so it locks only its pool: it
    routes into APAC while another transaction holds US East's row (it waited
    for every pool before, and this timed out)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no pool row is held")
    ops, bdr, lead = await apac_lead(api, make)
    variables = {
        "input": {"leadId": gid("Lead", lead.id), "kind": "HIGH_INTENT_LIVE_ATTENDED"}
    }

    async with engine.connect() as holder:
        await holder.execute(
            text("SELECT key FROM routing_pools WHERE key = 'BDR_US_EAST' FOR UPDATE")
        )
        answer = await asyncio.wait_for(api(RECORD, variables, as_user=ops), 10)
        await holder.rollback()

    data = answer.ok()["recordEngagement"]["lead"]
    assert data["owner"]["id"] == gid("User", bdr.id)


async def test_a_one_turn_routing_transaction_refuses_a_second_turn(sessions):
    async with sessions() as session, session.begin():
        lookups = RoutingLookups(session, one_turn=True)
        await lookups.turn("BDR_APAC", utcnow())
        with pytest.raises(RuntimeError, match="second turn"):
            await lookups.turn("BDR_EMEA", utcnow())
        # nor may another use case of the same transaction lock more pools
        with pytest.raises(RuntimeError, match="second turn"):
            await RoutingLookups(session).turn("BDR_EMEA", utcnow())
