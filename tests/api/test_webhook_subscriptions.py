"""Webhook subscriptions through the API (issue 12 item 1): create (secret shown
once), update, pause/disable, delete, replay, redeliver; SALES_OPS/ADMIN only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from domain.enums import RecordType, Role
from domain.records import Event, WebhookDelivery, WebhookSubscription
from domain.services.outbox import emit
from domain.sqltypes import utcnow
from tests.api.ids import gid, raw_id

FIELDS = "id url description status eventTypes recordTypes fromStates toStates lastEventId version createdBy { id }"
CREATE = f"""
mutation($input: CreateWebhookSubscriptionInput!) {{
  createWebhookSubscription(input: $input) {{
    webhookSubscription {{ {FIELDS} }} secret userErrors {{ code field message }}
  }}
}}"""
UPDATE = f"""
mutation($input: UpdateWebhookSubscriptionInput!) {{
  updateWebhookSubscription(input: $input) {{
    webhookSubscription {{ {FIELDS} }} secret userErrors {{ code field }}
  }}
}}"""
DELETE = """
mutation($input: DeleteWebhookSubscriptionInput!) {
  deleteWebhookSubscription(input: $input) { deletedId userErrors { code field } }
}"""
REPLAY = """
mutation($input: ReplayWebhookSubscriptionInput!) {
  replayWebhookSubscription(input: $input) { webhookSubscription { lastEventId } userErrors { code field } }
}"""
REDELIVER = """
mutation($input: RedeliverEventInput!) {
  redeliverEvent(input: $input) {
    delivery { id status attemptCount redelivery event { id } subscription { id } log { attempt } }
    userErrors { code field }
  }
}"""
LIST = f"{{ webhookSubscriptions {{ totalCount nodes {{ {FIELDS} }} }} }}"
DELIVERIES = """
query($filter: WebhookDeliveryFilter) {
  webhookDeliveries(filter: $filter) { nodes { id status event { id } } }
}"""
INTO_DISCOVERY = {
    "url": "https://hooks.example.com/in",
    "description": "SAOs to the data warehouse",
    "eventTypes": ["OPPORTUNITY_STAGE_CHANGED"],
    "recordTypes": ["OPPORTUNITY"],
    "toStates": ["DISCOVERY"],
}


async def count(sessions: Any, model: type) -> int:
    async with sessions() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def events(make: Any, n: int, *, at: Any = None) -> list[int]:
    lead = await make.lead()

    async def write(s: Any) -> list[int]:
        rows = [emit(s, "TEST_EVENT", RecordType.LEAD, lead.id, None) for _ in range(n)]
        for row in rows:
            if at is not None:
                row.occurred_at = at
        await s.flush()
        return [r.id for r in rows]

    return await make.run(write)


async def test_sales_ops_registers_a_webhook_and_sees_its_secret_once(api, make):
    ops = await make.user(Role.SALES_OPS)
    await events(make, 3)

    result = (await api(CREATE, {"input": INTO_DISCOVERY}, as_user=ops)).ok()
    payload = result["createWebhookSubscription"]

    sub = payload["webhookSubscription"]
    assert payload["userErrors"] == []
    assert payload["secret"].startswith("whsec_") and len(payload["secret"]) > 40
    assert sub == {
        "id": sub["id"],
        "url": "https://hooks.example.com/in",
        "description": "SAOs to the data warehouse",
        "status": "ACTIVE",
        "eventTypes": ["OPPORTUNITY_STAGE_CHANGED"],
        "recordTypes": ["OPPORTUNITY"],
        "fromStates": [],
        "toStates": ["DISCOVERY"],
        # told of events from now on: after the newest one
        "lastEventId": await count(make.sessions, Event),
        "version": 1,
        "createdBy": {"id": gid("User", ops.id)},
    }
    listed = (await api(LIST, as_user=ops)).ok()["webhookSubscriptions"]
    assert listed["totalCount"] == 1 and listed["nodes"] == [sub]
    assert "secret" not in str((await api(LIST, as_user=ops)).data)


async def test_a_bad_url_or_filter_is_refused_with_every_reason_and_nothing_written(
    api, make
):
    admin = await make.user(Role.ADMIN)
    bad = {
        "url": "http://hooks.example.com/in",
        "eventTypes": ["lead status changed"],
        "toStates": ["NOWHERE"],
    }

    payload = (await api(CREATE, {"input": bad}, as_user=admin)).ok()[
        "createWebhookSubscription"
    ]

    assert payload["webhookSubscription"] is None and payload["secret"] is None
    assert sorted((e["code"], e["field"][0]) for e in payload["userErrors"]) == [
        ("INVALID_INPUT", "eventTypes"),
        ("INVALID_INPUT", "toStates"),
        ("INVALID_INPUT", "url"),
    ]
    assert await count(make.sessions, WebhookSubscription) == 0


async def test_http_is_allowed_on_loopback_only(api, make):
    ops = await make.user(Role.SALES_OPS)

    loopback = (
        await api(CREATE, {"input": {"url": "http://127.0.0.1:9/in"}}, as_user=ops)
    ).ok()["createWebhookSubscription"]

    assert loopback["userErrors"] == []
    assert loopback["webhookSubscription"]["eventTypes"] == []


async def test_only_sales_ops_and_admin_manage_or_read_webhooks(api, make):
    ops = await make.user(Role.SALES_OPS)
    sub = (await api(CREATE, {"input": INTO_DISCOVERY}, as_user=ops)).ok()[
        "createWebhookSubscription"
    ]["webhookSubscription"]

    for role in (Role.AE, Role.MARKETING_OPS, Role.SALES_ADMIN):
        user = await make.user(role)
        created = (await api(CREATE, {"input": INTO_DISCOVERY}, as_user=user)).ok()
        assert [
            e["code"] for e in created["createWebhookSubscription"]["userErrors"]
        ] == ["FORBIDDEN"]
        listed = await api(LIST, as_user=user)
        assert [e["code"] for e in listed.errors] == ["FORBIDDEN"]
        node = (
            await api(
                "query($id: ID!) { node(id: $id) { id } }",
                {"id": sub["id"]},
                as_user=user,
            )
        ).ok()
        assert node["node"] is None
    assert await count(make.sessions, WebhookSubscription) == 1


async def test_updating_changes_the_filter_and_rotates_the_secret_on_request(api, make):
    ops = await make.user(Role.SALES_OPS)
    created = (await api(CREATE, {"input": INTO_DISCOVERY}, as_user=ops)).ok()[
        "createWebhookSubscription"
    ]
    sub_id = created["webhookSubscription"]["id"]

    changed = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": sub_id,
                    "expectedVersion": 1,
                    "toStates": ["SCOPING"],
                    "rotateSecret": True,
                }
            },
            as_user=ops,
        )
    ).ok()["updateWebhookSubscription"]
    stale = (
        await api(
            UPDATE,
            {"input": {"id": sub_id, "expectedVersion": 1, "status": "PAUSED"}},
            as_user=ops,
        )
    ).ok()["updateWebhookSubscription"]
    plain = (
        await api(UPDATE, {"input": {"id": sub_id, "status": "PAUSED"}}, as_user=ops)
    ).ok()["updateWebhookSubscription"]

    assert changed["userErrors"] == []
    assert changed["webhookSubscription"]["toStates"] == ["SCOPING"]
    assert changed["webhookSubscription"]["eventTypes"] == ["OPPORTUNITY_STAGE_CHANGED"]
    assert changed["webhookSubscription"]["version"] == 2
    assert (
        changed["secret"].startswith("whsec_")
        and changed["secret"] != created["secret"]
    )
    assert [e["code"] for e in stale["userErrors"]] == ["STALE_VERSION"]
    assert plain["secret"] is None
    assert plain["webhookSubscription"]["status"] == "PAUSED"
    assert plain["webhookSubscription"]["version"] == 3


async def test_enabling_a_disabled_webhook_starts_after_the_newest_event_pausing_keeps_its_place(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    subs = []
    for status in ("PAUSED", "DISABLED"):
        payload = (
            await api(
                CREATE, {"input": {**INTO_DISCOVERY, "status": status}}, as_user=ops
            )
        ).ok()["createWebhookSubscription"]
        subs.append(payload["webhookSubscription"])
    newest = (await events(make, 4))[-1]

    resumed = [
        (
            await api(
                UPDATE, {"input": {"id": s["id"], "status": "ACTIVE"}}, as_user=ops
            )
        ).ok()["updateWebhookSubscription"]["webhookSubscription"]["lastEventId"]
        for s in subs
    ]

    assert resumed == [subs[0]["lastEventId"], newest]


async def test_replay_moves_a_webhook_back_to_the_first_event_since_never_forward(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    old = await events(make, 2, at=utcnow() - timedelta(days=2))
    recent = await events(make, 2, at=utcnow() - timedelta(hours=1))
    sub = (await api(CREATE, {"input": INTO_DISCOVERY}, as_user=ops)).ok()[
        "createWebhookSubscription"
    ]["webhookSubscription"]

    def replay(since: Any) -> Any:
        return api(
            REPLAY,
            {"input": {"id": sub["id"], "since": since.isoformat()}},
            as_user=ops,
        )

    back = (await replay(utcnow() - timedelta(days=1))).ok()[
        "replayWebhookSubscription"
    ]
    future = (await replay(utcnow() + timedelta(days=1))).ok()[
        "replayWebhookSubscription"
    ]
    further = (await replay(utcnow() - timedelta(days=3))).ok()[
        "replayWebhookSubscription"
    ]

    assert sub["lastEventId"] == recent[-1]
    assert back["webhookSubscription"]["lastEventId"] == recent[0] - 1
    assert future["webhookSubscription"]["lastEventId"] == recent[0] - 1
    assert further["webhookSubscription"]["lastEventId"] == old[0] - 1


async def test_redeliver_queues_one_event_and_delete_removes_the_log(api, make):
    ops = await make.user(Role.SALES_OPS)
    (event_id,) = await events(make, 1)
    sub = (await api(CREATE, {"input": INTO_DISCOVERY}, as_user=ops)).ok()[
        "createWebhookSubscription"
    ]["webhookSubscription"]

    queued = (
        await api(
            REDELIVER,
            {"input": {"subscriptionId": sub["id"], "eventId": gid("Event", event_id)}},
            as_user=ops,
        )
    ).ok()["redeliverEvent"]
    missing = (
        await api(
            REDELIVER,
            {"input": {"subscriptionId": sub["id"], "eventId": gid("Event", 9999)}},
            as_user=ops,
        )
    ).ok()["redeliverEvent"]
    listed = (
        await api(
            DELIVERIES,
            {"filter": {"subscriptionId": sub["id"], "status": ["PENDING"]}},
            as_user=ops,
        )
    ).ok()["webhookDeliveries"]["nodes"]
    deleted = (await api(DELETE, {"input": {"id": sub["id"]}}, as_user=ops)).ok()[
        "deleteWebhookSubscription"
    ]
    again = (await api(DELETE, {"input": {"id": sub["id"]}}, as_user=ops)).ok()[
        "deleteWebhookSubscription"
    ]

    delivery = queued["delivery"]
    assert queued["userErrors"] == []
    assert delivery["status"] == "PENDING" and delivery["attemptCount"] == 0
    assert delivery["redelivery"] is True and delivery["log"] == []
    assert delivery["event"] == {"id": gid("Event", event_id)}
    assert delivery["subscription"] == {"id": sub["id"]}
    assert [(e["code"], e["field"]) for e in missing["userErrors"]] == [
        ("NOT_FOUND", ["eventId"])
    ]
    assert [raw_id(d["id"]) for d in listed] == [raw_id(delivery["id"])]
    assert deleted == {"deletedId": sub["id"], "userErrors": []}
    assert [e["code"] for e in again["userErrors"]] == ["NOT_FOUND"]
    assert await count(make.sessions, WebhookSubscription) == 0
    assert await count(make.sessions, WebhookDelivery) == 0
