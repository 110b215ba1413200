"""Fuzzing (issue 17, item 7): schemathesis against a served app.

Every query and mutation of ``schema.graphql`` gets generated operations
(``FUZZ_EXAMPLES`` per operation, 30 by default) sent to ``salesops serve``
as an ADMIN and as a field role (SDR). Ids and amounts come from hostile
strategies (forged global ids, ids of non-record types, NaN, 1e30, sub-cent). Any 5xx, non-JSON answer or
``INTERNAL_ERROR`` fails the run: every refusal must be a typed one.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from domain.db import make_async_engine, write_transaction
from domain.enums import Role
from domain.services.sessions import make_sessions
from domain.services.users import create_user, issue_token
from tests.api.conftest import start_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
RECORD_TYPES = ["Lead", "Account", "Contact", "Opportunity", "User", "Campaign"]
OTHER_TYPES = ["Query", "UserError", "PageInfo", "Node", "Nope", ""]


def _global_id(type_name: str, node_id: object) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


# Ids a client could forge: real types with small, huge or non-numeric ids,
# types that are not records, and plain junk.
HOSTILE_IDS = st.one_of(
    st.builds(
        _global_id,
        st.sampled_from(RECORD_TYPES + OTHER_TYPES),
        st.one_of(
            st.integers(min_value=-3, max_value=5),
            st.integers(min_value=2**31 - 2, max_value=2**70),
            st.text(max_size=5),
        ),
    ),
    st.text(max_size=12),
)
# Amounts: ordinary, sub-cent, negative, huge and non-finite.
HOSTILE_DECIMALS = st.one_of(
    st.decimals(min_value=-(10**6), max_value=10**9, places=2).map(str),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e30", "0.001", "1e-9", "abc"]),
)
# Dates and times anywhere in 1 to 9999, the edges included (offsets from
# them overflow Python's datetime).
HOSTILE_DATES = st.one_of(
    st.dates(), st.sampled_from([date.min, date.max, date(1970, 1, 1)])
)
HOSTILE_TIMES = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from([datetime.min, datetime.max]).map(lambda d: d.replace(tzinfo=UTC)),
)
schemathesis.graphql.scalar("ID", HOSTILE_IDS.map(nodes.String))
schemathesis.graphql.scalar("Date", HOSTILE_DATES.map(date.isoformat).map(nodes.String))
schemathesis.graphql.scalar(
    "DateTime", HOSTILE_TIMES.map(datetime.isoformat).map(nodes.String)
)
schemathesis.graphql.scalar("Decimal", HOSTILE_DECIMALS.map(nodes.String))
schemathesis.graphql.scalar(
    "JSON", st.sampled_from(["{}", "null", "[1]"]).map(nodes.String)
)
# An upload in a JSON request is not a file (startImport refuses it typed).
schemathesis.graphql.scalar(
    "Upload", st.sampled_from(["", "a,b\n1,2\n"]).map(nodes.String)
)
SCHEMA = schemathesis.graphql.from_path(
    Path(__file__).resolve().parents[2] / "schema.graphql"
)


async def _token(database_url: str, role: Role) -> str:
    engine = make_async_engine(database_url)
    try:
        async with make_sessions(engine)() as session, write_transaction(session):
            user = await create_user(
                {
                    "name": f"Fuzz {role}",
                    "email": f"fuzz-{uuid.uuid4().hex}@example.com",
                    "role": role,
                },
                session=session,
                actor=None,
            )
            _, token = await issue_token(user.id, session=session, actor=None)
        return token
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def served(database_url):
    """One `salesops serve` process and a requests session per role."""
    process, base = start_server(database_url)
    sessions = {}
    for role in (Role.ADMIN, Role.SDR):
        session = requests.Session()
        token = asyncio.run(_token(database_url, role))
        session.headers["Authorization"] = f"Bearer {token}"
        sessions[role] = session
    yield f"{base}/graphql", sessions
    for session in sessions.values():
        session.close()
    process.terminate()
    process.wait(15)


def check(response: requests.Response) -> None:
    """A typed answer: no 5xx, JSON, no INTERNAL_ERROR."""
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    codes = [
        (error.get("extensions") or {}).get("code")
        for error in body.get("errors") or []
    ]
    assert "INTERNAL_ERROR" not in codes, body


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SDR])
@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_generated_operations_get_typed_answers(case, served, role):
    url, sessions = served
    check(case.call(base_url=url, session=sessions[role], timeout=30))
