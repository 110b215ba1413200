"""convertLead (D7): account matched or created, contact, opportunity, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.enums import LeadStatus, Role
from domain.records import (
    Account,
    Activity,
    Contact,
    Event,
    Lead,
    Opportunity,
    OpportunityContactRole,
)
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.opportunities import create_opportunity
from tests.api.ids import gid
from tests.conftest import row_count

CONVERT = """
mutation($input: ConvertLeadInput!) {
  convertLead(input: $input) {
    lead { status convertedAccount { id } convertedContact { id } convertedOpportunity { id }
           history { from to } }
    account { id name type owner { id } domains }
    contact { id lastName initialSource owner { id } account { id } }
    opportunity { id name stage salesQualificationSource owner { id } }
    userErrors { code field message }
  }
}"""


def handed_to(rep, lead, **input):
    """convertLead's variables: the lead, handed to the sales rep ``rep``."""
    return {
        "input": {"id": gid("Lead", lead.id), "ownerId": gid("User", rep.id), **input}
    }


async def qualifying_lead(make, owner, **overrides):
    lead = await make.lead(owner_id=owner.id, **overrides)

    async def use_case(s):
        (await s.get(Lead, lead.id)).status = LeadStatus.QUALIFYING

    await make.run(use_case)
    return lead


async def account(make, by, **values):
    domains = values.pop("domains", ())
    return await make.run(
        lambda s: create_account(
            values, session=s, actor=Actor(by.id, by.role), domains=domains
        )
    )


async def test_converting_without_a_match_creates_a_prospect_account_contact_and_opportunity(
    api, make, sessions
):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(
        make,
        sdr,
        company="Globex",
        email="hank@globex.example",
        initial_source="Webcast",
    )

    data = (await api(CONVERT, handed_to(ae, lead), as_user=sdr)).ok()["convertLead"]

    assert data["userErrors"] == []
    assert data["account"]["name"] == "Globex"
    # The new account, its contact and the deal go to the sales rep (D7).
    assert data["account"]["owner"]["id"] == gid("User", ae.id)
    assert data["contact"]["owner"]["id"] == gid("User", ae.id)
    assert data["opportunity"]["owner"]["id"] == gid("User", ae.id)
    assert data["account"]["type"] == "PROSPECT"
    assert data["account"]["domains"] == ["globex.example"]
    assert data["contact"]["initialSource"] == "Webcast"
    assert data["opportunity"]["stage"] == "PENDING_ACCEPTANCE"
    assert data["opportunity"]["salesQualificationSource"] == "SDR_GENERATED"
    assert data["lead"]["status"] == "QUALIFIED"
    assert data["lead"]["convertedOpportunity"]["id"] == data["opportunity"]["id"]
    assert data["lead"]["history"][-1] == {"from": "QUALIFYING", "to": "QUALIFIED"}
    async with sessions() as s:
        kinds = (await s.execute(select(Event.kind))).scalars().all()
    assert "LEAD_CONVERTED" in kinds


async def test_the_account_is_matched_by_email_domain_and_field_sales_owns_the_contact(
    api, make
):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    acme = await account(
        make, ae, name="Acme Corporation", owner_id=ae.id, domains=["acme.example"]
    )
    lead = await qualifying_lead(
        make, sdr, company="Something Else", email="x@eu.acme.example"
    )

    data = (
        await api(CONVERT, {"input": {"id": gid("Lead", lead.id)}}, as_user=sdr)
    ).ok()["convertLead"]

    assert data["account"]["id"] == gid("Account", acme.id)
    assert data["contact"]["owner"]["id"] == gid("User", ae.id)
    assert data["opportunity"]["owner"]["id"] == gid("User", ae.id)


async def test_the_account_is_matched_by_normalized_company_name(api, make):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    acme = await account(make, sdr, name="Acme, Inc.")
    lead = await qualifying_lead(make, sdr, company="ACME Inc", email="y@gmail.com")

    data = (await api(CONVERT, handed_to(ae, lead), as_user=sdr)).ok()["convertLead"]

    assert data["account"]["id"] == gid("Account", acme.id)


async def test_an_explicit_account_wins_over_matching(api, make):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    await account(make, sdr, name="Acme", domains=["acme.example"])
    chosen = await account(make, sdr, name="Chosen Ltd")
    lead = await qualifying_lead(make, sdr, company="Acme", email="z@acme.example")

    data = (
        await api(
            CONVERT,
            handed_to(ae, lead, accountId=gid("Account", chosen.id)),
            as_user=sdr,
        )
    ).ok()["convertLead"]

    assert data["account"]["id"] == gid("Account", chosen.id)


async def test_a_lead_can_be_attached_to_an_existing_open_opportunity(
    api, make, sessions
):
    sdr = await make.user(Role.SDR)
    acme = await account(make, sdr, name="Acme", domains=["acme.example"])
    opp = await make.run(
        lambda s: create_opportunity(
            {"name": "Acme expansion", "account_id": acme.id},
            session=s,
            actor=Actor(sdr.id, sdr.role),
        )
    )
    lead = await qualifying_lead(make, sdr, email="w@acme.example")

    data = (
        await api(
            CONVERT,
            {
                "input": {
                    "id": gid("Lead", lead.id),
                    "opportunityId": gid("Opportunity", opp.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["convertLead"]

    assert data["opportunity"]["id"] == gid("Opportunity", opp.id)
    assert await row_count(sessions, Opportunity) == 1
    assert await row_count(sessions, OpportunityContactRole) == 1


async def test_converting_twice_is_refused(api, make):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(make, sdr, company="Initech")
    await api(CONVERT, handed_to(ae, lead), as_user=sdr)

    again = (
        await api(CONVERT, {"input": {"id": gid("Lead", lead.id)}}, as_user=sdr)
    ).ok()["convertLead"]

    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_CONVERTED"]


async def test_a_converted_lead_is_read_only(api, make):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(make, sdr, company="Initech")
    await api(CONVERT, handed_to(ae, lead), as_user=sdr)

    data = (
        await api(
            "mutation($i: UpdateLeadInput!) { updateLead(input: $i) { userErrors { code } } }",
            {"i": {"id": gid("Lead", lead.id), "title": "CEO"}},
            as_user=sdr,
        )
    ).ok()["updateLead"]

    assert [e["code"] for e in data["userErrors"]] == ["READ_ONLY_RECORD"]


async def test_a_raw_lead_cannot_be_converted(api, make, sessions):
    sdr = await make.user(Role.SDR)
    lead = await make.lead(owner_id=sdr.id, company="Initech")

    data = (
        await api(CONVERT, {"input": {"id": gid("Lead", lead.id)}}, as_user=sdr)
    ).ok()["convertLead"]

    assert [e["code"] for e in data["userErrors"]] == ["INVALID_TRANSITION"]
    assert await row_count(sessions, Account) == 0


async def test_a_failure_midway_leaves_nothing_behind(api, make, sessions):
    sdr = await make.user(Role.SDR)
    other = await account(make, sdr, name="Other")
    opp = await make.run(
        lambda s: create_opportunity(
            {"name": "Elsewhere", "account_id": other.id},
            session=s,
            actor=Actor(sdr.id, sdr.role),
        )
    )
    lead = await qualifying_lead(
        make, sdr, company="Brand New Co", email="n@brandnew.example"
    )
    await make.run(lambda s: _log(s, lead.id))
    before = {
        m: await row_count(sessions, m) for m in (Account, Contact, Opportunity, Event)
    }

    # The account and contact are created, then attaching to another account's
    # opportunity fails: everything must roll back.
    data = (
        await api(
            CONVERT,
            {
                "input": {
                    "id": gid("Lead", lead.id),
                    "opportunityId": gid("Opportunity", opp.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["convertLead"]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", ["opportunityId"])
    ]
    assert {m: await row_count(sessions, m) for m in before} == before
    async with sessions() as s:
        still = await s.get(Lead, lead.id)
        assert still.status == LeadStatus.QUALIFYING
        assert (
            await s.scalar(select(func.count()).where(Activity.contact_id.is_not(None)))
            == 0
        )


async def _log(s, lead_id):
    s.add(Activity(kind="TASK", channel="CALL", subject="call", lead_id=lead_id))


# --- who owns the new opportunity (D7, round 2) --------------------------------------


@pytest.mark.parametrize("role", [Role.BDR, Role.SDR])
async def test_a_bdr_or_sdr_converting_without_an_assignee_is_refused(
    api, make, sessions, role
):
    """002_91dd8e67a169a832.txt: "BDR to convert the LEAD to a CONTACT and create
    an `Opportunity` and immediately assign the opportunity to the Account
    Owner/SAL" — never left with the BDR: ASSIGNEE_REQUIRED, nothing written."""
    sourcer = await make.user(role)
    lead = await qualifying_lead(
        make, sourcer, company="Initech", email="p@initech.example"
    )

    data = (
        await api(CONVERT, {"input": {"id": gid("Lead", lead.id)}}, as_user=sourcer)
    ).ok()["convertLead"]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("ASSIGNEE_REQUIRED", ["ownerId"])
    ]
    for model in (Account, Contact, Opportunity):
        assert await row_count(sessions, model) == 0
    async with sessions() as s:
        assert (await s.get(Lead, lead.id)).status == LeadStatus.QUALIFYING


@pytest.mark.parametrize("role", [Role.AE, Role.SAL, Role.AM, Role.RD])
async def test_the_field_sales_account_owner_takes_the_deal_over_the_assignee(
    api, make, sessions, role
):
    """002_91dd8e67a169a832.txt: "immediately assign the opportunity to the Account
    Owner/SAL"; D7: the account owner when field sales owns the account."""
    bdr = await make.user(Role.BDR)
    owner = await make.user(role)
    assignee = await make.user(Role.AE)
    acme = await account(
        make, owner, name="Acme", owner_id=owner.id, domains=["acme.example"]
    )
    lead = await qualifying_lead(make, bdr, email="q@acme.example")

    data = (await api(CONVERT, handed_to(assignee, lead), as_user=bdr)).ok()[
        "convertLead"
    ]

    assert data["userErrors"] == []
    assert data["account"]["id"] == gid("Account", acme.id)
    assert data["opportunity"]["owner"]["id"] == gid("User", owner.id)
    assert data["contact"]["owner"]["id"] == gid("User", owner.id)
    async with sessions() as s:
        event = (
            await s.execute(select(Event).where(Event.kind == "LEAD_CONVERTED"))
        ).scalar_one()
    assert (
        event.payload["opportunity_owner_rule"],
        event.payload["assignee_overruled"],
    ) == ("ACCOUNT_OWNER", True)


async def test_without_a_field_sales_account_owner_the_assignee_takes_the_deal(
    api, make
):
    """D7: "else the named assignee" — the BDR hands it to the rep it names."""
    bdr = await make.user(Role.BDR)
    sal = await make.user(Role.SAL)
    await account(make, bdr, name="Acme", owner_id=bdr.id, domains=["acme.example"])
    lead = await qualifying_lead(make, bdr, email="r@acme.example")

    data = (await api(CONVERT, handed_to(sal, lead), as_user=bdr)).ok()["convertLead"]

    assert data["userErrors"] == []
    assert data["opportunity"]["owner"]["id"] == gid("User", sal.id)
    assert data["opportunity"]["salesQualificationSource"] == "BDR_GENERATED"


async def test_a_field_sales_user_converting_alone_owns_the_deal(api, make):
    """D7: "else the converting user if field sales"."""
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(make, ae, company="Hooli", email="s@hooli.example")

    data = (
        await api(CONVERT, {"input": {"id": gid("Lead", lead.id)}}, as_user=ae)
    ).ok()["convertLead"]

    assert data["userErrors"] == []
    assert data["opportunity"]["owner"]["id"] == gid("User", ae.id)


@pytest.mark.parametrize("role", [Role.BDR, Role.SDR, Role.SALES_OPS])
async def test_an_assignee_who_is_not_field_sales_is_refused(api, make, sessions, role):
    """The opportunity is handed to a sales rep (AE, SAL, AM, RD), who alone may
    accept it (D3.3): a BDR naming another BDR would leave it with the BDRs."""
    bdr = await make.user(Role.BDR)
    other = await make.user(role)
    lead = await qualifying_lead(make, bdr, company="Initech")

    data = (await api(CONVERT, handed_to(other, lead), as_user=bdr)).ok()["convertLead"]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", ["ownerId"])
    ]
    assert await row_count(sessions, Opportunity) == 0
