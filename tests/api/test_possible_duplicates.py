"""possibleDuplicates (D12; issue 13 item 3): one record's likely duplicates by
indexed match keys, and a full scan as a job."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from domain.enums import Role
from domain.records import Contact, Lead
from domain.rules.permissions import Actor
from domain.services import possible_duplicates as finding
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from domain.services.leads import create_lead
from tests.api.ids import gid
from tests.api.payloads import codes

LEAD_DUPLICATES = """
query($id: ID!, $first: Int) { lead(id: $id) { possibleDuplicates(first: $first) {
  recordId reason reasons score record { id ... on Lead { lastName } } } } }"""
CONTACT_DUPLICATES = """
query($id: ID!) { contact(id: $id) { possibleDuplicates {
  recordId reason reasons score } } }"""
SCAN = """
mutation($kind: MergeKind!) { startDuplicateScan(input: {kind: $kind}) {
  scan { id status pairCount startedAt finishedAt error
         pairs { firstId secondId reason reasons score } }
  userErrors { code field message } } }"""
PAIRS = """
query($kind: MergeKind!) { possibleDuplicates(kind: $kind, first: 10) {
  firstId secondId reason score } }"""


async def lead(make: Any, by: Any, **values: Any) -> Any:
    """A lead that may share its email with another (the duplicates under test)."""

    async def create(s: Any) -> Any:
        base = {"last_name": "Pat", "initial_source": "Web Direct", **values}
        return await create_lead(
            base, session=s, actor=Actor(by.id, by.role), allow_duplicate=True
        )

    return await make.run(create)


async def test_a_leads_possible_duplicates_name_each_reason_and_score(api, make):
    ops = await make.user(Role.MARKETING_OPS)

    async def add(**values: Any) -> int:
        return (await lead(make, ops, **values)).id

    me = await add(
        first_name="Jane",
        last_name="Doe",
        email="jane.doe@acme.com",
        company="Acme Inc",
        phone="+1 415 555 0100",
    )
    same_email = await add(last_name="Other", email="Jane.Doe+webinar@ACME.com")
    name_domain = await add(first_name="jane", last_name="DOE", email="jd@acme.com")
    name_company = await add(
        first_name="Jane", last_name="Doe", email="jd@gmail.com", company="ACME"
    )
    phone = await add(last_name="Switch", phone="(415) 555-0100")
    everything = await add(
        first_name="Doe",
        last_name="Jane",
        email="jane.doe@acme.com",
        company="The Acme Company",
        phone="4155550100",
    )
    await add(first_name="Jane", last_name="Doe", email="jane@gmail.com")  # no reason

    data = (await api(LEAD_DUPLICATES, {"id": gid("Lead", me)}, as_user=ops)).ok()

    found = [
        (d["recordId"], d["reasons"], d["score"])
        for d in data["lead"]["possibleDuplicates"]
    ]
    assert found == [
        (
            gid("Lead", everything),
            [
                "SAME_EMAIL",
                "SAME_NAME_AND_DOMAIN",
                "SAME_NAME_AND_COMPANY",
                "SAME_PHONE",
            ],
            100,
        ),
        (gid("Lead", same_email), ["SAME_EMAIL"], 95),
        (gid("Lead", name_domain), ["SAME_NAME_AND_DOMAIN"], 80),
        (gid("Lead", name_company), ["SAME_NAME_AND_COMPANY"], 70),
        (gid("Lead", phone), ["SAME_PHONE"], 60),
    ]
    first = data["lead"]["possibleDuplicates"][0]
    assert first["reason"] == "SAME_EMAIL"
    assert first["record"] == {"id": gid("Lead", everything), "lastName": "Jane"}

    two = (
        await api(LEAD_DUPLICATES, {"id": gid("Lead", me), "first": 2}, as_user=ops)
    ).ok()
    assert len(two["lead"]["possibleDuplicates"]) == 2


async def test_keys_follow_an_update_of_the_profile(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    a = await make.lead(by=ops, email="one@acme.example", phone=None)
    b = await make.lead(by=ops, email="two@other.example", phone=None)

    result = await api(
        """mutation($id: ID!) { updateLead(input: {id: $id, email:
        "ONE+x@acme.example", allowDuplicate: true}) { userErrors { code } } }""",
        {"id": gid("Lead", b.id)},
        as_user=ops,
    )
    assert result.ok()["updateLead"]["userErrors"] == []

    async with sessions() as s:
        keys = (
            await s.execute(select(Lead.match_email).where(Lead.id == b.id))
        ).scalar_one()
    assert keys == "one@acme.example"
    data = (await api(LEAD_DUPLICATES, {"id": gid("Lead", a.id)}, as_user=ops)).ok()
    assert [d["recordId"] for d in data["lead"]["possibleDuplicates"]] == [
        gid("Lead", b.id)
    ]


async def test_contacts_match_on_name_within_one_account(api, make):
    ops = await make.user(Role.SALES_OPS)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        acme = await create_account({"name": "Acme"}, session=s, actor=actor)
        other = await create_account({"name": "Other"}, session=s, actor=actor)
        made = []
        for account in (acme, acme, other):
            row = await create_contact(
                {
                    "first_name": "Sam",
                    "last_name": "Lee",
                    "account_id": account.id,
                    "initial_source": "Web Direct",
                },
                session=s,
                actor=actor,
            )
            made.append(row.id)
        return made

    me, same_account, elsewhere = await make.run(build)

    data = (await api(CONTACT_DUPLICATES, {"id": gid("Contact", me)}, as_user=ops)).ok()

    assert data["contact"]["possibleDuplicates"] == [
        {
            "recordId": gid("Contact", same_account),
            "reason": "SAME_NAME_AND_COMPANY",
            "reasons": ["SAME_NAME_AND_COMPANY"],
            "score": 70,
        }
    ]
    assert elsewhere != same_account


async def test_a_full_scan_is_a_job_whose_pairs_the_root_query_reads(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    a = await lead(
        make, ops, last_name="A", email="pat@acme.example", phone="555 111 2222"
    )
    b = await lead(make, ops, last_name="B", email="PAT@acme.example")
    c = await lead(
        make, ops, last_name="C", email="x@y.example", phone="+1 555-111-2222"
    )
    await lead(make, ops, email="alone@z.example")
    before = (await api(PAIRS, {"kind": "LEAD"}, as_user=ops)).ok()
    assert before["possibleDuplicates"] == []

    result = (await api(SCAN, {"kind": "LEAD"}, as_user=ops)).ok()

    scan = result["startDuplicateScan"]["scan"]
    assert result["startDuplicateScan"]["userErrors"] == []
    assert scan["status"] == "DONE"
    assert scan["error"] is None
    assert scan["startedAt"] is not None and scan["finishedAt"] is not None
    assert scan["pairCount"] == 2
    assert scan["pairs"] == [
        {
            "firstId": gid("Lead", a.id),
            "secondId": gid("Lead", b.id),
            "reason": "SAME_EMAIL",
            "reasons": ["SAME_EMAIL"],
            "score": 95,
        },
        {
            "firstId": gid("Lead", a.id),
            "secondId": gid("Lead", c.id),
            "reason": "SAME_PHONE",
            "reasons": ["SAME_PHONE"],
            "score": 60,
        },
    ]
    after = (await api(PAIRS, {"kind": "LEAD"}, as_user=ops)).ok()
    assert [p["secondId"] for p in after["possibleDuplicates"]] == [
        gid("Lead", b.id),
        gid("Lead", c.id),
    ]
    again = (
        await api(
            "query($id: ID!) { duplicateScan(id: $id) { status pairCount } }",
            {"id": scan["id"]},
            as_user=ops,
        )
    ).ok()
    assert again["duplicateScan"] == {"status": "DONE", "pairCount": 2}


async def test_a_scan_of_accounts_or_by_a_field_rep_is_refused(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    rep = await make.user(Role.AE)

    accounts = (await api(SCAN, {"kind": "ACCOUNT"}, as_user=ops)).ok()
    forbidden = (await api(SCAN, {"kind": "LEAD"}, as_user=rep)).ok()
    pairs = await api(PAIRS, {"kind": "ACCOUNT"}, as_user=ops)

    assert codes(accounts["startDuplicateScan"]) == [("INVALID_INPUT", ["kind"])]
    assert codes(forbidden["startDuplicateScan"]) == [("FORBIDDEN", None)]
    assert accounts["startDuplicateScan"]["scan"] is None
    assert [e["code"] for e in pairs.errors] == ["INVALID_INPUT"]


async def test_contacts_have_their_keys_too(make, sessions):
    ops = await make.user(Role.SALES_OPS)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        account = await create_account({"name": "Acme"}, session=s, actor=actor)
        return await create_contact(
            {
                "first_name": "Ann",
                "last_name": "Bo",
                "email": "Ann.Bo+x@acme.com",
                "phone": "+1 212 555 0199",
                "account_id": account.id,
                "initial_source": "Web Direct",
            },
            session=s,
            actor=actor,
        )

    contact = await make.run(build)
    async with sessions() as s:
        row = (
            await s.execute(
                select(
                    Contact.match_email,
                    Contact.match_name,
                    Contact.match_domain,
                    Contact.match_phone,
                ).where(Contact.id == contact.id)
            )
        ).one()
    assert tuple(row) == ("ann.bo@acme.com", "ann bo", "acme.com", "2125550199")


async def test_a_scan_pairs_leads_by_name_and_company(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    a = await lead(make, ops, first_name="Al", email="al@gmail.com", company="Acme")
    b = await lead(
        make, ops, first_name="AL", email="al2@yahoo.com", company="ACME Inc."
    )
    await lead(make, ops, first_name="Al", email="al3@gmail.com", company="Other")

    scan = (await api(SCAN, {"kind": "LEAD"}, as_user=ops)).ok()["startDuplicateScan"][
        "scan"
    ]

    assert scan["pairs"] == [
        {
            "firstId": gid("Lead", a.id),
            "secondId": gid("Lead", b.id),
            "reason": "SAME_NAME_AND_COMPANY",
            "reasons": ["SAME_NAME_AND_COMPANY"],
            "score": 70,
        }
    ]


SCAN_JOB = """query($id: ID!) { duplicateScan(id: $id) {
  status pairCount error pairs { firstId secondId reason } } }"""


async def test_a_scan_of_a_large_table_is_queued_and_run_by_the_worker(
    api, make, database_url, monkeypatch
):
    """Over ``INLINE_MAX_RECORDS`` records (here 2) the request answers QUEUED;
    `salesops worker --once` (a real process) claims the scan and runs it."""
    from tests.api.conftest import run_worker_once

    monkeypatch.setattr(finding, "INLINE_MAX_RECORDS", 2)
    ops = await make.user(Role.MARKETING_OPS)
    a = await lead(make, ops, last_name="A", email="pat@acme.example")
    b = await lead(make, ops, last_name="B", email="PAT@acme.example")
    await lead(make, ops, email="alone@z.example")

    started = (await api(SCAN, {"kind": "LEAD"}, as_user=ops)).ok()
    scan = started["startDuplicateScan"]["scan"]
    assert (scan["status"], scan["startedAt"], scan["pairs"]) == ("QUEUED", None, [])

    run_worker_once(database_url)

    done = (await api(SCAN_JOB, {"id": scan["id"]}, as_user=ops)).ok()
    assert done["duplicateScan"] == {
        "status": "DONE",
        "pairCount": 1,
        "error": None,
        "pairs": [
            {
                "firstId": gid("Lead", a.id),
                "secondId": gid("Lead", b.id),
                "reason": "SAME_EMAIL",
            }
        ],
    }


async def test_a_scan_whose_worker_went_silent_is_taken_over(
    api, make, sessions, monkeypatch
):
    """A RUNNING scan whose worker has been silent past the lease is claimed by
    another; the first, should it come back, writes nothing."""
    from datetime import timedelta

    from domain.records import DuplicateScan
    from domain.sqltypes import utcnow

    monkeypatch.setattr(finding, "INLINE_MAX_RECORDS", 0)
    ops = await make.user(Role.MARKETING_OPS)
    await lead(make, ops, last_name="A", email="pat@acme.example")
    await lead(make, ops, last_name="B", email="PAT@acme.example")
    started = (await api(SCAN, {"kind": "LEAD"}, as_user=ops)).ok()
    scan_id = int(
        base64.b64decode(started["startDuplicateScan"]["scan"]["id"])
        .decode()
        .split(":")[1]
    )

    async def claim(worker: str, at: Any) -> int | None:
        async with sessions() as s:
            return await finding.claim_duplicate_scan(
                s, worker=worker, now=at, lease_seconds=300
            )

    async def state() -> tuple[Any, ...]:
        async with sessions() as s:
            row = await s.get(DuplicateScan, scan_id)
            assert row is not None
            return row.status.value, row.claimed_by, row.pair_count

    assert await claim("a", utcnow()) == scan_id
    assert await state() == ("RUNNING", "a", 0)
    assert await claim("b", utcnow() + timedelta(seconds=250)) is None
    assert await claim("b", utcnow() + timedelta(seconds=301)) == scan_id
    async with sessions() as s:
        await finding.run_duplicate_scan(scan_id, session=s, worker="a", claimed=True)
    assert await state() == ("RUNNING", "b", 0)
    async with sessions() as s:
        await finding.run_duplicate_scan(scan_id, session=s, worker="b", claimed=True)
    assert await state() == ("DONE", "b", 1)
