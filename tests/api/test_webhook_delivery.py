"""Webhook delivery by `salesops worker` (issue 12 item 2), against a real
receiver: signed bodies for exactly the matching events, in order; retries with
backoff; dead letter for a target that never answers; the delivery log;
redelivery; replay."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from typing import Any

import pytest

from domain.db import is_sqlite
from domain.enums import RecordType, Role
from domain.records import Event
from domain.rules.permissions import Actor
from domain.services import bulk
from domain.services.outbox import address, emit
from domain.sqltypes import utcnow
from tests.api.conftest import SALESOPS, run_worker_once, spawn_worker
from tests.api.ids import gid
from tests.api.receiver import Receiver, running_receiver

CREATE = """
mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) {
    webhookSubscription { id } secret userErrors { code field }
  }
}"""
DELIVERIES = """
query($filter: WebhookDeliveryFilter) {
  webhookDeliveries(filter: $filter, first: 100) {
    nodes {
      status attemptCount redelivery deliveredAt event { id }
      log { attempt succeeded responseCode latencyMs error }
    }
  }
}"""
REDELIVER = """
mutation($input: RedeliverEventInput!) {
  redeliverEvent(input: $input) { userErrors { code } }
}"""
REPLAY = """
mutation($input: ReplayWebhookSubscriptionInput!) {
  replayWebhookSubscription(input: $input) { userErrors { code } }
}"""
STATUS = "LEAD_STATUS_CHANGED"
STAGE = "OPPORTUNITY_STAGE_CHANGED"
FAST = ("--backoff-base", "0.05", "--poll-interval", "0.05")


@pytest.fixture
def receiver() -> Any:
    with running_receiver() as r:
        yield r


async def subscribe(
    api: Any,
    ops: Any,
    receiver: Receiver,
    name: str,
    url: str | None = None,
    **wanted: Any,
) -> str:
    """Register a hook for ``name`` and tell the receiver its secret."""
    payload = (
        await api(
            CREATE, {"input": {"url": url or receiver.url(name), **wanted}}, as_user=ops
        )
    ).ok()["createWebhookSubscription"]
    assert payload["userErrors"] == []
    receiver.secrets[name] = payload["secret"]
    return payload["webhookSubscription"]["id"]


async def happen(make: Any, *moves: tuple[str, str, str | None, str]) -> list[int]:
    """Write events (kind, record type, from, to) as a use case would; their ids."""
    lead = await make.lead()
    rep = await make.user(Role.AE)

    async def write(s: Any) -> list[int]:
        rows = []
        for kind, record_type, from_state, to_state in moves:
            row = emit(
                s,
                kind,
                RecordType(record_type),
                lead.id,
                Actor(rep.id, rep.role),
                from_state=from_state,
                to_state=to_state,
            )
            await address(s, row, [(rep.id, "OWNER")])
            rows.append(row)
        await s.flush()
        return [r.id for r in rows]

    return await make.run(write)


async def deliveries(api: Any, ops: Any, subscription: str) -> list[dict[str, Any]]:
    return (
        await api(DELIVERIES, {"filter": {"subscriptionId": subscription}}, as_user=ops)
    ).ok()["webhookDeliveries"]["nodes"]


async def test_a_subscriber_gets_signed_bodies_of_exactly_the_events_it_asked_for_in_order(
    api, make, database_url, receiver
):
    ops = await make.user(Role.SALES_OPS)
    sao = await subscribe(
        api, ops, receiver, "sao", eventTypes=[STAGE], toStates=["DISCOVERY"]
    )
    await subscribe(api, ops, receiver, "all")
    ids = await happen(
        make,
        (STAGE, "OPPORTUNITY", "PENDING_ACCEPTANCE", "DISCOVERY"),
        (STAGE, "OPPORTUNITY", "DISCOVERY", "SCOPING"),
        (STATUS, "LEAD", "MQL", "ACCEPTED"),
        (STAGE, "OPPORTUNITY", "PENDING_ACCEPTANCE", "DISCOVERY"),
    )

    run_worker_once(database_url, *FAST)

    got = receiver.of("sao")
    assert [r.event_id for r in got] == [ids[0], ids[3]]
    assert all(r.signed for r in got)
    assert [r.event_id for r in receiver.of("all")] == ids
    first = got[0].body
    rep_id = first["actor"]
    assert first == {
        "eventId": ids[0],
        "id": gid("Event", ids[0]),
        "type": STAGE,
        "occurredAt": first["occurredAt"],
        "record": {"id": first["record"]["id"], "type": "OPPORTUNITY"},
        "from": "PENDING_ACCEPTANCE",
        "to": "DISCOVERY",
        "actor": rep_id,
        "recipients": [{"user": rep_id, "capacity": "OWNER"}],
        "payload": {"from_state": "PENDING_ACCEPTANCE", "to_state": "DISCOVERY"},
    }
    log = await deliveries(api, ops, sao)
    assert [(d["status"], d["attemptCount"], d["event"]["id"]) for d in log] == [
        ("DELIVERED", 1, gid("Event", ids[0])),
        ("DELIVERED", 1, gid("Event", ids[3])),
    ]
    attempt = log[0]["log"][0]
    assert attempt["succeeded"] is True and attempt["responseCode"] == 200
    assert attempt["latencyMs"] >= 0 and attempt["error"] is None

    # A second run finds nothing new to send.
    run_worker_once(database_url, *FAST)
    assert len(receiver.of("all", answered=None)) == 4


async def test_a_failing_target_is_retried_with_backoff_and_order_holds(
    api, make, database_url, receiver
):
    ops = await make.user(Role.SALES_OPS)
    flaky = await subscribe(api, ops, receiver, "flaky")
    receiver.fail_first["flaky"] = 3
    ids = await happen(make, *[(STATUS, "LEAD", "RAW", "INQUIRY")] * 5)

    worker = spawn_worker(database_url, *FAST)
    try:
        receiver.wait_for("flaky", 5)
    finally:
        worker.terminate()
        worker.wait(15)

    answered = [(r.event_id, r.answered) for r in receiver.of("flaky", answered=None)]
    assert answered[:4] == [(ids[0], 500)] * 3 + [(ids[0], 200)]
    assert [r.event_id for r in receiver.of("flaky")] == ids
    log = await deliveries(api, ops, flaky)
    assert [a["responseCode"] for a in log[0]["log"]] == [500, 500, 500, 200]
    assert [a["error"] for a in log[0]["log"]] == ["HTTP 500"] * 3 + [None]
    assert [d["attemptCount"] for d in log] == [4, 1, 1, 1, 1]
    assert worker.returncode == 0  # SIGTERM: it finished its round and stopped


async def test_a_target_that_never_answers_is_dead_lettered_and_the_rest_goes_on(
    api, make, database_url, receiver
):
    ops = await make.user(Role.SALES_OPS)
    silent = await subscribe(
        api, ops, receiver, "silent", url=f"{receiver.base}/silent"
    )
    await subscribe(api, ops, receiver, "fine")
    (event_id,) = await happen(make, (STATUS, "LEAD", "RAW", "INQUIRY"))

    worker = spawn_worker(
        database_url, *FAST, "--timeout", "0.2", "--max-attempts", "3"
    )
    try:
        receiver.wait_for("fine", 1)
        for _ in range(300):
            log = await deliveries(api, ops, silent)
            if log and log[0]["status"] == "DEAD_LETTERED":
                break
            await asyncio.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(15)

    assert [(d["status"], d["attemptCount"]) for d in log] == [("DEAD_LETTERED", 3)]
    assert [(a["attempt"], a["responseCode"], a["error"]) for a in log[0]["log"]] == [
        (1, None, "timeout"),
        (2, None, "timeout"),
        (3, None, "timeout"),
    ]
    dead = (
        await api(DELIVERIES, {"filter": {"status": ["DEAD_LETTERED"]}}, as_user=ops)
    ).ok()["webhookDeliveries"]["nodes"]
    assert [d["event"]["id"] for d in dead] == [gid("Event", event_id)]


async def test_redelivery_and_replay_send_events_again(
    api, make, database_url, receiver
):
    ops = await make.user(Role.SALES_OPS)
    hook = await subscribe(api, ops, receiver, "again", eventTypes=[STATUS])
    ids = await happen(make, *[(STATUS, "LEAD", "RAW", "INQUIRY")] * 3)
    run_worker_once(database_url, *FAST)

    redo = (
        await api(
            REDELIVER,
            {"input": {"subscriptionId": hook, "eventId": gid("Event", ids[1])}},
            as_user=ops,
        )
    ).ok()["redeliverEvent"]
    run_worker_once(database_url, *FAST)
    since = (utcnow() - timedelta(minutes=5)).isoformat()
    replay = (
        await api(REPLAY, {"input": {"id": hook, "since": since}}, as_user=ops)
    ).ok()
    run_worker_once(database_url, *FAST)

    assert (
        redo["userErrors"] == []
        and replay["replayWebhookSubscription"]["userErrors"] == []
    )
    assert [r.event_id for r in receiver.of("again")] == [*ids, ids[1], *ids]
    log = await deliveries(api, ops, hook)
    assert [d["redelivery"] for d in log] == [False] * 3 + [True] + [False] * 3


async def test_a_paused_subscription_gets_nothing_until_it_resumes(
    api, make, database_url, receiver
):
    ops = await make.user(Role.SALES_OPS)
    hook = await subscribe(api, ops, receiver, "paused", status="PAUSED")
    ids = await happen(make, (STATUS, "LEAD", "RAW", "INQUIRY"))

    run_worker_once(database_url, *FAST)
    nothing = list(receiver.of("paused", answered=None))
    update = "mutation($input: UpdateWebhookSubscriptionInput!) { updateWebhookSubscription(input: $input) { userErrors { code } } }"
    (await api(update, {"input": {"id": hook, "status": "ACTIVE"}}, as_user=ops)).ok()
    run_worker_once(database_url, *FAST)

    assert nothing == []
    assert [r.event_id for r in receiver.of("paused")] == ids


def test_the_worker_command_refuses_bad_options(database_url):
    done = subprocess.run(
        [SALESOPS, "worker", "--max-attempts", "0"],
        capture_output=True,
        text=True,
        env={"DATABASE_URL": database_url},
        timeout=60,
    )

    short_lease = subprocess.run(
        [SALESOPS, "worker", "--timeout", "20", "--lease-seconds", "30"],
        capture_output=True,
        text=True,
        env={"DATABASE_URL": database_url},
        timeout=60,
    )

    assert done.returncode == 2
    assert "--max-attempts" in done.stderr
    assert short_lease.returncode == 1
    assert short_lease.stderr.strip().splitlines() == [
        "salesops: --lease-seconds (30) must exceed twice --timeout (20): a slow "
        "target would outlive the lease"
    ]


async def test_an_event_still_being_written_is_never_skipped(
    api, make, database_url, receiver, sessions
):
    # PostgreSQL draws ids before commit: 1 may commit after 2. The worker must
    # not move past 1 while its transaction is open.
    if is_sqlite(database_url):
        pytest.skip("SQLite has one writer at a time: ids commit in order")
    ops = await make.user(Role.SALES_OPS)
    await subscribe(api, ops, receiver, "order")
    lead = await make.lead()
    slow = sessions()
    await slow.begin()
    first = emit(slow, STATUS, RecordType.LEAD, lead.id, None, to_state="INQUIRY")
    await slow.flush()
    later = await happen(make, (STATUS, "LEAD", "RAW", "INQUIRY"))
    try:
        run_worker_once(database_url, *FAST)
        while_open = [r.event_id for r in receiver.of("order", answered=None)]
        await slow.commit()
    finally:
        await slow.close()
    run_worker_once(database_url, *FAST)

    assert first.id < later[0]
    assert while_open == []
    assert [r.event_id for r in receiver.of("order")] == [first.id, *later]


async def test_events_whose_ids_are_drawn_before_their_rows_are_never_skipped(
    api, make, database_url, receiver, sessions, monkeypatch
):
    # A bulk write on PostgreSQL draws its events' ids from the sequence, then
    # writes the rows by COPY (``bulk.insert_with_ids``). Between the two, a
    # later event commits and the worker runs: it must not move past the drawn
    # ids (it did while the draw took no write lock on ``events``: they were
    # never delivered).
    if is_sqlite(database_url):
        pytest.skip("SQLite has one writer at a time: ids commit in order")
    ops = await make.user(Role.SALES_OPS)
    rep = await make.user(Role.AE)
    await subscribe(api, ops, receiver, "drawn")
    lead = await make.lead()
    monkeypatch.setattr(bulk, "COPY_FROM", 2)
    copy_rows = bulk.copy_rows
    meanwhile: dict[str, list[int]] = {}

    async def copy_after_the_worker_ran(session: Any, table: Any, rows: Any) -> None:
        if table is Event.__table__ and not meanwhile:
            meanwhile["later"] = await happen(make, (STATUS, "LEAD", "RAW", "INQUIRY"))
            run_worker_once(database_url, *FAST)
            meanwhile["delivered"] = [r.event_id for r in receiver.of("drawn")]
        await copy_rows(session, table, rows)

    monkeypatch.setattr(bulk, "copy_rows", copy_after_the_worker_ran)
    async with sessions() as slow, slow.begin():
        bulk.write_in_bulk(slow)
        drawn = []
        for _ in range(3):
            row = emit(slow, STATUS, RecordType.LEAD, lead.id, None, to_state="MQL")
            await address(slow, row, [(rep.id, "OWNER")])
            drawn.append(row)
        await bulk.flush_bulk(slow)
    run_worker_once(database_url, *FAST)

    ids = [row.id for row in drawn]
    assert ids == sorted(ids) and ids[-1] < meanwhile["later"][0]
    assert meanwhile["delivered"] == []
    assert [r.event_id for r in receiver.of("drawn")] == [*ids, *meanwhile["later"]]
