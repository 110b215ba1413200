"""The D6 scoring table as data: scoringTable, its history, updateScoringTable."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from domain.enums import Role
from domain.records import (
    FunnelEntry,
    Lead,
    ScoringFreeMailDomain,
    ScoringTablePoints,
    ScoringTableVersion,
)
from domain.rules.matching import DEFAULT_FREE_MAIL_DOMAINS
from domain.services.milestones import COPIED_COLUMNS
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.conftest import row_count

TABLE = """
query($version: Int) {
  scoringTable(version: $version) {
    version mqlThreshold routingThreshold freeMailDomains note leadsRescored
    changedAt changedBy { id }
    rules { rule kind points description }
  }
}"""
HISTORY = """
query($first: Int!) { scoringTableHistory(first: $first) {
  version note changedBy { id } rules { rule points } } }"""
UPDATE = """
mutation($input: UpdateScoringTableInput!) {
  updateScoringTable(input: $input) {
    scoringTable {
      version mqlThreshold routingThreshold freeMailDomains note leadsRescored
      changedBy { id } rules { rule points }
    }
    leadsRescored leadsAtMqlThreshold unownedLeadsAtRoutingThreshold
    userErrors { code field message }
  }
}"""
RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    lead { status personScore owner { id } routing { rule reason } history { from to reason } }
    userErrors { code field message }
  }
}"""
FUNNEL = """
query($groupBy: FunnelDimension) { funnel(groupBy: $groupBy) {
  milestones { count } groups { key milestones { milestone count } } } }"""
LEAD = """
query($id: ID!) { lead(id: $id) {
  personScore status version scoreBreakdown { rule points }
  availableTransitions { to allowed blockedBy { code message } } } }"""

# D6 as the spec decides it, in the table's order.
D6 = [
    ("TITLE_SENIORITY", None, 50),
    ("TITLE_BLANK_OR_TECHNICAL", None, -10),
    ("COMPANY_EMAIL", None, 5),
    ("FREE_MAIL", None, -5),
    ("TRIAL_REQUEST", "TRIAL_REQUEST", 100),
    ("CONTACT_US_REQUEST", "CONTACT_US_REQUEST", 100),
    ("PROFESSIONAL_SERVICES_REQUEST", "PROFESSIONAL_SERVICES_REQUEST", 100),
    ("HIGH_INTENT_LIVE_ATTENDED", "HIGH_INTENT_LIVE_ATTENDED", 90),
    ("ENTERPRISE_TRIAL_PAGE_VISIT", "ENTERPRISE_TRIAL_PAGE_VISIT", 50),
    ("HIGH_INTENT_ON_DEMAND_WATCHED", "HIGH_INTENT_ON_DEMAND_WATCHED", 45),
    ("TRADESHOW_BOOTH_VISIT", "TRADESHOW_BOOTH_VISIT", 30),
    ("LIVE_EVENT_ATTENDED", "LIVE_EVENT_ATTENDED", 30),
    ("GATED_ASSET_DOWNLOAD", "GATED_ASSET_DOWNLOAD", 30),
    ("WEBCAST_REGISTRATION", "WEBCAST_REGISTRATION", 15),
    ("LOW_INTENT_LIVE_ATTENDED", "LOW_INTENT_LIVE_ATTENDED", 15),
    ("LOW_INTENT_ON_DEMAND_WATCHED", "LOW_INTENT_ON_DEMAND_WATCHED", 15),
    ("NEWSLETTER_OPT_IN", "NEWSLETTER_OPT_IN", 10),
    ("SECURITY_NEWSLETTER_OPT_IN", "SECURITY_NEWSLETTER_OPT_IN", 10),
    ("WEBCAST_EMAIL_OPT_IN", "WEBCAST_EMAIL_OPT_IN", 10),
    ("LIVE_EVENT_EMAIL_OPT_IN", "LIVE_EVENT_EMAIL_OPT_IN", 10),
    ("PRICING_PAGE_VISIT", "PRICING_PAGE_VISIT", 10),
    ("FEATURES_PAGE_VISIT", "FEATURES_PAGE_VISIT", 10),
    ("INSTALLATION_PAGE_VISIT", "INSTALLATION_PAGE_VISIT", 2),
    ("EMAIL_UNSUBSCRIBE", "EMAIL_UNSUBSCRIBE", -25),
    ("CAREERS_PAGE_VISIT", "CAREERS_PAGE_VISIT", 0),
    ("WEB_CHAT", "WEB_CHAT", 0),
    ("CAREERS_PAGE_VISITS", None, -25),
]


async def engage(api, user, lead, kind, at=None) -> dict:
    variables = {"input": {"leadId": gid("Lead", lead.id), "kind": kind}}
    if at is not None:
        variables["input"]["occurredAt"] = at.isoformat()
    data = (await api(RECORD, variables, as_user=user)).ok()["recordEngagement"]
    assert data["userErrors"] == []
    return data["lead"]


async def update(api, user, **fields) -> dict:
    fields.setdefault("expectedVersion", 1)
    return (await api(UPDATE, {"input": fields}, as_user=user)).ok()[
        "updateScoringTable"
    ]


async def lead_state(api, user, lead) -> dict:
    return (await api(LEAD, {"id": gid("Lead", lead.id)}, as_user=user)).ok()["lead"]


@contextmanager
def columns_updated(engine) -> Iterator[dict[str, set[str]]]:
    """The columns each table's UPDATE statements set while active."""
    updated: dict[str, set[str]] = {}

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = re.match(r"\s*UPDATE (\w+) SET (.*?) (?:FROM|WHERE) ", statement, re.S)
        if found:
            names = re.findall(r"(?:^|, )(\w+)=", found.group(2))
            updated.setdefault(found.group(1), set()).update(names)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield updated
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def funnel_entries(sessions) -> list[tuple[Any, ...]]:
    """Every funnel entry, all columns, in id order."""
    async with sessions() as session:
        rows = await session.execute(select(FunnelEntry).order_by(FunnelEntry.id))
        return [tuple(e.model_dump().items()) for e in rows.scalars()]


async def table_rows(sessions) -> tuple[int, int, int]:
    return (
        await row_count(sessions, ScoringTableVersion),
        await row_count(sessions, ScoringTablePoints),
        await row_count(sessions, ScoringFreeMailDomain),
    )


async def test_the_seeded_table_is_d6_as_the_spec_decides(api, make):
    someone = await make.user(Role.SDR)

    table = (await api(TABLE, {}, as_user=someone)).ok()["scoringTable"]

    assert [(r["rule"], r["kind"], r["points"]) for r in table["rules"]] == D6
    assert table["version"] == 1
    assert (table["mqlThreshold"], table["routingThreshold"]) == (90, 50)
    assert table["freeMailDomains"] == sorted(DEFAULT_FREE_MAIL_DOMAINS)
    assert {"gmail.com", "hotmail.com", "yahoo.com", "aol.com", "outlook.com"} <= set(
        table["freeMailDomains"]
    )
    assert table["changedBy"] is None
    assert table["note"] == "D6 as decided in the spec"
    assert table["rules"][0]["description"] == (
        "Title contains VP, Vice President, Manager, Director, Senior or Head"
    )
    history = (await api(HISTORY, {"first": 50}, as_user=someone)).ok()
    assert [v["version"] for v in history["scoringTableHistory"]] == [1]


async def test_an_edit_makes_a_new_version_and_rescores_every_lead_exactly(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    day = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(
        days=10
    )
    # A: Senior +50, Developer -10, company email +5, webcast +15, pricing twice
    # on one day then once the next day (+10 +10) = 80
    a = await make.lead(by=ops, title="Senior Developer", email="a@initech.example")
    await engage(api, ops, a, "WEBCAST_REGISTRATION", day)
    await engage(api, ops, a, "PRICING_PAGE_VISIT", day)
    await engage(api, ops, a, "PRICING_PAGE_VISIT", day + timedelta(hours=3))
    await engage(api, ops, a, "PRICING_PAGE_VISIT", day + timedelta(days=1))
    # B: blank title -10, free mail -5, careers twice in 7 days -25,
    # unsubscribe -25 = -65
    b = await make.lead(by=ops, title=None, email="b@gmail.com")
    await engage(api, ops, b, "CAREERS_PAGE_VISIT", day)
    await engage(api, ops, b, "CAREERS_PAGE_VISIT", day + timedelta(days=2))
    await engage(api, ops, b, "EMAIL_UNSUBSCRIBE", day + timedelta(days=3))
    # C: VP +50, company +5, trial +100 = 155 (an MQL)
    c = await make.lead(by=ops, title="VP Sales", email="c@globex.example")
    await engage(api, ops, c, "TRIAL_REQUEST", day)
    # D: nothing that scores = 0
    d = await make.lead(by=ops, title="Analyst", email=None)
    # E: Director +50, hotmail -5, two gated downloads +60 = 105 (an MQL)
    e = await make.lead(by=ops, title="Director", email="e@hotmail.com")
    await engage(api, ops, e, "GATED_ASSET_DOWNLOAD", day)
    await engage(api, ops, e, "GATED_ASSET_DOWNLOAD", day + timedelta(days=1))
    before = {x.id: await lead_state(api, ops, x) for x in (a, b, c, d, e)}
    assert [before[x.id]["personScore"] for x in (a, b, c, d, e)] == [
        80,
        -65,
        155,
        0,
        105,
    ]
    free_mail = sorted(
        (DEFAULT_FREE_MAIL_DOMAINS - {"hotmail.com"}) | {"initech.example"}
    )

    data = await update(
        api,
        sales_ops,
        points=[
            {"rule": "PRICING_PAGE_VISIT", "points": 20},
            {"rule": "TITLE_SENIORITY", "points": 30},
            {"rule": "FREE_MAIL", "points": -20},
            {"rule": "CAREERS_PAGE_VISITS", "points": -40},
            {"rule": "WEBCAST_REGISTRATION", "points": 0},
        ],
        freeMailDomains=[*free_mail, "INITECH.example."],
        note="Q3 scoring review",
    )

    assert data["userErrors"] == []
    # A: 30 -10, now free mail -20, webcast 0, pricing on two days 2 x 20 = 40
    # B: -10, -20, careers -40, unsubscribe -25 = -95
    # C: 30 + 5 + 100 = 135;  D: 0 (unchanged);  E: 30, hotmail now +5, 60 = 95
    after = {x.id: await lead_state(api, ops, x) for x in (a, b, c, d, e)}
    assert [after[x.id]["personScore"] for x in (a, b, c, d, e)] == [
        40,
        -95,
        135,
        0,
        95,
    ]
    assert data["leadsRescored"] == 4
    for x in (a, b, c, d, e):
        lines = after[x.id]["scoreBreakdown"]
        assert sum(line["points"] for line in lines) == after[x.id]["personScore"]
        assert after[x.id]["status"] == before[x.id]["status"]
        changed = x is not d
        assert after[x.id]["version"] == before[x.id]["version"] + changed
    lines = after[a.id]["scoreBreakdown"]
    assert sorted((line["rule"], line["points"]) for line in lines) == [
        ("FREE_MAIL", -20),
        ("PRICING_PAGE_VISIT", 20),
        ("PRICING_PAGE_VISIT", 20),
        ("TITLE_BLANK_OR_TECHNICAL", -10),
        ("TITLE_SENIORITY", 30),
    ]
    table = data["scoringTable"]
    assert table["version"] == 2
    assert table["changedBy"] == {"id": gid("User", sales_ops.id)}
    assert table["note"] == "Q3 scoring review"
    assert table["leadsRescored"] == 4
    assert table["freeMailDomains"] == free_mail
    points = {r["rule"]: r["points"] for r in table["rules"]}
    assert points == {
        **{rule: p for rule, _k, p in D6},
        "PRICING_PAGE_VISIT": 20,
        "TITLE_SENIORITY": 30,
        "FREE_MAIL": -20,
        "CAREERS_PAGE_VISITS": -40,
        "WEBCAST_REGISTRATION": 0,
    }
    history = (await api(HISTORY, {"first": 50}, as_user=ops)).ok()[
        "scoringTableHistory"
    ]
    assert [(v["version"], v["note"]) for v in history] == [
        (2, "Q3 scoring review"),
        (1, "D6 as decided in the spec"),
    ]
    old = (await api(TABLE, {"version": 1}, as_user=ops)).ok()["scoringTable"]
    assert [(r["rule"], r["kind"], r["points"]) for r in old["rules"]] == D6
    current = (await api(TABLE, {}, as_user=ops)).ok()["scoringTable"]
    assert current["version"] == 2


async def test_new_scores_after_an_edit_use_the_new_table(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    admin = await make.user(Role.ADMIN)
    assert (
        await update(
            api,
            admin,
            points=[
                {"rule": "TITLE_SENIORITY", "points": 20},
                {"rule": "NEWSLETTER_OPT_IN", "points": 7},
            ],
        )
    )["userErrors"] == []

    lead = await make.lead(by=ops, title="Head of IT", email="h@initech.example")
    assert lead.person_score == 25  # 20 + company email 5
    scored = await engage(api, ops, lead, "NEWSLETTER_OPT_IN")
    assert scored["personScore"] == 32

    changed = (
        await api(
            "mutation($i: UpdateLeadInput!) { updateLead(input: $i) { lead { personScore } } }",
            {"i": {"id": gid("Lead", lead.id), "title": "Developer"}},
            as_user=ops,
        )
    ).ok()["updateLead"]["lead"]
    assert changed == {"personScore": 2}  # -10 + 5 + 7


async def test_a_lower_mql_threshold_moves_no_lead_until_it_scores_again(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    # Senior +50, Developer -10, company +5, webcast +15 = 60, INQUIRY
    waiting = await make.lead(by=ops, title="Senior Developer", email="w@initech.ex")
    await engage(api, ops, waiting, "WEBCAST_REGISTRATION")
    other = await make.lead(by=ops, title="Senior Developer", email="o@initech.ex")
    await engage(api, ops, other, "WEBCAST_REGISTRATION")
    mql = next(
        t
        for t in (await lead_state(api, ops, other))["availableTransitions"]
        if t["to"] == "MQL"
    )
    assert mql["allowed"] is False
    assert mql["blockedBy"][0]["message"] == (
        "Person score 60 is below the MQL threshold of 90."
    )

    data = await update(api, sales_ops, mqlThreshold=60, routingThreshold=40)

    assert data["userErrors"] == []
    assert data["leadsRescored"] == 0
    assert data["leadsAtMqlThreshold"] == 2
    assert data["unownedLeadsAtRoutingThreshold"] == 2
    assert (await lead_state(api, ops, waiting))["status"] == "INQUIRY"
    # The next engagement scores it at or above the new threshold: MQL.
    moved = await engage(api, ops, waiting, "INSTALLATION_PAGE_VISIT")
    assert (moved["status"], moved["personScore"]) == ("MQL", 62)
    assert moved["history"][-1] == {
        "from": "INQUIRY",
        "to": "MQL",
        "reason": "Score 62 reached the MQL threshold (60)",
    }
    # The other may be moved by hand: the guard reads the new threshold.
    mql = next(
        t
        for t in (await lead_state(api, ops, other))["availableTransitions"]
        if t["to"] == "MQL"
    )
    assert mql == {"to": "MQL", "allowed": True, "blockedBy": []}


async def test_the_routing_threshold_of_the_table_decides_when_a_score_routes(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    set_pool = (
        await api(
            """mutation($input: SetRoutingPoolMembersInput!) {
              setRoutingPoolMembers(input: $input) { userErrors { code } } }""",
            {
                "input": {
                    "pool": "BDR_PREQUALIFICATION",
                    "userIds": [gid("User", bdr.id)],
                }
            },
            as_user=sales_ops,
        )
    ).ok()
    assert set_pool["setRoutingPoolMembers"]["userErrors"] == []
    assert (await update(api, sales_ops, routingThreshold=30))["userErrors"] == []
    lead = await make.lead(by=ops, title="Analyst", email="x@initech.example")

    # company email 5 + gated asset 30 = 35: crosses 30 (not 50)
    routed = await engage(api, ops, lead, "GATED_ASSET_DOWNLOAD")

    assert routed["personScore"] == 35
    assert routed["owner"] == {"id": gid("User", bdr.id)}
    assert routed["routing"] == {
        "rule": "SCORE_AT_LEAST_50",
        "reason": "Score 35 is at least 30: the BDR pool of an unknown region.",
    }


@pytest.mark.parametrize(
    "role",
    [
        Role.MARKETING_OPS,
        Role.SDR,
        Role.BDR,
        Role.AE,
        Role.SALES_ADMIN,
        Role.CUSTOMER_SUCCESS,
    ],
)
async def test_only_sales_ops_and_admin_may_edit_the_table(api, make, sessions, role):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title="VP", email="v@initech.example")
    user = await make.user(role)
    rows = await table_rows(sessions)

    data = await update(api, user, points=[{"rule": "TITLE_SENIORITY", "points": 1}])

    assert data["scoringTable"] is None
    assert data["leadsRescored"] is None
    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("FORBIDDEN", None)
    ]
    assert data["userErrors"][0]["message"] == (
        "Only SALES_OPS or ADMIN may change the scoring table."
    )
    assert await table_rows(sessions) == rows
    state = await lead_state(api, ops, lead)
    assert (state["personScore"], state["version"]) == (55, 1)
    table = (await api(TABLE, {}, as_user=user)).ok()["scoringTable"]
    assert table["version"] == 1


async def test_an_edit_made_on_an_old_version_is_refused(api, make, sessions):
    sales_ops = await make.user(Role.SALES_OPS)
    first = await update(api, sales_ops, points=[{"rule": "WEB_CHAT", "points": 5}])
    assert first["userErrors"] == []
    rows = await table_rows(sessions)

    second = await update(api, sales_ops, points=[{"rule": "WEB_CHAT", "points": 9}])

    assert second["scoringTable"] is None
    assert [(e["code"], e["field"]) for e in second["userErrors"]] == [
        ("STALE_VERSION", ["expectedVersion"])
    ]
    assert await table_rows(sessions) == rows
    table = (await api(TABLE, {}, as_user=sales_ops)).ok()["scoringTable"]
    assert table["version"] == 2
    assert {r["rule"]: r["points"] for r in table["rules"]}["WEB_CHAT"] == 5


async def test_an_invalid_edit_is_refused_with_every_reason(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(by=ops, title="VP", email="v@initech.example")
    rows = await table_rows(sessions)

    data = await update(
        api,
        sales_ops,
        points=[
            {"rule": "PRICING_PAGE_VISIT", "points": 20},
            {"rule": "NOT_A_RULE", "points": 5},
            {"rule": "PRICING_PAGE_VISIT", "points": 30},
            {"rule": "WEB_CHAT", "points": 1001},
        ],
        freeMailDomains=["gmail.com", "not a domain", "https://x.example/y"],
    )

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", ["points", "1", "rule"]),
        ("INVALID_INPUT", ["points", "2", "rule"]),
        ("INVALID_INPUT", ["points", "3", "points"]),
        ("INVALID_INPUT", ["freeMailDomains", "1"]),
        ("INVALID_INPUT", ["freeMailDomains", "2"]),
    ]
    assert data["userErrors"][0]["message"].startswith(
        "'NOT_A_RULE' is not a scoring rule; the rules are TITLE_SENIORITY, "
    )
    assert data["userErrors"][2]["message"] == (
        "Points must be between -1,000 and 1,000; WEB_CHAT was given 1,001."
    )
    assert await table_rows(sessions) == rows
    state = await lead_state(api, ops, lead)
    assert (state["personScore"], state["version"]) == (55, 1)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, [("INVALID_INPUT", None)]),
        (
            {"mqlThreshold": 0},
            [
                ("INVALID_INPUT", ["mqlThreshold"]),
                ("INVALID_INPUT", ["routingThreshold"]),
            ],
        ),
        (
            {"mqlThreshold": 40},
            [("INVALID_INPUT", ["routingThreshold"])],
        ),
        ({"routingThreshold": 91}, [("INVALID_INPUT", ["routingThreshold"])]),
        (
            {"mqlThreshold": 10_001, "routingThreshold": -1},
            [
                ("INVALID_INPUT", ["routingThreshold"]),
                ("INVALID_INPUT", ["mqlThreshold"]),
            ],
        ),
    ],
)
async def test_bad_thresholds_and_empty_edits_are_refused(
    api, make, sessions, fields, errors
):
    sales_ops = await make.user(Role.SALES_OPS)
    rows = await table_rows(sessions)

    data = await update(api, sales_ops, **fields)

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == errors
    assert await table_rows(sessions) == rows


async def test_a_history_page_outside_one_to_five_hundred_is_an_input_error(api, make):
    someone = await make.user(Role.SDR)

    result = await api(HISTORY, {"first": 501}, as_user=someone)

    assert result.data is None
    assert [(e["code"], e["message"]) for e in result.errors] == [
        ("INVALID_INPUT", "first must be between 1 and 500.")
    ]
    past = (await api(TABLE, {"version": 7}, as_user=someone)).ok()
    assert past == {"scoringTable": None}


async def test_another_process_scores_with_the_new_table_at_once(
    two_servers, make, sessions
):
    """Each served process caches the table by version; an edit made through one
    is used by the other on its next request."""
    sales_ops = await make.user(Role.SALES_OPS)
    token = await make.token(sales_ops)
    create = """mutation($input: CreateLeadInput!) {
      createLead(input: $input) { lead { personScore } userErrors { code } } }"""

    async def post(base: str, query: str, variables: dict) -> dict:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}
            )
        return response.json()["data"]

    def lead(n: int) -> dict:
        return {
            "input": {
                "lastName": f"L{n}",
                "email": f"l{n}@initech.example",
                "title": "Director",
                "initialSource": "Web Direct",
            }
        }

    one, two = two_servers
    warm = await post(two, create, lead(1))
    assert warm["createLead"]["lead"] == {"personScore": 55}

    edited = await post(
        one,
        UPDATE,
        {
            "input": {
                "expectedVersion": 1,
                "points": [{"rule": "TITLE_SENIORITY", "points": 70}],
            }
        },
    )
    assert edited["updateScoringTable"]["userErrors"] == []
    assert edited["updateScoringTable"]["leadsRescored"] == 1

    after = await post(two, create, lead(2))
    assert after["createLead"]["lead"] == {"personScore": 75}
    async with sessions() as s:
        assert (await s.get(Lead, 1)).person_score == 75


async def test_engagements_racing_an_edit_end_scored_by_the_table_in_force(api, make):
    """Writers that score hold the table's head: an edit waits for them, or they
    wait for it, so no score computed from the old table lands after the rescore."""
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    leads = [
        await make.lead(by=ops, title="Analyst", email=f"r{n}@initech.example")
        for n in range(24)
    ]

    async def stream(some: list) -> None:
        for lead in some:
            await engage(api, ops, lead, "GATED_ASSET_DOWNLOAD")

    _, edit, _ = await asyncio.gather(
        stream(leads[:12]),
        update(api, sales_ops, points=[{"rule": "GATED_ASSET_DOWNLOAD", "points": 7}]),
        stream(leads[12:]),
    )

    assert edit["userErrors"] == []
    for lead in leads:
        state = await lead_state(api, ops, lead)
        assert state["personScore"] == 12  # company email 5 + download 7
        assert sum(line["points"] for line in state["scoreBreakdown"]) == 12


async def test_an_edit_leaves_every_funnel_entry_as_it_was(api, make, sessions, engine):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    small = await make.lead(by=ops, title="VP Sales", number_of_employees=20)
    large = await make.lead(by=ops, title="Analyst", number_of_employees=5000)
    await engage(api, ops, small, "PRICING_PAGE_VISIT")
    await engage(api, ops, large, "TRIAL_REQUEST")
    grouped = {
        by: (await api(FUNNEL, {"groupBy": by}, as_user=ops)).ok()["funnel"]
        for by in ("SEGMENT", "REGION", "OWNER", "INITIAL_SOURCE")
    }
    entries = await funnel_entries(sessions)

    with columns_updated(engine) as updated:
        data = await update(
            api,
            sales_ops,
            points=[
                {"rule": "PRICING_PAGE_VISIT", "points": 40},
                {"rule": "TITLE_SENIORITY", "points": 70},
                {"rule": "TRIAL_REQUEST", "points": 10},
            ],
            mqlThreshold=60,
            routingThreshold=50,
        )

    assert data["userErrors"] == []
    assert data["leadsRescored"] == 2
    # The rescore writes no column a funnel entry copies: entries stay as they were.
    assert updated["leads"] == {"person_score", "version", "updated_at"}
    assert not updated["leads"] & COPIED_COLUMNS
    assert "funnel_entries" not in updated
    assert await funnel_entries(sessions) == entries
    for by, before in grouped.items():
        assert (await api(FUNNEL, {"groupBy": by}, as_user=ops)).ok()[
            "funnel"
        ] == before, by
