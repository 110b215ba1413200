"""recordEngagements: a batch means exactly recording its engagements one by one in
order (D6, D2, D8, D10), all or nothing, in one transaction."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from domain.enums import Role
from domain.records import (
    Engagement,
    Event,
    IdempotencyKey,
    Lead,
    TransitionRecord,
)
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.bulk import COPY_FROM
from domain.services.engagements import MAX_BATCH
from domain.sqltypes import utcnow
from tests.api.ids import gid, raw_id
from tests.conftest import row_count

BATCH = """
mutation($input: RecordEngagementsInput!) {
  recordEngagements(input: $input) {
    results { engagement { id kind occurredAt } lead { id status personScore version } }
    userErrors { code field message }
  }
}"""
SINGLE = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    engagement { id } userErrors { code field message }
  }
}"""
LEAD = """
query($id: ID!) {
  lead(id: $id) {
    status personScore activeUntil slaStartedAt slaDueAt salesSegment region
    account { id }
    owner { id }
    routing { rule reason pool at assignee { id } }
    scoreBreakdown { rule points description engagement { id } }
    history { from to at reason note override secondsInFrom actor { id } }
  }
}"""
EVENTS = """
query($after: String) {
  events(first: 500, after: $after, orderBy: {field: ID, direction: ASC}) {
    nodes { id type recordType recordId payload actor { id }
            recipients { capacity user { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SET_POOL = """
mutation($input: SetRoutingPoolMembersInput!) {
  setRoutingPoolMembers(input: $input) { userErrors { code } }
}"""
POOLS = "{ routingPools { key lastPosition } }"
ADD_TEAM = """
mutation($input: AddAccountTeamMemberInput!) {
  addAccountTeamMember(input: $input) { userErrors { code } }
}"""
NURTURE = """
mutation($i: TransitionLeadInput!) { transitionLead(input: $i) { userErrors { code } } }"""


# --- the equivalence of a batch and one-by-one ------------------------------------------

# (lead profile) of each lead of a set; the same profiles are made twice, once
# for the batch and once for one-by-one, with a tag in their emails.
PROFILES: list[dict[str, Any]] = [
    # 0: US East, mid-market, Senior Developer: 45 before anything.
    {"title": "Senior Developer", "domain": "acme.example", "country": "US",
     "state": "NY", "number_of_employees": 500},
    # 1: US West SMB on free mail: -5; careers visits, then a Contact Us form.
    {"title": "Analyst", "domain": "gmail.com", "country": "US", "state": "CA",
     "number_of_employees": 20},
    # 2: EMEA, large, VP: 55 already — routed at creation (D8 round 2), nobody in
    #    the pools yet, so unowned.
    {"title": "VP Sales", "domain": "bigcorp.example", "country": "DE",
     "number_of_employees": 5000},
    # 3: passive GitLab.com lead in APAC: held by routing until it raises its hand.
    {"title": "Engineer", "domain": "tinyco.example", "country": "JP",
     "number_of_employees": 500, "initial_source": "GitLab.com"},
    # 4: nurtured before the run (US East): a new engagement brings it back, and
    #    its score changing at 55+ routes it again (D8 round 2).
    {"title": "Manager", "domain": "nurture.example", "country": "US",
     "state": "NY", "number_of_employees": 500},
    # 5: at Initech (a named account owned by a SAL): Professional Services (5
    #    before: a Director would be routed to the SAL at creation already).
    {"title": "Consultant", "domain": "initech.example", "country": "US",
     "state": "TX", "number_of_employees": 500},
    # 6: already owned by a BDR: never routed.
    {"title": "Consultant", "domain": "owned.example", "country": "US",
     "state": "NY", "number_of_employees": 500, "owned": True},
    # 7: EMEA SMB; the Enterprise trial page crosses 50, then falls and rises.
    {"title": "Consultant", "domain": "petit.example", "country": "FR",
     "number_of_employees": 50},
    # 8: LATAM, large: nobody in BDR_LATAM, so a Contact Us leaves it unowned;
    #    a later trial request routes it to the US/APAC trial pool.
    {"title": "Consultant", "domain": "grande.example", "country": "BR",
     "number_of_employees": 5000},
]  # fmt: skip

# (lead index, kind, days after the base day, hour) in batch order; None: now.
ITEMS: list[tuple[int, str, tuple[int, int] | None]] = [
    (0, "PRICING_PAGE_VISIT", (0, 9)),  # 55: crosses 50 -> BDR_US_EAST
    (1, "CAREERS_PAGE_VISIT", (0, 9)),
    (7, "ENTERPRISE_TRIAL_PAGE_VISIT", (0, 10)),  # 55: crosses -> BDR_EMEA
    (2, "TRIAL_REQUEST", (0, 11)),  # 155: MQL through INQUIRY; trial -> BDR_EMEA
    (0, "PRICING_PAGE_VISIT", (0, 15)),  # same day: no points
    (3, "CONTACT_US_REQUEST", (1, 8)),  # 95: MQL; passive: NOT_ACTIVE
    (4, "NEWSLETTER_OPT_IN", (1, 9)),  # NURTURE -> INQUIRY; 65: -> BDR_US_EAST
    (7, "ENTERPRISE_TRIAL_PAGE_VISIT", (0, 18)),  # same day again: nothing
    (1, "CAREERS_PAGE_VISIT", (3, 9)),  # within 7 days: -25
    (5, "PROFESSIONAL_SERVICES_REQUEST", (2, 9)),  # NAMED_ACCOUNT + notifications
    (0, "FEATURES_PAGE_VISIT", (0, 16)),
    (6, "TRIAL_REQUEST", None),  # owned: MQL, not routed; Active from now
    (8, "CONTACT_US_REQUEST", (2, 10)),  # nobody in BDR_LATAM: unowned
    (1, "GATED_ASSET_DOWNLOAD", (4, 9)),
    (3, "WEB_CHAT", (2, 9)),  # raises its hand: routed on its Contact Us
    (7, "EMAIL_UNSUBSCRIBE", (1, 9)),  # 30
    (0, "WEBCAST_REGISTRATION", (1, 9)),
    (4, "HIGH_INTENT_ON_DEMAND_WATCHED", (1, 10)),  # 110: MQL
    (1, "CONTACT_US_REQUEST", (5, 9)),  # form: SMB -> Customer Advocates; 0 -> 95
    (7, "ENTERPRISE_TRIAL_PAGE_VISIT", (2, 9)),  # another day: 80, owned already
    (8, "TRIAL_REQUEST", (3, 9)),  # routed again -> BDR_US_APAC
    (0, "LOW_INTENT_LIVE_ATTENDED", (1, 10)),  # 95: MQL
    (1, "CAREERS_PAGE_VISIT", (5, 10)),  # a new window opens: nothing yet
    (2, "PRICING_PAGE_VISIT", (0, 12)),
    (1, "CAREERS_PAGE_VISIT", (6, 10)),  # second penalty
]


async def world(api: Any, make: Any) -> dict[str, Any]:
    """Users, pools (set so every rotation starts afresh) and a named account."""
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    sdr = await make.user(Role.SDR)
    away = await make.user(Role.BDR, out_of_office_until=utcnow() + timedelta(days=30))
    pools = {
        "BDR_US_EAST": [await make.user(Role.BDR) for _ in range(2)],
        "BDR_EMEA": [await make.user(Role.BDR), away, await make.user(Role.BDR)],
        "BDR_APAC": [await make.user(Role.BDR)],
        "BDR_US_APAC": [await make.user(Role.BDR) for _ in range(2)],
        "CUSTOMER_ADVOCATE_NCSA": [await make.user(Role.CUSTOMER_ADVOCATE)],
    }
    initech = await make.run(
        lambda s: create_account(
            {"name": "Initech", "owner_id": sal.id, "is_named": True},
            session=s,
            actor=Actor(sales_ops.id, sales_ops.role),
            domains=["initech.example"],
        )
    )
    added = (
        await api(
            ADD_TEAM,
            {
                "input": {
                    "accountId": gid("Account", initech.id),
                    "userId": gid("User", sdr.id),
                    "role": "SDR",
                }
            },
            as_user=sales_ops,
        )
    ).ok()["addAccountTeamMember"]
    assert added["userErrors"] == []
    return {
        "ops": ops,
        "sales_ops": sales_ops,
        "pools": pools,
        "sal": sal,
        "owner": sdr,
    }


async def restart_rotations(api: Any, w: dict[str, Any]) -> None:
    """Set every pool's members again: each rotation restarts at its first member."""
    for key, members in w["pools"].items():
        done = (
            await api(
                SET_POOL,
                {
                    "input": {
                        "pool": key,
                        "userIds": [gid("User", u.id) for u in members],
                    }
                },
                as_user=w["sales_ops"],
            )
        ).ok()["setRoutingPoolMembers"]
        assert done["userErrors"] == []


async def lead_set(api: Any, make: Any, w: dict[str, Any], tag: str) -> list[int]:
    """The leads of PROFILES, their emails tagged; lead 4 nurtured."""
    ids = []
    for n, p in enumerate(PROFILES):
        values = {
            "title": p["title"],
            "email": f"{tag}.lead{n}@{p['domain']}",
            "company": None,
            "country": p["country"],
            "state": p.get("state"),
            "number_of_employees": p["number_of_employees"],
            "initial_source": p.get("initial_source", "Web Direct"),
        }
        if p.get("owned"):
            values["owner_id"] = w["owner"].id
        ids.append((await make.lead(by=w["ops"], **values)).id)
    moved = (
        await api(
            NURTURE,
            {"i": {"id": gid("Lead", ids[4]), "to": "NURTURE", "reason": "later"}},
            as_user=w["ops"],
        )
    ).ok()["transitionLead"]
    assert moved["userErrors"] == []
    return ids


def batch_input(ids: list[int], base: datetime) -> list[dict[str, Any]]:
    items = []
    for lead, kind, when in ITEMS:
        item: dict[str, Any] = {"leadId": gid("Lead", ids[lead]), "kind": kind}
        if when is not None:
            days, hour = when
            item["occurredAt"] = (base + timedelta(days=days, hours=hour)).isoformat()
        items.append(item)
    return items


async def all_events(api: Any, as_user: Any) -> list[dict[str, Any]]:
    found, after = [], None
    while True:
        page = (await api(EVENTS, {"after": after}, as_user=as_user)).ok()["events"]
        found += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def observed_events(
    events: list[dict[str, Any]], ids: list[int], tag: str
) -> list[tuple[Any, ...]]:
    """The run's events with each lead named by its place in its set."""
    place = {gid("Lead", lead_id): n for n, lead_id in enumerate(ids)}
    seen = []
    for e in events:
        payload = dict(e["payload"])
        if isinstance(payload.get("email"), str):
            payload["email"] = payload["email"].replace(f"{tag}.", "")
        seen.append(
            (
                e["type"],
                e["recordType"],
                place.get(e["recordId"], e["recordId"]),
                e["actor"],
                payload,
                e["recipients"],
            )
        )
    return seen


async def observed_leads(
    api: Any,
    as_user: Any,
    ids: list[int],
    engagement_place: dict[str, int],
    run_at: datetime,
) -> list[dict[str, Any]]:
    """Every lead as the API shows it, engagements named by their place in ITEMS;
    the time of moves made while setting up (not at ``run_at``) left out."""
    leads = []
    for lead_id in ids:
        data = (await api(LEAD, {"id": gid("Lead", lead_id)}, as_user=as_user)).ok()[
            "lead"
        ]
        for line in data["scoreBreakdown"]:
            if line["engagement"] is not None:
                line["engagement"] = engagement_place[line["engagement"]["id"]]
        for move in data["history"]:
            if move["at"] != run_at.isoformat():
                move["at"] = move["secondsInFrom"] = "set up"
        leads.append(data)
    return leads


async def same_moment(make: Any, ids: list[int], at: datetime) -> None:
    """Given: every lead of both sets entered its status at the same moment."""

    async def set_it(s: Any) -> None:
        await s.execute(
            update(Lead).where(Lead.id.in_(ids)).values(status_changed_at=at)
        )

    await make.run(set_it)


@pytest.mark.parametrize("copy_from", [COPY_FROM, 2], ids=["as-set", "all-by-copy"])
async def test_a_batch_is_exactly_its_engagements_recorded_one_by_one_in_order(
    api, make, sessions, monkeypatch, copy_from
):
    # "all-by-copy": every table the batch writes goes by COPY on PostgreSQL
    # (ids drawn first where wanted), events' JSON payloads included.
    monkeypatch.setattr("domain.services.bulk.COPY_FROM", copy_from)
    monkeypatch.setattr("domain.services.engagements.COPY_FROM", copy_from)
    w = await world(api, make)
    ops = w["ops"]
    # Every event, alerts to others included: SALES_OPS reads them all (issue
    # 17: events addressed to others are their recipients' and ops').
    reader = w["sales_ops"]
    batched = await lead_set(api, make, w, "batch")
    one_by_one = await lead_set(api, make, w, "single")
    now = utcnow().replace(microsecond=0)
    base = (now - timedelta(days=10)).replace(hour=0, minute=0, second=0)
    await same_moment(make, batched + one_by_one, now - timedelta(days=20))
    # Both runs happen at the same instant as far as the service can tell.
    monkeypatch.setattr("domain.services.engagements.utcnow", lambda: now)

    # When: the batch on one set...
    await restart_rotations(api, w)
    before_batch = len(await all_events(api, reader))
    result = (
        await api(
            BATCH,
            {"input": {"engagements": batch_input(batched, base)}},
            as_user=ops,
        )
    ).ok()["recordEngagements"]
    assert result["userErrors"] == []
    batch_events = (await all_events(api, reader))[before_batch:]
    batch_pools = (await api(POOLS, as_user=ops)).ok()["routingPools"]

    # ...and the same engagements one by one, in the same order, on the other.
    await restart_rotations(api, w)
    before_singles = len(await all_events(api, reader))
    single_ids = []
    for item in batch_input(one_by_one, base):
        done = (await api(SINGLE, {"input": item}, as_user=ops)).ok()[
            "recordEngagement"
        ]
        assert done["userErrors"] == []
        single_ids.append(done["engagement"]["id"])
    single_events = (await all_events(api, reader))[before_singles:]
    single_pools = (await api(POOLS, as_user=ops)).ok()["routingPools"]

    # Then: one result per engagement, in input order, each with its lead.
    assert [r["engagement"]["kind"] for r in result["results"]] == [
        kind for _, kind, _ in ITEMS
    ]
    assert [raw_id(r["lead"]["id"]) for r in result["results"]] == [
        batched[lead] for lead, _, _ in ITEMS
    ]
    batch_ids = [r["engagement"]["id"] for r in result["results"]]
    assert [raw_id(i) for i in batch_ids] == sorted(raw_id(i) for i in batch_ids)
    # Every observable of every lead is the same.
    batch_leads = await observed_leads(
        api, ops, batched, {e: n for n, e in enumerate(batch_ids)}, now
    )
    single_leads = await observed_leads(
        api, ops, one_by_one, {e: n for n, e in enumerate(single_ids)}, now
    )
    for n, (got, expected) in enumerate(zip(batch_leads, single_leads, strict=True)):
        assert got == expected, f"lead {n}"
    # The same events, in the same order, addressed to the same people; the
    # rotations stopped at the same members.
    assert observed_events(batch_events, batched, "batch") == observed_events(
        single_events, one_by_one, "single"
    )
    assert batch_pools == single_pools

    # And the scenario did what it is meant to exercise.
    statuses = [lead["status"] for lead in batch_leads]
    # Lead 7 only visited pages and unsubscribed: no hand-raise, still RAW (D2).
    assert statuses == ["MQL"] * 7 + ["RAW", "MQL"]
    # Lead 1 reached 100 with its Contact Us (MQL), then a second careers
    # penalty took it to 75; lead 7 crossed 50, fell to 30 and rose to 80.
    assert [lead["personScore"] for lead in batch_leads] == [
        95, 75, 165, 95, 110, 105, 105, 80, 205,
    ]  # fmt: skip
    rules = [(lead["routing"] or {}).get("rule") for lead in batch_leads]
    assert rules == [
        "SCORE_AT_LEAST_50",
        "CONTACT_US",
        "TRIAL_REQUEST",
        "CONTACT_US",
        "SCORE_AT_LEAST_50",
        "NAMED_ACCOUNT",
        None,
        "SCORE_AT_LEAST_50",
        "TRIAL_REQUEST",
    ]
    pools = {key: [gid("User", u.id) for u in us] for key, us in w["pools"].items()}
    owners = [(lead["owner"] or {}).get("id") for lead in batch_leads]
    assert owners == [
        pools["BDR_US_EAST"][0],
        pools["CUSTOMER_ADVOCATE_NCSA"][0],
        pools["BDR_EMEA"][2],  # the out-of-office member is skipped
        pools["BDR_APAC"][0],
        pools["BDR_US_EAST"][1],
        gid("User", w["sal"].id),
        gid("User", w["owner"].id),
        pools["BDR_EMEA"][0],
        pools["BDR_US_APAC"][0],
    ]
    kinds = [e[0] for e in observed_events(batch_events, batched, "batch")]
    assert kinds.count("LEAD_ROUTED") == 10
    assert {"STRATEGIC_ACCOUNT_INBOUND", "PROFESSIONAL_SERVICES_REQUEST"} <= set(kinds)
    careers = [
        line for line in batch_leads[1]["scoreBreakdown"]
        if line["rule"] == "CAREERS_PAGE_VISITS"
    ]  # fmt: skip
    assert [line["engagement"] for line in careers] == [8, 24]


# --- all or nothing ------------------------------------------------------------------


async def snapshot(sessions: Any, lead_ids: list[int]) -> dict[str, Any]:
    """Row counts of everything a batch writes, and each lead's version and score."""
    async with sessions() as s:
        leads = (
            await s.execute(
                select(Lead.id, Lead.version, Lead.person_score, Lead.status)
                .where(Lead.id.in_(lead_ids))
                .order_by(Lead.id)
            )
        ).all()
    return {
        "rows": [
            await row_count(sessions, model)
            for model in (Engagement, Event, TransitionRecord, IdempotencyKey)
        ],
        "leads": [tuple(row) for row in leads],
    }


async def test_a_batch_with_any_refused_engagement_records_none_and_lists_every_reason(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    good = await make.lead(by=ops, title="VP", email="vp@acme.example")
    converted = await make.lead(by=ops)

    async def convert(s: Any) -> None:
        await s.execute(
            update(Lead).where(Lead.id == converted.id).values(converted_at=utcnow())
        )

    await make.run(convert)
    future = (utcnow() + timedelta(hours=2)).isoformat()
    items = [
        {"leadId": gid("Lead", good.id), "kind": "CONTACT_US_REQUEST"},
        {"leadId": gid("Lead", 9999), "kind": "WEBCAST_REGISTRATION"},
        {"leadId": gid("Lead", good.id), "kind": "TRIAL_REQUEST"},
        {"leadId": gid("Lead", good.id), "kind": "PRICING_PAGE_VISIT",
         "occurredAt": future},
        {"leadId": gid("Lead", converted.id), "kind": "NEWSLETTER_OPT_IN",
         "campaignId": gid("Campaign", 4242)},
        {"leadId": gid("Lead", 9998), "kind": "WEB_CHAT", "occurredAt": future},
    ]  # fmt: skip
    before = await snapshot(sessions, [good.id, converted.id])

    data = (await api(BATCH, {"input": {"engagements": items}}, as_user=ops)).ok()[
        "recordEngagements"
    ]

    assert data["results"] == []
    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("NOT_FOUND", ["engagements", "1", "leadId"]),
        ("INVALID_INPUT", ["engagements", "3", "occurredAt"]),
        ("READ_ONLY_RECORD", ["engagements", "4", "leadId"]),
        ("NOT_FOUND", ["engagements", "4", "campaignId"]),
        ("NOT_FOUND", ["engagements", "5", "leadId"]),
        ("INVALID_INPUT", ["engagements", "5", "occurredAt"]),
    ]
    assert data["userErrors"][0]["message"] == f"No such record: {gid('Lead', 9999)}."
    # Nothing at all was written: not even the valid engagements 0 and 2.
    assert await snapshot(sessions, [good.id, converted.id]) == before


async def test_malformed_ids_are_refused_for_every_item_before_anything_is_read(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    items = [
        {"leadId": gid("Lead", lead.id), "kind": "WEBCAST_REGISTRATION"},
        {"leadId": gid("Account", lead.id), "kind": "WEBCAST_REGISTRATION"},
        {"leadId": "not-an-id", "kind": "WEBCAST_REGISTRATION",
         "campaignId": gid("Lead", 1)},
    ]  # fmt: skip
    before = await snapshot(sessions, [lead.id])

    data = (await api(BATCH, {"input": {"engagements": items}}, as_user=ops)).ok()[
        "recordEngagements"
    ]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", ["engagements", "1", "leadId"]),
        ("INVALID_INPUT", ["engagements", "2", "leadId"]),
        ("INVALID_INPUT", ["engagements", "2", "campaignId"]),
    ]
    assert await snapshot(sessions, [lead.id]) == before


async def test_a_batch_holds_one_to_a_thousand_engagements(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    leads = [await make.lead(by=ops) for _ in range(4)]
    ids = [lead.id for lead in leads]
    at = (utcnow() - timedelta(days=1)).isoformat()

    def items(count: int) -> list[dict[str, Any]]:
        return [
            {
                "leadId": gid("Lead", ids[n % len(ids)]),
                "kind": "WEBCAST_EMAIL_OPT_IN",
                "occurredAt": at,
            }
            for n in range(count)
        ]

    before = await snapshot(sessions, ids)
    empty = (await api(BATCH, {"input": {"engagements": []}}, as_user=ops)).ok()[
        "recordEngagements"
    ]
    too_many = (
        await api(BATCH, {"input": {"engagements": items(MAX_BATCH + 1)}}, as_user=ops)
    ).ok()["recordEngagements"]
    after_refusals = await snapshot(sessions, ids)
    full = (
        await api(BATCH, {"input": {"engagements": items(MAX_BATCH)}}, as_user=ops)
    ).ok()["recordEngagements"]

    assert MAX_BATCH == 1_000
    assert [(e["code"], e["field"]) for e in empty["userErrors"]] == [
        ("INVALID_INPUT", ["engagements"])
    ]
    assert [(e["code"], e["field"]) for e in too_many["userErrors"]] == [
        ("INVALID_INPUT", ["engagements"])
    ]
    assert too_many["userErrors"][0]["message"] == (
        "Give 1 to 1,000 engagements per call (1,001 given); split larger batches."
    )
    assert (empty["results"], too_many["results"]) == ([], [])
    assert after_refusals == before
    assert full["userErrors"] == []
    assert len(full["results"]) == MAX_BATCH
    assert await row_count(sessions, Engagement) == MAX_BATCH
    # 250 opt-ins of +10 each, on top of -10 (no title) and +5 (company email).
    assert {r["lead"]["personScore"] for r in full["results"]} == {2_495}


async def test_a_repeated_batch_with_the_same_key_answers_the_first_time_again(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    leads = [await make.lead(by=ops) for _ in range(2)]
    ids = [lead.id for lead in leads]
    items = [
        {"leadId": gid("Lead", ids[0]), "kind": "GATED_ASSET_DOWNLOAD"},
        {"leadId": gid("Lead", ids[1]), "kind": "WEBCAST_REGISTRATION"},
        {"leadId": gid("Lead", ids[0]), "kind": "GATED_ASSET_DOWNLOAD"},
    ]
    batch = {"engagements": items, "idempotencyKey": "sync-2026-11-23T10:00"}

    first = (await api(BATCH, {"input": batch}, as_user=ops)).ok()["recordEngagements"]
    after_first = await snapshot(sessions, ids)
    again = (await api(BATCH, {"input": batch}, as_user=ops)).ok()["recordEngagements"]
    other = (
        await api(BATCH, {"input": {**batch, "engagements": items[:2]}}, as_user=ops)
    ).ok()["recordEngagements"]

    assert first["userErrors"] == again["userErrors"] == []
    assert again["results"] == first["results"]
    # Each lead as the batch left it: -5 (no title, company email) + 2 x 30, + 15.
    assert [r["lead"]["personScore"] for r in first["results"]] == [55, 10, 55]
    assert await snapshot(sessions, ids) == after_first
    assert after_first["rows"][0] == 3
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["idempotencyKey"])
    ]
    assert other["results"] == []


# --- who may record ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "owns"),
    [
        (Role.MARKETING_OPS, False),
        (Role.SALES_OPS, False),
        (Role.ADMIN, False),
        (Role.BDR, True),
        (Role.BDR, False),
        (Role.AE, False),
        (Role.SDR, True),
    ],
)
async def test_the_batch_lets_exactly_who_the_single_mutation_lets(
    api, make, sessions, role, owns
):
    ops = await make.user(Role.MARKETING_OPS)
    caller = await make.user(role)
    other = await make.user(Role.BDR)
    owner = caller if owns else other
    # Two leads of the same owner: one per path, so the paths cannot interfere.
    single_lead, batch_lead = [
        await make.lead(by=ops, owner_id=owner.id) for _ in range(2)
    ]
    unowned = await make.lead(by=ops)

    single = (
        await api(
            SINGLE,
            {"input": {"leadId": gid("Lead", single_lead.id), "kind": "WEB_CHAT"}},
            as_user=caller,
        )
    ).ok()["recordEngagement"]
    before = await snapshot(sessions, [batch_lead.id, unowned.id])
    batch = (
        await api(
            BATCH,
            {
                "input": {
                    "engagements": [
                        {"leadId": gid("Lead", unowned.id), "kind": "WEB_CHAT"},
                        {"leadId": gid("Lead", batch_lead.id), "kind": "WEB_CHAT"},
                    ]
                }
            },
            as_user=caller,
        )
    ).ok()["recordEngagements"]

    editor = role in (Role.MARKETING_OPS, Role.SALES_OPS, Role.ADMIN)
    # The owned lead: the same answer on both paths.
    assert [e["code"] for e in single["userErrors"]] == (
        [] if editor or owns else ["FORBIDDEN"]
    )
    expected = []
    if not editor:
        # An unowned lead is changed only by the lead editors.
        expected.append(("FORBIDDEN", ["engagements", "0"]))
        if not owns:
            expected.append(("FORBIDDEN", ["engagements", "1"]))
    assert [(e["code"], e["field"]) for e in batch["userErrors"]] == expected
    if expected:
        assert await snapshot(sessions, [batch_lead.id, unowned.id]) == before
    else:
        assert len(batch["results"]) == 2


# --- set-based ----------------------------------------------------------------------------


async def test_a_batch_costs_the_same_statements_for_ten_leads_or_a_hundred(
    api, make, count_statements
):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    bdrs = [await make.user(Role.BDR) for _ in range(3)]
    done = (
        await api(
            SET_POOL,
            {
                "input": {
                    "pool": "BDR_US_EAST",
                    "userIds": [gid("User", u.id) for u in bdrs],
                }
            },
            as_user=sales_ops,
        )
    ).ok()["setRoutingPoolMembers"]
    assert done["userErrors"] == []
    at = (utcnow() - timedelta(days=1)).isoformat()

    async def run(size: int) -> int:
        leads = [
            await make.lead(
                by=ops, title="Director", country="US", state="NY",
                number_of_employees=500,
            )
            for _ in range(size)
        ]  # fmt: skip
        # Each lead: 55 -> crosses nothing; 55 + 45 = 100: MQL; a form routes it.
        items = [
            {"leadId": gid("Lead", lead.id), "kind": kind, "occurredAt": at}
            for kind in ("HIGH_INTENT_ON_DEMAND_WATCHED", "CONTACT_US_REQUEST")
            for lead in leads
        ]
        with count_statements() as counter:
            data = (
                await api(BATCH, {"input": {"engagements": items}}, as_user=ops)
            ).ok()["recordEngagements"]
        assert data["userErrors"] == []
        assert {r["lead"]["status"] for r in data["results"]} == {"MQL"}
        return counter.count

    # one INSERT (or executemany) per table below COPY_FROM rows, ids drawn and
    # a COPY from there (engagements, events, ledger rows): constant on each side
    assert COPY_FROM == 100
    assert await run(5) == await run(12)
    assert await run(50) == await run(120)


# --- concurrency ----------------------------------------------------------------------


async def test_simultaneous_batches_sharing_leads_in_any_order_all_commit(
    api, make, sessions
):
    """Each batch locks its leads in id order and, to route, every pool in key
    order: batches naming the same leads in opposite orders and routing into
    several pools queue on PostgreSQL instead of deadlocking."""
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    places = [("US", "NY"), ("DE", None), ("JP", None), ("US", "CA")]
    pools = ["BDR_US_EAST", "BDR_EMEA", "BDR_APAC", "BDR_US_WEST"]
    members = {key: [await make.user(Role.BDR) for _ in range(2)] for key in pools}
    for key, users in members.items():
        done = (
            await api(
                SET_POOL,
                {"input": {"pool": key, "userIds": [gid("User", u.id) for u in users]}},
                as_user=sales_ops,
            )
        ).ok()["setRoutingPoolMembers"]
        assert done["userErrors"] == []
    leads = [
        await make.lead(
            by=ops, title="Analyst", country=country, state=state,
            number_of_employees=500,
        )
        for country, state in places * 3
    ]  # fmt: skip
    # Batches sharing every lead, in four orders; and batches of their own leads
    # whose regions (so pools) come in opposite orders.
    own = [
        [
            await make.lead(
                by=ops, title="Analyst", country=country, state=state,
                number_of_employees=500,
            )
            for country, state in (places if n % 2 else places[::-1])
        ]
        for n in range(4)
    ]  # fmt: skip
    at = (utcnow() - timedelta(days=1)).isoformat()
    orders = [leads, leads[::-1], leads[1::2] + leads[::2], leads[::-2] + leads[-2::-2]]
    orders = [*orders, *orders, *own, *own]

    results = await asyncio.gather(
        *(
            api(
                BATCH,
                {
                    "input": {
                        "engagements": [
                            {
                                "leadId": gid("Lead", lead.id),
                                "kind": "GATED_ASSET_DOWNLOAD",
                                "occurredAt": at,
                            }
                            for lead in order
                        ]
                    }
                },
                as_user=ops,
            )
            for order in orders
        )
    )

    assert [r.errors for r in results] == [[]] * 16
    assert [r.data["recordEngagements"]["userErrors"] for r in results] == [[]] * 16
    assert await row_count(sessions, Engagement) == 8 * len(leads) + 2 * 16
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Lead.person_score, Lead.routing_pool, Lead.owner_id).where(
                    Lead.id.in_([lead.id for lead in leads])
                )
            )
        ).all()
        routed = (
            await s.execute(select(Event.record_id).where(Event.kind == "LEAD_ROUTED"))
        ).scalars()
        routed_ids = sorted(routed)
    # +5 (company email) + 8 x 30; routed once, when the first batch crossed 50.
    assert {score for score, _, _ in rows} == {245}
    assert routed_ids == sorted(
        [lead.id for lead in leads] + [lead.id for batch in own for lead in batch]
    )
    # The other leads (+5 + 2 x 30) too; all 28 routed once, 7 per pool, no
    # turn given twice: each pool's two BDRs got 3 and 4.
    async with sessions() as s:
        others = (
            await s.execute(
                select(Lead.person_score, Lead.routing_pool, Lead.owner_id).where(
                    Lead.id.in_([lead.id for batch in own for lead in batch])
                )
            )
        ).all()
    assert {score for score, _, _ in others} == {65}
    for key, users in members.items():
        owners = sorted(
            sum(1 for _, pool, owner in rows + others if pool == key and owner == u.id)
            for u in users
        )
        assert owners == [3, 4], key
