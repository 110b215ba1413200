"""createCampaign / campaigns / campaign through the real schema."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.leads import LeadNode
from domain.enums import CampaignChannel, Role
from domain.records import Campaign, User
from domain.rules.permissions import Actor
from domain.services.campaigns import create_campaign
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.conftest import row_count

FIELDS = "id version name channel spend startDate endDate"

CREATE = f"""
mutation($input: CreateCampaignInput!) {{
  createCampaign(input: $input) {{
    campaign {{ {FIELDS} }}
    userErrors {{ code field message }}
  }}
}}"""

LIST = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: CampaignFilter, $order: CampaignOrder) {
  campaigns(first: $first, after: $after, last: $last, before: $before,
            filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def a_campaign(
    make: Any, by: User, name: str, channel: CampaignChannel = CampaignChannel.EMAIL
) -> Campaign:
    """A campaign created through the service."""
    return await make.run(
        lambda s: create_campaign(
            {"name": name, "channel": channel, "spend": Decimal("100.00")},
            session=s,
            actor=Actor(by.id, by.role),
        )
    )


def names(page: dict[str, Any]) -> list[str]:
    """The names on a page of campaigns."""
    return [e["node"]["name"] for e in page["edges"]]


async def test_marketing_ops_creates_a_campaign_and_reads_it_back(api, make):
    ops = await make.user(Role.MARKETING_OPS)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "20300115_DevSecOps Webcast",
                    "channel": "SPONSORSHIP",
                    "spend": "1500.25",
                    "startDate": "2030-01-15",
                    "endDate": "2030-01-15",
                }
            },
            as_user=ops,
        )
    ).ok()["createCampaign"]

    assert data["userErrors"] == []
    campaign = data["campaign"]
    assert {k: v for k, v in campaign.items() if k != "id"} == {
        "version": 1,
        "name": "20300115_DevSecOps Webcast",
        "channel": "SPONSORSHIP",
        "spend": "1500.25",
        "startDate": "2030-01-15",
        "endDate": "2030-01-15",
    }
    read = (
        await api(
            f"query($id: ID!) {{ campaign(id: $id) {{ {FIELDS} }} }}",
            {"id": campaign["id"]},
            as_user=ops,
        )
    ).ok()["campaign"]
    assert read == campaign


async def test_spend_defaults_to_zero(api, make):
    ops = await make.user(Role.SALES_OPS)

    campaign = (
        await api(
            CREATE, {"input": {"name": "Organic", "channel": "ORGANIC"}}, as_user=ops
        )
    ).ok()["createCampaign"]["campaign"]

    assert campaign["spend"] == "0.00"


async def test_a_sales_rep_may_not_create_a_campaign(api, make, sessions):
    sdr = await make.user(Role.SDR)

    data = (
        await api(CREATE, {"input": {"name": "Mine", "channel": "EMAIL"}}, as_user=sdr)
    ).ok()["createCampaign"]

    assert data["campaign"] is None
    assert codes(data) == [("FORBIDDEN", None)]
    assert await row_count(sessions, Campaign) == 0


async def test_negative_spend_and_blank_name_are_refused_together(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)

    data = (
        await api(
            CREATE,
            {"input": {"name": "", "channel": "CPC", "spend": "-0.01"}},
            as_user=ops,
        )
    ).ok()["createCampaign"]

    assert sorted(codes(data)) == [
        ("INVALID_INPUT", ["spend"]),
        ("MISSING_FIELD", ["name"]),
    ]
    assert await row_count(sessions, Campaign) == 0


async def test_an_end_before_the_start_is_refused(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Backwards",
                    "channel": "EMAIL",
                    "startDate": "2030-02-01",
                    "endDate": "2030-01-31",
                }
            },
            as_user=ops,
        )
    ).ok()["createCampaign"]

    assert codes(data) == [("INVALID_INPUT", ["endDate"])]
    assert await row_count(sessions, Campaign) == 0


async def test_a_null_spend_is_refused(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)

    data = (
        await api(
            CREATE,
            {"input": {"name": "Nothing", "channel": "EMAIL", "spend": None}},
            as_user=ops,
        )
    ).ok()["createCampaign"]

    assert codes(data) == [("MISSING_FIELD", ["spend"])]
    assert await row_count(sessions, Campaign) == 0


async def test_a_campaign_of_another_id_type_is_invalid_input(api, make):
    ops = await make.user(Role.MARKETING_OPS)

    result = await api(
        "query($id: ID!) { campaign(id: $id) { name } }",
        {"id": gid(LeadNode, 1)},
        as_user=ops,
    )

    assert result.data == {"campaign": None}
    assert (result.errors[0]["code"], result.errors[0]["field"]) == (
        "INVALID_INPUT",
        ["id"],
    )


async def test_campaigns_filter_by_channel_and_search(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    await a_campaign(make, ops, "20300101_Webcast", CampaignChannel.EMAIL)
    await a_campaign(make, ops, "Google Ads", CampaignChannel.CPC)
    await a_campaign(make, ops, "KubeCon booth", CampaignChannel.SPONSORSHIP)
    await a_campaign(make, ops, "Partner webcast", CampaignChannel.PARTNERS)

    async def listed(filter: dict[str, Any]) -> list[str]:
        page = (await api(LIST, {"filter": filter}, as_user=ops)).ok()["campaigns"]
        assert page["totalCount"] == len(page["edges"])
        return names(page)

    assert await listed({"channel": ["CPC", "SPONSORSHIP"]}) == [
        "Google Ads",
        "KubeCon booth",
    ]
    assert await listed({"search": "WEBCAST"}) == [
        "20300101_Webcast",
        "Partner webcast",
    ]
    assert await listed({"search": "webcast", "channel": ["PARTNERS"]}) == [
        "Partner webcast"
    ]


async def test_campaigns_are_keyset_paged_by_name_through_every_page(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    for name in ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]:
        await a_campaign(make, ops, name)
    order = {"field": "NAME"}

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (
            await api(LIST, {"first": 2, "after": after, "order": order}, as_user=ops)
        ).ok()["campaigns"]
        pages += 1
        seen += names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    back = (
        await api(
            LIST,
            {"last": 2, "before": page["pageInfo"]["startCursor"], "order": order},
            as_user=ops,
        )
    ).ok()["campaigns"]

    assert seen == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert pages == 3
    assert names(back) == ["Charlie", "Delta"]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (
        True,
        True,
    )
