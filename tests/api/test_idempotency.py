"""idempotencyKey (A3) on every create and transition mutation: a repeat with the
same key and input returns the first answer and changes nothing; another input
is IDEMPOTENCY_KEY_REUSED; keys are kept 24 hours and pruned."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLNonNull
from sqlalchemy import select

from api.schema import schema
from domain.enums import LeadStatus, Role
from domain.records import (
    Account,
    Campaign,
    Contact,
    Event,
    IdempotencyKey,
    Lead,
    Opportunity,
    TransitionRecord,
    User,
)
from domain.services import idempotency
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.api.test_convert_lead import CONVERT, handed_to, qualifying_lead
from tests.api.test_opportunity_pipeline import a_deal, an_account
from tests.conftest import row_count

# Every mutation that creates a record or moves one through its lifecycle.
IDEMPOTENT = {
    "createUser",
    "createLead",
    "transitionLead",
    "convertLead",
    "transferLeadOwnership",
    "recordEngagement",
    "recordEngagements",
    "routeLead",
    "createAccount",
    "addAccountTeamMember",
    "createContact",
    "createOpportunity",
    "moveOpportunityStage",
    "changeOpportunityPipeline",
    "defineCustomField",
    "updateCustomField",
    "requestTermsModification",
    "logActivity",
    "completeActivity",
    "createCampaign",
    "passTicketToSales",
    "resolveSupportHandOff",
}
# The others, and why a key would add nothing.
EXEMPT = {
    # Updates set the given values: a repeat sets the same values again (a
    # version bump at most), and expectedVersion already refuses a stale repeat.
    "updateUser": "update",
    "updateLead": "update",
    "updateAccount": "update",
    "updateContact": "update",
    "updateOpportunity": "update",
    # Deletes and revocations: a repeat finds nothing left to remove.
    "removeAccountTeamMember": "delete",
    "revokeApiToken": "delete",
    # Admin edits of reference tables and pools: the whole new state is given,
    # guarded by expectedVersion (tables) or simply set again (pool members).
    "setRoutingPoolMembers": "admin edit",
    "updateScoringTable": "admin edit",
    "updateRegionTable": "admin edit",
    "updateStageRequirements": "admin edit",
    "updateTimeouts": "admin edit",
    # The answer is a secret shown once and stored only hashed: a first answer
    # cannot be returned again, so a repeat must ask for a new token.
    "createApiToken": "secret shown once",
    "createWebhookSubscription": "secret shown once",
    "updateWebhookSubscription": "update",
    "deleteWebhookSubscription": "delete",
    # Re-sends: delivery is at least once, and subscribers de-duplicate by the
    # event id every delivery carries.
    "redeliverEvent": "re-send",
    "replayWebhookSubscription": "re-send",
    # A repeated merge finds its duplicates gone and is refused without a
    # change; the merge it repeats is readable and undoable (undoMerge).
    "mergeLeads": "merge",
    "mergeContacts": "merge",
    "mergeAccounts": "merge",
    "undoMerge": "merge",
    # A scan job only reads: a repeat scans again and finds the same pairs.
    "startDuplicateScan": "read-only job",
    # An export job only reads: a repeat writes the same rows to another file.
    "exportRecords": "read-only job",
    # A list import is idempotent by itself: a repeated file matches its rows by
    # external id or email and finds them UNCHANGED (tests/api/test_imports.py).
    "startImport": "idempotent by external ids",
    # A mapping is saved under its name: a repeat saves the same mapping again.
    "saveImportMapping": "update",
}


def test_every_create_and_transition_mutation_takes_an_idempotency_key():
    mutations = schema._schema.mutation_type.fields
    keyed = set()
    for name, field in mutations.items():
        input_type = field.args["input"].type
        assert isinstance(input_type, GraphQLNonNull)
        fields = input_type.of_type.fields
        assert isinstance(input_type.of_type, GraphQLInputObjectType)
        if "idempotencyKey" in fields:
            keyed.add(name)
            description = fields["idempotencyKey"].description
            assert "kept 24 hours" in description
            assert "IDEMPOTENCY_KEY_REUSED" in description

    assert keyed == IDEMPOTENT
    assert set(mutations) - keyed == set(EXEMPT)


TRANSITION = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) {
    lead { id status version } userErrors { code field message } } }"""


async def transition_count(sessions: Any) -> int:
    return await row_count(sessions, TransitionRecord)


async def test_a_repeated_transition_returns_the_first_answer_and_moves_once(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    body = {
        "input": {
            "id": gid("Lead", lead.id),
            "to": "NURTURE",
            "reason": "Not this quarter",
            "expectedVersion": lead.version,
            "idempotencyKey": "move-1",
        }
    }
    first = (await api(TRANSITION, body, as_user=ops)).ok()["transitionLead"]
    transitions, events = (
        await transition_count(sessions),
        await row_count(sessions, Event),
    )

    again = (await api(TRANSITION, body, as_user=ops)).ok()["transitionLead"]

    assert first["userErrors"] == []
    # Not STALE_VERSION although the lead moved on: the first answer.
    assert again == first
    assert await transition_count(sessions) == transitions
    assert await row_count(sessions, Event) == events


async def test_the_same_key_for_another_transition_is_refused_and_changes_nothing(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    body = {
        "id": gid("Lead", lead.id),
        "to": "NURTURE",
        "reason": "Later",
        "idempotencyKey": "k",
    }
    first = (await api(TRANSITION, {"input": body}, as_user=ops)).ok()
    version = first["transitionLead"]["lead"]["version"]
    transitions = await transition_count(sessions)

    other = {**body, "to": "UNQUALIFIED", "reason": "No budget"}
    again = (await api(TRANSITION, {"input": other}, as_user=ops)).ok()

    assert codes(again["transitionLead"]) == [
        ("IDEMPOTENCY_KEY_REUSED", ["idempotencyKey"])
    ]
    assert again["transitionLead"]["lead"] is None
    assert await transition_count(sessions) == transitions
    async with sessions() as s:
        stored = await s.get(Lead, lead.id)
    assert (stored.status, stored.version) == (LeadStatus.NURTURE, version)


async def test_a_refused_transition_leaves_its_key_free(api, make, sessions):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    body = {"id": gid("Lead", lead.id), "to": "NURTURE", "idempotencyKey": "k"}

    refused = (await api(TRANSITION, {"input": body}, as_user=ops)).ok()
    assert refused["transitionLead"]["userErrors"] != []
    assert await row_count(sessions, IdempotencyKey) == 0
    moved = (
        await api(TRANSITION, {"input": {**body, "reason": "Later"}}, as_user=ops)
    ).ok()

    assert moved["transitionLead"]["lead"]["status"] == "NURTURE"


async def test_a_repeated_conversion_returns_the_same_records(api, make, sessions):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(make, sdr, company="Globex", email="h@globex.example")
    body = handed_to(ae, lead, idempotencyKey="convert-1")

    first = (await api(CONVERT, body, as_user=sdr)).ok()["convertLead"]
    again = (await api(CONVERT, body, as_user=sdr)).ok()["convertLead"]

    assert first["userErrors"] == []
    assert again == first
    assert [await row_count(sessions, m) for m in (Account, Contact, Opportunity)] == [
        1,
        1,
        1,
    ]


async def test_a_repeated_conversion_without_an_opportunity_answers_none(api, make):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(
        make, sdr, company="Initech", email="p@initech.example"
    )
    body = handed_to(ae, lead, createOpportunity=False, idempotencyKey="c-2")

    first = (await api(CONVERT, body, as_user=sdr)).ok()["convertLead"]
    again = (await api(CONVERT, body, as_user=sdr)).ok()["convertLead"]

    assert first["opportunity"] is None
    assert again == first


MOVE = """
mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) {
    opportunity { id stage version } userErrors { code } } }"""


async def test_a_repeated_stage_move_returns_the_first_answer(api, make, sessions):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    body = {
        "input": {
            "id": gid("Opportunity", deal.id),
            "to": "DISCOVERY",
            "idempotencyKey": "accept-1",
        }
    }
    first = (await api(MOVE, body, as_user=ae)).ok()["moveOpportunityStage"]
    transitions = await transition_count(sessions)

    again = (await api(MOVE, body, as_user=ae)).ok()["moveOpportunityStage"]

    assert first["userErrors"] == []
    assert again == first
    assert await transition_count(sessions) == transitions


CREATES = {
    "createAccount": (
        Account,
        "account",
        lambda ctx: {"name": "Umbrella", "ownerId": gid("User", ctx["ae"].id)},
    ),
    "createContact": (
        Contact,
        "contact",
        lambda ctx: {
            "lastName": "Doe",
            "accountId": gid("Account", ctx["account"].id),
            "initialSource": "Webcast",
        },
    ),
    "createCampaign": (
        Campaign,
        "campaign",
        lambda ctx: {"name": "20261203_Launch", "channel": "CPC"},
    ),
    "createUser": (
        User,
        "user",
        lambda ctx: {"name": "New", "email": "new@example.com", "role": "SDR"},
    ),
}


@pytest.mark.parametrize("mutation", sorted(CREATES))
async def test_a_repeated_create_returns_the_first_record(
    api, make, sessions, mutation
):
    admin = await make.user(Role.ADMIN)
    ae = await make.user(Role.AE)
    model, field, values = CREATES[mutation]
    ctx = {"ae": ae, "account": await an_account(make, ae)}
    query = (
        f"mutation($input: {mutation[0].upper()}{mutation[1:]}Input!) "
        f"{{ {mutation}(input: $input) {{ {field} {{ id }} userErrors {{ code }} }} }}"
    )
    body = {"input": {**values(ctx), "idempotencyKey": "create-1"}}
    before = await row_count(sessions, model)

    first = (await api(query, body, as_user=admin)).ok()[mutation]
    again = (await api(query, body, as_user=admin)).ok()[mutation]

    assert first["userErrors"] == []
    assert again == first
    assert await row_count(sessions, model) == before + 1


CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code } } }"""


async def keyed_lead(api, user: User, email: str, key: str) -> str:
    body = {
        "input": {"email": email, "initialSource": "Webcast", "idempotencyKey": key}
    }
    return (await api(CREATE_LEAD, body, as_user=user)).ok()["createLead"]["lead"]["id"]


async def age_keys(sessions: Any, key: str, by: timedelta) -> None:
    async with sessions() as s, s.begin():
        row = (
            await s.execute(select(IdempotencyKey).where(IdempotencyKey.key == key))
        ).scalar_one()
        row.created_at = utcnow() - by


async def test_pruning_deletes_only_keys_older_than_24_hours(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    await keyed_lead(api, ops, "old@x.example", "old")
    await keyed_lead(api, ops, "new@x.example", "new")
    await age_keys(sessions, "old", timedelta(hours=24, minutes=1))
    await age_keys(sessions, "new", timedelta(hours=23, minutes=59))

    async with sessions() as s, s.begin():
        pruned = await idempotency.prune_expired_keys(s)

    assert pruned == 1
    async with sessions() as s:
        left = (await s.execute(select(IdempotencyKey.key))).scalars().all()
    assert left == ["new"]


async def test_a_key_older_than_24_hours_is_forgotten(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    first = await keyed_lead(api, ops, "a@x.example", "k")
    await age_keys(sessions, "k", timedelta(hours=25))

    # Another input under the expired key: a new answer, not IDEMPOTENCY_KEY_REUSED.
    second = await keyed_lead(api, ops, "b@x.example", "k")

    assert second != first
    assert await row_count(sessions, Lead) == 2
    assert await row_count(sessions, IdempotencyKey) == 1


async def test_a_keyed_write_prunes_expired_keys_once_an_hour(
    api, make, sessions, monkeypatch
):
    ops = await make.user(Role.MARKETING_OPS)
    await keyed_lead(api, ops, "a@x.example", "a")
    await age_keys(sessions, "a", timedelta(hours=30))
    monkeypatch.setattr(idempotency, "_last_prune", None)

    await keyed_lead(api, ops, "b@x.example", "b")  # prunes "a"
    await age_keys(sessions, "b", timedelta(hours=30))
    await keyed_lead(api, ops, "c@x.example", "c")  # within the hour: keeps "b"

    async with sessions() as s:
        left = (
            (await s.execute(select(IdempotencyKey.key).order_by(IdempotencyKey.key)))
            .scalars()
            .all()
        )
    assert left == ["b", "c"]
