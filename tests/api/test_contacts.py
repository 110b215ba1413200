"""createContact / updateContact / contacts / contact through the real schema."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.leads import LeadNode
from api.users import UserNode
from domain.enums import Role
from domain.records import Contact, Event, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.conftest import row_count

FIELDS = """
  id version firstName lastName email title phone mailingCity mailingCountry
  initialSource leadSource account { id name } owner { id }
"""

CREATE = f"""
mutation($input: CreateContactInput!) {{
  createContact(input: $input) {{
    contact {{ {FIELDS} }}
    userErrors {{ code field message recordId }}
  }}
}}"""

UPDATE = f"""
mutation($input: UpdateContactInput!) {{
  updateContact(input: $input) {{
    contact {{ {FIELDS} }}
    userErrors {{ code field message recordId }}
  }}
}}"""

LIST = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: ContactFilter, $order: ContactOrder) {
  contacts(first: $first, after: $after, last: $last, before: $before,
           filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { lastName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def an_account(make: Any, by: User, name: str = "Acme") -> Any:
    """An account owned by ``by``."""
    return await make.run(
        lambda s: create_account(
            {"name": name, "owner_id": by.id}, session=s, actor=Actor(by.id, by.role)
        )
    )


async def a_contact(make: Any, by: User, account_id: int, **values: Any) -> Contact:
    """A contact created through the service (owner: ``by``)."""
    values = {
        "last_name": "Doe",
        "account_id": account_id,
        "initial_source": "Webcast",
        **values,
    }
    return await make.run(
        lambda s: create_contact(values, session=s, actor=Actor(by.id, by.role))
    )


async def stored(sessions: Any, contact_id: int) -> Contact:
    """The contact as the database has it now."""
    async with sessions() as session:
        return await session.get(Contact, contact_id)


def last_names(page: dict[str, Any]) -> list[str]:
    """The last names on a page of contacts."""
    return [e["node"]["lastName"] for e in page["edges"]]


# --- create ----------------------------------------------------------------------


async def test_create_contact_reads_back_with_its_account_and_owner(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "firstName": "Jane",
                    "lastName": "Doe",
                    "email": " Jane.Doe@Acme.example ",
                    "title": "CTO",
                    "mailingCity": "Berlin",
                    "mailingCountry": "DE",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Trade Show",
                    "leadSource": "Webcast",
                }
            },
            as_user=ae,
        )
    ).ok()["createContact"]

    assert data["userErrors"] == []
    contact = data["contact"]
    assert contact["version"] == 1
    assert contact["email"] == "jane.doe@acme.example"
    assert contact["initialSource"] == "Trade Show"
    assert contact["account"] == {"id": gid(AccountNode, account.id), "name": "Acme"}
    assert contact["owner"] == {"id": gid(UserNode, ae.id)}
    read = (
        await api(
            f"query($id: ID!) {{ contact(id: $id) {{ {FIELDS} }} }}",
            {"id": contact["id"]},
            as_user=ae,
        )
    ).ok()["contact"]
    assert read == contact


async def test_a_duplicate_email_is_refused_naming_the_existing_contact(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    first = await a_contact(make, ae, account.id, email="jane@acme.example")

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": "Again",
                    "email": "JANE@acme.example",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Webcast",
                }
            },
            as_user=ae,
        )
    ).ok()["createContact"]

    assert data["contact"] is None
    assert codes(data) == [("DUPLICATE_RECORD", ["email"])]
    assert data["userErrors"][0]["recordId"] == gid(ContactNode, first.id)
    assert await row_count(sessions, Contact) == 1


async def test_an_email_already_on_a_lead_is_refused_naming_the_lead(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    lead = await make.lead(email="lead@acme.example")

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": "Lead",
                    "email": "lead@acme.example",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Webcast",
                }
            },
            as_user=ae,
        )
    ).ok()["createContact"]

    assert codes(data) == [("DUPLICATE_RECORD", ["email"])]
    assert data["userErrors"][0]["recordId"] == gid(LeadNode, lead.id)
    # The message names the lead as the client knows it: by its global id.
    assert data["userErrors"][0]["message"] == (
        f"Lead {gid(LeadNode, lead.id)} already has the email 'lead@acme.example'; "
        "pass allowDuplicate: true to use it anyway."
    )
    assert await row_count(sessions, Contact) == 0


async def test_a_duplicate_email_is_created_when_the_caller_allows_it(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    await a_contact(make, ae, account.id, email="jane@acme.example")

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": "Twin",
                    "email": "jane@acme.example",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Webcast",
                    "allowDuplicate": True,
                }
            },
            as_user=ae,
        )
    ).ok()["createContact"]

    assert data["userErrors"] == []
    assert await row_count(sessions, Contact) == 2


async def test_unknown_initial_source_blank_last_name_and_bad_email_are_refused(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": " ",
                    "email": "not-an-email",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Unknown",
                }
            },
            as_user=ae,
        )
    ).ok()["createContact"]

    assert data["contact"] is None
    assert sorted(codes(data)) == [
        ("INVALID_INPUT", ["email"]),
        ("INVALID_INPUT", ["initialSource"]),
        ("MISSING_FIELD", ["lastName"]),
    ]
    assert await row_count(sessions, Contact) == 0


async def test_initial_source_is_required_on_create(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    result = await api(
        CREATE,
        {"input": {"lastName": "Doe", "accountId": gid(AccountNode, account.id)}},
        as_user=ae,
    )

    assert result.data is None
    assert "initialSource" in result.errors[0]["message"]
    assert await row_count(sessions, Contact) == 0


async def test_a_missing_account_is_not_found(api, make, sessions):
    ae = await make.user(Role.AE)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": "Doe",
                    "accountId": gid(AccountNode, 999),
                    "initialSource": "Webcast",
                }
            },
            as_user=ae,
        )
    ).ok()["createContact"]

    assert codes(data) == [("NOT_FOUND", ["accountId"])]
    assert await row_count(sessions, Contact) == 0


# --- update ----------------------------------------------------------------------


async def test_update_contact_with_the_expected_version_changes_it(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    other_account = await an_account(make, ae, "Globex")
    contact = await a_contact(make, ae, account.id)

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(ContactNode, contact.id),
                    "expectedVersion": 1,
                    "title": "VP Engineering",
                    "email": "NEW@globex.example",
                    "accountId": gid(AccountNode, other_account.id),
                    "initialSource": "Webcast",
                }
            },
            as_user=ae,
        )
    ).ok()["updateContact"]

    assert data["userErrors"] == []
    updated = data["contact"]
    assert updated["version"] == 2
    assert updated["title"] == "VP Engineering"
    assert updated["email"] == "new@globex.example"
    assert updated["account"]["name"] == "Globex"
    assert updated["initialSource"] == "Webcast"


async def test_a_stale_expected_version_changes_nothing(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    contact = await a_contact(make, ae, account.id)
    await api(
        UPDATE,
        {"input": {"id": gid(ContactNode, contact.id), "title": "CTO"}},
        as_user=ae,
    )

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(ContactNode, contact.id),
                    "expectedVersion": 1,
                    "title": "CEO",
                }
            },
            as_user=ae,
        )
    ).ok()["updateContact"]

    assert data["contact"] is None
    assert codes(data) == [("STALE_VERSION", ["expectedVersion"])]
    now = await stored(sessions, contact.id)
    assert (now.title, now.version) == ("CTO", 2)


async def test_initial_source_never_changes(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    contact = await a_contact(make, ae, account.id, initial_source="Webcast")

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(ContactNode, contact.id),
                    "initialSource": "Trade Show",
                    "title": "CTO",
                }
            },
            as_user=ae,
        )
    ).ok()["updateContact"]

    assert data["contact"] is None
    assert codes(data) == [("IMMUTABLE_FIELD", ["initialSource"])]
    now = await stored(sessions, contact.id)
    assert (now.initial_source, now.title, now.version) == ("Webcast", None, 1)


async def test_only_the_owner_or_sales_ops_may_edit_a_contact(api, make, sessions):
    owner = await make.user(Role.AE)
    other = await make.user(Role.SDR)
    admin = await make.user(Role.SALES_ADMIN)
    account = await an_account(make, owner)
    contact = await a_contact(make, owner, account.id)

    refused = (
        await api(
            UPDATE,
            {"input": {"id": gid(ContactNode, contact.id), "title": "X"}},
            as_user=other,
        )
    ).ok()["updateContact"]
    allowed = (
        await api(
            UPDATE,
            {"input": {"id": gid(ContactNode, contact.id), "title": "Y"}},
            as_user=admin,
        )
    ).ok()["updateContact"]

    assert refused["contact"] is None
    assert codes(refused) == [("FORBIDDEN", None)]
    assert allowed["userErrors"] == []
    now = await stored(sessions, contact.id)
    assert (now.title, now.version) == ("Y", 2)


async def test_moving_a_contact_to_a_missing_account_is_not_found(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    contact = await a_contact(make, ae, account.id)

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(ContactNode, contact.id),
                    "accountId": gid(AccountNode, 999),
                }
            },
            as_user=ae,
        )
    ).ok()["updateContact"]

    assert codes(data) == [("NOT_FOUND", ["accountId"])]
    assert (await stored(sessions, contact.id)).account_id == account.id


async def test_a_null_last_name_is_refused(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    contact = await a_contact(make, ae, account.id)

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid(ContactNode, contact.id), "lastName": None}},
            as_user=ae,
        )
    ).ok()["updateContact"]

    assert codes(data) == [("MISSING_FIELD", ["lastName"])]
    assert (await stored(sessions, contact.id)).last_name == "Doe"


# --- lists -----------------------------------------------------------------------


async def test_contacts_filter_by_account_owner_source_and_search(api, make):
    ae = await make.user(Role.AE)
    sdr = await make.user(Role.SDR)
    # Acme is the SDR's (not field sales): its contacts keep their own owners (D7).
    acme = await an_account(make, sdr, "Acme")
    globex = await an_account(make, ae, "Globex")
    await a_contact(make, ae, acme.id, last_name="Smith", email="s@acme.example")
    await a_contact(make, sdr, acme.id, last_name="Jones", initial_source="Trade Show")
    await a_contact(make, ae, globex.id, last_name="Smithers")

    async def listed(filter: dict[str, Any]) -> list[str]:
        page = (await api(LIST, {"filter": filter}, as_user=ae)).ok()["contacts"]
        assert page["totalCount"] == len(page["edges"])
        return last_names(page)

    assert await listed({"accountId": gid(AccountNode, acme.id)}) == [
        "Smith",
        "Jones",
    ]
    assert await listed({"ownerId": gid(UserNode, sdr.id)}) == ["Jones"]
    assert await listed({"initialSource": "Trade Show"}) == ["Jones"]
    assert await listed({"search": "SMITH"}) == ["Smith", "Smithers"]
    assert await listed({"search": "acme.example"}) == ["Smith"]
    assert await listed(
        {"search": "smith", "accountId": gid(AccountNode, globex.id)}
    ) == ["Smithers"]


async def test_contacts_are_keyset_paged_by_last_name_through_every_page(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    for name in ["Miller", "Adams", "Young", "Baker", "Clark"]:
        await a_contact(make, ae, account.id, last_name=name)
    order = {"field": "LAST_NAME"}

    seen: list[str] = []
    after = None
    while True:
        page = (
            await api(LIST, {"first": 2, "after": after, "order": order}, as_user=ae)
        ).ok()["contacts"]
        seen += last_names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    back = (
        await api(
            LIST,
            {"last": 3, "before": page["pageInfo"]["startCursor"], "order": order},
            as_user=ae,
        )
    ).ok()["contacts"]

    assert seen == ["Adams", "Baker", "Clark", "Miller", "Young"]
    assert last_names(back) == ["Baker", "Clark", "Miller"]
    assert back["pageInfo"]["hasPreviousPage"] is True
    assert back["pageInfo"]["hasNextPage"] is True


# --- ownership (D7, round 2) --------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AE, Role.SAL, Role.AM, Role.RD])
async def test_a_contact_created_on_a_field_sales_account_is_the_account_owners(
    api, make, role
):
    """002_91dd8e67a169a832.txt, Record Ownership: "Contacts on accounts owned by a
    member of the Field Sales Team (RD/AE/AM/SAL), will be owned by the named
    Account Owner (i.e both the Account and Contact ownership will match)"."""
    rep = await make.user(role)
    sdr = await make.user(Role.SDR)
    account = await an_account(make, rep)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": "Doe",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Webcast",
                }
            },
            as_user=sdr,
        )
    ).ok()["createContact"]

    assert data["userErrors"] == []
    assert data["contact"]["owner"] == {"id": gid(UserNode, rep.id)}


async def test_naming_another_owner_for_a_field_sales_accounts_contact_is_refused(
    api, make, sessions
):
    """002_91dd8e67a169a832.txt: "both the Account and Contact ownership will
    match" — a contradicting ownerId is refused, not silently overruled."""
    ae = await make.user(Role.AE)
    sdr = await make.user(Role.SDR)
    account = await an_account(make, ae)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "lastName": "Doe",
                    "accountId": gid(AccountNode, account.id),
                    "initialSource": "Webcast",
                    "ownerId": gid(UserNode, sdr.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["createContact"]

    assert codes(data) == [("INVALID_INPUT", ["ownerId"])]
    assert await row_count(sessions, Contact) == 0


async def test_a_contact_moved_to_a_field_sales_account_takes_the_account_owner(
    api, make, sessions
):
    """002_91dd8e67a169a832.txt, Record Ownership: "Contacts on accounts owned by a
    member of the Field Sales Team (RD/AE/AM/SAL), will be owned by the named
    Account Owner" — on every path that re-homes a contact, too."""
    sdr = await make.user(Role.SDR)
    sal = await make.user(Role.SAL)
    prospect = await an_account(make, sdr, "Prospect")
    strategic = await an_account(make, sal, "Strategic")
    contact = await a_contact(make, sdr, prospect.id)

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(ContactNode, contact.id),
                    "accountId": gid(AccountNode, strategic.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["updateContact"]

    assert data["userErrors"] == []
    assert data["contact"]["owner"] == {"id": gid(UserNode, sal.id)}
    async with sessions() as s:
        kinds = [
            (e.kind, e.payload["owner_id"], e.payload["previous_owner_id"])
            for e in (await s.execute(select(Event))).scalars()
        ]
    assert kinds == [("CONTACT_ASSIGNED", sal.id, sdr.id)]
