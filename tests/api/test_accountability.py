"""Accountability of users and tokens (issue 17, item 6).

Role and activity changes, token issue and revoke write events naming the
actor; the last active ADMIN stays; deactivation revokes tokens for good.
"""

from __future__ import annotations

import httpx
import pytest
from strawberry import relay

from api.app import create_app
from api.relay import encode_id
from api.users import UserNode
from domain.enums import Role
from domain.records import ApiToken, Event

UPDATE_USER = """
mutation($input: UpdateUserInput!) {
  updateUser(input: $input) {
    user { id role active version }
    userErrors { code field message }
  }
}"""
CREATE_TOKEN = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    token apiToken { id } userErrors { code field }
  }
}"""
REVOKE_TOKEN = """
mutation($input: RevokeApiTokenInput!) {
  revokeApiToken(input: $input) { apiToken { revokedAt } userErrors { code field } }
}"""
EVENTS = """
query($record: ID!) {
  events(filter: {recordId: $record}) {
    nodes { type recordType payload actor { id } }
  }
}"""


def uid(user) -> str:
    return encode_id(UserNode, user.id)


async def events_of(api, user, as_user):
    result = await api(EVENTS, {"record": uid(user)}, as_user=as_user)
    return result.ok()["events"]["nodes"]


async def test_a_role_change_writes_an_event_naming_the_actor(api, make):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)

    result = await api(
        UPDATE_USER, {"input": {"id": uid(rep), "role": "AE"}}, as_user=admin
    )

    assert result.ok()["updateUser"]["userErrors"] == []
    assert await events_of(api, rep, admin) == [
        {
            "type": "USER_ROLE_CHANGED",
            "recordType": "USER",
            "payload": {"previous_role": "SDR", "role": "AE"},
            "actor": {"id": uid(admin)},
        }
    ]


async def test_an_unchanged_role_writes_no_event(api, make):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)

    await api(UPDATE_USER, {"input": {"id": uid(rep), "role": "SDR"}}, as_user=admin)

    assert await events_of(api, rep, admin) == []


async def test_deactivation_revokes_every_token_and_writes_an_event(
    api, make, sessions
):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)
    await make.token(rep)
    await make.token(rep)

    result = await api(
        UPDATE_USER, {"input": {"id": uid(rep), "active": False}}, as_user=admin
    )

    assert result.ok()["updateUser"]["user"]["active"] is False
    from sqlalchemy import select

    async with sessions() as session:
        revoked = (
            await session.execute(
                select(ApiToken.id, ApiToken.revoked_at).where(
                    ApiToken.user_id == rep.id
                )
            )
        ).all()
    assert len(revoked) == 2 and all(at is not None for _, at in revoked)
    # The two tokens were issued from the command line: no acting user.
    assert await events_of(api, rep, admin) == [
        {
            "type": "API_TOKEN_ISSUED",
            "recordType": "USER",
            "payload": {
                "token_id": token_id,
                "label": None,
                "scopes": ["ADMIN", "READ", "WRITE"],
                "expires_at": None,
            },
            "actor": None,
        }
        for token_id, _ in sorted(revoked)
    ] + [
        {
            "type": "USER_DEACTIVATED",
            "recordType": "USER",
            "payload": {"revoked_token_ids": sorted(i for i, _ in revoked)},
            "actor": {"id": uid(admin)},
        }
    ]


@pytest.fixture
async def http(database_url):
    app = create_app(database_url)
    # Revocations are checked on every request here (the cache's bound across
    # processes is tests/api/test_token_cache.py's).
    app.state.authenticator.check_seconds = 0
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.engine.dispose()


async def test_reactivating_a_user_does_not_revive_its_old_tokens(api, make, http):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)
    token = await make.token(rep)
    viewer = {"query": "{ viewer { id } }"}
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        await http.post("/graphql", json=viewer, headers=headers)
    ).status_code == 200

    await api(UPDATE_USER, {"input": {"id": uid(rep), "active": False}}, as_user=admin)
    await api(UPDATE_USER, {"input": {"id": uid(rep), "active": True}}, as_user=admin)

    assert (
        await http.post("/graphql", json=viewer, headers=headers)
    ).status_code == 401
    kinds = [e["type"] for e in await events_of(api, rep, admin)]
    assert kinds == ["API_TOKEN_ISSUED", "USER_DEACTIVATED", "USER_ACTIVATED"]
    fresh = await make.token(rep)
    again = await http.post(
        "/graphql", json=viewer, headers={"Authorization": f"Bearer {fresh}"}
    )
    assert again.status_code == 200


async def test_issuing_and_revoking_a_token_write_events(api, make):
    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)

    issued = (
        await api(
            CREATE_TOKEN,
            {"input": {"userId": uid(rep), "name": "crm", "scopes": ["READ"]}},
            as_user=admin,
        )
    ).ok()["createApiToken"]
    token_gid = issued["apiToken"]["id"]
    token_id = int(relay.GlobalID.from_id(token_gid).node_id)
    await api(REVOKE_TOKEN, {"input": {"id": token_gid}}, as_user=admin)
    await api(REVOKE_TOKEN, {"input": {"id": token_gid}}, as_user=admin)

    assert await events_of(api, rep, admin) == [
        {
            "type": "API_TOKEN_ISSUED",
            "recordType": "USER",
            "payload": {
                "token_id": token_id,
                "label": "crm",
                "scopes": ["READ"],
                "expires_at": None,
            },
            "actor": {"id": uid(admin)},
        },
        {
            "type": "API_TOKEN_REVOKED",
            "recordType": "USER",
            "payload": {"token_id": token_id},
            "actor": {"id": uid(admin)},
        },
    ]


@pytest.mark.parametrize("change", [{"active": False}, {"role": "SALES_OPS"}])
async def test_the_last_active_admin_cannot_be_deactivated_or_demoted(
    api, make, sessions, change
):
    admin = await make.user(Role.ADMIN)
    await make.user(Role.ADMIN, active=False)
    await make.user(Role.SALES_OPS)

    result = await api(
        UPDATE_USER, {"input": {"id": uid(admin), **change}}, as_user=admin
    )

    payload = result.ok()["updateUser"]
    assert payload["user"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("LAST_ACTIVE_ADMIN", ["id"])
    ]
    viewer = (await api("{ viewer { role active version } }", as_user=admin)).ok()
    assert viewer["viewer"] == {
        "role": "ADMIN",
        "active": True,
        "version": admin.version,
    }
    assert await events_of(api, admin, admin) == []


async def test_an_admin_may_be_demoted_while_another_stays_active(api, make):
    first = await make.user(Role.ADMIN)
    second = await make.user(Role.ADMIN)

    demoted = await api(
        UPDATE_USER, {"input": {"id": uid(first), "role": "SALES_OPS"}}, as_user=second
    )
    last = await api(
        UPDATE_USER, {"input": {"id": uid(second), "active": False}}, as_user=second
    )

    assert demoted.ok()["updateUser"]["user"]["role"] == "SALES_OPS"
    assert [e["code"] for e in last.ok()["updateUser"]["userErrors"]] == [
        "LAST_ACTIVE_ADMIN"
    ]


async def test_a_refused_user_change_writes_no_event(api, make, sessions):
    from tests.conftest import row_count

    admin = await make.user(Role.ADMIN)
    rep = await make.user(Role.SDR)

    result = await api(
        UPDATE_USER, {"input": {"id": uid(admin), "role": "SDR"}}, as_user=rep
    )

    assert [e["code"] for e in result.ok()["updateUser"]["userErrors"]] == ["FORBIDDEN"]
    assert await row_count(sessions, Event) == 0


async def test_admins_deactivating_each_other_at_once_leave_one_active(
    server, make, sessions
):
    from sqlalchemy import func, select

    from domain.records import User

    admins = [await make.user(Role.ADMIN) for _ in range(8)]
    tokens = [await make.token(admin) for admin in admins]

    async def deactivate(i: int) -> httpx.Response:
        target = admins[(i + 1) % len(admins)]
        async with httpx.AsyncClient(
            base_url=server,
            headers={"Authorization": f"Bearer {tokens[i]}"},
            timeout=60,
        ) as client:
            return await client.post(
                "/graphql",
                json={
                    "query": UPDATE_USER,
                    "variables": {"input": {"id": uid(target), "active": False}},
                },
            )

    import asyncio

    responses = await asyncio.gather(*(deactivate(i) for i in range(len(admins))))

    outcomes = []
    for response in responses:
        if response.status_code == 401:  # its admin was deactivated first
            outcomes.append("UNAUTHENTICATED")
            continue
        errors = response.json()["data"]["updateUser"]["userErrors"]
        outcomes.append(errors[0]["code"] if errors else "DONE")
    assert set(outcomes) <= {"DONE", "LAST_ACTIVE_ADMIN", "UNAUTHENTICATED"}
    async with sessions() as session:
        active = await session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True))
        )
    assert active >= 1
    assert active == len(admins) - outcomes.count("DONE")
