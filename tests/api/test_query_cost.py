"""Query cost (issue 17, item 5): priced before execution, refused over budget.

The 40-alias request of 500 leads with their transitions and history is
refused up front with QUERY_TOO_COSTLY (cost and budget in ``extensions``);
ordinary pages pass; every response tells its cost.
"""

from __future__ import annotations

import httpx
import pytest
from graphql import parse

from api.app import DEMO_QUERY, create_app
from api.cost import QUERY_COST_BUDGET, query_cost
from api.schema import schema
from domain.enums import Role

HEAVY_ALIAS = (
    "leads(first: 500) { nodes { id availableTransitions { to allowed } "
    "history { to } } }"
)
FORTY_ALIASES = "{ " + " ".join(f"a{i}: {HEAVY_ALIAS}" for i in range(40)) + " }"


def cost(query: str, variables: dict | None = None) -> int:
    return query_cost(schema._schema, parse(query), None, variables)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ viewer { name role } }", 1),
        ("{ leads { nodes { id } } }", 1 + 50 * 1),
        (
            "{ leads(first: 100) { nodes { id owner { id name } account { id } } } }",
            1 + 100 * 3,
        ),
        (
            "{ leads(first: 100) { totalCount edges { cursor node { id } } } }",
            1 + 1 + 100 * 2,
        ),
        ("{ leads(last: 10) { nodes { id history { to } } } }", 1 + 10 * (1 + 5)),
        (
            "{ leads(first: 500) { nodes { availableTransitions { to } } } }",
            1 + 500 * 6,
        ),
        (
            "{ accounts(first: 100) { nodes { contacts(first: 50) { nodes { id } } } } }",
            1 + 100 * (1 + 1 + 50),
        ),
        ("{ leads(first: 9999) { nodes { id } } }", 1 + 500),
        ("{ leads(first: -3) { nodes { id } } }", 1),
        (
            "fragment F on Lead { owner { id } } { leads(first: 10) { nodes { ...F ... on Lead { id } } } }",
            1 + 10 * 2,
        ),
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', 1 + 3 * 1),
        (
            'mutation { createCampaign(input: {name: "x", channel: DISPLAY}) { campaign { id } userErrors { code } } }',
            10 + 1 + 1 + 1,
        ),
    ],
)
def test_the_cost_model(query, expected):
    assert cost(query) == expected


def test_page_sizes_and_ids_are_read_from_variables():
    assert (
        cost("query($n: Int) { leads(first: $n) { nodes { id } } }", {"n": 200}) == 201
    )
    assert cost("query($n: Int = 20) { leads(first: $n) { nodes { id } } }", {}) == 21
    assert (
        cost("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["a"] * 7}) == 8
    )


def test_the_forty_alias_query_costs_far_over_the_budget():
    assert cost(FORTY_ALIASES) == 40 * (1 + 500 * 11)
    assert cost(FORTY_ALIASES) > 20 * QUERY_COST_BUDGET


def test_ordinary_queries_fit_the_budget():
    assert cost(DEMO_QUERY) <= 20
    assert cost(HEAVY_ALIAS.join("{}")) <= QUERY_COST_BUDGET
    assert (
        cost(
            "{ leads(first: 100) { totalCount nodes { id status owner { name } account { name } } } }"
        )
        <= 500
    )


async def test_the_forty_alias_query_is_refused_before_it_runs(
    api, make, count_statements
):
    sdr = await make.user(Role.SDR)
    await make.lead()

    with count_statements() as counted:
        result = await api(FORTY_ALIASES, as_user=sdr)

    assert result.data is None
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error["code"] == "QUERY_TOO_COSTLY"
    assert error["cost"] == 40 * 5501
    assert error["budget"] == QUERY_COST_BUDGET
    assert counted.count == 0


async def test_a_page_of_500_with_transitions_and_history_still_runs(api, make):
    sdr = await make.user(Role.SDR)
    await make.lead()

    result = await api("{ " + HEAVY_ALIAS + " }", as_user=sdr)

    assert len(result.ok()["leads"]["nodes"]) == 1


@pytest.fixture
async def http(database_url):
    app = create_app(database_url)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.engine.dispose()


async def test_every_response_carries_its_cost(http, make):
    user = await make.user(Role.AE)
    headers = {"Authorization": f"Bearer {await make.token(user)}"}

    ok = await http.post(
        "/graphql",
        json={"query": "{ leads(first: 10) { nodes { id } } }"},
        headers=headers,
    )
    refused = await http.post(
        "/graphql", json={"query": FORTY_ALIASES}, headers=headers
    )
    invalid = await http.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    broken = await http.post("/graphql", json={"query": "{"}, headers=headers)

    budget = QUERY_COST_BUDGET
    assert ok.json()["extensions"] == {"cost": {"requested": 11, "budget": budget}}
    assert refused.json()["extensions"] == {
        "cost": {"requested": 40 * 5501, "budget": budget}
    }
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert invalid.json()["extensions"] == {"cost": {"requested": 0, "budget": budget}}
    assert broken.json()["extensions"] == {"cost": {"requested": 0, "budget": budget}}
