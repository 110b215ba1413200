"""D5: a lead linked to an account takes the account's segment and region."""

from __future__ import annotations

from typing import Any

from api.accounts import AccountNode
from api.leads import LeadNode
from domain.enums import Role
from domain.records import Account, Lead, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.sqltypes import utcnow
from tests.api.ids import gid

LEAD = "salesSegment region account { id } version"
CREATE = f"""
mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ lead {{ {LEAD} }} userErrors {{ code field }} }}
}}"""
UPDATE = f"""
mutation($input: UpdateLeadInput!) {{
  updateLead(input: $input) {{ lead {{ {LEAD} }} userErrors {{ code field }} }}
}}"""
UPDATE_ACCOUNT = """
mutation($input: UpdateAccountInput!) {
  updateAccount(input: $input) { account { salesSegment region } userErrors { code } }
}"""
READ = f"query($id: ID!) {{ lead(id: $id) {{ {LEAD} }} }}"


async def globex(make: Any, ops: User, **values: Any) -> Account:
    """A LARGE account in EMEA."""
    return await make.run(
        lambda s: create_account(
            {
                "name": "Globex",
                "number_of_employees": 5000,
                "billing_country": "DE",
                **values,
            },
            session=s,
            actor=Actor(ops.id, ops.role),
        )
    )


async def update(api: Any, ops: User, lead: Any, **values: Any) -> dict[str, Any]:
    return (
        await api(
            UPDATE, {"input": {"id": gid(LeadNode, lead.id), **values}}, as_user=ops
        )
    ).ok()["updateLead"]


async def test_linking_a_lead_takes_the_accounts_values_and_unlinking_restores_its_own(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    account = await globex(make, ops)
    lead = await make.lead(by=ops, number_of_employees=20, country="US", state="CA")
    aid = gid(AccountNode, account.id)

    linked = await update(api, ops, lead, accountId=aid)
    # Its own profile changes, but the account still decides.
    edited = await update(api, ops, lead, numberOfEmployees=50, country="JP")
    unlinked = await update(api, ops, lead, accountId=None)

    assert linked == {
        "lead": {
            "salesSegment": "LARGE",
            "region": "EMEA",
            "account": {"id": aid},
            "version": 2,
        },
        "userErrors": [],
    }
    assert (edited["lead"]["salesSegment"], edited["lead"]["region"]) == (
        "LARGE",
        "EMEA",
    )
    assert unlinked["lead"] == {
        "salesSegment": "SMB",
        "region": "APAC",
        "account": None,
        "version": 4,
    }


async def test_a_lead_created_on_a_named_account_is_strategic(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    account = await globex(make, ops, is_named=True)

    created = (
        await api(
            CREATE,
            {
                "input": {
                    "initialSource": "Web Direct",
                    "lastName": "Scorpio",
                    "numberOfEmployees": 3,
                    "accountId": gid(AccountNode, account.id),
                }
            },
            as_user=ops,
        )
    ).ok()["createLead"]

    assert created["userErrors"] == []
    assert (created["lead"]["salesSegment"], created["lead"]["region"]) == (
        "STRATEGIC",
        "EMEA",
    )


async def test_when_the_account_changes_its_open_linked_leads_follow(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    account = await globex(make, ops)
    open_lead = await make.lead(by=ops, account_id=account.id)
    converted = await make.lead(by=ops, account_id=account.id)
    other = await make.lead(by=ops, number_of_employees=10, country="FR")

    async def convert(s):
        row = await s.get(Lead, converted.id)
        row.converted_at = utcnow()

    await make.run(convert)
    changed = (
        await api(
            UPDATE_ACCOUNT,
            {
                "input": {
                    "id": gid(AccountNode, account.id),
                    "numberOfEmployees": 150,
                    "billingCountry": "US",
                    "billingState": "NY",
                }
            },
            as_user=ops,
        )
    ).ok()["updateAccount"]

    assert changed["account"] == {"salesSegment": "MID_MARKET", "region": "US_EAST"}
    async with sessions() as s:
        rows = {
            lead.id: (await s.get(Lead, lead.id))
            for lead in (open_lead, converted, other)
        }
    assert (rows[open_lead.id].sales_segment, rows[open_lead.id].region) == (
        "MID_MARKET",
        "US_EAST",
    )
    assert rows[open_lead.id].version == 2
    assert (rows[converted.id].sales_segment, rows[converted.id].region) == (
        "LARGE",
        "EMEA",
    )
    assert (rows[other.id].sales_segment, rows[other.id].region) == ("SMB", "EMEA")
    assert rows[other.id].version == 1


async def test_linking_an_unknown_account_is_refused_and_changes_nothing(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, number_of_employees=20, country="US")

    refused = await update(api, ops, lead, accountId=gid(AccountNode, 999))
    wrong_type = await update(api, ops, lead, accountId=gid(LeadNode, lead.id))

    assert refused == {
        "lead": None,
        "userErrors": [{"code": "NOT_FOUND", "field": ["accountId"]}],
    }
    assert wrong_type["userErrors"] == [
        {"code": "INVALID_INPUT", "field": ["accountId"]}
    ]
    async with sessions() as s:
        row = await s.get(Lead, lead.id)
    assert (row.account_id, row.version, row.sales_segment) == (None, 1, "SMB")


CONVERT = """
mutation($input: ConvertLeadInput!) {
  convertLead(input: $input) { account { id } userErrors { code } }
}"""


async def test_a_linked_lead_converts_into_its_linked_account_not_a_domain_match(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    chosen = await globex(make, ops)
    await make.run(
        lambda s: create_account(
            {"name": "Acme"},
            session=s,
            actor=Actor(ops.id, ops.role),
            domains=["acme.example"],
        )
    )
    lead = await make.lead(by=ops, email="wile@acme.example", owner_id=ops.id)
    await update(api, ops, lead, accountId=gid(AccountNode, chosen.id))

    async def accepted(s):
        (await s.get(Lead, lead.id)).status = "ACCEPTED"

    await make.run(accepted)
    ae = await make.user(Role.AE)
    handed = {"id": gid(LeadNode, lead.id), "ownerId": gid("User", ae.id)}
    converted = (await api(CONVERT, {"input": handed}, as_user=ops)).ok()["convertLead"]

    assert converted == {
        "account": {"id": gid(AccountNode, chosen.id)},
        "userErrors": [],
    }
