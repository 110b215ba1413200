"""Metrics (issue 16, item 4) from `salesops serve --workers 2`: /metrics sums
both workers' samples (prometheus-client multiprocess mode)."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from domain.enums import Role
from domain.records import Event
from domain.rules.permissions import Actor
from domain.services.webhooks import create_webhook_subscription
from tests.api.ids import gid

MOVE = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status } userErrors { code } } }"""


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _writers(observed) -> set[str]:
    """The worker processes that wrote samples (one counter file each)."""
    return {
        p.stem.rsplit("_", 1)[-1] for p in observed.metrics_dir.glob("counter_*.db")
    }


async def test_metrics_add_up_every_worker_requests_transitions_refusals_and_outbox(
    observed,
    make,
    sessions,
):
    ops = await make.user(Role.SALES_OPS)
    token = await make.token(ops)
    # An ACTIVE webhook that no worker serves: every event from now on waits.
    hook = await make.run(
        lambda s: create_webhook_subscription(
            {"url": "https://hooks.example.com/in"},
            session=s,
            actor=Actor(ops.id, ops.role),
        )
    )
    leads = [await make.lead() for _ in range(3)]
    before = observed.samples()
    auth = {"Authorization": f"Bearer {token}"}
    # Rounds of 40 reads on new connections until both workers have answered
    # (the kernel, not us, picks the worker of a connection).
    reads: list[httpx.Response] = []
    for _ in range(10):
        async with httpx.AsyncClient(
            base_url=observed.base, headers=auth, timeout=60
        ) as c:
            reads += await asyncio.gather(
                *(
                    c.post("/graphql", json={"query": "{ viewer { name } }"})
                    for _ in range(40)
                )
            )
        if len(_writers(observed)) == 2:
            break
    async with httpx.AsyncClient(base_url=observed.base, headers=auth, timeout=60) as c:
        moves = await asyncio.gather(
            *(
                c.post(
                    "/graphql",
                    json={
                        "query": MOVE,
                        "variables": {
                            "input": {
                                "id": gid("Lead", lead.id),
                                "to": to,
                                "reason": "r",
                            }
                        },
                    },
                )
                for lead, to in zip(leads, ["NURTURE", "NURTURE", "RAW"], strict=True)
            )
        )
    assert all(r.status_code == 200 for r in [*reads, *moves])
    after = observed.samples()

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew(
        "salesops_graphql_requests_total",
        operation="viewer",
        type="query",
        role="SALES_OPS",
        outcome="ok",
    ) == len(reads)
    assert grew(
        "salesops_graphql_request_duration_seconds_count",
        operation="viewer",
        type="query",
    ) == len(reads)
    assert (
        grew(
            "salesops_transitions_total",
            machine="lead",
            from_state="RAW",
            to_state="NURTURE",
        )
        == 2
    )
    assert grew("salesops_refusals_total", code="INVALID_TRANSITION") == 1
    assert (
        grew(
            "salesops_graphql_requests_total",
            operation="transitionLead",
            type="mutation",
            role="SALES_OPS",
            outcome="user_errors",
        )
        == 1
    )
    assert ("salesops_db_pool_in_use", frozenset()) in after
    async with sessions() as s:
        events = await s.scalar(
            select(func.count()).where(Event.id > hook.cursor_event_id)
        )
    assert _value(after, "salesops_outbox_undelivered_events") == events > 0
    # Both workers answered: each wrote its own samples file.
    assert len(_writers(observed)) == 2
