"""createAccount / updateAccount / accounts / account through the real schema."""

from __future__ import annotations

from typing import Any

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.users import UserNode
from domain.enums import Role
from domain.records import Account, AccountDomain, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from domain.services.opportunities import create_opportunity
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.conftest import row_count

FIELDS = """
  id version name type numberOfEmployees salesSegment region isNamed isPublicSector
  billingCity billingState billingCountry industry annualRevenue accountSource
  domains owner { id } parentAccount { id }
"""

CREATE = f"""
mutation($input: CreateAccountInput!) {{
  createAccount(input: $input) {{
    account {{ {FIELDS} }}
    userErrors {{ code field message recordId }}
  }}
}}"""

UPDATE = f"""
mutation($input: UpdateAccountInput!) {{
  updateAccount(input: $input) {{
    account {{ {FIELDS} }}
    userErrors {{ code field message recordId }}
  }}
}}"""

GET = f"query($id: ID!) {{ account(id: $id) {{ {FIELDS} }} }}"

LIST = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: AccountFilter, $order: AccountOrder) {
  accounts(first: $first, after: $after, last: $last, before: $before,
           filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def an_account(make: Any, by: User, *, domains: tuple[str, ...] = (), **values):
    """An account created through the service (owner: ``by`` unless given)."""
    values = {"name": "Acme", "owner_id": by.id, **values}
    return await make.run(
        lambda s: create_account(
            values, session=s, actor=Actor(by.id, by.role), domains=domains
        )
    )


async def stored(sessions: Any, account_id: int) -> Account:
    """The account as the database has it now."""
    async with sessions() as session:
        return await session.get(Account, account_id)


def names(page: dict[str, Any]) -> list[str]:
    """The names on a page of accounts."""
    return [e["node"]["name"] for e in page["edges"]]


# --- create ----------------------------------------------------------------------


async def test_create_account_derives_segment_and_region_and_cleans_domains(api, make):
    ae = await make.user(Role.AE)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Acme Corp",
                    "domains": ["https://www.Acme.com/x", "@acme.io"],
                    "numberOfEmployees": 2500,
                    "billingCity": "San Francisco",
                    "billingState": "CA",
                    "billingCountry": "US",
                    "industry": "Software",
                    "annualRevenue": "1250000.50",
                    "ownerId": gid(UserNode, ae.id),
                }
            },
            as_user=ae,
        )
    ).ok()["createAccount"]

    assert data["userErrors"] == []
    account = data["account"]
    assert account["version"] == 1
    assert account["type"] == "PROSPECT"
    assert account["salesSegment"] == "LARGE"
    assert account["region"] == "US_WEST"
    assert account["isNamed"] is False
    assert account["domains"] == ["acme.com", "acme.io"]
    assert account["annualRevenue"] == "1250000.50"
    assert account["owner"] == {"id": gid(UserNode, ae.id)}
    read = (await api(GET, {"id": account["id"]}, as_user=ae)).ok()["account"]
    assert read == account


async def test_a_named_account_is_strategic_whatever_its_size(api, make):
    ae = await make.user(Role.AE)

    account = (
        await api(
            CREATE,
            {"input": {"name": "Globex", "numberOfEmployees": 40, "isNamed": True}},
            as_user=ae,
        )
    ).ok()["createAccount"]["account"]

    assert (account["salesSegment"], account["isNamed"]) == ("STRATEGIC", True)


async def test_a_public_sector_account_is_in_public_sector_whatever_its_address(
    api, make
):
    ae = await make.user(Role.AE)

    account = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Department of Energy",
                    "billingCountry": "United States",
                    "billingState": "NY",
                    "isPublicSector": True,
                    "numberOfEmployees": 150,
                }
            },
            as_user=ae,
        )
    ).ok()["createAccount"]["account"]

    assert (account["region"], account["salesSegment"]) == (
        "PUBLIC_SECTOR",
        "MID_MARKET",
    )


async def test_a_domain_owned_by_another_account_is_refused_naming_it(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    first = await an_account(make, ae, domains=("acme.com",))

    data = (
        await api(
            CREATE,
            {"input": {"name": "Acme Again", "domains": ["http://WWW.ACME.COM"]}},
            as_user=ae,
        )
    ).ok()["createAccount"]

    assert data["account"] is None
    assert codes(data) == [("DUPLICATE_RECORD", ["domains", "0"])]
    assert data["userErrors"][0]["recordId"] == gid(AccountNode, first.id)
    assert await row_count(sessions, Account) == 1
    assert await row_count(sessions, AccountDomain) == 1


async def test_create_account_refuses_every_invalid_field_at_once(api, make, sessions):
    ae = await make.user(Role.AE)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "  ",
                    "numberOfEmployees": -1,
                    "annualRevenue": "-5",
                    "type": None,
                }
            },
            as_user=ae,
        )
    ).ok()["createAccount"]

    assert data["account"] is None
    assert sorted(codes(data)) == [
        ("INVALID_INPUT", ["annualRevenue"]),
        ("INVALID_INPUT", ["numberOfEmployees"]),
        ("MISSING_FIELD", ["name"]),
        ("MISSING_FIELD", ["type"]),
    ]
    assert await row_count(sessions, Account) == 0


async def test_a_malformed_domain_is_invalid_input(api, make, sessions):
    ae = await make.user(Role.AE)

    data = (
        await api(
            CREATE,
            {"input": {"name": "Initech", "domains": ["not a domain"]}},
            as_user=ae,
        )
    ).ok()["createAccount"]

    assert codes(data) == [("INVALID_INPUT", ["domains", "0"])]
    assert await row_count(sessions, Account) == 0


async def test_every_bad_domain_of_the_list_is_reported_at_its_index(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    acme = await an_account(make, ae, domains=("acme.com",))
    globex = await an_account(make, ae, name="Globex", domains=("globex.com",))

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(AccountNode, acme.id),
                    "domains": ["acme.com", "no domain", "", "GLOBEX.com", "x y"],
                }
            },
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert data["userErrors"] == [
        {
            "code": "INVALID_INPUT",
            "field": ["domains", "1"],
            "message": "'no domain' is not a domain.",
            "recordId": None,
        },
        {
            "code": "DUPLICATE_RECORD",
            "field": ["domains", "3"],
            "message": "The domain 'globex.com' belongs to account "
            f"{gid(AccountNode, globex.id)}.",
            "recordId": gid(AccountNode, globex.id),
        },
        {
            "code": "INVALID_INPUT",
            "field": ["domains", "4"],
            "message": "'x y' is not a domain.",
            "recordId": None,
        },
    ]
    assert await row_count(sessions, AccountDomain) == 2


async def test_an_unknown_parent_account_or_owner_is_not_found(api, make, sessions):
    ae = await make.user(Role.AE)

    no_parent = (
        await api(
            CREATE,
            {"input": {"name": "Child", "parentAccountId": gid(AccountNode, 999)}},
            as_user=ae,
        )
    ).ok()["createAccount"]
    no_owner = (
        await api(
            CREATE,
            {"input": {"name": "Child", "ownerId": gid(UserNode, 999)}},
            as_user=ae,
        )
    ).ok()["createAccount"]

    assert codes(no_parent) == [("NOT_FOUND", ["parentAccountId"])]
    assert codes(no_owner) == [("NOT_FOUND", ["ownerId"])]
    assert await row_count(sessions, Account) == 0


async def test_a_parent_id_of_another_type_is_invalid_input(api, make):
    ae = await make.user(Role.AE)

    data = (
        await api(
            CREATE,
            {"input": {"name": "Child", "parentAccountId": gid(UserNode, ae.id)}},
            as_user=ae,
        )
    ).ok()["createAccount"]

    assert codes(data) == [("INVALID_INPUT", ["parentAccountId"])]


# --- update ----------------------------------------------------------------------


async def test_update_account_refreshes_derived_fields_domains_and_version(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(
        make, ae, number_of_employees=10, billing_country="US", domains=("old.com",)
    )

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(AccountNode, account.id),
                    "expectedVersion": 1,
                    "numberOfEmployees": 500,
                    "billingCountry": "Germany",
                    "domains": ["new.de", "https://shop.new.de"],
                    "type": "CUSTOMER",
                }
            },
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert data["userErrors"] == []
    updated = data["account"]
    assert updated["version"] == 2
    assert (updated["salesSegment"], updated["region"], updated["type"]) == (
        "MID_MARKET",
        "EMEA",
        "CUSTOMER",
    )
    assert updated["domains"] == ["new.de", "shop.new.de"]
    assert await row_count(sessions, AccountDomain) == 2


async def test_changing_only_the_domains_is_a_new_version(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae, domains=("a.com",))

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid(AccountNode, account.id), "domains": []}},
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert (data["account"]["domains"], data["account"]["version"]) == ([], 2)


async def test_omitting_domains_on_update_keeps_them(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae, domains=("keep.com",))

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid(AccountNode, account.id), "industry": "Retail"}},
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert data["account"]["domains"] == ["keep.com"]
    assert data["account"]["industry"] == "Retail"


async def test_a_stale_expected_version_changes_nothing(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    await api(
        UPDATE,
        {"input": {"id": gid(AccountNode, account.id), "industry": "Retail"}},
        as_user=ae,
    )

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(AccountNode, account.id),
                    "expectedVersion": 1,
                    "industry": "Banking",
                    "domains": ["bank.com"],
                }
            },
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert data["account"] is None
    assert codes(data) == [("STALE_VERSION", ["expectedVersion"])]
    now = await stored(sessions, account.id)
    assert (now.industry, now.version) == ("Retail", 2)
    assert await row_count(sessions, AccountDomain) == 0


async def test_only_the_owner_or_sales_ops_may_edit_an_owned_account(
    api, make, sessions
):
    owner = await make.user(Role.AE)
    other = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    account = await an_account(make, owner)

    refused = (
        await api(
            UPDATE,
            {"input": {"id": gid(AccountNode, account.id), "name": "Mine now"}},
            as_user=other,
        )
    ).ok()["updateAccount"]
    allowed = (
        await api(
            UPDATE,
            {"input": {"id": gid(AccountNode, account.id), "name": "Renamed"}},
            as_user=ops,
        )
    ).ok()["updateAccount"]

    assert refused["account"] is None
    assert codes(refused) == [("FORBIDDEN", None)]
    assert allowed["userErrors"] == []
    now = await stored(sessions, account.id)
    assert (now.name, now.version) == ("Renamed", 2)


async def test_updating_a_missing_account_is_not_found(api, make):
    ae = await make.user(Role.AE)

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid(AccountNode, 404), "name": "Ghost"}},
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert codes(data) == [("NOT_FOUND", ["id"])]


async def test_an_account_cannot_become_the_parent_of_its_own_parent(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    parent = await an_account(make, ae, name="Parent")
    child = await an_account(make, ae, name="Child", parent_account_id=parent.id)

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(AccountNode, parent.id),
                    "parentAccountId": gid(AccountNode, child.id),
                }
            },
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert codes(data) == [("INVALID_INPUT", ["parentAccountId"])]
    assert (await stored(sessions, parent.id)).parent_account_id is None


async def test_explicit_null_for_a_required_flag_is_refused(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid(AccountNode, account.id), "isNamed": None}},
            as_user=ae,
        )
    ).ok()["updateAccount"]

    assert codes(data) == [("MISSING_FIELD", ["isNamed"])]
    assert (await stored(sessions, account.id)).version == 1


# --- lists -----------------------------------------------------------------------


async def test_accounts_filter_by_segment_region_named_owner_type_and_search(api, make):
    ae = await make.user(Role.AE)
    other = await make.user(Role.AE)
    await an_account(
        make,
        ae,
        name="Big West",
        number_of_employees=3000,
        billing_country="US",
        billing_state="WA",
    )
    await an_account(
        make,
        ae,
        name="Big East",
        number_of_employees=3000,
        billing_country="US",
        billing_state="NY",
    )
    await an_account(
        make,
        other,
        name="Named West",
        is_named=True,
        billing_country="US",
        billing_state="OR",
    )
    await an_account(make, ae, name="Partner Co", type="PARTNER")

    async def listed(filter: dict[str, Any]) -> list[str]:
        page = (await api(LIST, {"filter": filter}, as_user=ae)).ok()["accounts"]
        assert page["totalCount"] == len(page["edges"])
        return names(page)

    assert await listed({"segment": ["LARGE"]}) == ["Big West", "Big East"]
    assert await listed({"region": ["US_WEST"]}) == ["Big West", "Named West"]
    assert await listed({"isNamed": True}) == ["Named West"]
    assert await listed({"ownerId": gid(UserNode, other.id)}) == ["Named West"]
    assert await listed({"type": ["PARTNER"]}) == ["Partner Co"]
    assert await listed({"search": "WEST"}) == ["Big West", "Named West"]
    assert await listed({"segment": ["LARGE"], "region": ["US_EAST"]}) == ["Big East"]


async def test_accounts_filter_by_parent_and_creation_time(api, make):
    ae = await make.user(Role.AE)
    parent = await an_account(make, ae, name="Parent")
    await an_account(make, ae, name="Child A", parent_account_id=parent.id)
    child_b = await an_account(make, ae, name="Child B", parent_account_id=parent.id)

    children = (
        await api(
            LIST,
            {"filter": {"parentAccountId": gid(AccountNode, parent.id)}},
            as_user=ae,
        )
    ).ok()["accounts"]
    since_b = (
        await api(
            LIST,
            {"filter": {"createdAfter": child_b.created_at.isoformat()}},
            as_user=ae,
        )
    ).ok()["accounts"]
    before_b = (
        await api(
            LIST,
            {"filter": {"createdBefore": child_b.created_at.isoformat()}},
            as_user=ae,
        )
    ).ok()["accounts"]

    assert names(children) == ["Child A", "Child B"]
    assert names(since_b) == ["Child B"]
    assert names(before_b) == ["Parent", "Child A"]


async def test_accounts_are_keyset_paged_by_name_through_every_page(api, make):
    ae = await make.user(Role.AE)
    for name in ["Echo", "Alpha", "Delta", "Golf", "Bravo", "Foxtrot", "Charlie"]:
        await an_account(make, ae, name=name)
    order = {"field": "NAME", "direction": "DESC"}

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (
            await api(LIST, {"first": 3, "after": after, "order": order}, as_user=ae)
        ).ok()["accounts"]
        pages += 1
        seen += names(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    back = (
        await api(
            LIST,
            {"last": 2, "before": page["pageInfo"]["startCursor"], "order": order},
            as_user=ae,
        )
    ).ok()["accounts"]

    assert seen == ["Golf", "Foxtrot", "Echo", "Delta", "Charlie", "Bravo", "Alpha"]
    assert pages == 3
    assert names(back) == ["Charlie", "Bravo"]
    assert back["pageInfo"]["hasPreviousPage"] is True


# --- relations -------------------------------------------------------------------


RELATIONS = """
query($id: ID!, $first: Int, $after: String) {
  account(id: $id) {
    childAccounts(first: $first, after: $after) {
      totalCount nodes { name parentAccount { name } }
      pageInfo { hasNextPage endCursor }
    }
    contacts { totalCount nodes { lastName account { name } } }
    opportunities { totalCount nodes { name stage account { name } } }
  }
}"""


async def test_an_account_lists_its_children_contacts_and_opportunities(api, make):
    ae = await make.user(Role.AE)
    actor = Actor(ae.id, ae.role)
    parent = await an_account(make, ae, name="Parent")
    for name in ["C1", "C2", "C3"]:
        await an_account(make, ae, name=name, parent_account_id=parent.id)
    elsewhere = await an_account(make, ae, name="Elsewhere")
    for account_id, last_name in [(parent.id, "Here"), (elsewhere.id, "There")]:
        await make.run(
            lambda s, a=account_id, n=last_name: create_contact(
                {"last_name": n, "account_id": a, "initial_source": "Webcast"},
                session=s,
                actor=actor,
            )
        )
    await make.run(
        lambda s: create_opportunity(
            {"name": "Deal", "account_id": parent.id}, session=s, actor=actor
        )
    )

    first = (
        await api(
            RELATIONS, {"id": gid(AccountNode, parent.id), "first": 2}, as_user=ae
        )
    ).ok()["account"]
    rest = (
        await api(
            RELATIONS,
            {
                "id": gid(AccountNode, parent.id),
                "first": 2,
                "after": first["childAccounts"]["pageInfo"]["endCursor"],
            },
            as_user=ae,
        )
    ).ok()["account"]

    assert [n["name"] for n in first["childAccounts"]["nodes"]] == ["C1", "C2"]
    assert first["childAccounts"]["nodes"][0]["parentAccount"] == {"name": "Parent"}
    assert first["childAccounts"]["totalCount"] == 3
    assert first["childAccounts"]["pageInfo"]["hasNextPage"] is True
    assert [n["name"] for n in rest["childAccounts"]["nodes"]] == ["C3"]
    assert rest["childAccounts"]["pageInfo"]["hasNextPage"] is False
    assert first["contacts"] == {
        "totalCount": 1,
        "nodes": [{"lastName": "Here", "account": {"name": "Parent"}}],
    }
    assert first["opportunities"] == {
        "totalCount": 1,
        "nodes": [
            {
                "name": "Deal",
                "stage": "PENDING_ACCEPTANCE",
                "account": {"name": "Parent"},
            }
        ],
    }


async def test_domains_of_a_page_of_accounts_cost_one_query(
    api, make, count_statements
):
    ae = await make.user(Role.AE)
    for n in range(3):
        await an_account(make, ae, name=f"A{n}", domains=(f"a{n}.com", f"b{n}.com"))
    query = "{ accounts(first: 50) { nodes { name domains owner { name } } } }"

    with count_statements() as few:
        small = (await api(query, as_user=ae)).ok()["accounts"]["nodes"]
    for n in range(3, 12):
        await an_account(make, ae, name=f"A{n}", domains=(f"a{n}.com",))
    with count_statements() as many:
        large = (await api(query, as_user=ae)).ok()["accounts"]["nodes"]

    assert small[0]["domains"] == ["a0.com", "b0.com"]
    assert len(large) == 12
    assert large[11]["domains"] == ["a11.com"]
    assert many.count == few.count


async def test_account_and_node_resolve_the_same_record(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae, name="Hooli")
    account_id = gid(AccountNode, account.id)

    data = (
        await api(
            "query($id: ID!) { account(id: $id) { name }"
            " node(id: $id) { id ... on Account { name } } }",
            {"id": account_id},
            as_user=ae,
        )
    ).ok()

    assert data["account"] == {"name": "Hooli"}
    assert data["node"] == {"id": account_id, "name": "Hooli"}


async def test_an_id_of_another_type_is_refused_by_account(api, make):
    ae = await make.user(Role.AE)

    result = await api(GET, {"id": gid(ContactNode, 1)}, as_user=ae)

    assert result.errors[0]["code"] == "INVALID_INPUT"
    assert result.errors[0]["field"] == ["id"]
