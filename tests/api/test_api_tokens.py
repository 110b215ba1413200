"""API tokens for integrations (issue 16 item 9): scopes checked with the role,
optional expiry, your own tokens or (ADMIN) everyone's, never the secret again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from api.app import create_app
from domain.enums import Role
from domain.records import ApiToken, Lead, User
from domain.sqltypes import utcnow
from tests.api.ids import gid

CREATE_TOKEN = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token
    apiToken { id name scopes expiresAt revokedAt user { id } }
    userErrors { code field message }
  }
}"""
REVOKE_TOKEN = """
mutation($input: RevokeApiTokenInput!) {
  revokeApiToken(input: $input) {
    apiToken { id revokedAt } userErrors { code field }
  }
}"""
TOKENS = """
query($filter: ApiTokenFilter) {
  apiTokens(filter: $filter) { totalCount nodes { name user { id } } }
}"""
VIEWER = "{ viewer { name } }"
CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code } }
}"""
CREATE_USER = """
mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id } userErrors { code } }
}"""
LEAD = {"lastName": "Lee", "email": "lee@acme.example", "initialSource": "Web Direct"}


@pytest.fixture
async def app(database_url):
    app = create_app(database_url)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def http(app):
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class Caller:
    """Posts GraphQL with one bearer token."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    async def post(self, query: str, variables: Any = None) -> httpx.Response:
        """The raw response."""
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )

    async def __call__(self, query: str, variables: Any = None) -> dict[str, Any]:
        """The JSON body of a 200 answer."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    async def issue(self, scopes: list[str], **more: Any) -> dict[str, Any]:
        """createApiToken's payload."""
        body = await self(
            CREATE_TOKEN, {"input": {"name": "crm", "scopes": scopes, **more}}
        )
        return body["data"]["createApiToken"]


async def count(sessions: Any, model: type) -> int:
    """Rows of a table."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_anyone_issues_a_scoped_token_of_their_own(http, make):
    rep = await make.user(Role.SDR)
    session = Caller(http, await make.token(rep))
    soon = (utcnow() + timedelta(days=30)).replace(microsecond=0)

    issued = await session.issue(["WRITE", "READ"], expiresAt=soon.isoformat())

    assert issued["userErrors"] == []
    assert issued["token"].startswith("sops_")
    node = issued["apiToken"]
    assert node["name"] == "crm"
    assert node["scopes"] == ["READ", "WRITE"]
    assert node["expiresAt"] == soon.isoformat()
    assert node["revokedAt"] is None and node["user"] == {"id": gid("User", rep.id)}
    assert (await Caller(http, issued["token"])(VIEWER))["data"]["viewer"]


async def test_a_read_token_reads_but_cannot_write(http, make, sessions):
    rep = await make.user(Role.SDR)
    read = Caller(
        http, (await Caller(http, await make.token(rep)).issue(["READ"]))["token"]
    )

    assert "errors" not in await read(VIEWER)
    refused = await read(CREATE_LEAD, {"input": LEAD})

    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == [
        "INSUFFICIENT_SCOPE"
    ]
    assert "WRITE" in refused["errors"][0]["message"]
    assert await count(sessions, Lead) == 0


async def test_a_write_token_writes_but_cannot_read(http, make, sessions):
    rep = await make.user(Role.SDR)
    issued = await Caller(http, await make.token(rep)).issue(["WRITE"])
    write = Caller(http, issued["token"])

    created = await write(CREATE_LEAD, {"input": LEAD})
    refused = await write(VIEWER)

    assert created["data"]["createLead"]["userErrors"] == []
    assert await count(sessions, Lead) == 1
    assert [e["extensions"]["code"] for e in refused["errors"]] == [
        "INSUFFICIENT_SCOPE"
    ]


async def test_admin_mutations_need_the_admin_scope_and_the_role(http, make, sessions):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)
    new_user = {"name": "N", "email": "n@example.com", "role": "AE"}
    admin_rw = await Caller(http, await make.token(admin)).issue(["READ", "WRITE"])
    rep_admin = await Caller(http, await make.token(rep)).issue(["ADMIN"])
    users_before = await count(sessions, User)

    without_scope = await Caller(http, admin_rw["token"])(
        CREATE_USER, {"input": new_user}
    )
    without_role = await Caller(http, rep_admin["token"])(
        CREATE_USER, {"input": new_user}
    )

    assert [e["extensions"]["code"] for e in without_scope["errors"]] == [
        "INSUFFICIENT_SCOPE"
    ]
    assert without_role["data"]["createUser"]["userErrors"] == [{"code": "FORBIDDEN"}]
    assert await count(sessions, User) == users_before


async def test_a_token_cannot_issue_one_with_more_scopes(http, make, sessions):
    rep = await make.user(Role.SDR)
    narrow = await Caller(http, await make.token(rep)).issue(["READ", "ADMIN"])
    before = await count(sessions, ApiToken)

    widened = await Caller(http, narrow["token"]).issue(["READ", "WRITE"])

    assert widened["token"] is None and widened["apiToken"] is None
    assert [(e["code"], e["field"]) for e in widened["userErrors"]] == [
        ("INSUFFICIENT_SCOPE", ["scopes"])
    ]
    assert await count(sessions, ApiToken) == before


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"scopes": []}, "INVALID_INPUT", ["scopes"]),
        ({"expiresAt": "2020-01-01T00:00:00+00:00"}, "INVALID_INPUT", ["expiresAt"]),
        ({"name": "x" * 201}, "INVALID_INPUT", ["name"]),
    ],
)
async def test_a_bad_token_request_is_refused_and_issues_nothing(
    http, make, sessions, change, code, field
):
    rep = await make.user(Role.SDR)
    session = Caller(http, await make.token(rep))
    before = await count(sessions, ApiToken)

    body = await session(
        CREATE_TOKEN, {"input": {"name": "crm", "scopes": ["READ"], **change}}
    )

    errors = (body.get("data") or {}).get("createApiToken", {}).get("userErrors")
    if errors is None:  # refused before execution (string limits)
        errors = [
            {"code": e["extensions"]["code"], "field": e["extensions"].get("field")}
            for e in body["errors"]
        ]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    assert await count(sessions, ApiToken) == before


async def test_an_expired_token_is_refused_with_401_saying_so(http, make, sessions):
    rep = await make.user(Role.SDR)
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    issued = await Caller(http, await make.token(rep)).issue(["READ"], expiresAt=soon)
    expiring = Caller(http, issued["token"])

    async with sessions() as session, session.begin():
        await session.execute(
            update(ApiToken)
            .where(ApiToken.label == "crm")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    refused = await expiring.post(VIEWER)

    assert refused.status_code == 401
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in error["message"]


async def test_an_expired_cached_token_is_refused_without_a_new_lookup(app, http, make):
    rep = await make.user(Role.SDR)
    soon = (utcnow() + timedelta(seconds=2)).isoformat()
    issued = await Caller(http, await make.token(rep)).issue(["READ"], expiresAt=soon)
    expiring = Caller(http, issued["token"])
    app.state.authenticator.check_seconds = 3600
    assert (await expiring.post(VIEWER)).status_code == 200

    import asyncio

    await asyncio.sleep(2.1)
    refused = await expiring.post(VIEWER)

    assert refused.status_code == 401 and "expired" in refused.text


async def test_admins_list_every_token_and_others_their_own(http, make):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)
    other = await make.user(Role.AE)
    admin_session = Caller(http, await make.token(admin))
    rep_session = Caller(http, await make.token(rep))
    await make.token(other)

    everyone = (await admin_session(TOKENS))["data"]["apiTokens"]
    own = (await rep_session(TOKENS))["data"]["apiTokens"]
    asked_for_other = await rep_session(
        TOKENS, {"filter": {"userId": gid("User", other.id)}}
    )

    assert everyone["totalCount"] == 3
    assert own["totalCount"] == 1
    assert own["nodes"][0]["user"] == {"id": gid("User", rep.id)}
    assert asked_for_other["data"]["apiTokens"]["totalCount"] == 0


async def test_active_filter_leaves_out_revoked_tokens(http, make):
    rep = await make.user(Role.SDR)
    session = Caller(http, await make.token(rep))
    issued = await session.issue(["READ"])
    await session(REVOKE_TOKEN, {"input": {"id": issued["apiToken"]["id"]}})

    live = await session(TOKENS, {"filter": {"active": True}})
    gone = await session(TOKENS, {"filter": {"active": False}})

    assert live["data"]["apiTokens"]["totalCount"] == 1
    assert gone["data"]["apiTokens"]["nodes"] == [
        {"name": "crm", "user": {"id": gid("User", rep.id)}}
    ]


async def test_someone_elses_token_is_neither_shown_nor_revoked(http, make, sessions):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)
    theirs = await Caller(http, await make.token(admin)).issue(["READ"])
    rep_session = Caller(http, await make.token(rep))
    token_id = theirs["apiToken"]["id"]

    shown = await rep_session(
        "query($id: ID!) { node(id: $id) { id } }", {"id": token_id}
    )
    revoked = await rep_session(REVOKE_TOKEN, {"input": {"id": token_id}})

    assert shown["data"] == {"node": None}
    assert revoked["data"]["revokeApiToken"] == {
        "apiToken": None,
        "userErrors": [{"code": "FORBIDDEN", "field": None}],
    }
    async with sessions() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(ApiToken)
                .where(ApiToken.revoked_at.is_not(None))
            )
            == 0
        )


def test_no_token_type_field_carries_the_secret_or_its_hash():
    from api.schema import schema

    fields = set(schema._schema.type_map["ApiToken"].fields)  # type: ignore[union-attr]

    assert fields == {
        "id",
        "name",
        "scopes",
        "user",
        "createdAt",
        "expiresAt",
        "lastUsedAt",
        "revokedAt",
    }
