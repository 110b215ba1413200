"""Opportunity pipeline use cases (D3): move a stage, say what may come next, terms.

The same shape as the lead lifecycle, on the same machinery: one facts
snapshot (``opportunity_facts``), one function for "may I?" and "do it"
(``move_refusals``: who may act, then the machine's guards), the ledger of
``domain.services.ledger`` for history and events.

Decisions where D3 is silent:

* ``fields`` given with a move are validated (syntax, referenced records
  exist, no self-reference), merged into the facts the guards see, and
  written only when the move is allowed: one call sets the fields and moves,
  or does nothing.
* A transition is recorded ``override: true`` only when the override lifted a
  rule (the same move without it would have been refused); an ``override``
  flag on a move that needed none is not an override.
* UNQUALIFIED_OPPORTUNITY_FEEDBACK names the sourcing BDR/SDR (the user who
  created the opportunity, from its creation ledger row, when that user is a
  BDR or SDR) and is addressed to their team lead, the owner (the AE, who
  holds the feedback session) and the sourcing rep; LOST_DEAL_ALERT to the
  owner and their manager (round 2; who a manager or team lead is, is
  ``domain.rules.notifications.managers_of``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import (
    ClosedLostReason,
    ErrorCode,
    OpportunityStage,
    Pipeline,
    RecordType,
    Role,
)
from domain.errors import RecordRef, Refusal, Refused, refuse_if
from domain.lifecycle.machine import TransitionOption
from domain.lifecycle.opportunity import (
    LOST_DEAL_ALERT,
    UNQUALIFIED_OPPORTUNITY_FEEDBACK,
    OpportunityFacts,
    StageMoveRequest,
    machine_for,
    names_who_may_act,
    pipeline_change_refusals,
    stage_effects,
    stage_events,
    terms_modification_refusals,
)
from domain.records import (
    Account,
    Contact,
    Opportunity,
    OpportunityContactRole,
    TransitionRecord,
    User,
)
from domain.rules.funnel import milestone_of_stage
from domain.rules.notifications import (
    SOURCING_ROLES,
    Recipient,
    owner_and_manager,
    unqualified_feedback_recipients,
)
from domain.rules.permissions import Actor, Operation, Standing, refusals_for
from domain.rules.validation import validate
from domain.services.bulk import flush_bulk, update_row, write_in_bulk
from domain.services.customers import follow_the_deal
from domain.services.ledger import record_transition
from domain.services.loading import check_version, load
from domain.services.locks import locked_rows, versions_seen
from domain.services.milestones import ENTRIES, reached_changes, stamp_columns
from domain.services.opportunities import (
    CONTACT_FIELDS,
    OPPORTUNITY_FIELDS,
    OPPORTUNITY_RULES,
)
from domain.services.outbox import emit
from domain.services.ownership import standing
from domain.services.recipients import managing_people, notify, person
from domain.services.record_writes import write_record
from domain.services.rule_tables import (
    STAGE_REQUIREMENTS,
    head_columns,
    table_at,
)
from domain.sqltypes import utcnow

STAGE_EVENT = "OPPORTUNITY_STAGE_CHANGED"
TERMS_MODIFICATION_REQUESTED = "TERMS_MODIFICATION_REQUESTED"

# What a client may set together with a move (D3 rule 5's stage fields, the
# SAO criteria, and the IACV the SQO snapshot takes).
STAGE_FIELDS = frozenset(
    {
        "business_problem",
        "primary_contact_id",
        "incremental_acv",
        "technical_requirements_confirmed",
        "poc_ran",
        "poc_notes",
        "poc_success_criteria",
        "bill_to_contact_id",
        "sold_to_contact_id",
        "po_will_be_issued",
        "purchasing_plan",
        "business_terms_agreed",
        "referenceable_customer",
        "signed_order_form_received",
        "po_received",
        "restricted_party_screening",
        "finance_approved",
        "closed_won_details",
        "closed_lost_reasons",
        "closed_lost_detail",
        "merged_into_id",
        "duplicate_of_id",
    }
)

# OpportunityFacts fields read straight from the record (or the given fields).
_RECORD_FACTS = (
    "type",
    "sales_accepted_date",
    "sales_qualified",
    "lost_from_stage",
    "closed_at",
    "edition",
    "sales_qualification_source",
    *sorted(STAGE_FIELDS - {"closed_lost_reasons"}),
)


def _fact_columns() -> list[Any]:
    """What the guards ask beyond the opportunity's row, as columns correlated
    to it: the account's size and owner (who may edit the deal too), whether
    any contact has a role, and the deal owner's role (who may accept, D3.3)."""
    roles = select(OpportunityContactRole.id).where(  # type: ignore[call-overload]
        OpportunityContactRole.opportunity_id == Opportunity.id
    )
    owner_role = (
        select(col(User.role))
        .where(col(User.id) == Opportunity.owner_id)
        .scalar_subquery()
    )
    return [
        Account.is_named,
        Account.sales_segment,
        Account.owner_id,
        exists(roles),
        owner_role,
        # the stage requirements in force: their head, the table from the
        # process's cache (no statement of its own)
        *head_columns(STAGE_REQUIREMENTS),
    ]


# How many columns ``_fact_columns`` adds after the opportunity's row.
_FACT_COUNT = len(_fact_columns())


async def opportunity_facts(
    session: AsyncSession,
    opp: Opportunity,
    actor: Actor | None,
    now: datetime,
    fields: Mapping[str, Any] | None = None,
) -> OpportunityFacts:
    """Snapshot what the guards need, with the client's ``fields`` merged in."""
    # One round trip for what the row does not hold.
    row = (
        await session.execute(
            select(*_fact_columns())
            .select_from(Opportunity)
            .join(Account, col(Account.id) == Opportunity.account_id)
            .where(col(Opportunity.id) == opp.id)
        )
    ).one()
    return await _facts_of(session, opp, actor, now, fields, *row)


async def _facts_of(
    session: AsyncSession,
    opp: Opportunity,
    actor: Actor | None,
    now: datetime,
    fields: Mapping[str, Any] | None,
    is_named: Any,
    segment: Any,
    account_owner_id: Any,
    has_roles: Any,
    owner: Any,
    requirements_version: int,
    requirements_changed_at: datetime,
) -> OpportunityFacts:
    """The guards' facts from the opportunity, the given ``fields`` and what
    ``_fact_columns`` read."""
    given = dict(fields or {})
    values = {name: given.get(name, getattr(opp, name)) for name in _RECORD_FACTS}
    reasons = given.get("closed_lost_reasons", opp.closed_lost_reasons) or ()
    return OpportunityFacts(
        stage=opp.stage,
        now=now,
        pipeline=opp.pipeline,
        custom_fields=opp.custom_fields or {},
        actor_role=actor.role if actor else None,
        actor_id=actor.id if actor else None,
        owner_id=opp.owner_id,
        owner_role=Role(owner) if owner is not None else None,
        account_owner_id=account_owner_id,
        account_is_named=bool(is_named),
        account_segment=segment,
        has_contact_roles=bool(has_roles),
        closed_lost_reasons=tuple(ClosedLostReason(r) for r in reasons),
        stage_requirements=await table_at(
            session, STAGE_REQUIREMENTS, requirements_version, requirements_changed_at
        ),
        **values,
    )


@cache
def locking_statements() -> Select[Any]:
    """The one statement a stage move starts with (the id bound as
    ``opportunity_id``): the opportunity's row, locked until commit
    (PostgreSQL ``FOR UPDATE OF opportunities``; SQLite's write transaction
    holds the database), with what the guards ask (``_fact_columns``), its
    funnel entry's stamps and ``locks.versions_seen`` (run by
    ``locks.locked_rows``). Built once per process (as the lead's)."""
    return (
        select(
            Opportunity,
            *_fact_columns(),
            ENTRIES.c.id,
            *stamp_columns(),
            *versions_seen(Opportunity),
        )
        .join(Account, col(Account.id) == Opportunity.account_id)
        .outerjoin(ENTRIES, ENTRIES.c.opportunity_id == Opportunity.id)
        .where(col(Opportunity.id) == bindparam("opportunity_id"))
        .with_for_update(of=Opportunity.__table__)  # type: ignore[attr-defined]
    )


def move_refusals(
    opp: Opportunity,
    facts: OpportunityFacts,
    actor: Actor,
    request: StageMoveRequest,
    *,
    fire: bool = False,
) -> list[Refusal]:
    """Every reason the move is refused: who may act, then the machine's guards.

    Where the row names who may act itself (sales acceptance: NOT_SALES_OWNER),
    its guard is the one answer to "who may act", not the permission to edit.
    ``fire``: the machine fires the transition (``StateMachine.apply``): one run
    of the guards both refuses and decides the move the use case writes.
    """
    found: list[Refusal] = []
    if not names_who_may_act(opp.stage, request.to, opp.pipeline):
        found += refusals_for(
            actor,
            Operation.MOVE_OPPORTUNITY_STAGE,
            Standing(opp.owner_id, account_owner_id=facts.account_owner_id),
        )
    machine = machine_for(opp.pipeline)
    decide = machine.apply if fire else machine.check
    return found + decide(opp.stage, request.to, facts, request)


async def available_transitions(
    session: AsyncSession,
    opp: Opportunity,
    actor: Actor,
    now: datetime | None = None,
    *,
    reason: str | None = None,
    override: bool = False,
) -> list[TransitionOption[OpportunityStage]]:
    """Each stage reachable from the opportunity's, allowed or with every reason.

    ``reason`` and ``override`` ask as the mutation would be asked: the answer
    for a move back or a SALES_OPS override depends on them.
    """
    facts = await opportunity_facts(session, opp, actor, now or utcnow())
    options = []
    for to in machine_for(opp.pipeline).reachable(opp.stage):
        request = StageMoveRequest(to=to, reason=reason, override=override)
        blocked = move_refusals(opp, facts, actor, request)
        options.append(TransitionOption(to=to, allowed=not blocked, blocked_by=blocked))
    return options


async def _check_fields(
    session: AsyncSession, opp: Opportunity, fields: Mapping[str, Any]
) -> None:
    """The supplied fields: known names, valid values, existing records.

    Refusals name the field (the API says where its input takes it).
    """
    unknown = set(fields) - STAGE_FIELDS
    if unknown:
        raise ValueError(f"not stage fields: {sorted(unknown)}")  # an edge bug
    found = validate(fields, OPPORTUNITY_RULES)
    for name, model in [(n, Contact) for n in CONTACT_FIELDS] + [
        (n, Opportunity) for n in OPPORTUNITY_FIELDS
    ]:
        record_id = fields.get(name)
        if record_id is None:
            continue
        if model is Opportunity and record_id == opp.id:
            found.append(
                Refusal.on(
                    name,
                    ErrorCode.INVALID_INPUT,
                    "An opportunity cannot point at itself.",
                )
            )
        elif await session.get(model, record_id) is None:
            found.append(
                Refusal.on(
                    name,
                    ErrorCode.NOT_FOUND,
                    f"No such record: {RecordRef(model.__name__, record_id)}.",
                )
            )
    refuse_if(found)


def _override_used(facts: OpportunityFacts, request: StageMoveRequest) -> bool:
    """Whether the allowed move needed its override (refused without it)."""
    if not request.override:
        return False
    plain = replace(request, override=False)
    machine = machine_for(facts.pipeline)
    return bool(machine.check(facts.stage, request.to, facts, plain))


async def _sourcing_rep(session: AsyncSession, opp: Opportunity) -> int | None:
    """The BDR/SDR who created the opportunity, from its creation ledger row."""
    creator = (
        await session.execute(
            select(User.id, User.role)  # type: ignore[call-overload]
            .join(TransitionRecord, TransitionRecord.actor_id == User.id)
            .where(
                TransitionRecord.record_type == RecordType.OPPORTUNITY,
                TransitionRecord.record_id == opp.id,
                TransitionRecord.from_state.is_(None),  # type: ignore[union-attr]
            )
            .limit(1)
        )
    ).one_or_none()
    if creator is None or creator.role not in SOURCING_ROLES:
        return None
    return int(creator.id)


async def _event_payload(
    session: AsyncSession,
    kind: str,
    opp: Opportunity,
    facts: OpportunityFacts,
    request: StageMoveRequest,
) -> dict[str, Any]:
    """What a stage event says, and to whom (D10)."""
    payload: dict[str, Any] = {
        "owner_id": opp.owner_id,
        "account_id": opp.account_id,
        "sales_qualification_source": facts.sales_qualification_source
        and facts.sales_qualification_source.value,
        "incremental_acv": str(facts.incremental_acv),
        "from_stage": facts.stage.value,
        "reason": request.reason,
    }
    if kind == LOST_DEAL_ALERT:
        payload |= {
            "account_is_named": facts.account_is_named,
            "account_segment": facts.account_segment.value,
            "closed_lost_reasons": [r.value for r in facts.closed_lost_reasons],
            "closed_lost_detail": facts.closed_lost_detail,
            "notify_ids": [opp.owner_id] if opp.owner_id else [],
        }
    elif kind == UNQUALIFIED_OPPORTUNITY_FEEDBACK:
        sourced_by = await _sourcing_rep(session, opp)
        payload |= {
            "sourced_by_id": sourced_by,
            "notify_ids": [i for i in (sourced_by, opp.owner_id) if i is not None],
        }
    return payload


async def _alert_recipients(
    session: AsyncSession, kind: str, payload: Mapping[str, Any]
) -> list[Recipient]:
    """Who a stage alert is addressed to (D10, ``domain.rules.notifications``)."""
    people = await managing_people(session)
    owner = await person(session, payload["owner_id"])
    if kind == LOST_DEAL_ALERT:
        return owner_and_manager(owner, people)
    sourcing_rep = await person(session, payload["sourced_by_id"])
    return unqualified_feedback_recipients(sourcing_rep, owner, people)


async def move_opportunity_stage(
    opportunity_id: int,
    request: StageMoveRequest,
    *,
    fields: Mapping[str, Any],
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Opportunity:
    """Set the given stage fields and move to ``request.to``, or refuse (D3, D9).

    All in the caller's transaction: fields, stage, effects, ledger row and
    events, or (on any refusal) nothing. The row is locked, so concurrent
    moves of one opportunity serialize: the first applies, the others see it.

    Statement budget (``tests/api/test_statement_budgets.py``): at most 5 for
    a move without alerts or a customer change — the row lock that also reads
    the guards' facts and the funnel stamps (``locking_statements``), the
    opportunity's UPDATE, the ledger row, the event, and the funnel entry's
    UPDATE when a milestone is reached; a contact or opportunity given in
    ``fields`` is looked up (one each), an alert reads its recipients. SQLite
    adds its ``BEGIN IMMEDIATE``. On PostgreSQL the four writes go as one
    statement (``bulk.update_row``): 2, when no alert's event needs its id.
    """
    now = now or utcnow()
    rows = await locked_rows(
        session, locking_statements(), {"opportunity_id": opportunity_id}
    )
    row = rows[0] if rows else None
    if row is None:
        raise Refused.one(
            ErrorCode.NOT_FOUND,
            f"No such record: {RecordRef('Opportunity', opportunity_id)}.",
            "id",
        )
    facts_end = 1 + _FACT_COUNT
    opp, entry_id, stamps = row[0], row[facts_end], tuple(row[facts_end + 1 : -2])
    check_version(opp, expected_version)
    await _check_fields(session, opp, fields)
    facts = await _facts_of(session, opp, actor, now, fields, *row[1:facts_end])
    refuse_if(move_refusals(opp, facts, actor, request, fire=True))

    write_in_bulk(session)
    record_transition(
        session,
        record_type=RecordType.OPPORTUNITY,
        record_id=opportunity_id,
        from_state=facts.stage.value,
        to_state=request.to.value,
        entered_from_at=opp.stage_changed_at,
        at=now,
        actor=actor,
        reason=request.reason,
        note=request.note,
        override=_override_used(facts, request),
        event_kind=STAGE_EVENT,
    )
    for kind in stage_events(facts, request.to):
        payload = await _event_payload(session, kind, opp, facts, request)
        event = emit(
            session, kind, RecordType.OPPORTUNITY, opportunity_id, actor, **payload
        )
        await notify(session, event, await _alert_recipients(session, kind, payload))
    # The row is locked and every changed column is known: one Core UPDATE
    # (``record_writes``); the funnel entry from the stamps read with the lock.
    await write_record(
        session,
        opp,
        {
            **fields,
            **stage_effects(facts, request.to, now),
            "stage": request.to,
            "stage_changed_at": now,
            # A new stage, a new stale clock (``domain.rules.timeouts``).
            "stale_since": None,
        },
        now=now,
    )
    if entry_id is not None:
        changes = reached_changes(stamps, milestone_of_stage(request.to), now)
        if changes:
            await update_row(session, ENTRIES, "opportunity_id", opp.id, changes)
    # Won new business makes a customer; an early reopen reverts it (D1).
    await follow_the_deal(
        session,
        opp,
        from_stage=facts.stage,
        to=request.to,
        closed_at=facts.closed_at,
        actor=actor,
        now=now,
    )
    await flush_bulk(session)
    return opp


async def request_terms_modification(
    opportunity_id: int, *, session: AsyncSession, actor: Actor
) -> Opportunity:
    """Ask to modify the standard terms (D3 rule 9): an event, or the refusals."""
    opp = await load(session, Opportunity, opportunity_id)
    on = await standing(session, owner_id=opp.owner_id, account_id=opp.account_id)
    refuse_if(
        refusals_for(actor, Operation.REQUEST_TERMS_MODIFICATION, on)
        + terms_modification_refusals(opp.incremental_acv, opp.edition)
    )
    emit(
        session,
        TERMS_MODIFICATION_REQUESTED,
        RecordType.OPPORTUNITY,
        opportunity_id,
        actor,
        owner_id=opp.owner_id,
        incremental_acv=str(opp.incremental_acv),
        edition=opp.edition,
        stage=opp.stage.value,
    )
    await session.flush()
    return opp


PIPELINE_CHANGED = "OPPORTUNITY_PIPELINE_CHANGED"


async def change_opportunity_pipeline(
    opportunity_id: int,
    to: Pipeline,
    *,
    reason: str | None,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
) -> Opportunity:
    """Move an open opportunity into another pipeline (issue 14 item 2): by
    whoever may move its stage, into a pipeline that has its stage, with a
    reason; an OPPORTUNITY_PIPELINE_CHANGED event. Its stage, history and
    stamps stay: only the moves and requirements ahead change."""
    opp = await load(session, Opportunity, opportunity_id, lock=True)
    check_version(opp, expected_version)
    on = await standing(session, owner_id=opp.owner_id, account_id=opp.account_id)
    refuse_if(
        refusals_for(actor, Operation.MOVE_OPPORTUNITY_STAGE, on)
        + pipeline_change_refusals(opp.stage, opp.pipeline, to, reason)
    )
    before = opp.pipeline
    opp.pipeline = to
    emit(
        session,
        PIPELINE_CHANGED,
        RecordType.OPPORTUNITY,
        opportunity_id,
        actor,
        from_state=before.value,
        to_state=to.value,
        stage=opp.stage.value,
        reason=(reason or "").strip(),
    )
    await session.flush()
    return opp
