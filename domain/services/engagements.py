"""Engagements and the score they feed (D6), and the automatic moves they cause (D2).

The score is a pure function of the lead's profile, its engagements and the
current scoring table (``domain.rules.scoring.score``, the table read through
``domain.services.rule_tables``); it is recomputed whenever either changes and
stored on the lead (``person_score``, with the facts it rests on) so lists can
filter and sort by it and an edited table can rescore every lead in SQL.

Engagements are recorded in batches (``record_engagements``: what a
marketing-automation sync delivers); ``record_engagement`` is a batch of one.
A batch means exactly what recording its engagements one by one, in the order
given, would mean — the same scores and breakdowns, Active dates, status
moves and ledger rows, routing decisions and round-robin turns, and events, in
the same order — but in one transaction, all or nothing:

- every engagement is checked first (the lead exists, the caller may change
  it, it is not converted, the time is not in the future, the campaign
  exists); any refusal refuses the whole batch, listing every reason with the
  index of its engagement, and nothing is written;
- the tables are read (and held) first, then the batch's leads are locked once,
  in id order, so two batches sharing leads queue instead of deadlocking;
- the engagements are inserted in one statement, each lead's stored
  engagements are read once, and the engagements are then applied in order in
  memory: each lead is rescored by the pure score function after each of its
  engagements (a threshold crossed mid-batch acts at that engagement, as it
  would one by one), moved and routed at the point it happens (what routing
  reads — accounts, owners, pools — is read once for the batch,
  ``RoutingLookups``);
- everything the walk decided is written at the end: the events and ledger
  rows with one INSERT per table, in the order they happened
  (``write_in_bulk``), the leads and pools by one flush. A changed lead's
  ``version`` grows by one per batch, as for any other committed change. A
  batch of one engagement writes its lead past the flush
  (``record_writes.write_changed_lead``): on PostgreSQL the lead's UPDATE, its
  funnel entry's, a routing turn's rotation and the held rows (a few per
  table, chained in order) go as one statement.

A batch happens at one instant: its moves, routing decisions and SLAs are
dated with the batch's ``now``, as one-by-one calls are each dated with theirs.

Decisions: the lead in each result is the lead as the whole batch left it;
every reason of every refused engagement is listed (not only the first, as a
lone ``recordEngagement`` used to); an empty batch is refused
(``batch_size_refusals``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain import sqltypes
from domain.enums import EngagementKind, ErrorCode, RecordType
from domain.errors import RecordRef, Refusal, refuse_if
from domain.lifecycle.lead import (
    INQUIRY_ENGAGEMENT_KINDS,
    LEAD_MACHINE,
    AutomaticTrigger,
    LeadFacts,
    converted_lead_refusals,
)
from domain.records import Activity, Campaign, Engagement, Lead
from domain.rules.funnel import Stamps
from domain.rules.permissions import Actor, Operation, may_edit_lead
from domain.rules.routing import active_until_after, routing_trigger
from domain.rules.scoring import (
    EngagementFact,
    ScoreResult,
    ScoringTable,
    score,
)
from domain.services.bulk import (
    COPY_FROM,
    add_row,
    flush_bulk,
    insert_with_ids,
    write_in_bulk,
)
from domain.services.lead_lifecycle import (
    advance_automatically,
    apply_automatic_moves,
    contact_data_changed,
    lead_facts_of,
    two_way_activities,
)
from domain.services.locks import locked_rows, versions_seen
from domain.services.milestones import ENTRIES, remember_stamps, stamp_columns
from domain.services.outbox import emit
from domain.services.record_writes import write_changed_lead
from domain.services.routing import RoutingLookups, route, routing_table
from domain.services.rule_tables import rule_tables
from domain.sqltypes import as_utc, utcnow

SCORE_EVENT = "LEAD_SCORE_CHANGED"
ENGAGEMENTS = Engagement.__table__  # type: ignore[attr-defined]
# Engagements per recordEngagements call: one transaction holds the batch's
# leads (and, when it routes, the pools) until it commits.
MAX_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class EngagementRow:
    """An engagement as its row was written: the values of an ``Engagement``
    record without the ORM object (building one per engagement cost a tenth of a
    batch's time, measured), for the walk and the caller's answer."""

    id: int
    lead_id: int
    kind: EngagementKind
    occurred_at: datetime
    created_at: datetime
    campaign_id: int | None
    contact_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewEngagement:
    """One engagement to record: the lead, what happened, when (default: now),
    the campaign it came from."""

    lead_id: int
    kind: EngagementKind
    occurred_at: datetime | None = None
    campaign_id: int | None = None


async def score_of(
    session: AsyncSession, lead: Lead, table: ScoringTable | None = None
) -> ScoreResult:
    """The lead's score with its breakdown, from its profile and engagements, by
    ``table`` (default: the current one)."""
    if table is None:
        table = (await rule_tables(session)).scoring
    rows = (
        await session.execute(
            select(
                col(Engagement.id), col(Engagement.kind), col(Engagement.occurred_at)
            ).where(col(Engagement.lead_id) == lead.id)
        )
    ).all()
    facts = [EngagementFact(id=i, kind=k, occurred_at=at) for i, k, at in rows]
    return score(lead.title, lead.email, facts, table)


def score_columns(result: ScoreResult) -> dict[str, Any]:
    """The lead's columns that keep a score and the facts it rests on."""
    facts = result.facts
    return {
        "person_score": result.total,
        "score_title_seniority": facts.title_seniority,
        "score_title_blank_or_technical": facts.title_blank_or_technical,
        "score_email_domain": facts.email_domain,
        "score_careers_penalties": facts.careers_penalties,
    }


def store_score(lead: Lead, result: ScoreResult) -> None:
    """Keep the score and the facts it rests on on the lead.

    Only the values that change are set: setting a record's attribute costs
    (SQLModel, then SQLAlchemy's change tracking) even when the value is the
    same, and most engagements change the total alone."""
    for name, value in score_columns(result).items():
        if getattr(lead, name) != value:
            setattr(lead, name, value)


def keep_score(
    session: AsyncSession, lead: Lead, result: ScoreResult, actor: Actor | None
) -> None:
    """Store a new score; an event says so when the total changed."""
    before = lead.person_score
    store_score(lead, result)
    if result.total != before:
        emit(
            session,
            SCORE_EVENT,
            RecordType.LEAD,
            lead.id,  # type: ignore[arg-type]
            actor,
            before=before,
            after=result.total,
        )


def score_reason(lead: Lead, table: ScoringTable) -> str:
    """The reason an automatic move on the score records."""
    return (
        f"Score {lead.person_score} reached the MQL threshold ({table.mql_threshold})"
    )


def engagement_reason(kind: EngagementKind) -> str:
    """The reason an automatic move on an engagement records."""
    return f"Engagement: {kind.value}"


async def rescore(
    session: AsyncSession,
    lead: Lead,
    *,
    actor: Actor | None,
    now: datetime,
    table: ScoringTable,
) -> ScoreResult:
    """Recompute and store the score, then make the move the lead machine makes
    on a score (at or above the MQL threshold: MQL)."""
    result = await score_of(session, lead, table)
    keep_score(session, lead, result, actor)
    await advance_automatically(
        session,
        lead,
        AutomaticTrigger.SCORE,
        actor=actor,
        reason=score_reason(lead, table),
        now=now,
    )
    return result


async def record_engagement(
    lead_id: int,
    kind: EngagementKind,
    *,
    session: AsyncSession,
    actor: Actor,
    occurred_at: datetime | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Lead, EngagementRow]:
    """Record a marketing touch: score it, keep Active up to date, move the lead.

    The lead machine's automatic moves follow: on the score (MQL at the
    threshold; a RAW lead is recorded passing INQUIRY), then on the engagement
    (RAW or NURTURE → INQUIRY). A batch of one (``record_engagements``).

    Statement budget (``tests/api/test_statement_budgets.py``): 9 on SQLite
    (its ``BEGIN IMMEDIATE`` included), 4 on PostgreSQL — the rule tables'
    heads, the lead's lock with its funnel stamps and the engagement's id
    drawn from the sequence, its stored engagements, then the engagement's
    INSERT, its events (chained in order), the ledger row and the lead's and
    the funnel entry's UPDATEs as one statement. One that routes its lead: 12
    / 6 — the candidate accounts and the pool's lock with its members more
    (the rotation goes with the rest).
    """
    [recorded] = await _record(
        [NewEngagement(lead_id, kind, occurred_at, campaign_id)],
        session=session,
        actor=actor,
        now=now,
        path=lambda _: (),
    )
    return recorded


async def record_engagements(
    engagements: Sequence[NewEngagement],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime | None = None,
) -> list[tuple[Lead, EngagementRow]]:
    """Record a batch of engagements as if one by one in the given order, in one
    transaction: (lead, engagement) of each, in that order, every lead as the
    whole batch left it. Refusals name ``engagements.<index>.<field>``."""
    refuse_if(batch_size_refusals(len(engagements)))
    return await _record(
        engagements,
        session=session,
        actor=actor,
        now=now,
        path=lambda i: ("engagements", str(i)),
    )


def batch_size_refusals(count: int) -> list[Refusal]:
    """A batch holds 1 to ``MAX_BATCH`` engagements.

    An empty batch is refused rather than accepted as a no-op: a sync that has
    nothing to send has no reason to call, so an empty list is most likely a
    client bug, and saying so beats answering "done".
    """
    if 1 <= count <= MAX_BATCH:
        return []
    return [
        Refusal.on(
            "engagements",
            ErrorCode.INVALID_INPUT,
            f"Give 1 to {MAX_BATCH:,} engagements per call ({count:,} given); "
            "split larger batches.",
        )
    ]


async def _record(
    engagements: Sequence[NewEngagement],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime | None,
    path: Callable[[int], tuple[str, ...]],
) -> list[tuple[Lead, EngagementRow]]:
    """The batch use case (see the module docstring); ``path`` prefixes the
    fields of an engagement's refusals."""
    now = now or utcnow()
    # The tables first, then the leads' rows (see rule_tables on lock order).
    table = (await rule_tables(session, lock=True)).scoring
    # One engagement on PostgreSQL: its id is drawn with the lead's lock, and its
    # row goes with the lead's writes at the end (one statement less).
    draw = len(engagements) == 1 and session.get_bind().dialect.name == "postgresql"
    leads, two_way, drawn_id = await _lock_leads(
        session, {e.lead_id for e in engagements}, draw=draw
    )
    campaigns = await _existing_campaigns(
        session, {e.campaign_id for e in engagements if e.campaign_id is not None}
    )
    refuse_if(
        [
            r.under(*path(i))
            for i, e in enumerate(engagements)
            for r in engagement_refusals(e, leads.get(e.lead_id), campaigns, actor, now)
        ]
    )
    for e in engagements:
        lead = leads[e.lead_id]
        if lead.campaign_id is None and e.campaign_id is not None:
            # D11 attribution: the first engagement naming a campaign is the
            # lead's first touch.
            lead.campaign_id = e.campaign_id
    stored = await _stored_engagements(session, leads)
    # When it is stored (the clock, not the use case's ``now``); the rows by one
    # Core INSERT (``insert_with_ids``), their ids back in order.
    recorded_at = sqltypes.utcnow()
    values: list[dict[str, Any]] = [
        {
            "lead_id": e.lead_id,
            "contact_id": None,
            "kind": e.kind,
            "occurred_at": as_utc(e.occurred_at) if e.occurred_at else now,
            "campaign_id": e.campaign_id,
            "created_at": recorded_at,
        }
        for e in engagements
    ]
    if drawn_id is not None:
        write_in_bulk(session)
        add_row(session, Engagement, id=drawn_id, **values[0])
        ids = [drawn_id]
    else:
        ids = await insert_with_ids(
            session, ENGAGEMENTS, values, drawn=len(values) >= COPY_FROM
        )
        write_in_bulk(session)
    rows = [EngagementRow(id=i, **v) for i, v in zip(ids, values, strict=True)]
    one = len(rows) == 1
    walk = _Walk(session, actor, now, table, leads, stored, two_way, one_engagement=one)
    for row in rows:
        await walk.apply(row)
    if one:
        # One engagement (``recordEngagement``): on PostgreSQL the lead's UPDATE,
        # its funnel entry's and a routing turn's rotation go with the held rows,
        # one statement. A batch leaves them to the flush: one UPDATE per set of
        # changed columns for all its leads beats one statement part per lead.
        await write_changed_lead(session, leads[rows[0].lead_id], now=now)  # type: ignore[index]
        await walk.lookups.write_turns(now)
    await flush_bulk(session)
    return [(leads[row.lead_id], row) for row in rows]


def engagement_refusals(
    engagement: NewEngagement,
    lead: Lead | None,
    campaigns: Collection[int],
    actor: Actor,
    now: datetime,
) -> list[Refusal]:
    """Every reason one engagement may not be recorded (``lead``: its lead, if it
    exists; ``campaigns``: the existing campaigns among those named)."""
    found: list[Refusal] = []
    if lead is None:
        found.append(
            Refusal.on(
                "leadId",
                ErrorCode.NOT_FOUND,
                f"No such record: {RecordRef('Lead', engagement.lead_id)}.",
            )
        )
    else:
        found += may_edit_lead(actor, lead.owner_id, Operation.RECORD_ENGAGEMENT)
        found += converted_lead_refusals(lead.id, lead.converted_at, "leadId")
    if engagement.occurred_at is not None and as_utc(engagement.occurred_at) > now:
        found.append(
            Refusal.on(
                "occurredAt", ErrorCode.INVALID_INPUT, "occurredAt is in the future."
            )
        )
    if engagement.campaign_id is not None and engagement.campaign_id not in campaigns:
        found.append(
            Refusal.on(
                "campaignId",
                ErrorCode.NOT_FOUND,
                f"No such record: {RecordRef('Campaign', engagement.campaign_id)}.",
            )
        )
    return found


@cache
def _locking_statement(draw: bool) -> Any:
    """``_lock_leads``'s statement (the ids bound as ``ids``), built once:
    building it and its cache key cost more than running it (measured).
    ``draw`` (PostgreSQL, one lead): it also draws the new engagement's id from
    the table's sequence."""
    drawn = (
        func.nextval(func.pg_get_serial_sequence(ENGAGEMENTS.name, "id"))
        if draw
        else literal(None)
    )
    return (
        select(
            Lead,
            exists(two_way_activities().where(col(Activity.lead_id) == Lead.id)),
            ENTRIES.c.id,
            drawn,
            *stamp_columns(),
            *versions_seen(Lead),
        )
        .outerjoin(ENTRIES, ENTRIES.c.lead_id == Lead.id)
        .where(Lead.id.in_(bindparam("ids", expanding=True)))  # type: ignore[union-attr]
        .order_by(Lead.id)  # type: ignore[arg-type]
        .with_for_update(of=Lead.__table__)  # type: ignore[attr-defined]
    )


async def _lock_leads(
    session: AsyncSession, lead_ids: Collection[int], *, draw: bool = False
) -> tuple[dict[int, Lead], set[int], int | None]:
    """The leads, their rows locked until commit in id order, which of them
    have a completed two-way activity, and (``draw``: one lead, PostgreSQL) an
    id drawn for its new engagement — one statement. Their funnel stamps, read
    with them, spare the flush hook its read (``remember_stamps``)."""
    rows = await locked_rows(
        session, _locking_statement(draw), {"ids": sorted(lead_ids)}
    )
    leads: dict[int, Lead] = {}
    two_way: set[int] = set()
    stamps: dict[int, Stamps] = {}
    drawn_id = None
    for lead, has_two_way, entry_id, drawn, *stamped, _, _ in rows:
        drawn_id = drawn
        leads[lead.id] = lead
        if has_two_way:
            two_way.add(lead.id)
        if entry_id is not None:
            stamps[lead.id] = tuple(stamped)
    remember_stamps(session.sync_session, stamps)
    return leads, two_way, drawn_id


async def _existing_campaigns(
    session: AsyncSession, campaign_ids: Collection[int]
) -> set[int]:
    """Which of these campaigns exist."""
    if not campaign_ids:
        return set()
    rows = await session.execute(
        select(col(Campaign.id)).where(col(Campaign.id).in_(sorted(campaign_ids)))
    )
    return {i for i in rows.scalars() if i is not None}


@dataclass(slots=True)
class _Stored:
    """A lead's engagements so far, as scoring and the lifecycle guards see them."""

    facts: list[EngagementFact] = field(default_factory=list)
    # When the newest that counts for INQUIRY was recorded (NURTURE -> INQUIRY
    # wants one since the move); None: none counts yet.
    newest_created_at: datetime | None = None

    def add(self, fact: EngagementFact, created_at: datetime) -> None:
        """One more engagement."""
        self.facts.append(fact)
        if fact.kind in INQUIRY_ENGAGEMENT_KINDS and (
            self.newest_created_at is None or created_at > self.newest_created_at
        ):
            self.newest_created_at = created_at


@cache
def _stored_statement() -> Any:
    """``_stored_engagements``'s statement (the leads' ids bound as ``ids``),
    built once."""
    return select(
        col(Engagement.lead_id),
        col(Engagement.id),
        col(Engagement.kind),
        col(Engagement.occurred_at),
        col(Engagement.created_at),
    ).where(col(Engagement.lead_id).in_(bindparam("ids", expanding=True)))


async def _stored_engagements(
    session: AsyncSession, leads: Mapping[int, Lead]
) -> dict[int, _Stored]:
    """Each lead's stored engagements (one statement for all of them)."""
    stored = {lead_id: _Stored() for lead_id in leads}
    rows = await session.execute(_stored_statement(), {"ids": sorted(leads)})
    for lead_id, engagement_id, kind, occurred_at, created_at in rows:
        stored[lead_id].add(  # type: ignore[index]
            EngagementFact(engagement_id, kind, occurred_at), created_at
        )
    return stored


class _Walk:
    """Applies a batch's engagements one at a time, in memory, as
    ``record_engagement`` would one request at a time."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        now: datetime,
        table: ScoringTable,
        leads: Mapping[int, Lead],
        stored: dict[int, _Stored],
        two_way: set[int],
        *,
        one_engagement: bool,
    ) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.table = table
        self.leads = leads
        self.stored = stored
        self.routing = routing_table(table)
        # Only a lead unowned at the start can be routed (routing is what owns it);
        # one engagement routes its lead at most once: one turn, one pool locked.
        self.lookups = RoutingLookups(
            session,
            [lead for lead in leads.values() if lead.owner_id is None],
            one_turn=one_engagement,
        )
        # The leads with a completed two-way activity (read with their lock).
        self.two_way = two_way

    async def apply(self, engagement: EngagementRow) -> None:
        """Store, score, move and route for one engagement (already inserted)."""
        session, actor, now, table = self.session, self.actor, self.now, self.table
        lead = self.leads[engagement.lead_id]  # type: ignore[index]
        kind = engagement.kind
        stored = self.stored[lead.id]  # type: ignore[index]
        stored.add(
            EngagementFact(engagement.id, kind, engagement.occurred_at),
            engagement.created_at,
        )
        lead.active_until = active_until_after(
            lead.active_until, kind, engagement.occurred_at
        )
        before = lead.person_score
        keep_score(
            session, lead, score(lead.title, lead.email, stored.facts, table), actor
        )
        await self._advance(lead, AutomaticTrigger.SCORE, score_reason(lead, table))
        trigger_kinds = routing_trigger(
            owned=lead.owner_id is not None,
            last_rule=lead.routing_rule,
            kind=kind,
            kinds_so_far=frozenset(fact.kind for fact in stored.facts),
            score_before=before,
            score_after=lead.person_score,
            table=self.routing,
        )
        if trigger_kinds is not None:
            await route(
                session,
                lead,
                actor=actor,
                now=now,
                trigger_kinds=trigger_kinds,
                lookups=self.lookups,
            )
        await self._advance(lead, AutomaticTrigger.ENGAGEMENT, engagement_reason(kind))

    async def _advance(
        self, lead: Lead, trigger: AutomaticTrigger, reason: str
    ) -> None:
        """The automatic move the lead machine makes on ``trigger``, if any (the
        facts are gathered only when the table has such a move from here)."""
        if LEAD_MACHINE.automatic_rules(lead.status, trigger):
            apply_automatic_moves(
                self.session,
                lead,
                trigger,
                facts=await self._facts(lead),
                actor=self.actor,
                reason=reason,
                now=self.now,
            )

    async def _facts(self, lead: Lead) -> LeadFacts:
        """``lead_facts`` of the lead now, from what the walk knows: its stored
        engagements so far and the activities read with the batch's lock."""
        stored = self.stored[lead.id]  # type: ignore[index]
        return lead_facts_of(
            lead,
            self.actor,
            self.now,
            mql_threshold=self.table.mql_threshold,
            has_inbound_engagement=stored.newest_created_at is not None,
            has_engagement_since_status_change=(
                stored.newest_created_at is not None
                and stored.newest_created_at >= lead.status_changed_at
            ),
            has_completed_two_way_activity=lead.id in self.two_way,
            contact_data_changed_since_bad_data=await contact_data_changed(
                self.session, lead
            ),
        )
