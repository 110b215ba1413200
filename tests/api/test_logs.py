"""Structured logs (issue 16, item 3): one JSON access line per request with the
request id, the operation, the actor, the duration, the cost and the outcome;
no token or secret ever reaches the log."""

from __future__ import annotations

import asyncio
import json

import httpx

from domain.enums import Role
from tests.api.ids import gid

MOVE = """mutation Move($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status } userErrors { code } } }"""


def _access_lines(lines: list[str], request_id: str) -> list[dict]:
    found = []
    for line in lines:
        entry = json.loads(line)  # every line is one JSON object
        if (
            entry.get("logger") == "salesops.access"
            and entry.get("request_id") == request_id
        ):
            found.append(entry)
    return found


async def test_each_request_logs_one_json_line_and_no_secret(observed, make):
    admin = await make.user(Role.ADMIN)
    token = await make.token(admin)
    lead = await make.lead()
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=observed.base, timeout=30) as client:
        ok = await client.post(
            "/graphql",
            json={"query": "query Me { viewer { name } }", "operationName": "Me"},
            headers={**auth, "X-Request-Id": "log-ok"},
        )
        refused = await client.post(
            "/graphql",
            json={
                "query": MOVE,
                "variables": {"input": {"id": gid("Lead", lead.id), "to": "RAW"}},
            },
            headers={**auth, "X-Request-Id": "log-refused"},
        )
        issued = await client.post(
            "/graphql",
            json={
                "query": "mutation($input: CreateApiTokenInput!) {"
                " createApiToken(input: $input) { token userErrors { code } } }",
                "variables": {
                    "input": {
                        "userId": gid("User", admin.id),
                        "name": "ci",
                        "scopes": ["READ"],
                    }
                },
            },
            headers={**auth, "X-Request-Id": "log-token"},
        )
        await client.post(
            "/graphql",
            json={
                "query": '{ viewer { name } } "literal-secret-42',
                "variables": {"password": "hunter2-secret-42"},
            },
            headers={**auth, "X-Request-Id": "log-broken"},
        )
        stranger = await client.post(
            "/graphql",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": "Bearer sops_not-a-real-secret-42"},
        )
    new_token = issued.json()["data"]["createApiToken"]["token"]
    assert ok.status_code == 200 and refused.status_code == 200
    assert stranger.status_code == 401
    # A worker writes its line once the response is sent.
    await asyncio.sleep(1)
    lines = observed.log_lines()

    [me] = _access_lines(lines, "log-ok")
    assert ok.headers["x-request-id"] == "log-ok"
    assert me["method"] == "POST" and me["path"] == "/graphql" and me["status"] == 200
    assert me["operation_name"] == "Me"
    assert me["operation_type"] == "query"
    assert me["operation"] == "viewer"
    assert me["actor_id"] == admin.id
    assert me["cost"] == 1
    assert me["outcome"] == "ok" and me["codes"] == []
    assert me["duration_ms"] > 0
    [move] = _access_lines(lines, "log-refused")
    assert move["operation_name"] == "Move" and move["operation_type"] == "mutation"
    assert move["outcome"] == "user_errors"
    assert move["codes"] == ["INVALID_TRANSITION"]
    [bad] = _access_lines(lines, "log-broken")
    assert bad["outcome"] == "error" and bad["codes"] == ["GRAPHQL_PARSE_FAILED"]
    [unknown] = _access_lines(lines, stranger.headers["x-request-id"])
    assert unknown["status"] == 401 and unknown["outcome"] == "refused"

    everything = "\n".join(lines)
    for secret in (
        token,
        new_token,
        "sops_not-a-real-secret-42",
        "literal-secret-42",
        "hunter2-secret-42",
    ):
        assert secret not in everything


async def test_a_status_change_logs_the_request_and_not_the_machines_chatter(
    observed, make
):
    # transitions logs two INFO lines per state change; the ledger and the
    # events already say what moved, so the log keeps the access line alone.
    admin = await make.user(Role.ADMIN)
    token = await make.token(admin)
    lead = await make.lead()
    async with httpx.AsyncClient(base_url=observed.base, timeout=30) as client:
        answer = await client.post(
            "/graphql",
            json={
                "query": "mutation($input: RecordEngagementInput!) {"
                " recordEngagement(input: $input) { lead { status } } }",
                "variables": {
                    "input": {
                        "leadId": gid("Lead", lead.id),
                        "kind": "NEWSLETTER_OPT_IN",
                    }
                },
            },
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "log-moved"},
        )
    assert answer.json()["data"]["recordEngagement"]["lead"]["status"] == "INQUIRY"
    await asyncio.sleep(1)
    lines = observed.log_lines()

    assert len(_access_lines(lines, "log-moved")) == 1
    loggers = {json.loads(line).get("logger", "") for line in lines}
    assert not {name for name in loggers if name.startswith("transitions")}
