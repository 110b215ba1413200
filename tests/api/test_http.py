"""The HTTP edge: bearer tokens, 401s, health and readiness, GraphiQL, masking."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from domain.enums import Role
from domain.rules.permissions import Actor
from domain.services.users import revoke_token

QUERY = {"query": "{ viewer { name role } }"}


@pytest.fixture
async def http(database_url):
    app = create_app(database_url, demo_token="demo-secret")
    # Revocations are checked on every request here (the cache's bound across
    # processes is tests/api/test_token_cache.py's).
    app.state.authenticator.check_seconds = 0
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.engine.dispose()


async def test_a_request_without_a_token_is_401_with_a_graphql_error_body(http):
    response = await http.post("/graphql", json=QUERY)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] is None


async def test_a_valid_token_authenticates_the_viewer(http, make):
    user = await make.user(Role.AE, name="Alan")
    token = await make.token(user)

    response = await http.post(
        "/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "data": {"viewer": {"name": "Alan", "role": "AE"}},
        "extensions": {"cost": {"requested": 1, "budget": 10_000}},
    }
    assert response.headers["x-request-id"]


async def test_a_revoked_token_stops_working(http, make):
    admin = await make.user(Role.ADMIN)
    token = await make.token(admin)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.post("/graphql", json=QUERY, headers=headers)).status_code == 200

    await make.run(
        lambda s: revoke_token(1, session=s, actor=Actor(admin.id, admin.role))
    )

    assert (await http.post("/graphql", json=QUERY, headers=headers)).status_code == 401


async def test_tokens_are_stored_hashed(make, sessions):
    from sqlalchemy import select

    from domain.records import ApiToken

    user = await make.user()
    token = await make.token(user)
    async with sessions() as session:
        stored = (await session.execute(select(ApiToken.token_hash))).scalar_one()

    assert token not in stored
    assert len(stored) == 64


async def test_an_inactive_users_token_is_refused(http, make):
    user = await make.user(active=False)
    token = await make.token(user)

    response = await http.post(
        "/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


async def test_health_and_readiness(http):
    health = await http.get("/healthz")
    ready = await http.get("/readyz")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_graphiql_page_is_preloaded_with_the_demo_token_on_loopback(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})

    assert page.status_code == 200
    assert "Bearer demo-secret" in page.text


async def test_graphiql_page_is_not_preloaded_for_a_remote_browser(database_url):
    app = create_app(database_url, demo_token="demo-secret")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    await app.state.engine.dispose()

    assert page.status_code == 200
    assert "demo-secret" not in page.text


async def test_a_query_over_the_depth_limit_is_refused_before_execution(http, make):
    user = await make.user()
    token = await make.token(user)
    deep = (
        "{ leads { nodes { owner { id } "
        + "account { owner { id } parentAccount { " * 6
    )
    deep += "id" + " } }" * 6 + " } } }"

    response = await http.post(
        "/graphql", json={"query": deep}, headers={"Authorization": f"Bearer {token}"}
    )

    body = response.json()
    assert body.get("data") is None
    assert "depth" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused(http, make):
    user = await make.user()
    token = await make.token(user)
    query = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(41)) + " }"

    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )

    assert "aliases" in response.json()["errors"][0]["message"]


async def test_unexpected_errors_are_masked_and_carry_the_request_id(
    http, make, monkeypatch
):
    import api.users

    user = await make.user()
    token = await make.token(user)

    monkeypatch.setattr(
        api.users.UserNode,
        "from_row",
        classmethod(
            lambda cls, row: (_ for _ in ()).throw(RuntimeError("secret internals"))
        ),
    )
    response = await http.post(
        "/graphql",
        json=QUERY,
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-42"},
    )

    error = response.json()["errors"][0]
    assert "secret" not in error["message"]
    assert error["extensions"] == {"code": "INTERNAL_ERROR", "requestId": "req-42"}


async def test_a_query_over_the_token_limit_is_refused(http, make):
    user = await make.user()
    token = await make.token(user)
    query = "{ viewer { " + " ".join(["id"] * 9000) + " } }"

    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )

    body = response.json()
    assert body.get("data") is None
    assert "token" in body["errors"][0]["message"].lower()
