"""Support hand-off (D13): pass a ticket to sales, resolve it, list the escalated.

``pass_ticket_to_sales`` gathers the facts (the account of the requester's
email, its owner, its open renewal), lets ``domain.rules.support`` decide,
turns a territory into a user with the routing rotation, creates or reuses
the lead of a "new sales quote" through ``create_lead`` (validation, the
duplicate check, scoring and events apply), and stores the hand-off with an
event (D10: an assignment) — one transaction.

A "new sales quote" lead is created RAW and unowned, like any new lead: it
is not routed by the hand-off (the requester is sent the quote process, and
routing runs when a form or a score asks for it, D8). A lead that already
has the requester's email is returned instead of a duplicate; its owner, if
any, becomes the hand-off's assignee.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import (
    ErrorCode,
    EscalationReason,
    OpportunityType,
    RecordType,
    SupportTicketKind,
)
from domain.errors import Refused, refuse_if
from domain.lifecycle.opportunity import CLOSED_STAGES
from domain.records import Account, Contact, Lead, Opportunity, SupportHandOff, User
from domain.rules.matching import email_domain, is_free_mail
from domain.rules.notifications import hand_off_recipients
from domain.rules.permissions import Actor, Operation, refusals
from domain.rules.support import (
    DEFAULT_HAND_OFF_TABLE,
    AccountFacts,
    HandOffDecision,
    HandOffTable,
    MatchedBy,
    OwnerFacts,
    RenewalFacts,
    TicketFacts,
    age_seconds,
    decide_hand_off,
    hand_off_refusals,
    may_resolve_hand_off,
    normalize_reasons,
)
from domain.rules.validation import (
    Check,
    max_length,
    normalize_email,
    required,
    valid_email,
)
from domain.services.account_matching import account_matching
from domain.services.duplicates import lock_email
from domain.services.leads import create_lead
from domain.services.loading import check_values, check_version, load
from domain.services.outbox import emit
from domain.services.recipients import managing_people, notify, person
from domain.services.routing import take_turn
from domain.services.rule_tables import rule_tables
from domain.sqltypes import as_utc, utcnow

PASSED_EVENT = "TICKET_PASSED_TO_SALES"
RESOLVED_EVENT = "SUPPORT_HAND_OFF_RESOLVED"

TICKET_RULES: dict[str, list[Check]] = {
    "requester_email": [required, valid_email, max_length(320)],
    "kind": [required],
    "ticket_reference": [max_length(120)],
}


async def _owner(session: AsyncSession, user_id: int | None) -> OwnerFacts | None:
    if user_id is None:
        return None
    user = await load(session, User, user_id)
    return OwnerFacts(
        user_id=user_id, role=user.role, active=user.active, name=user.name
    )


async def account_of_email(
    session: AsyncSession, email: str
) -> tuple[Account, MatchedBy] | None:
    """The requester's account: by email domain, else a contact with this email."""
    account = await account_matching(session, email)
    if account is not None:
        return account, "DOMAIN"
    account_id = (
        await session.execute(
            select(col(Contact.account_id))
            .where(col(Contact.email) == email)
            .order_by(col(Contact.id))
            .limit(1)
        )
    ).scalar_one_or_none()
    if account_id is None:
        return None
    return await load(session, Account, account_id), "CONTACT"


async def open_renewal(session: AsyncSession, account_id: int) -> Opportunity | None:
    """The account's upcoming open renewal: earliest close date, undated last."""
    return (
        (
            await session.execute(
                select(Opportunity)
                .where(
                    col(Opportunity.account_id) == account_id,
                    col(Opportunity.type) == OpportunityType.RENEWAL,
                    col(Opportunity.stage).not_in(CLOSED_STAGES),
                )
                .order_by(
                    col(Opportunity.close_date).is_(None),
                    col(Opportunity.close_date),
                    col(Opportunity.id),
                )
                .limit(1)
            )
        )
        .scalars()
        .first()
    )


async def _ticket_facts(
    session: AsyncSession, email: str, kind: SupportTicketKind
) -> TicketFacts:
    domain = email_domain(email) or ""
    found = await account_of_email(session, email)
    account_facts = renewal_facts = None
    if found is not None:
        account, matched_by = found
        account_facts = AccountFacts(
            id=account.id,  # type: ignore[arg-type]
            name=account.name,
            segment=account.sales_segment,
            region=account.region,
            owner=await _owner(session, account.owner_id),
            matched_by=matched_by,
            type=account.type,
        )
        if kind is SupportTicketKind.RENEWAL:
            renewal = await open_renewal(session, account.id)  # type: ignore[arg-type]
            if renewal is not None:
                renewal_facts = RenewalFacts(
                    opportunity_id=renewal.id,  # type: ignore[arg-type]
                    owner=await _owner(session, renewal.owner_id),
                    name=renewal.name,
                )
    return TicketFacts(
        kind=kind,
        domain=domain,
        free_mail=is_free_mail(
            domain, (await rule_tables(session)).scoring.free_mail_domains
        ),
        account=account_facts,
        renewal=renewal_facts,
    )


async def _quote_lead(
    session: AsyncSession, email: str, actor: Actor, table: HandOffTable
) -> tuple[Lead, bool]:
    """(lead, created): the lead that has this email, or a new Support lead.

    The email is locked before the search (``duplicates.lock_email``): two
    hand-offs of one new requester at once make one lead, the second reuses it.
    """
    await lock_email(session, email)
    existing = (
        (
            await session.execute(
                select(Lead)
                .where(col(Lead.email) == email)
                .order_by(col(Lead.id))
                .limit(1)
            )
        )
        .scalars()
        .first()
    )
    if existing is not None:
        return existing, False
    lead = await create_lead(
        {
            "email": email,
            "initial_source": table.initial_source,
            "lead_source": table.lead_source,
            "last_interesting_moment": "Support ticket: asked sales for a quote",
        },
        session=session,
        actor=actor,
    )
    return lead, True


async def _hold_referenced_rows(
    session: AsyncSession, decision: HandOffDecision
) -> None:
    """Key-share the account and opportunity the hand-off will point at, as its
    foreign keys would at insert, but before the pool (``locks``' order)."""
    for model, record_id in (
        (Account, decision.account_id),
        (Opportunity, decision.opportunity_id),
    ):
        if record_id is not None:
            await session.execute(
                select(col(model.id))
                .where(col(model.id) == record_id)
                .with_for_update(read=True, key_share=True)
            )


async def pass_ticket_to_sales(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime | None = None,
    table: HandOffTable = DEFAULT_HAND_OFF_TABLE,
) -> SupportHandOff:
    """Decide who gets a support ticket (D13), record the hand-off and its event.

    ``values``: ``requester_email``, ``kind``, optional ``reasons`` (escalation)
    and ``ticket_reference`` (the support system's ticket id).
    """
    now = now or utcnow()
    refuse_if(refusals(actor, Operation.PASS_TICKET_TO_SALES))
    check_values(values, TICKET_RULES, required_fields=("requester_email", "kind"))
    email = normalize_email(values["requester_email"])
    assert email is not None
    kind = SupportTicketKind(values["kind"])
    reasons: Sequence[EscalationReason] = normalize_reasons(values.get("reasons") or ())
    # The lock order of ``domain.services.locks``: the rule-table heads (a
    # quote lead is scored), the rows the hand-off points at, the email (a
    # quote lead), the pool last.
    await rule_tables(session, lock=True)
    facts = await _ticket_facts(session, email, kind)
    refuse_if(hand_off_refusals(facts))
    decision: HandOffDecision = decide_hand_off(facts, table)
    await _hold_referenced_rows(session, decision)
    assignee = decision.assignee_user_id
    reason = decision.reason
    lead: Lead | None = None
    lead_created = False
    if decision.new_sales_quote:
        lead, lead_created = await _quote_lead(session, email, actor, table)
        assignee = lead.owner_id
        reason += (
            " A lead was created for this email."
            if lead_created
            else " The lead with this email is reused"
            + ("; its owner takes the ticket." if assignee else ".")
        )
    if decision.pool is not None:
        assignee = await take_turn(session, decision.pool, now)
        if assignee is None:
            reason += (
                f" Nobody in {decision.pool} is available: the ticket waits unassigned."
            )
    hand_off = SupportHandOff(
        requester_email=email,
        kind=kind,
        reasons=[r.value for r in reasons],
        escalated=bool(reasons),
        ticket_reference=values.get("ticket_reference"),
        rule=decision.rule,
        reason=reason,
        pool=decision.pool,
        assignee_id=assignee,
        account_id=decision.account_id,
        opportunity_id=decision.opportunity_id,
        lead_id=lead.id if lead is not None else None,
        lead_created=lead_created,
        passed_by_id=actor.id,
        passed_at=now,
    )
    session.add(hand_off)
    await session.flush()
    event = emit(
        session,
        PASSED_EVENT,
        RecordType.SUPPORT_HAND_OFF,
        hand_off.id,  # type: ignore[arg-type]
        actor,
        ticket_kind=kind.value,
        rule=decision.rule.value,
        assignee_id=assignee,
        pool=decision.pool,
        account_id=decision.account_id,
        opportunity_id=decision.opportunity_id,
        lead_id=hand_off.lead_id,
        lead_created=lead_created,
        reasons=hand_off.reasons,
        escalated=hand_off.escalated,
    )
    # D10: the rep it was passed to, and their manager when escalated.
    told = hand_off_recipients(
        await person(session, assignee),
        await managing_people(session) if hand_off.escalated else [],
        escalated=hand_off.escalated,
    )
    await notify(session, event, told)
    await session.flush()
    return hand_off


async def resolve_hand_off(
    hand_off_id: int,
    *,
    session: AsyncSession,
    actor: Actor,
    note: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> SupportHandOff:
    """Mark a hand-off followed up and resolved: it leaves the daily list."""
    now = now or utcnow()
    hand_off = await load(session, SupportHandOff, hand_off_id, lock=True)
    check_version(hand_off, expected_version)
    refuse_if(may_resolve_hand_off(actor, hand_off.passed_by_id, hand_off.assignee_id))
    if hand_off.resolved_at is not None:
        raise Refused.one(
            ErrorCode.FINAL_STATE,
            "This hand-off was already resolved at "
            f"{hand_off.resolved_at.isoformat()}.",
            "id",
        )
    hand_off.resolved_at = now
    hand_off.resolved_by_id = actor.id
    hand_off.resolution_note = note
    emit(
        session,
        RESOLVED_EVENT,
        RecordType.SUPPORT_HAND_OFF,
        hand_off.id,  # type: ignore[arg-type]
        actor,
        escalated=hand_off.escalated,
        age_seconds=age_seconds(hand_off.passed_at, None, now),
    )
    await session.flush()
    return hand_off


@dataclass(frozen=True)
class EscalatedHandOffQuery:
    """The escalated hand-offs open at ``as_of``, optionally of one assignee."""

    as_of: datetime
    assignee_id: int | None = None

    def statement(self) -> Select[Any]:
        """The SELECT: passed by ``as_of`` and not resolved by then."""
        as_of = as_utc(self.as_of)
        stmt = select(SupportHandOff).where(
            col(SupportHandOff.escalated).is_(True),
            col(SupportHandOff.passed_at) <= as_of,
            or_(
                col(SupportHandOff.resolved_at).is_(None),
                col(SupportHandOff.resolved_at) > as_of,
            ),
        )
        if self.assignee_id is not None:
            stmt = stmt.where(col(SupportHandOff.assignee_id) == self.assignee_id)
        return stmt
