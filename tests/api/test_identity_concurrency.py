"""One identity per person under concurrency (D12, issue 17): a served API (two
worker processes) and eight or more simultaneous HTTP clients on one email.

Each test fails on PostgreSQL without the email lock of
``domain.services.duplicates`` (or the key lock of ``idempotency``); on SQLite
the write transaction already runs alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from domain.enums import Role
from domain.records import (
    Contact,
    IdempotencyKey,
    Lead,
    SupportHandOff,
    TransitionRecord,
    User,
)
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from tests.api.ids import gid
from tests.conftest import row_count

CLIENTS = 8

CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code field recordId } } }"""
UPDATE_LEAD = """
mutation($input: UpdateLeadInput!) {
  updateLead(input: $input) { lead { id } userErrors { code field recordId } } }"""
UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) {
    contact { id } userErrors { code field recordId } } }"""
CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { id } userErrors { code field recordId } } }"""
PASS = """
mutation($input: PassTicketToSalesInput!) {
  passTicketToSales(input: $input) {
    handOff { leadCreated lead { id } } userErrors { code field recordId } } }"""
UPDATE_ACCOUNT = """
mutation($input: UpdateAccountInput!) {
  updateAccount(input: $input) { account { id } userErrors { code } } }"""
EDIT_SCORING = """
mutation($input: UpdateScoringTableInput!) {
  updateScoringTable(input: $input) { scoringTable { version } userErrors { code } } }"""


async def post_all(
    server: str, token: str, bodies: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Send every (query, variables) at once; each answer's ``data``."""
    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        responses = await asyncio.gather(
            *(
                client.post("/graphql", json={"query": q, "variables": v})
                for q, v in bodies
            )
        )
    assert [r.status_code for r in responses] == [200] * len(bodies)
    answers = [r.json() for r in responses]
    assert [a.get("errors") for a in answers] == [None] * len(bodies)
    return [a["data"] for a in answers]


async def an_account(
    make: Any, by: User, owner: User | None, domains: list[str] | None = None
) -> Any:
    """An account owned by ``owner`` (or nobody), with these email domains."""
    return await make.run(
        lambda s: create_account(
            {"name": "Acme", "owner_id": owner.id if owner else None},
            session=s,
            actor=Actor(by.id, by.role),
            domains=domains or [],
        )
    )


async def count(sessions: Any, model: type, email: str) -> int:
    """How many ``model`` rows have this email."""
    async with sessions() as s:
        return await s.scalar(
            select(func.count()).select_from(model).where(model.email == email)
        )


async def assert_one_person_won(
    payloads: list[dict[str, Any]], sessions: Any, email: str
) -> None:
    """One payload made the person; every other one names it as the duplicate,
    and one lead or contact has the email."""
    winners = [p for p in payloads if not p["userErrors"]]
    assert len(winners) == 1
    winner = (winners[0].get("lead") or winners[0]["contact"])["id"]
    assert [p["userErrors"] for p in payloads if p["userErrors"]] == [
        [{"code": "DUPLICATE_RECORD", "field": ["email"], "recordId": winner}]
    ] * (CLIENTS - 1)
    assert (
        await count(sessions, Lead, email) + await count(sessions, Contact, email) == 1
    )


def lead_input(email: str) -> dict[str, Any]:
    return {"input": {"email": email, "initialSource": "Webcast"}}


def contact_input(email: str, account_id: int) -> dict[str, Any]:
    return {
        "input": {
            "lastName": "Doe",
            "email": email,
            "accountId": gid("Account", account_id),
            "initialSource": "Webcast",
        }
    }


def split(payloads: list[dict[str, Any]], record: str) -> tuple[list, list]:
    """(created record ids, the userErrors of the refused)."""
    created = [p[record]["id"] for p in payloads if not p["userErrors"]]
    refused = [p["userErrors"] for p in payloads if p["userErrors"]]
    return created, refused


async def test_simultaneous_create_leads_with_one_email_create_one(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)

    data = await post_all(
        server, token, [(CREATE_LEAD, lead_input("Same@Acme.example"))] * CLIENTS
    )

    created, refused = split([d["createLead"] for d in data], "lead")
    assert len(created) == 1
    assert refused == [
        [{"code": "DUPLICATE_RECORD", "field": ["email"], "recordId": created[0]}]
    ] * (CLIENTS - 1)
    assert await count(sessions, Lead, "same@acme.example") == 1


async def test_simultaneous_create_contacts_with_one_email_create_one(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    account = await an_account(make, ops, ops)

    data = await post_all(
        server,
        token,
        [(CREATE_CONTACT, contact_input("jo@acme.example", account.id))] * CLIENTS,
    )

    created, refused = split([d["createContact"] for d in data], "contact")
    assert len(created) == 1
    assert refused == [
        [{"code": "DUPLICATE_RECORD", "field": ["email"], "recordId": created[0]}]
    ] * (CLIENTS - 1)
    assert await count(sessions, Contact, "jo@acme.example") == 1


async def test_leads_and_contacts_racing_on_one_email_make_one_person(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    account = await an_account(make, ops, ops)
    email = "kim@acme.example"
    bodies = [
        (CREATE_LEAD, lead_input(email))
        if n % 2
        else (CREATE_CONTACT, contact_input(email, account.id))
        for n in range(CLIENTS)
    ]

    data = await post_all(server, token, bodies)

    await assert_one_person_won(
        [d.get("createLead") or d["createContact"] for d in data], sessions, email
    )


async def test_simultaneous_re_emails_to_one_address_keep_one_person(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    account = await an_account(make, ops, ops)
    leads = [await make.lead(by=ops) for _ in range(CLIENTS // 2)]
    contacts = [
        (await post_all(server, token, [(CREATE_CONTACT, contact_input(
            f"c{n}@acme.example", account.id))]))[0]["createContact"]["contact"]["id"]
        for n in range(CLIENTS // 2)
    ]  # fmt: skip
    email = "moved@acme.example"
    bodies = [
        (UPDATE_LEAD, {"input": {"id": gid("Lead", lead.id), "email": email}})
        for lead in leads
    ] + [(UPDATE_CONTACT, {"input": {"id": c, "email": email}}) for c in contacts]

    data = await post_all(server, token, bodies)

    await assert_one_person_won(
        [d.get("updateLead") or d["updateContact"] for d in data], sessions, email
    )


async def test_allow_duplicate_still_creates_and_re_emails_under_concurrency(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    await make.lead(by=ops, email="twin@acme.example")
    body = lead_input("twin@acme.example")
    body["input"]["allowDuplicate"] = True
    other = await make.lead(by=ops)
    re_email = {
        "input": {
            "id": gid("Lead", other.id),
            "email": "twin@acme.example",
            "allowDuplicate": True,
        }
    }

    data = await post_all(
        server, token, [(CREATE_LEAD, body)] * (CLIENTS - 1) + [(UPDATE_LEAD, re_email)]
    )

    assert [(d.get("createLead") or d["updateLead"])["userErrors"] for d in data] == [
        []
    ] * CLIENTS
    assert await count(sessions, Lead, "twin@acme.example") == CLIENTS + 1


async def test_simultaneous_hand_offs_of_a_new_requester_create_one_lead(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    body = {"input": {"requesterEmail": "new@nowhere.example", "kind": "NEW_BUSINESS"}}

    data = await post_all(server, token, [(PASS, body)] * CLIENTS)

    payloads = [d["passTicketToSales"] for d in data]
    assert [p["userErrors"] for p in payloads] == [[]] * CLIENTS
    hand_offs = [p["handOff"] for p in payloads]
    assert sorted(h["leadCreated"] for h in hand_offs) == [False] * (CLIENTS - 1) + [
        True
    ]
    assert len({h["lead"]["id"] for h in hand_offs}) == 1
    assert await count(sessions, Lead, "new@nowhere.example") == 1
    assert await row_count(sessions, SupportHandOff) == CLIENTS


async def test_simultaneous_replays_of_one_key_all_answer_the_first_answer(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    body = lead_input("replay@acme.example")
    body["input"]["idempotencyKey"] = "sync-42"

    data = await post_all(server, token, [(CREATE_LEAD, body)] * CLIENTS)

    payloads = [d["createLead"] for d in data]
    assert [p["userErrors"] for p in payloads] == [[]] * CLIENTS
    assert len({p["lead"]["id"] for p in payloads}) == 1
    assert await count(sessions, Lead, "replay@acme.example") == 1
    assert await row_count(sessions, IdempotencyKey) == 1


async def test_paths_locking_several_things_run_in_parallel_without_deadlock(
    server, make, sessions
):
    """Creations and hand-offs (heads, then the email), hand-offs to a
    territory (heads, the account, then a pool), account edits (heads, then the
    account) and scoring-table edits (heads for update, then every lead) in
    parallel: they queue in ``domain.services.locks``' order, none fails."""
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    for n in range(4):
        await make.lead(email=f"old{n}@acme.example", title="Manager")
    unowned = await an_account(make, ops, None, ["territory.example"])
    emails = [f"p{n}@nowhere{n}.example" for n in range(3)]
    edits = [
        (EDIT_SCORING, {"input": {"expectedVersion": 1, "routingThreshold": 40 + n}})
        for n in range(3)
    ]
    bodies = [
        *[(CREATE_LEAD, lead_input(e)) for e in emails for _ in range(2)],
        *[
            (PASS, {"input": {"requesterEmail": e, "kind": kind}})
            for e, kind in [(e, "NEW_BUSINESS") for e in emails]
            + [(f"t{n}@territory.example", "NEW_BUSINESS") for n in range(3)]
            + [(f"r{n}@territory.example", "RENEWAL") for n in range(3)]
        ],
        *[
            (
                UPDATE_ACCOUNT,
                {"input": {"id": gid("Account", unowned.id), "name": f"Acme {n}"}},
            )
            for n in range(3)
        ],
        *edits,
    ]

    data = await post_all(server, token, bodies)

    codes = sorted(
        error["code"]
        for d in data
        for payload in d.values()
        for error in payload["userErrors"]
    )
    # Each email: one creation wins, the other creation is a duplicate unless a
    # hand-off made the lead first; one edit wins, the others are stale.
    assert set(codes) <= {"DUPLICATE_RECORD", "STALE_VERSION"}
    assert codes.count("STALE_VERSION") == len(edits) - 1
    for e in emails:
        assert await count(sessions, Lead, e) == 1
    assert await row_count(sessions, SupportHandOff) == 9


TRANSITION = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { id status version } userErrors { code } } }"""


async def test_simultaneous_replays_of_one_transition_all_get_the_first_answer(
    server, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    lead = await make.lead()
    body = {
        "input": {
            "id": gid("Lead", lead.id),
            "to": "NURTURE",
            "reason": "Not this quarter",
            "expectedVersion": lead.version,
            "idempotencyKey": "sync-move-7",
        }
    }

    data = await post_all(server, token, [(TRANSITION, body)] * CLIENTS)

    payloads = [d["transitionLead"] for d in data]
    assert payloads == [payloads[0]] * CLIENTS
    assert payloads[0]["userErrors"] == []
    assert payloads[0]["lead"]["status"] == "NURTURE"
    assert await row_count(sessions, TransitionRecord) == 1
    assert await row_count(sessions, IdempotencyKey) == 1
