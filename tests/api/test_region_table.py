"""The D5 region table as data: regionTable, its history, updateRegionTable."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from domain.enums import OpportunityStage, Role, SalesQualificationSource
from domain.records import RegionTableRow, RegionTableVersion
from domain.rules.permissions import Actor
from domain.rules.segmentation import DEFAULT_REGION_TABLE
from domain.services.accounts import create_account
from domain.services.opportunities import create_opportunity
from tests.api.ids import gid
from tests.conftest import row_count

TABLE = """
query($version: Int) {
  regionTable(version: $version) {
    version note leadsRederived accountsRederived changedBy { id }
    rows { country state region }
  }
}"""
HISTORY = """{ regionTableHistory { version note changedBy { id } } }"""
UPDATE = """
mutation($input: UpdateRegionTableInput!) {
  updateRegionTable(input: $input) {
    regionTable { version note leadsRederived accountsRederived changedBy { id }
                  rows { country state region } }
    leadsRederived accountsRederived
    userErrors { code field message }
  }
}"""
FUNNEL = """
query { funnel(groupBy: REGION) {
  milestones { milestone count } groups { key milestones { milestone count } } } }"""
REGIONS = """
query($ids: [ID!]!) { nodes(ids: $ids) {
  ... on Lead { region version } ... on Account { region version } } }"""


async def update(api, user, **fields) -> dict:
    fields.setdefault("expectedVersion", 1)
    return (await api(UPDATE, {"input": fields}, as_user=user)).ok()[
        "updateRegionTable"
    ]


async def regions(api, user, *records) -> list[tuple[str | None, int]]:
    ids = [gid(type(r).__name__, r.id) for r in records]
    nodes = (await api(REGIONS, {"ids": ids}, as_user=user)).ok()["nodes"]
    return [(n["region"], n["version"]) for n in nodes]


async def account(make, by, **values):
    values.setdefault("name", "Initech")
    return await make.run(
        lambda s: create_account(values, session=s, actor=Actor(by.id, by.role))
    )


async def funnel_by_region(api, user) -> dict[str | None, list[int]]:
    """Each region's counts at every milestone, as ``funnel(groupBy: REGION)``."""
    funnel = (await api(FUNNEL, {}, as_user=user)).ok()["funnel"]
    return {g["key"]: [m["count"] for m in g["milestones"]] for g in funnel["groups"]}


async def a_direct_deal(make, by, owner, account_id: int) -> int:
    """A won opportunity created without a lead on the account (its own entry)."""
    deal = await make.run(
        lambda s: create_opportunity(
            {"name": "Initech - Premium", "owner_id": owner.id,
             "account_id": account_id, "initial_source": "Web Direct",
             "sales_qualification_source": SalesQualificationSource.WEB_DIRECT,
             "stage": OpportunityStage.CLOSED_WON,
             "incremental_acv": Decimal("3000.00")},
            session=s, actor=Actor(by.id, by.role),
        )
    )  # fmt: skip
    return deal.id


async def table_rows(sessions) -> tuple[int, int]:
    return (
        await row_count(sessions, RegionTableVersion),
        await row_count(sessions, RegionTableRow),
    )


async def test_the_seeded_table_is_d5_as_the_spec_decides(api, make):
    someone = await make.user(Role.SDR)

    table = (await api(TABLE, {}, as_user=someone)).ok()["regionTable"]

    rows = {(r["country"], r["state"]): r["region"] for r in table["rows"]}
    assert table["version"] == 1
    assert table["changedBy"] is None
    assert table["rows"][0] == {"country": "*", "state": None, "region": "EMEA"}
    assert len(rows) == len(table["rows"]) == 138
    us_west = [
        "AK",
        "AZ",
        "CA",
        "CO",
        "HI",
        "ID",
        "KS",
        "MT",
        "ND",
        "NE",
        "NM",
        "NV",
        "OK",
        "OR",
        "SD",
        "TX",
        "UT",
        "WA",
        "WY",
    ]
    assert sorted(s for (c, s), r in rows.items() if c == "US" and r == "US_WEST") == (
        us_west
    )
    assert sum(1 for (c, s), r in rows.items() if c == "US" and s) == 56
    assert rows[("US", None)] == rows[("US", "DC")] == rows[("US", "NY")] == "US_EAST"
    assert sorted(s for (c, s), r in rows.items() if c == "CA" and r == "US_WEST") == [
        "AB",
        "BC",
        "NT",
        "NU",
        "SK",
        "YT",
    ]
    assert rows[("CA", None)] == rows[("CA", "ON")] == rows[("CA", "QC")] == "US_EAST"
    assert (rows[("JP", None)], rows[("BR", None)]) == ("APAC", "LATAM")
    assert ("DE", None) not in rows
    assert rows == {
        (r.country, r.state): r.region.value for r in DEFAULT_REGION_TABLE.rows()
    }


async def test_an_edit_re_derives_the_regions_of_leads_and_accounts(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    texas = await make.lead(by=ops, country="US", state="TX")
    spelled = await make.lead(by=ops, country="United States", state="Texas")
    mexico = await make.lead(by=ops, country="MX")
    germany = await make.lead(by=ops, country="DE")
    federal = await make.lead(by=ops, country="US", state="TX", is_public_sector=True)
    alberta = await make.lead(by=ops, country="Canada", state="Alberta")
    nowhere = await make.lead(by=ops, country=None)
    houston = await account(make, sales_ops, billing_country="US", billing_state="TX")
    paris = await account(make, sales_ops, billing_country="FR")
    records = (texas, spelled, mexico, germany, federal, alberta, nowhere)
    assert await regions(api, ops, *records, houston, paris) == [
        ("US_WEST", 1),
        ("US_WEST", 1),
        ("LATAM", 1),
        ("EMEA", 1),
        ("PUBLIC_SECTOR", 1),
        ("US_WEST", 1),
        (None, 1),
        ("US_WEST", 1),
        ("EMEA", 1),
    ]

    data = await update(
        api,
        sales_ops,
        setRows=[
            {"country": "US", "state": "tx", "region": "US_EAST"},
            {"country": "Mexico", "region": "US_WEST"},
        ],
        removeRows=[{"country": "CA", "state": "AB"}],
        note="Texas joins the east team; Mexico the west team",
    )

    assert data["userErrors"] == []
    assert await regions(api, ops, *records, houston, paris) == [
        ("US_EAST", 2),
        ("US_EAST", 2),
        ("US_WEST", 2),
        ("EMEA", 1),
        ("PUBLIC_SECTOR", 1),
        ("US_EAST", 2),  # no AB row: Canada's own row
        (None, 1),
        ("US_EAST", 2),
        ("EMEA", 1),
    ]
    assert (data["leadsRederived"], data["accountsRederived"]) == (4, 1)
    table = data["regionTable"]
    assert (table["version"], table["leadsRederived"], table["accountsRederived"]) == (
        2,
        4,
        1,
    )
    assert table["changedBy"] == {"id": gid("User", sales_ops.id)}
    rows = {(r["country"], r["state"]): r["region"] for r in table["rows"]}
    assert len(rows) == 137
    assert (rows[("US", "TX")], rows[("MX", None)]) == ("US_EAST", "US_WEST")
    assert ("CA", "AB") not in rows
    history = (await api(HISTORY, {}, as_user=ops)).ok()["regionTableHistory"]
    assert [(v["version"], v["note"]) for v in history] == [
        (2, "Texas joins the east team; Mexico the west team"),
        (1, "D5 as decided in the spec"),
    ]
    old = (await api(TABLE, {"version": 1}, as_user=ops)).ok()["regionTable"]
    assert {"country": "US", "state": "TX", "region": "US_WEST"} in old["rows"]

    # Records created or changed from now on use the new table.
    dallas = await make.lead(by=ops, country="US", state="TX")
    moved = (
        await api(
            """mutation($i: UpdateAccountInput!) {
              updateAccount(input: $i) { account { region } } }""",
            {"i": {"id": gid("Account", paris.id), "billingCountry": "MX"}},
            as_user=sales_ops,
        )
    ).ok()["updateAccount"]["account"]
    assert dallas.region.value == "US_EAST"
    assert moved == {"region": "US_WEST"}


async def test_a_lead_linked_to_an_account_keeps_following_the_accounts_region(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    dallas = await account(make, sales_ops, billing_country="US", billing_state="TX")
    berlin = await account(make, sales_ops, billing_country="DE")
    # Linked leads take their account's region, whatever their own address (D5).
    at_dallas = await make.lead(by=ops, country="DE", account_id=dallas.id)
    at_berlin = await make.lead(by=ops, country="US", state="TX", account_id=berlin.id)
    alone = await make.lead(by=ops, country="US", state="TX")
    assert await regions(api, ops, at_dallas, at_berlin, alone, dallas) == [
        ("US_WEST", 1),
        ("EMEA", 1),
        ("US_WEST", 1),
        ("US_WEST", 1),
    ]

    data = await update(
        api, sales_ops, setRows=[{"country": "US", "state": "TX", "region": "US_EAST"}]
    )

    assert data["userErrors"] == []
    # The Dallas account moves east and its lead with it (once); the Berlin
    # account's lead stays EMEA although its own address is in Texas.
    assert await regions(api, ops, at_dallas, at_berlin, alone, dallas) == [
        ("US_EAST", 2),
        ("EMEA", 1),
        ("US_EAST", 2),
        ("US_EAST", 2),
    ]
    assert (data["leadsRederived"], data["accountsRederived"]) == (2, 1)


async def test_an_edit_moves_the_funnel_entries_with_the_records_it_re_derives(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    dallas = await account(make, sales_ops, billing_country="US", billing_state="TX")
    await make.lead(by=ops, country="US", state="TX")
    await make.lead(by=ops, country="DE", account_id=dallas.id)
    await make.lead(by=ops, country="DE")
    await a_direct_deal(make, sales_ops, ae, dallas.id)
    before = await funnel_by_region(api, ops)
    # at RAW the leads, at PENDING_ACCEPTANCE the direct deal (D11, round 2)
    assert {key: (counts[0], counts[5]) for key, counts in before.items()} == {
        "US_WEST": (2, 1),
        "EMEA": (1, 0),
    }

    data = await update(
        api, sales_ops, setRows=[{"country": "US", "state": "TX", "region": "US_EAST"}]
    )

    assert data["userErrors"] == []
    # The Texan lead, the lead of the Dallas account and the account's own deal
    # are counted in the region their records now have, with the same milestones.
    assert await funnel_by_region(api, ops) == {
        "US_EAST": before["US_WEST"],
        "EMEA": before["EMEA"],
    }


async def test_without_a_star_row_unlisted_countries_have_no_region(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    admin = await make.user(Role.ADMIN)
    germany = await make.lead(by=ops, country="DE")
    japan = await make.lead(by=ops, country="JP")

    data = await update(
        api,
        admin,
        removeRows=[{"country": "*"}],
        setRows=[{"country": "GB", "region": "EMEA"}],
    )

    assert data["userErrors"] == []
    assert await regions(api, ops, germany, japan) == [(None, 2), ("APAC", 1)]
    assert (await make.lead(by=ops, country="GB")).region.value == "EMEA"
    assert (await make.lead(by=ops, country="FR")).region is None


@pytest.mark.parametrize(
    "role", [Role.MARKETING_OPS, Role.SDR, Role.AE, Role.SALES_ADMIN]
)
async def test_only_sales_ops_and_admin_may_edit_the_table(api, make, sessions, role):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, country="US", state="TX")
    user = await make.user(role)
    rows = await table_rows(sessions)

    data = await update(
        api, user, setRows=[{"country": "US", "state": "TX", "region": "US_EAST"}]
    )

    assert data["regionTable"] is None
    assert [(e["code"], e["message"]) for e in data["userErrors"]] == [
        ("FORBIDDEN", "Only SALES_OPS or ADMIN may change the region table.")
    ]
    assert await table_rows(sessions) == rows
    assert await regions(api, ops, lead) == [("US_WEST", 1)]


async def test_an_edit_made_on_an_old_version_is_refused(api, make, sessions):
    sales_ops = await make.user(Role.SALES_OPS)
    first = await update(api, sales_ops, setRows=[{"country": "IL", "region": "APAC"}])
    assert first["userErrors"] == []
    rows = await table_rows(sessions)

    second = await update(
        api, sales_ops, setRows=[{"country": "IL", "region": "LATAM"}]
    )

    assert [(e["code"], e["field"]) for e in second["userErrors"]] == [
        ("STALE_VERSION", ["expectedVersion"])
    ]
    assert await table_rows(sessions) == rows
    table = (await api(TABLE, {}, as_user=sales_ops)).ok()["regionTable"]
    assert table["version"] == 2
    assert {"country": "IL", "state": None, "region": "APAC"} in table["rows"]


async def test_an_invalid_edit_is_refused_with_every_reason(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(by=ops, country="US", state="TX")
    rows = await table_rows(sessions)

    data = await update(
        api,
        sales_ops,
        setRows=[
            {"country": "USA1", "region": "EMEA"},
            {"country": "US", "state": "TEXAS-NORTH", "region": "US_EAST"},
            {"country": "*", "state": "TX", "region": "EMEA"},
            {"country": "US", "state": "TX", "region": "PUBLIC_SECTOR"},
            {"country": "us", "state": "tx", "region": "US_EAST"},
        ],
        removeRows=[{"country": "DE"}],
    )

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", ["setRows", "0", "country"]),
        ("INVALID_INPUT", ["setRows", "1", "state"]),
        ("INVALID_INPUT", ["setRows", "2", "state"]),
        ("INVALID_INPUT", ["setRows", "4"]),
        ("NOT_FOUND", ["removeRows", "0"]),
        ("INVALID_INPUT", ["setRows", "3", "region"]),
    ]
    assert [e["message"] for e in data["userErrors"]] == [
        "'USA1' is not a country code (ISO 3166-1 alpha-2, e.g. DE) or * for every "
        "other country.",
        "'TEXAS-NORTH' is not a state or province code (1 to 3 letters or digits, "
        "e.g. CA).",
        "The * row covers whole countries and has no state.",
        "The row US/TX is given twice.",
        "There is no row DE to remove.",
        "PUBLIC_SECTOR comes from the public-sector flag, not from an address; "
        "choose another region.",
    ]
    assert await table_rows(sessions) == rows
    assert await regions(api, ops, lead) == [("US_WEST", 1)]
    empty = await update(api, sales_ops)
    assert [(e["code"], e["field"]) for e in empty["userErrors"]] == [
        ("INVALID_INPUT", None)
    ]


async def test_leads_created_while_the_table_changes_end_with_its_new_regions(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    sales_ops = await make.user(Role.SALES_OPS)
    create = """mutation($input: CreateLeadInput!) {
      createLead(input: $input) { lead { id } userErrors { code } } }"""

    async def lead(n: int) -> str:
        data = (
            await api(
                create,
                {
                    "input": {
                        "lastName": f"T{n}",
                        "country": "US",
                        "state": "TX",
                        "initialSource": "Web Direct",
                    }
                },
                as_user=ops,
            )
        ).ok()["createLead"]
        assert data["userErrors"] == []
        return data["lead"]["id"]

    async def stream(first: int) -> list[str]:
        return [await lead(n) for n in range(first, first + 15)]

    one, edit, two = await asyncio.gather(
        stream(0),
        update(
            api,
            sales_ops,
            setRows=[{"country": "US", "state": "TX", "region": "US_EAST"}],
        ),
        stream(15),
    )

    assert edit["userErrors"] == []
    nodes = (
        await api(
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Lead { region } } }",
            {"ids": one + two},
            as_user=ops,
        )
    ).ok()["nodes"]
    assert nodes == [{"region": "US_EAST"}] * 30
