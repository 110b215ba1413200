"""Countries normalized before regions are derived (D5 round 2), and what routing
does with a country nobody recognizes (D8).

D5 round 2 (../shared/spec/domain.md): "country input is normalized (ISO 3166
names and codes, common local names such as "Brasil", "Deutschland", "USA") with
a maintained library; an unrecognized country yields region UNKNOWN (routed to
pre-qualification), never a default region." The handbook (seed
002_91dd8e67a169a832.txt) keeps country values consistent across systems: "In
Marketo we have modified the country values to match Salesforce"; its Contact Us
rule sends what cannot be placed to "the BDR team for prequalification".
"""

from __future__ import annotations

from typing import Any

import pytest

from api.users import UserNode
from domain.enums import Role
from tests.api.ids import gid

CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) {
    lead { id region routing { rule pool } } userErrors { code }
  }
}"""
CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { region } userErrors { code } }
}"""
RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    lead { region owner { id } routing { rule pool reason } } userErrors { code }
  }
}"""
SET_POOL = """
mutation($input: SetRoutingPoolMembersInput!) {
  setRoutingPoolMembers(input: $input) { userErrors { code } }
}"""


async def a_lead(api: Any, ops: Any, **values: Any) -> dict[str, Any]:
    data = (
        await api(
            CREATE_LEAD,
            {"input": {"initialSource": "Web Direct", "lastName": "Doe", **values}},
            as_user=ops,
        )
    ).ok()["createLead"]
    assert data["userErrors"] == []
    return data["lead"]


@pytest.mark.parametrize(
    ("country", "state", "region"),
    [
        ("Brasil", None, "LATAM"),
        ("Deutschland", None, "EMEA"),
        ("USA", "Arizona", "US_WEST"),
        ("U.S.A.", "NY", "US_EAST"),
        ("UK", None, "EMEA"),
        ("Türkiye", None, "EMEA"),
        ("日本", None, "APAC"),
        ("México", None, "LATAM"),
        ("Canada", "Québec", "US_EAST"),
        ("BRA", None, "LATAM"),
    ],
)
async def test_a_lead_takes_the_region_of_its_country_however_it_is_spelled(
    api, make, country, state, region
):
    ops = await make.user(Role.SALES_OPS)

    lead = await a_lead(api, ops, country=country, state=state)

    assert lead["region"] == region


@pytest.mark.parametrize("country", ["Narnia", "XX", "Brazl"])
async def test_an_unrecognized_country_has_no_region_never_emea(api, make, country):
    ops = await make.user(Role.SALES_OPS)

    lead = await a_lead(api, ops, country=country)
    account = (
        await api(
            CREATE_ACCOUNT,
            {"input": {"name": f"Co {country}", "billingCountry": country}},
            as_user=ops,
        )
    ).ok()["createAccount"]

    assert lead["region"] is None
    assert account == {"account": {"region": None}, "userErrors": []}


async def test_a_contact_us_from_an_unrecognized_country_goes_to_prequalification(
    api, make
):
    """Seed 002_91dd8e67a169a832.txt, Contact Us: "`Unknown` … Routed to the BDR
    team for prequalification" — an address nobody can place is not EMEA's."""
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    for key, members in (
        ("BDR_PREQUALIFICATION", [bdr]),
        ("BDR_EMEA", [await make.user(Role.BDR)]),
    ):
        done = (
            await api(
                SET_POOL,
                {
                    "input": {
                        "pool": key,
                        "userIds": [gid(UserNode, u.id) for u in members],
                    }
                },
                as_user=ops,
            )
        ).ok()["setRoutingPoolMembers"]
        assert done["userErrors"] == []
    lead = await a_lead(api, ops, country="Narnia", numberOfEmployees=5000)

    routed = (
        await api(
            RECORD,
            {"input": {"leadId": lead["id"], "kind": "CONTACT_US_REQUEST"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    assert routed["region"] is None
    assert routed["routing"]["rule"] == "CONTACT_US"
    assert routed["routing"]["pool"] == "BDR_PREQUALIFICATION"
    assert routed["owner"] == {"id": gid(UserNode, bdr.id)}
