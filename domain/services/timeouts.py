"""Time moves records (issue 14 item 4): the timeouts table's edits, and the
scheduler that applies what fell due.

The rules — when each timeout falls due, what it does — are
``domain.rules.timeouts``'s; the moves are the lead machine's (the ACCEPTED →
MQL / INQUIRY rows on ``AutomaticTrigger.TIMEOUT``, or the NURTURE row with the
reason ``TIMEOUT``), so a timeout passes the same guards, writes the same
ledger row, event and funnel entry as any other move.

A tick (``tick``; run by ``salesops worker`` every ``--tick-interval`` seconds
and by ``salesops tick`` for cron):

1. reads what is due at ``now`` — ACCEPTED leads whose ``timeout_at`` passed,
   leads whose follow-up SLA is breached and not escalated yet, open
   opportunities whose stage's stale days ran out without a completed
   activity — oldest first, at most ``limit`` of each;
2. applies each in a transaction of its own, after locking its row ``FOR
   UPDATE SKIP LOCKED`` *with the condition that made it due*: a row another
   worker holds is skipped (that worker applies it), and a row that changed
   meanwhile (an activity restarted the clock, a move, another worker's
   commit) no longer matches and is left alone. So several workers never
   apply one timeout twice, and a tick run again applies nothing new: the
   applied state (a new status, ``sla_escalated_at``, ``stale_since``) no
   longer matches. On SQLite write transactions run one at a time.

A dry run (``tick(dry_run=True)``; ``timeoutPreview``, ``salesops tick
--dry-run``) applies everything due in one transaction that is rolled back and
reports what it did and would emit — routing turns included, as the real tick
would take them in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import write_transaction
from domain.enums import LeadStatus, RecordType
from domain.errors import refuse_if
from domain.lifecycle.lead import OPEN_STATUSES, AutomaticTrigger, LeadTransitionRequest
from domain.records import Activity, Lead, Opportunity, TimeoutsVersion
from domain.rules.notifications import (
    owner_and_manager,
    owner_only,
    timed_out_recipients,
)
from domain.rules.permissions import Actor
from domain.rules.timeouts import (
    SLA_BREACHED_EVENT,
    STALE_EVENT,
    TIMEOUT_REASON,
    LeadTimeoutAction,
    Timeouts,
    from_document,
    lead_timeout_at,
    stale_cutoffs,
    stale_from,
    timeout_note,
    to_document,
    validate,
)
from domain.services.dry_runs import rehearse
from domain.services.lead_lifecycle import (
    apply_automatic_moves,
    lead_facts,
    lead_move_refusals,
    move_lead,
)
from domain.services.outbox import EmittedEvent, emit
from domain.services.recipients import managing_people, notify, person
from domain.services.routing import RoutingLookups, route
from domain.services.rule_tables import TIMEOUTS, rule_tables
from domain.services.versioned_table import (
    VersionedTable,
    edit_document_table,
    version_rows,
)
from domain.sqltypes import as_utc

TIMED_OUT_EVENT = "LEAD_TIMED_OUT"
# What one tick applies of each kind at most (the rest waits for the next).
TICK_LIMIT = 500

TIMEOUTS_TABLE: VersionedTable[Timeouts] = VersionedTable(
    head=TIMEOUTS,
    field="timeouts",
    title="the timeouts table",
    record=TimeoutsVersion,
    derives=frozenset({"timeout_at"}),
)


# --- the table: edits and versions ---------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredTimeouts:
    """One stored version as the API shows it: the version row and its table."""

    version: TimeoutsVersion
    table: Timeouts


def _completed_by(now: datetime) -> Any:
    """A completed activity that has happened by ``now``."""
    return col(Activity.completed_at).is_not(None) & (col(Activity.completed_at) <= now)


async def restamp_lead_timeouts(
    session: AsyncSession, table: Timeouts, now: datetime
) -> dict[str, int]:
    """Recompute ``timeout_at`` of every ACCEPTED lead under ``table`` (its
    acceptance and its last completed activity); the changed leads are stamped
    like any change (version + 1, ``updated_at``)."""
    last_activity = (
        select(func.max(Activity.completed_at))
        .where(col(Activity.lead_id) == Lead.id, _completed_by(now))
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            col(Lead.id),
            col(Lead.status_changed_at),
            col(Lead.timeout_at),
            last_activity,
        ).where(col(Lead.status) == LeadStatus.ACCEPTED)
    )
    changes = []
    for lead_id, accepted_at, stored, last in rows:
        due = lead_timeout_at(table, accepted_at, last)
        if due != (as_utc(stored) if stored is not None else None):
            changes.append({"lead_id": lead_id, "due": due})
    if changes:
        leads = Lead.__table__.c  # type: ignore[attr-defined]
        await session.execute(
            update(Lead.__table__)  # type: ignore[attr-defined]
            .where(leads.id == bindparam("lead_id"))
            .values(
                timeout_at=bindparam("due"),
                version=leads.version + 1,
                updated_at=now,
            ),
            changes,
            execution_options={"synchronize_session": False},
        )
    return {}


async def update_timeouts(
    table: Timeouts,
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int,
    note: str | None = None,
    now: datetime | None = None,
) -> StoredTimeouts:
    """Put ``table`` in force as the next version (its own ``version`` is
    ignored) and restamp the accepted leads' timeouts, or refuse with every
    invalid entry."""

    row = await edit_document_table(
        TIMEOUTS_TABLE,
        table,
        validate=validate,
        to_document=to_document,
        rederive=restamp_lead_timeouts,
        session=session,
        actor=actor,
        expected_version=expected_version,
        note=note,
        now=now,
    )
    return StoredTimeouts(row, from_document(row.document, row.version))


async def timeouts_versions(
    session: AsyncSession, *, version: int | None = None, limit: int | None = None
) -> list[StoredTimeouts]:
    """Stored versions, newest first: one ``version``, or the ``limit`` newest."""
    rows = await version_rows(session, TIMEOUTS_TABLE, version=version, limit=limit)
    return [StoredTimeouts(r, from_document(r.document, r.version)) for r in rows]


# --- the scheduler -----------------------------------------------------------------


class TimeoutKind(StrEnum):
    """What fell due."""

    LEAD_TIMEOUT = "LEAD_TIMEOUT"
    SLA_ESCALATION = "SLA_ESCALATION"
    OPPORTUNITY_STALE = "OPPORTUNITY_STALE"


@dataclass(frozen=True, slots=True)
class Applied:
    """One timeout a tick applied (or, dry, would apply)."""

    kind: TimeoutKind
    record_type: RecordType
    record_id: int
    due_at: datetime
    from_state: str | None = None
    to_state: str | None = None
    # A lead's owner before and after (a timeout that routes it again).
    previous_owner_id: int | None = None
    owner_id: int | None = None


@dataclass(frozen=True, slots=True)
class TickReport:
    """What a tick did: the timeouts applied, and (dry) the events emitted."""

    now: datetime
    applied: list[Applied]
    would_emit: list[EmittedEvent]

    def count(self, kind: TimeoutKind) -> int:
        """How many timeouts of ``kind`` were applied."""
        return sum(1 for a in self.applied if a.kind is kind)


def _timed_out_leads(now: datetime) -> Any:
    return (col(Lead.status) == LeadStatus.ACCEPTED) & (col(Lead.timeout_at) <= now)


def _breached_slas(now: datetime) -> Any:
    return (
        (col(Lead.sla_due_at) <= now)
        & col(Lead.sla_met_at).is_(None)
        & col(Lead.sla_escalated_at).is_(None)
        & col(Lead.converted_at).is_(None)
        & col(Lead.status).in_(OPEN_STATUSES)
    )


def _last_opportunity_activity(now: datetime) -> Any:
    return (
        select(func.max(Activity.completed_at))
        .where(col(Activity.opportunity_id) == Opportunity.id, _completed_by(now))
        .scalar_subquery()
    )


def _stale_opportunities(table: Timeouts, now: datetime) -> Any:
    """Open opportunities in a stage with stale days whose clock ran out: in the
    stage since the cutoff, and no activity completed after it."""
    cutoffs = stale_cutoffs(table, now)
    if not cutoffs:
        return None
    cutoff = case(
        *((col(Opportunity.stage) == stage, at) for stage, at in cutoffs.items())
    )
    last = _last_opportunity_activity(now)
    return (
        col(Opportunity.stage).in_(list(cutoffs))
        & col(Opportunity.stale_since).is_(None)
        & (col(Opportunity.stage_changed_at) <= cutoff)
        & (last.is_(None) | (last <= cutoff))
    )


async def _due_ids(
    session: AsyncSession, model: Any, condition: Any, order: Any, limit: int
) -> list[int]:
    if condition is None:
        return []
    rows = await session.execute(
        select(model.id).where(condition).order_by(order, model.id).limit(limit)
    )
    return list(rows.scalars())


async def _claim(
    session: AsyncSession, model: Any, record_id: int, condition: Any
) -> Any:
    """The record, locked, if it is still due and no other worker holds it."""
    return (
        await session.execute(
            select(model)
            .where(model.id == record_id, condition)
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()


async def _time_out_lead(
    session: AsyncSession, lead_id: int, now: datetime
) -> Applied | None:
    """Move a timed-out ACCEPTED lead as the table says; NURTURE keeps its
    owner, ROUTING_POOL routes it again (D8) — a pool's turn passes over the
    rep who let it time out while another member is available — and releases
    it when routing finds nobody."""
    # Routing links the lead to an account and writes its region: the heads
    # before the lead's row (``domain.services.locks``).
    tables = await rule_tables(session, lock=True)
    table = tables.timeouts
    lead: Lead | None = await _claim(session, Lead, lead_id, _timed_out_leads(now))
    if lead is None:
        return None
    due_at = as_utc(lead.timeout_at)  # type: ignore[arg-type]
    facts = await lead_facts(session, lead, None, now)
    note = timeout_note(table, due_at)
    before, previous_owner = lead.status, lead.owner_id
    if table.accepted_lead_action is LeadTimeoutAction.NURTURE:
        request = LeadTransitionRequest(
            to=LeadStatus.NURTURE, reason=TIMEOUT_REASON, note=note, automatic=True
        )
        refuse_if(lead_move_refusals(lead, facts, None, request, fire=True))
        move_lead(session, lead, request, None, now)
    else:
        path = apply_automatic_moves(
            session,
            lead,
            AutomaticTrigger.TIMEOUT,
            facts=facts,
            actor=None,
            reason=TIMEOUT_REASON,
            now=now,
            note=note,
        )
        if not path:
            return None
        # The rep who let it time out is passed over while another is free.
        lookups = RoutingLookups(session, [lead], passed_over={previous_owner or 0})
        await route(session, lead, actor=None, now=now, lookups=lookups)
        if lead.routed_to_id is None:
            lead.owner_id = None  # back in the pool, nobody there to take it
    event = emit(
        session,
        TIMED_OUT_EVENT,
        RecordType.LEAD,
        lead_id,
        None,
        due_at=due_at.isoformat(),
        action=table.accepted_lead_action.value,
        from_state=before.value,
        to_state=lead.status.value,
        previous_owner_id=previous_owner,
        owner_id=lead.owner_id,
        timeouts_version=table.version,
    )
    await notify(
        session,
        event,
        timed_out_recipients(
            await person(session, previous_owner), await person(session, lead.owner_id)
        ),
    )
    await session.flush()
    return Applied(
        TimeoutKind.LEAD_TIMEOUT,
        RecordType.LEAD,
        lead_id,
        due_at,
        before.value,
        lead.status.value,
        previous_owner,
        lead.owner_id,
    )


async def _escalate_sla(
    session: AsyncSession, lead_id: int, now: datetime
) -> Applied | None:
    """Escalate a breached follow-up SLA once: an event to the lead's owner and
    their manager (D8, D10)."""
    lead: Lead | None = await _claim(session, Lead, lead_id, _breached_slas(now))
    if lead is None:
        return None
    due_at = as_utc(lead.sla_due_at)  # type: ignore[arg-type]
    lead.sla_escalated_at = now
    event = emit(
        session,
        SLA_BREACHED_EVENT,
        RecordType.LEAD,
        lead_id,
        None,
        due_at=due_at.isoformat(),
        owner_id=lead.owner_id,
        routing_pool=lead.routing_pool,
        routing_rule=lead.routing_rule,
    )
    owner = await person(session, lead.owner_id)
    await notify(
        session, event, owner_and_manager(owner, await managing_people(session))
    )
    await session.flush()
    return Applied(
        TimeoutKind.SLA_ESCALATION,
        RecordType.LEAD,
        lead_id,
        due_at,
        lead.status.value,
        lead.status.value,
        lead.owner_id,
        lead.owner_id,
    )


async def _flag_stale(
    session: AsyncSession, opportunity_id: int, now: datetime
) -> Applied | None:
    """Flag an opportunity stale (``stale_since``) and tell its owner."""
    table = (await rule_tables(session)).timeouts
    condition = _stale_opportunities(table, now)
    if condition is None:
        return None
    opp: Opportunity | None = await _claim(
        session, Opportunity, opportunity_id, condition
    )
    if opp is None:
        return None
    last = (
        await session.execute(
            select(func.max(Activity.completed_at)).where(
                col(Activity.opportunity_id) == opportunity_id, _completed_by(now)
            )
        )
    ).scalar_one_or_none()
    since = stale_from(table, opp.stage, opp.stage_changed_at, last)
    assert since is not None and since <= now  # the condition said so
    opp.stale_since = since
    event = emit(
        session,
        STALE_EVENT,
        RecordType.OPPORTUNITY,
        opportunity_id,
        None,
        stage=opp.stage.value,
        stale_since=since.isoformat(),
        days=table.stale_after_days[opp.stage],
        timeouts_version=table.version,
    )
    await notify(session, event, owner_only(await person(session, opp.owner_id)))
    await session.flush()
    return Applied(
        TimeoutKind.OPPORTUNITY_STALE,
        RecordType.OPPORTUNITY,
        opportunity_id,
        since,
        opp.stage.value,
        opp.stage.value,
        opp.owner_id,
        opp.owner_id,
    )


async def due(
    session: AsyncSession, now: datetime, limit: int = TICK_LIMIT
) -> list[tuple[TimeoutKind, int]]:
    """What is due at ``now``, oldest first per kind (at most ``limit`` each)."""
    table = (await rule_tables(session)).timeouts
    found: list[tuple[TimeoutKind, int]] = []
    for kind, ids in (
        (
            TimeoutKind.LEAD_TIMEOUT,
            await _due_ids(
                session, Lead, _timed_out_leads(now), col(Lead.timeout_at), limit
            ),
        ),
        (
            TimeoutKind.SLA_ESCALATION,
            await _due_ids(
                session,
                Lead,
                _breached_slas(now) if table.escalate_sla_breaches else None,
                col(Lead.sla_due_at),
                limit,
            ),
        ),
        (
            TimeoutKind.OPPORTUNITY_STALE,
            await _due_ids(
                session,
                Opportunity,
                _stale_opportunities(table, now),
                col(Opportunity.stage_changed_at),
                limit,
            ),
        ),
    ):
        found.extend((kind, record_id) for record_id in ids)
    return found


_APPLY = {
    TimeoutKind.LEAD_TIMEOUT: _time_out_lead,
    TimeoutKind.SLA_ESCALATION: _escalate_sla,
    TimeoutKind.OPPORTUNITY_STALE: _flag_stale,
}


async def preview(
    session: AsyncSession, *, now: datetime, limit: int = TICK_LIMIT
) -> TickReport:
    """Everything due at ``now`` applied in the caller's transaction, which the
    caller rolls back (a dry run): what the tick would do, and emit."""
    found = await due(session, now, limit)

    async def apply_all() -> list[Applied]:
        done = [await _APPLY[kind](session, rid, now) for kind, rid in found]
        return [a for a in done if a is not None]

    rehearsal = await rehearse(session, apply_all)
    return TickReport(now, rehearsal.result, rehearsal.would_emit)


async def tick(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int = TICK_LIMIT,
    dry_run: bool = False,
) -> TickReport:
    """Apply every timeout due at ``now`` (at most ``limit`` of each kind),
    each in its own transaction; ``dry_run``: ``preview``, rolled back."""
    if dry_run:
        async with write_transaction(session, commit=False):
            return await preview(session, now=now, limit=limit)
    if session.in_transaction():
        await session.commit()
    found = await due(session, now, limit)
    await session.commit()
    applied = []
    for kind, record_id in found:
        async with write_transaction(session):
            outcome = await _APPLY[kind](session, record_id, now)
        if outcome is not None:
            applied.append(outcome)
    return TickReport(now, applied, [])
