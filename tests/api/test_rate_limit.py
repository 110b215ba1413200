"""Per-token rate limit (issue 16 item 9): HTTP 429, ``Retry-After``, RATE_LIMITED."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.rate_limit import RateLimiter
from api.settings import load_settings
from domain.enums import Role
from domain.records import Lead
from tests.api.conftest import start_server

VIEWER = {"query": "{ viewer { name } }"}
CREATE_LEAD = {
    "query": "mutation($input: CreateLeadInput!) { createLead(input: $input) "
    "{ lead { id } userErrors { code } } }",
    "variables": {
        "input": {
            "lastName": "Lee",
            "email": "lee@acme.example",
            "initialSource": "Web Direct",
        }
    },
}


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def test_a_bucket_allows_the_limit_then_says_when_to_retry():
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])

    allowed = [limiter.retry_after(1) for _ in range(3)]
    refused = limiter.retry_after(1)
    other = limiter.retry_after(2)
    now[0] += 20  # a third of a minute: one request regained
    again = limiter.retry_after(1)
    refused_again = limiter.retry_after(1)

    assert allowed == [None, None, None]
    assert refused == 20
    assert other is None
    assert again is None
    assert refused_again == 20


def test_a_refused_request_does_not_use_up_the_bucket():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    for _ in range(60):
        assert limiter.retry_after(1) is None

    assert [limiter.retry_after(1) for _ in range(5)] == [1, 1, 1, 1, 1]
    now[0] += 1
    assert limiter.retry_after(1) is None


def test_zero_means_no_limit():
    limiter = RateLimiter(0, clock=lambda: 0.0)

    assert all(limiter.retry_after(1) is None for _ in range(1_000))


@pytest.fixture
async def http(database_url):
    settings = load_settings(database_url=database_url, token_rate_limit=2)
    app = create_app(settings=settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.engine.dispose()


async def test_over_the_limit_a_token_gets_429_and_nothing_runs(http, make, sessions):
    rep = await make.user(Role.SDR)
    token, other = await make.token(rep), await make.token(rep)
    for _ in range(2):
        assert (
            await http.post("/graphql", json=VIEWER, headers=bearer(token))
        ).status_code == 200

    refused = await http.post("/graphql", json=CREATE_LEAD, headers=bearer(token))
    other_token = await http.post("/graphql", json=VIEWER, headers=bearer(other))

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json()["data"] is None
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == [
        "RATE_LIMITED"
    ]
    assert other_token.status_code == 200
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Lead)) == 0


async def test_a_served_process_limits_each_token(database_url, make):
    rep = await make.user(Role.SDR)
    token = await make.token(rep)
    process, base = start_server(database_url, env={"SALESOPS_TOKEN_RATE_LIMIT": "2"})
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            codes = [
                (await client.post("/graphql", json=VIEWER, headers=bearer(token)))
                for _ in range(3)
            ]
    finally:
        process.terminate()
        process.wait(15)

    assert [r.status_code for r in codes] == [200, 200, 429]
    assert int(codes[2].headers["retry-after"]) >= 1
    assert codes[2].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
