"""Time moves records (issue 14 item 4): the timeouts table through the API,
Lead.timeoutAt / Opportunity.staleSince, and the scheduler's tick with an
injected clock — an untouched ACCEPTED lead goes back to the pool by itself,
a breached SLA is escalated once, a quiet deal is flagged stale."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.enums import (
    ActivityChannel,
    LeadStatus,
    OpportunityStage,
    RecordType,
    Role,
)
from domain.lifecycle.lead import LeadTransitionRequest
from domain.records import (
    Event,
    EventRecipient,
    Lead,
    Opportunity,
    TransitionRecord,
)
from domain.rules.business_days import sla_due_at
from domain.rules.permissions import Actor
from domain.rules.timeouts import SEEDED_TIMEOUTS, TIMEOUT_REASON
from domain.services import timeouts
from domain.services.activities import log_activity
from domain.services.lead_lifecycle import transition_lead
from domain.sqltypes import as_utc, utcnow
from tests.api.conftest import SALESOPS, run_worker_once
from tests.api.ids import gid
from tests.api.test_routing import pool

TABLE = """
query($version: Int) {
  timeouts(version: $version) {
    version acceptedLeadBusinessDays acceptedLeadAction escalateSlaBreaches
    staleAfterDays { stage days } note changedBy { id }
  }
}"""
HISTORY = "{ timeoutsHistory { version note } }"
UPDATE = """
mutation($input: UpdateTimeoutsInput!) {
  updateTimeouts(input: $input) {
    timeouts { version acceptedLeadBusinessDays acceptedLeadAction }
    userErrors { code field message }
  }
}"""
LEAD = """
query($id: ID!) {
  lead(id: $id) {
    status timeoutAt slaEscalatedAt owner { id }
    history { from to reason note actor { id } }
    availableTransitions { to allowed blockedBy { code field } }
  }
}"""
LEADS = """
query($before: DateTime!) {
  leads(first: 50, filter: { timeoutBefore: $before }) { nodes { id } }
}"""
DEALS = """
query($stale: Boolean) {
  opportunities(first: 50, filter: { stale: $stale }) { nodes { id staleSince } }
}"""
PREVIEW = """
query($at: DateTime) {
  timeoutPreview(at: $at) {
    outcomes { kind recordId dueAt from to previousOwner { id } owner { id } }
    wouldEmit { type recordId recipients { capacity user { id } } }
  }
}"""
MOVE = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { userErrors { code field } }
}"""

WEEK = timedelta(days=7)


def seeded_input(**changes: Any) -> dict[str, Any]:
    """The seeded table as updateTimeouts takes it, with ``changes``."""
    values: dict[str, Any] = {
        "expectedVersion": 1,
        "acceptedLeadBusinessDays": SEEDED_TIMEOUTS.accepted_lead_business_days,
        "acceptedLeadAction": SEEDED_TIMEOUTS.accepted_lead_action.value,
        "escalateSlaBreaches": SEEDED_TIMEOUTS.escalate_sla_breaches,
        "staleAfterDays": [
            {"stage": stage.value, "days": days}
            for stage, days in SEEDED_TIMEOUTS.stale_after_days.items()
        ],
    }
    values.update(changes)
    return values


async def accepted_lead(
    make: Any, rep: Any, at: datetime, *, score: int = 95, **values: Any
) -> Lead:
    """An EMEA lead of ``rep``, MQL with ``score``, accepted by ``rep`` at ``at``."""
    lead = await make.lead(owner_id=rep.id, country="Germany", **values)

    async def prepare(s: Any) -> None:
        row = await s.get(Lead, lead.id)
        row.status, row.person_score = LeadStatus.MQL, score

    await make.run(prepare)
    return await make.run(
        lambda s: transition_lead(
            lead.id,
            LeadTransitionRequest(to=LeadStatus.ACCEPTED),
            session=s,
            actor=Actor(rep.id, rep.role),
            now=at,
        )
    )


async def log_call(make: Any, rep: Any, at: datetime, **target: int) -> None:
    """A completed call of ``rep`` on the target, completed at ``at``."""
    await make.run(
        lambda s: log_activity(
            {
                "kind": "TASK",
                "channel": ActivityChannel.CALL,
                "subject": "Called",
                "completed_at": at,
                **target,
            },
            session=s,
            actor=Actor(rep.id, rep.role),
        )
    )


async def tick(sessions: Any, now: datetime, **options: Any) -> timeouts.TickReport:
    async with sessions() as session:
        return await timeouts.tick(session, now=now, **options)


async def events_of(
    sessions: Any, kind: str
) -> list[tuple[int, list[tuple[int, str]]]]:
    """(record id, [(user, capacity)]) of every event of ``kind``, in order."""
    async with sessions() as session:
        events = (
            await session.execute(
                select(Event).where(Event.kind == kind).order_by(Event.id)
            )
        ).scalars()
        found = []
        for event in events:
            recipients = (
                await session.execute(
                    select(EventRecipient.user_id, EventRecipient.capacity)
                    .where(EventRecipient.event_id == event.id)
                    .order_by(EventRecipient.id)
                )
            ).all()
            found.append((event.record_id, [tuple(r) for r in recipients]))
        return found


# --- the table ------------------------------------------------------------------


async def test_the_seeded_table_is_in_force_with_its_history(api, make):
    ops = await make.user(Role.SALES_OPS)
    table = (await api(TABLE, as_user=ops)).ok()["timeouts"]
    assert table == {
        "version": 1,
        "acceptedLeadBusinessDays": 5,
        "acceptedLeadAction": "ROUTING_POOL",
        "escalateSlaBreaches": True,
        "staleAfterDays": [
            {"stage": s.value, "days": d}
            for s, d in SEEDED_TIMEOUTS.stale_after_days.items()
        ],
        "note": None,
        "changedBy": None,
    }
    assert (await api(HISTORY, as_user=ops)).ok()["timeoutsHistory"] == [
        {"version": 1, "note": None}
    ]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        (
            {"acceptedLeadBusinessDays": 0},
            ["acceptedLeadBusinessDays"],
            "INVALID_INPUT",
        ),
        (
            {"staleAfterDays": [{"stage": "CLOSED_WON", "days": 3}]},
            ["staleAfterDays", "0"],
            "INVALID_INPUT",
        ),
        (
            {"staleAfterDays": [{"stage": "DISCOVERY", "days": 0}]},
            ["staleAfterDays", "0"],
            "INVALID_INPUT",
        ),
        (
            {
                "staleAfterDays": [
                    {"stage": "DISCOVERY", "days": 3},
                    {"stage": "DISCOVERY", "days": 4},
                ]
            },
            ["staleAfterDays"],
            "INVALID_INPUT",
        ),
        ({"expectedVersion": 7}, ["expectedVersion"], "STALE_VERSION"),
    ],
    ids=["zero-days", "closed-stage", "zero-stale-days", "stage-twice", "stale"],
)
async def test_an_invalid_edit_is_refused_naming_the_entry_and_changes_nothing(
    api, make, changes, field, code
):
    ops = await make.user(Role.SALES_OPS)
    data = (await api(UPDATE, {"input": seeded_input(**changes)}, as_user=ops)).ok()
    errors = data["updateTimeouts"]["userErrors"]
    assert data["updateTimeouts"]["timeouts"] is None
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    assert (await api(HISTORY, as_user=ops)).ok()["timeoutsHistory"] == [
        {"version": 1, "note": None}
    ]


async def test_only_sales_ops_and_admins_edit_or_preview_the_timeouts(api, make):
    rep = await make.user(Role.BDR)
    data = (await api(UPDATE, {"input": seeded_input()}, as_user=rep)).ok()
    assert [e["code"] for e in data["updateTimeouts"]["userErrors"]] == ["FORBIDDEN"]
    result = await api(PREVIEW, as_user=rep)
    assert [e["code"] for e in result.errors] == ["FORBIDDEN"]


async def test_an_edit_restamps_every_accepted_leads_timeout(api, make, sessions):
    rep, ops = await make.user(Role.BDR), await make.user(Role.SALES_OPS)
    accepted = utcnow() - timedelta(days=1)
    lead = await accepted_lead(make, rep, accepted)
    assert as_utc(lead.timeout_at) == sla_due_at(accepted, 5)

    data = (
        await api(
            UPDATE,
            {"input": seeded_input(acceptedLeadBusinessDays=2, note="Faster")},
            as_user=ops,
        )
    ).ok()["updateTimeouts"]
    assert data == {
        "timeouts": {
            "version": 2,
            "acceptedLeadBusinessDays": 2,
            "acceptedLeadAction": "ROUTING_POOL",
        },
        "userErrors": [],
    }
    async with sessions() as session:
        row = await session.get(Lead, lead.id)
    assert as_utc(row.timeout_at) == sla_due_at(accepted, 2)
    assert row.version == lead.version + 1

    off = seeded_input(expectedVersion=2, acceptedLeadBusinessDays=None)
    assert (await api(UPDATE, {"input": off}, as_user=ops)).ok()["updateTimeouts"][
        "userErrors"
    ] == []
    async with sessions() as session:
        assert (await session.get(Lead, lead.id)).timeout_at is None


# --- accepted leads nobody works --------------------------------------------------


async def test_accepting_starts_the_clock_and_a_completed_activity_restarts_it(
    api, make
):
    rep = await make.user(Role.BDR)
    accepted = utcnow() - timedelta(days=3)
    lead = await accepted_lead(make, rep, accepted)
    lid = gid("Lead", lead.id)
    first = (await api(LEAD, {"id": lid}, as_user=rep)).ok()["lead"]["timeoutAt"]
    assert datetime.fromisoformat(first) == sla_due_at(accepted, 5)
    soon = sla_due_at(accepted, 5) + timedelta(minutes=1)
    listed = (await api(LEADS, {"before": soon.isoformat()}, as_user=rep)).ok()
    assert listed["leads"]["nodes"] == [{"id": lid}]

    called = utcnow() - timedelta(hours=1)
    await log_call(make, rep, called, lead_id=lead.id)
    # An activity completed tomorrow has not happened: it restarts nothing.
    await log_call(make, rep, utcnow() + timedelta(days=1), lead_id=lead.id)

    later = (await api(LEAD, {"id": lid}, as_user=rep)).ok()["lead"]["timeoutAt"]
    assert datetime.fromisoformat(later) == sla_due_at(called, 5)
    listed = (await api(LEADS, {"before": soon.isoformat()}, as_user=rep)).ok()
    assert listed["leads"]["nodes"] == []


async def test_an_untouched_accepted_lead_goes_back_to_the_pool_by_itself(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    rep, other = await make.user(Role.BDR), await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [rep, other])
    accepted = datetime(2026, 3, 2, 9, 0, tzinfo=as_utc(utcnow()).tzinfo)  # Monday
    lead = await accepted_lead(make, rep, accepted)
    due = datetime(2026, 3, 9, 9, 0, tzinfo=accepted.tzinfo)  # five weekdays on

    assert (await tick(sessions, due - timedelta(minutes=1))).applied == []
    report = await tick(sessions, due + timedelta(minutes=1))

    assert [(a.kind, a.record_id, a.due_at) for a in report.applied] == [
        (timeouts.TimeoutKind.LEAD_TIMEOUT, lead.id, due)
    ]
    seen = (await api(LEAD, {"id": gid("Lead", lead.id)}, as_user=ops)).ok()["lead"]
    assert seen["status"] == "MQL" and seen["timeoutAt"] is None
    # The pool's first turn would be the rep's: the rep who let it is passed over.
    assert seen["owner"] == {"id": gid("User", other.id)}
    assert seen["history"][-1] == {
        "from": "ACCEPTED",
        "to": "MQL",
        "reason": TIMEOUT_REASON,
        "note": "No completed activity for 5 business days, due 2026-03-09 "
        "09:00 UTC (timeouts v1).",
        "actor": None,
    }
    assert await events_of(sessions, timeouts.TIMED_OUT_EVENT) == [
        (lead.id, [(rep.id, "PREVIOUS_OWNER"), (other.id, "NEW_OWNER")])
    ]
    assert len(await events_of(sessions, "LEAD_ROUTED")) == 1

    # Idempotent: the next tick finds nothing due.
    assert (await tick(sessions, due + timedelta(hours=1))).applied == []


async def test_below_the_mql_threshold_it_goes_back_as_an_inquiry_and_unowned(
    make, sessions
):
    rep = await make.user(Role.BDR)
    accepted = utcnow() - 2 * WEEK
    lead = await accepted_lead(make, rep, accepted, score=20)

    await tick(sessions, utcnow())

    async with sessions() as session:
        row = await session.get(Lead, lead.id)
    # Below 50 routing keeps it in marketing nurture: nobody owns it (D8 rule 7).
    assert (row.status, row.owner_id, row.timeout_at) == (
        LeadStatus.INQUIRY,
        None,
        None,
    )


async def test_with_the_nurture_action_it_goes_to_nurture_and_keeps_its_owner(
    api, make, sessions
):
    rep, ops = await make.user(Role.BDR), await make.user(Role.SALES_OPS)
    edit = seeded_input(acceptedLeadAction="NURTURE")
    assert (await api(UPDATE, {"input": edit}, as_user=ops)).ok()["updateTimeouts"][
        "userErrors"
    ] == []
    lead = await accepted_lead(make, rep, utcnow() - 2 * WEEK)

    await tick(sessions, utcnow())

    seen = (await api(LEAD, {"id": gid("Lead", lead.id)}, as_user=ops)).ok()["lead"]
    assert (seen["status"], seen["owner"]) == ("NURTURE", {"id": gid("User", rep.id)})
    assert seen["history"][-1]["reason"] == TIMEOUT_REASON


async def test_a_rep_cannot_send_the_lead_back_and_the_api_says_why(api, make):
    rep = await make.user(Role.BDR)
    lead = await accepted_lead(make, rep, utcnow() - 2 * WEEK)
    lid = gid("Lead", lead.id)

    refused = (await api(MOVE, {"input": {"id": lid, "to": "MQL"}}, as_user=rep)).ok()[
        "transitionLead"
    ]["userErrors"]
    options = (await api(LEAD, {"id": lid}, as_user=rep)).ok()["lead"][
        "availableTransitions"
    ]

    assert refused == [{"code": "NOT_TIMED_OUT", "field": ["timeoutAt"]}]
    back = [o for o in options if o["to"] in ("INQUIRY", "MQL")]
    assert back == [
        {
            "to": to,
            "allowed": False,
            "blockedBy": [{"code": "NOT_TIMED_OUT", "field": ["timeoutAt"]}],
        }
        for to in ("INQUIRY", "MQL")
    ]


async def test_a_preview_shows_the_next_tick_and_writes_nothing(api, make, sessions):
    ops = await make.user(Role.SALES_OPS)
    rep, other = await make.user(Role.BDR), await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [rep, other])
    lead = await accepted_lead(make, rep, utcnow() - 2 * WEEK)
    async with sessions() as session:
        events_before = await session.scalar(select(func.count()).select_from(Event))

    early = (utcnow() - 2 * WEEK).isoformat()
    assert (await api(PREVIEW, {"at": early}, as_user=ops)).ok()["timeoutPreview"] == {
        "outcomes": [],
        "wouldEmit": [],
    }
    preview = (await api(PREVIEW, as_user=ops)).ok()["timeoutPreview"]

    [outcome] = preview["outcomes"]
    assert outcome["kind"] == "LEAD_TIMEOUT"
    assert (outcome["recordId"], outcome["from"], outcome["to"]) == (
        gid("Lead", lead.id),
        "ACCEPTED",
        "MQL",
    )
    assert outcome["previousOwner"] == {"id": gid("User", rep.id)}
    assert outcome["owner"] == {"id": gid("User", other.id)}
    assert [e["type"] for e in preview["wouldEmit"]] == [
        "LEAD_STATUS_CHANGED",
        "LEAD_ROUTED",
        timeouts.TIMED_OUT_EVENT,
    ]
    async with sessions() as session:
        row = await session.get(Lead, lead.id)
        assert row.status is LeadStatus.ACCEPTED and row.owner_id == rep.id
        assert await session.scalar(select(func.count()).select_from(Event)) == (
            events_before
        )


# --- breached SLAs ------------------------------------------------------------------


async def breached_lead(make: Any, owner: Any, due: datetime) -> Lead:
    lead = await make.lead(owner_id=owner.id)

    async def breach(s: Any) -> None:
        row = await s.get(Lead, lead.id)
        row.sla_started_at, row.sla_due_at = due - timedelta(days=1), due

    await make.run(breach)
    return lead


async def test_a_breached_sla_is_escalated_once_to_the_owner_and_the_manager(
    api, make, sessions
):
    rep, ops = await make.user(Role.BDR), await make.user(Role.SALES_OPS)
    due = utcnow() - timedelta(hours=2)
    lead = await breached_lead(make, rep, due)
    met = await breached_lead(make, rep, due)

    async def follow_up(s: Any) -> None:
        (await s.get(Lead, met.id)).sla_met_at = due - timedelta(hours=1)

    await make.run(follow_up)

    report = await tick(sessions, utcnow())

    assert [(a.kind, a.record_id) for a in report.applied] == [
        (timeouts.TimeoutKind.SLA_ESCALATION, lead.id)
    ]
    assert await events_of(sessions, "LEAD_SLA_BREACHED") == [
        (lead.id, [(rep.id, "OWNER"), (ops.id, "MANAGER")])
    ]
    seen = (await api(LEAD, {"id": gid("Lead", lead.id)}, as_user=ops)).ok()["lead"]
    assert seen["slaEscalatedAt"] is not None
    assert (await tick(sessions, utcnow())).applied == []


async def test_escalations_can_be_switched_off(api, make, sessions):
    rep, ops = await make.user(Role.BDR), await make.user(Role.SALES_OPS)
    await breached_lead(make, rep, utcnow() - timedelta(hours=2))
    edit = seeded_input(escalateSlaBreaches=False)
    assert (await api(UPDATE, {"input": edit}, as_user=ops)).ok()["updateTimeouts"][
        "userErrors"
    ] == []

    assert (await tick(sessions, utcnow())).applied == []


# --- stale opportunities ----------------------------------------------------------


async def deal_in_discovery(make: Any, owner: Any, since: datetime) -> Opportunity:
    from tests.api.test_opportunity_pipeline import a_deal, put

    deal = await a_deal(make, owner)
    await put(make, deal.id, stage=OpportunityStage.DISCOVERY, stage_changed_at=since)
    return deal


async def test_a_quiet_deal_is_flagged_stale_and_activity_clears_it(
    api, make, sessions
):
    owner = await make.user(Role.AE)
    since = utcnow() - timedelta(days=40)
    quiet = await deal_in_discovery(make, owner, since)
    worked = await deal_in_discovery(make, owner, since)
    await log_call(make, owner, utcnow() - timedelta(days=10), opportunity_id=worked.id)

    report = await tick(sessions, utcnow())

    assert [(a.kind, a.record_id, a.due_at) for a in report.applied] == [
        (
            timeouts.TimeoutKind.OPPORTUNITY_STALE,
            quiet.id,
            as_utc(since) + timedelta(days=30),
        )
    ]
    stale = (await api(DEALS, {"stale": True}, as_user=owner)).ok()["opportunities"]
    assert [n["id"] for n in stale["nodes"]] == [gid("Opportunity", quiet.id)]
    assert await events_of(sessions, "OPPORTUNITY_STALE") == [
        (quiet.id, [(owner.id, "OWNER")])
    ]
    # The worked deal goes stale 30 days after its call; then it is flagged.
    later = await tick(sessions, utcnow() + timedelta(days=21))
    assert [a.record_id for a in later.applied] == [worked.id]

    await log_call(make, owner, utcnow(), opportunity_id=quiet.id)
    fresh = (await api(DEALS, {"stale": False}, as_user=owner)).ok()["opportunities"]
    assert [n["id"] for n in fresh["nodes"]] == [gid("Opportunity", quiet.id)]


# --- several workers ----------------------------------------------------------------


async def test_two_ticks_at_once_apply_each_timeout_once(make, sessions, engine):
    """Two schedulers race over the same due leads: each lead moves once (the
    claim's ``FOR UPDATE SKIP LOCKED`` with the due condition)."""
    rep = await make.user(Role.BDR)
    leads = [
        await accepted_lead(make, rep, utcnow() - 2 * WEEK, score=20) for _ in range(12)
    ]
    now = utcnow()
    reports = await asyncio.gather(tick(sessions, now), tick(sessions, now))

    applied = sorted(a.record_id for r in reports for a in r.applied)
    assert applied == sorted(lead.id for lead in leads)
    async with sessions() as session:
        moves = await session.scalar(
            select(func.count())
            .select_from(TransitionRecord)
            .where(
                TransitionRecord.record_type == RecordType.LEAD,
                TransitionRecord.reason == TIMEOUT_REASON,
            )
        )
    assert moves == len(leads)


async def test_without_the_claim_lock_two_ticks_apply_a_timeout_twice(
    make, sessions, engine, monkeypatch
):
    """The test above can fail: with a claim that takes no lock, two ticks
    that read the same due lead both move it (PostgreSQL; SQLite runs one
    write transaction at a time)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write transactions run one at a time")
    rep = await make.user(Role.BDR)
    for _ in range(12):
        await accepted_lead(make, rep, utcnow() - 2 * WEEK, score=20)

    async def unlocked(session: Any, model: Any, record_id: int, condition: Any) -> Any:
        row = (
            await session.execute(select(model).where(model.id == record_id, condition))
        ).scalar_one_or_none()
        await asyncio.sleep(0.01)  # let the other tick read it too
        return row

    monkeypatch.setattr(timeouts, "_claim", unlocked)
    now = utcnow()
    reports = await asyncio.gather(tick(sessions, now), tick(sessions, now))
    applied = [a for r in reports for a in r.applied]
    assert len(applied) > 12


# --- the real processes -----------------------------------------------------------


def salesops_tick(database_url: str, *args: str) -> subprocess.Popen[str]:
    """Start `salesops tick` with ``args``; do not wait."""
    return subprocess.Popen(
        [SALESOPS, "tick", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_the_worker_applies_the_timeouts_by_itself(make, sessions, database_url):
    rep = await make.user(Role.BDR)
    lead = await accepted_lead(make, rep, utcnow() - 2 * WEEK, score=20)

    run_worker_once(database_url)

    async with sessions() as session:
        row = await session.get(Lead, lead.id)
    assert (row.status, row.owner_id) == (LeadStatus.INQUIRY, None)


async def test_salesops_tick_dry_run_tells_and_writes_nothing(
    make, sessions, database_url
):
    rep = await make.user(Role.BDR)
    lead = await accepted_lead(make, rep, utcnow() - timedelta(days=1), score=20)
    in_a_month = (utcnow() + 4 * WEEK).isoformat()

    dry = salesops_tick(database_url, "--dry-run", "--at", in_a_month)
    out, errors = dry.communicate(timeout=120)
    assert dry.returncode == 0, errors
    now = salesops_tick(database_url)
    quiet, errors = now.communicate(timeout=120)
    assert now.returncode == 0, errors

    lines = out.splitlines()
    assert lines[0].startswith(f"LEAD_TIMEOUT lead {lead.id}: due ")
    assert lines[0].endswith(f"ACCEPTED -> INQUIRY, owner {rep.id} -> None")
    assert "would apply: 1 LEAD_TIMEOUT" in lines[-1]
    assert "applied: 0 LEAD_TIMEOUT" in quiet
    async with sessions() as session:
        assert (await session.get(Lead, lead.id)).status is LeadStatus.ACCEPTED

    mistaken = salesops_tick(database_url, "--at", in_a_month)
    _, errors = mistaken.communicate(timeout=120)
    assert (mistaken.returncode, errors.strip()) == (
        1,
        "salesops: --at only rehearses: give --dry-run too",
    )


async def test_two_tick_processes_at_once_move_each_lead_once(
    make, sessions, database_url, engine
):
    """Two `salesops tick` processes (cron on two machines) over the same 40
    due leads on PostgreSQL: every lead is moved exactly once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("several schedulers at once are a PostgreSQL deployment")
    rep = await make.user(Role.BDR)
    leads = [
        await accepted_lead(make, rep, utcnow() - 2 * WEEK, score=20) for _ in range(40)
    ]

    ticks = [salesops_tick(database_url) for _ in range(2)]
    for process in ticks:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors

    async with sessions() as session:
        moved = (
            await session.execute(
                select(TransitionRecord.record_id, func.count())
                .where(TransitionRecord.reason == TIMEOUT_REASON)
                .group_by(TransitionRecord.record_id)
            )
        ).all()
    assert sorted(moved) == [(lead.id, 1) for lead in leads]
