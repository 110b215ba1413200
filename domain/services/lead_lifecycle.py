"""Lead lifecycle use cases (D2, D7): move a lead, say what it may do next, convert.

"May I?" (``available_transitions``) and "do it" (``transition_lead``) share
one function, ``lead_move_refusals``: the permission rule plus the machine's
guards, so the API's "why not" and the mutation's refusal can never differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import (
    AccountType,
    ActivityChannel,
    ActivityDirection,
    ErrorCode,
    LeadStatus,
    OpportunityStage,
    RecordType,
    Role,
    SalesQualificationSource,
)
from domain.errors import RecordRef, Refusal, Refused, refuse_if
from domain.lifecycle.lead import (
    INQUIRY_ENGAGEMENT_KINDS,
    LEAD_MACHINE,
    AutomaticTrigger,
    LeadFacts,
    LeadTransitionRequest,
    automatic_steps,
    names_who_may_act,
)
from domain.lifecycle.machine import TransitionOption
from domain.lifecycle.opportunity import CLOSED_STAGES
from domain.records import (
    Account,
    AccountDomain,
    Activity,
    Contact,
    Engagement,
    Event,
    Lead,
    Opportunity,
    OpportunityContactRole,
)
from domain.rules.funnel import Stamps, milestone_of_status
from domain.rules.matching import (
    email_domain,
    is_free_mail,
)
from domain.rules.notifications import conversion_recipients
from domain.rules.ownership import (
    OpportunityOwner,
    contact_owner,
    converted_opportunity_owner,
)
from domain.rules.permissions import (
    Actor,
    Operation,
    Owner,
    may_edit_lead,
    refusals_for,
)
from domain.rules.scoring import ScoringTable
from domain.rules.segmentation import RegionTable
from domain.rules.timeouts import Timeouts, timeout_on_entering
from domain.services.account_matching import matched_account
from domain.services.accounts import refresh_account_derived
from domain.services.bulk import flush_bulk, update_row, write_in_bulk
from domain.services.duplicates import lock_email
from domain.services.lead_profile import linked_account
from domain.services.ledger import record_transition
from domain.services.loading import check_version, load, require_user
from domain.services.locks import locked_rows, versions_seen
from domain.services.milestones import (
    ENTRIES,
    follow_leads,
    reached_changes,
    stamp_columns,
)
from domain.services.outbox import emit
from domain.services.ownership import owner_of, standing
from domain.services.recipients import account_team, notify, person
from domain.services.record_writes import write_record
from domain.services.rule_tables import (
    SCORING,
    TIMEOUTS,
    head_columns,
    rule_tables,
    table_at,
)
from domain.sqltypes import as_utc, utcnow

TWO_WAY_CHANNELS = (
    ActivityChannel.CALL,
    ActivityChannel.MEETING,
    ActivityChannel.WEB_CHAT,
)
STATUS_EVENT = "LEAD_STATUS_CHANGED"
CONVERTED_EVENT = "LEAD_CONVERTED"

QUALIFICATION_SOURCE_BY_ROLE = {
    Role.BDR: SalesQualificationSource.BDR_GENERATED,
    Role.SDR: SalesQualificationSource.SDR_GENERATED,
    Role.AE: SalesQualificationSource.AE_GENERATED,
    Role.SAL: SalesQualificationSource.AE_GENERATED,
}


def two_way_activities() -> Select[Any]:
    """Completed two-way activities (call, meeting, web chat, an email reply)."""
    return select(col(Activity.lead_id)).where(
        Activity.completed_at.is_not(None),  # type: ignore[union-attr]
        Activity.channel.in_(TWO_WAY_CHANNELS)  # type: ignore[attr-defined]
        | (
            (Activity.channel == ActivityChannel.EMAIL)
            & (Activity.direction == ActivityDirection.INBOUND)
        ),
    )


def _fact_columns(lead_id: Any, status_changed_at: Any) -> list[Any]:
    """What the guards ask the database about a lead, as three EXISTS columns
    (a hand-raise, one since the status changed, a completed two-way
    activity); the lead's id and status change are values or the ``leads``
    columns themselves (in the statement that locks the row)."""
    engagements = select(col(Engagement.id)).where(
        col(Engagement.lead_id) == lead_id,
        Engagement.kind.in_(INQUIRY_ENGAGEMENT_KINDS),  # type: ignore[attr-defined]
    )
    return [
        exists(engagements),
        exists(engagements.where(col(Engagement.created_at) >= status_changed_at)),
        exists(two_way_activities().where(col(Activity.lead_id) == lead_id)),
    ]


async def lead_facts(
    session: AsyncSession, lead: Lead, actor: Actor | None, now: datetime
) -> LeadFacts:
    """Snapshot what the guards need to know about a lead."""
    # One round trip for the three questions.
    has_inbound, has_new, two_way = (
        await session.execute(select(*_fact_columns(lead.id, lead.status_changed_at)))
    ).one()
    return lead_facts_of(
        lead,
        actor,
        now,
        mql_threshold=(await rule_tables(session)).scoring.mql_threshold,
        has_inbound_engagement=bool(has_inbound),
        has_engagement_since_status_change=bool(has_new),
        has_completed_two_way_activity=bool(two_way),
        contact_data_changed_since_bad_data=await contact_data_changed(session, lead),
    )


def lead_facts_of(
    lead: Lead,
    actor: Actor | None,
    now: datetime,
    *,
    mql_threshold: int,
    has_inbound_engagement: bool,
    has_engagement_since_status_change: bool,
    has_completed_two_way_activity: bool,
    contact_data_changed_since_bad_data: bool,
) -> LeadFacts:
    """The guards' facts from the lead's current values and what the caller knows
    about its engagements and activities (``lead_facts`` asks the database; a
    batch of engagements knows them already)."""
    return LeadFacts(
        status=lead.status,
        now=now,
        owner_id=lead.owner_id,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else None,
        initial_source=lead.initial_source,
        active_until=lead.active_until,
        person_score=lead.person_score,
        mql_threshold=mql_threshold,
        has_inbound_engagement=has_inbound_engagement,
        has_engagement_since_status_change=has_engagement_since_status_change,
        has_completed_two_way_activity=has_completed_two_way_activity,
        contact_data_changed_since_bad_data=contact_data_changed_since_bad_data,
        timed_out=lead.timeout_at is not None and as_utc(lead.timeout_at) <= now,
    )


def _last_status_payload(lead_id: Any) -> Select[Any]:
    """The payload of the lead's latest status event (what it was when marked)."""
    return (
        select(col(Event.payload))
        .where(
            col(Event.record_type) == RecordType.LEAD,
            col(Event.record_id) == lead_id,
            col(Event.kind) == STATUS_EVENT,
        )
        .order_by(Event.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )


def _changed_since_marked(lead: Lead, marked: dict[str, Any] | None) -> bool:
    """Whether email or phone differ from the BAD_DATA status event's."""
    if lead.status != LeadStatus.BAD_DATA:
        return False
    marked = marked or {}
    return (marked.get("email"), marked.get("phone")) != (lead.email, lead.phone)


async def contact_data_changed(session: AsyncSession, lead: Lead) -> bool:
    """Whether email or phone differ from when the lead was marked BAD_DATA."""
    if lead.status != LeadStatus.BAD_DATA:
        return False
    marked = (await session.execute(_last_status_payload(lead.id))).scalar_one_or_none()
    return _changed_since_marked(lead, marked)


_OPERATION = {False: Operation.TRANSITION_LEAD, True: Operation.CONVERT_LEAD}


def lead_move_refusals(
    lead: Lead,
    facts: LeadFacts,
    actor: Actor | None,
    request: LeadTransitionRequest,
    *,
    fire: bool = False,
) -> list[Refusal]:
    """Every reason the move is refused: who may act, then the machine's guards.

    Where the table's row names who may act itself (→ACCEPTED: NOT_OWNER), its
    guard is the one answer to "who may act", not the permission to edit.
    ``fire``: the machine fires the transition (``StateMachine.apply``) instead
    of only checking it; the same single run of the guards decides both the
    refusals and the move, so a use case that then writes the move evaluates
    its guards once.
    """
    found: list[Refusal] = []
    if (
        actor is not None
        and not request.automatic
        and not names_who_may_act(lead.status, request.to)
    ):
        found += may_edit_lead(actor, lead.owner_id, _OPERATION[request.via_conversion])
    decide = LEAD_MACHINE.apply if fire else LEAD_MACHINE.check
    return found + decide(lead.status, request.to, facts, request)


async def available_transitions(
    session: AsyncSession, lead: Lead, actor: Actor, now: datetime | None = None
) -> list[TransitionOption[LeadStatus]]:
    """Each status reachable from the lead's, allowed or with every blocking reason."""
    facts = await lead_facts(session, lead, actor, now or utcnow())
    options = []
    for to in LEAD_MACHINE.reachable(lead.status):
        blocked = lead_move_refusals(lead, facts, actor, LeadTransitionRequest(to=to))
        options.append(TransitionOption(to=to, allowed=not blocked, blocked_by=blocked))
    return options


def move_lead(
    session: AsyncSession,
    lead: Lead,
    request: LeadTransitionRequest,
    actor: Actor | None,
    now: datetime,
) -> None:
    """Apply an allowed move: ledger row, event, new status. No move made
    this way enters ACCEPTED (only ``transition_lead`` does, and starts the
    lead's timeout): the status it leaves takes its timeout along."""
    if request.to is LeadStatus.ACCEPTED:
        raise ValueError("a lead is accepted through transition_lead only")
    _record_move(session, lead, request, actor, now)
    lead.status = request.to
    lead.status_changed_at = now
    lead.timeout_at = None


def _record_move(
    session: AsyncSession,
    lead: Lead,
    request: LeadTransitionRequest,
    actor: Actor | None,
    now: datetime,
) -> None:
    """The ledger row and the event of an allowed move (the lead unchanged)."""
    record_transition(
        session,
        record_type=RecordType.LEAD,
        record_id=lead.id,  # type: ignore[arg-type]
        from_state=lead.status.value,
        to_state=request.to.value,
        entered_from_at=lead.status_changed_at,
        at=now,
        actor=actor,
        reason=request.reason,
        note=request.note,
        event_kind=STATUS_EVENT,
        automatic=request.automatic,
        purchase_reference=request.purchase_reference,
        # BAD_DATA -> RAW needs to know what the contact data was when marked.
        email=lead.email,
        phone=lead.phone,
    )


async def transition_lead(
    lead_id: int,
    request: LeadTransitionRequest,
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Lead:
    """Move a lead to another status, or refuse with every reason (D2, D9).

    The lead's row is locked for the transaction, so concurrent moves of the
    same lead serialize: the first applies, the others see its result.

    Statement budget (``tests/api/test_statement_budgets.py``): at most 5 —
    the row lock that also reads the guards' facts and the funnel entry
    (``locking_statements``), the lead's UPDATE, the ledger row, the event,
    and the funnel entry's UPDATE only when a milestone is reached; a refusal
    costs the first one only. SQLite adds its ``BEGIN IMMEDIATE``. On
    PostgreSQL the four writes go as one statement (``bulk.update_row``): 2.
    """
    now = now or utcnow()
    lead, facts, timeouts, stamps = await _locked_for_move(session, lead_id, actor, now)
    check_version(lead, expected_version)
    refuse_if(lead_move_refusals(lead, facts, actor, request, fire=True))
    # The row is locked and the changed columns are known: one Core UPDATE
    # (``record_writes``), the ledger row and the event by one INSERT each
    # (``bulk``), the funnel entry from the stamps read with the lock; on
    # PostgreSQL the four go as one statement (``bulk.update_row``).
    write_in_bulk(session)
    _record_move(session, lead, request, actor, now)
    await write_record(
        session,
        lead,
        {
            "status": request.to,
            "status_changed_at": now,
            "timeout_at": timeout_on_entering(timeouts, request.to, now),
        },
        now=now,
    )
    if stamps is not None:
        await _stamp_entry(session, lead, stamps)
    await flush_bulk(session)
    if stamps is None:
        # No entry (a lead from before funnel entries): the hook's way makes one.
        await session.run_sync(follow_leads, [lead], new=True)
    return lead


@cache
def locking_statements() -> Select[Any]:
    """The one statement a move starts with (the lead's id bound as
    ``lead_id``): the lead's row, locked until commit (PostgreSQL ``FOR UPDATE
    OF leads``; SQLite's write transaction holds the database), with what the
    guards ask (``_fact_columns``), the BAD_DATA mark's payload (only for a
    lead in BAD_DATA), the scoring and timeouts tables' heads and the funnel
    entry's stamps,
    and ``locks.versions_seen`` (run by ``locks.locked_rows``: once more after
    waiting behind another writer of the lead).

    Built once per process: building it and its cache key cost more than
    running it (measured ~1 ms a move)."""
    version, changed_at = head_columns(SCORING)
    marked = _last_status_payload(Lead.id).scalar_subquery()
    return (
        select(
            Lead,
            *_fact_columns(Lead.id, Lead.status_changed_at),
            case((col(Lead.status) == LeadStatus.BAD_DATA, marked)),
            version,
            changed_at,
            *head_columns(TIMEOUTS),
            ENTRIES.c.lead_id,
            *stamp_columns(),
            *versions_seen(Lead),
        )
        .outerjoin(ENTRIES, ENTRIES.c.lead_id == Lead.id)
        .where(col(Lead.id) == bindparam("lead_id"))
        .with_for_update(of=Lead.__table__)  # type: ignore[attr-defined]
    )


async def _locked_for_move(
    session: AsyncSession, lead_id: int, actor: Actor | None, now: datetime
) -> tuple[Lead, LeadFacts, Timeouts, Stamps | None]:
    """The lead (locked), the guards' facts, the timeouts table in force and
    its funnel stamps (None: no entry yet), from ``locking_statements``;
    NOT_FOUND when there is no lead."""
    rows = await locked_rows(session, locking_statements(), {"lead_id": lead_id})
    row = rows[0] if rows else None
    if row is None:
        raise Refused.one(
            ErrorCode.NOT_FOUND, f"No such record: {RecordRef('Lead', lead_id)}.", "id"
        )
    lead, has_inbound, has_new, two_way, marked, version, changed_at = row[:7]
    scoring: ScoringTable = await table_at(session, SCORING, version, changed_at)
    timeouts: Timeouts = await table_at(session, TIMEOUTS, *row[7:9])
    facts = lead_facts_of(
        lead,
        actor,
        now,
        mql_threshold=scoring.mql_threshold,
        has_inbound_engagement=bool(has_inbound),
        has_engagement_since_status_change=bool(has_new),
        has_completed_two_way_activity=bool(two_way),
        contact_data_changed_since_bad_data=_changed_since_marked(lead, marked),
    )
    entry_lead_id, *stamps = row[9:-2]
    return lead, facts, timeouts, tuple(stamps) if entry_lead_id is not None else None


async def _stamp_entry(session: AsyncSession, lead: Lead, stamps: Stamps) -> None:
    """The funnel entry after a move written past the flush hook: the columns
    the milestone reached changes, nothing when it reaches none."""
    changes = reached_changes(
        stamps, milestone_of_status(lead.status), lead.status_changed_at
    )
    if changes:
        await update_row(session, ENTRIES, "lead_id", lead.id, changes)


async def advance_automatically(
    session: AsyncSession,
    lead: Lead,
    trigger: AutomaticTrigger,
    *,
    actor: Actor | None,
    reason: str,
    now: datetime | None = None,
) -> list[LeadStatus]:
    """The automatic move ``trigger`` makes, if the lead machine has one that
    applies (``automatic_steps``). Returns the statuses entered."""
    if not LEAD_MACHINE.automatic_rules(lead.status, trigger):
        return []
    now = now or utcnow()
    facts = await lead_facts(session, lead, actor, now)
    path = apply_automatic_moves(
        session, lead, trigger, facts=facts, actor=actor, reason=reason, now=now
    )
    if path:
        await session.flush()
    return path


def apply_automatic_moves(
    session: AsyncSession,
    lead: Lead,
    trigger: AutomaticTrigger,
    *,
    facts: LeadFacts,
    actor: Actor | None,
    reason: str,
    now: datetime,
    note: str | None = None,
) -> list[LeadStatus]:
    """``advance_automatically`` with the lead's facts already known: the moves
    (ledger rows and events added to the session, not flushed), or none."""
    # The machine decided every step (``automatic_steps`` fires them): the
    # moves are written without running the guards again.
    steps = automatic_steps(lead.status, trigger, facts, reason, note)
    for step in steps:
        move_lead(session, lead, step.request, actor, now)
    return [step.request.to for step in steps]


# --- conversion (D7) --------------------------------------------------------------


@dataclass
class Conversion:
    """What a lead became."""

    lead: Lead
    account: Account
    contact: Contact
    opportunity: Opportunity | None

    def remembered(self) -> dict[str, Any]:
        """The ids an idempotency key keeps of this conversion (in field order)."""
        opportunity_id = self.opportunity.id if self.opportunity else None
        return {
            "record_ids": [self.lead.id, self.account.id, self.contact.id]
            + ([opportunity_id] if opportunity_id else [])
        }


async def recalled_conversion(session: AsyncSession, ids: list[int]) -> Conversion:
    """A remembered conversion (``Conversion.remembered``) loaded again."""
    return Conversion(
        lead=await load(session, Lead, ids[0]),
        account=await load(session, Account, ids[1]),
        contact=await load(session, Contact, ids[2]),
        opportunity=await load(session, Opportunity, ids[3]) if len(ids) > 3 else None,
    )


async def _new_account(
    session: AsyncSession, lead: Lead, owner_id: int, regions: RegionTable
) -> Account:
    name = (
        (lead.company or "").strip()
        or " ".join(p for p in (lead.first_name, lead.last_name) if p)
        or (lead.email or f"Lead {lead.id}")
    )
    account = Account(
        name=name,
        normalized_name="",
        type=AccountType.PROSPECT,
        number_of_employees=lead.number_of_employees,
        billing_street=lead.street,
        billing_city=lead.city,
        billing_state=lead.state,
        billing_postal_code=lead.postal_code,
        billing_country=lead.country,
        is_public_sector=lead.is_public_sector,
        owner_id=owner_id,
        account_source=lead.lead_source or lead.initial_source,
    )
    refresh_account_derived(account, regions)
    session.add(account)
    await session.flush()
    domain = email_domain(lead.email)
    free_mail = (await rule_tables(session)).scoring.free_mail_domains
    if domain and not is_free_mail(domain, free_mail):
        taken = await session.scalar(
            select(
                exists(
                    select(col(AccountDomain.id)).where(
                        col(AccountDomain.domain) == domain
                    )
                )
            )
        )
        if not taken:
            session.add(AccountDomain(account_id=account.id, domain=domain))  # type: ignore[arg-type]
    return account


async def _contact_for(
    session: AsyncSession, lead: Lead, account: Account, actor: Actor
) -> Contact:
    if lead.email:
        # The email's lock (after the lead's row, ``domain.services.locks``):
        # two conversions of one email into the account make one contact.
        await lock_email(session, lead.email)
        existing = (
            (
                await session.execute(
                    select(Contact).where(
                        col(Contact.account_id) == account.id,
                        col(Contact.email) == lead.email,
                    )
                )
            )
            .scalars()
            .first()
        )
        if existing is not None:
            return existing
    owner_id = contact_owner(
        await owner_of(session, account.owner_id), lead.owner_id or actor.id
    )
    contact = Contact(
        first_name=lead.first_name,
        last_name=lead.last_name
        or (lead.email or "").split("@")[0]
        or f"Lead {lead.id}",
        email=lead.email,
        title=lead.title,
        phone=lead.phone,
        mailing_street=lead.street,
        mailing_city=lead.city,
        mailing_state=lead.state,
        mailing_postal_code=lead.postal_code,
        mailing_country=lead.country,
        account_id=account.id,  # type: ignore[arg-type]
        owner_id=owner_id,
        initial_source=lead.initial_source,
        lead_source=lead.lead_source,
    )
    session.add(contact)
    await session.flush()
    return contact


async def convert_lead(
    lead_id: int,
    *,
    session: AsyncSession,
    actor: Actor,
    account_id: int | None = None,
    opportunity_id: int | None = None,
    create_opportunity: bool = True,
    opportunity_name: str | None = None,
    owner_id: int | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Conversion:
    """Turn a lead into an account, a contact and an opportunity, atomically (D7)."""
    now = now or utcnow()
    # The tables first (a new account's region), then the lead's row.
    regions = (await rule_tables(session, lock=True)).regions
    lead = await load(session, Lead, lead_id, lock=True)
    check_version(lead, expected_version)
    if lead.converted_at is not None:
        raise Refused.one(
            ErrorCode.ALREADY_CONVERTED,
            f"The lead was already converted on {lead.converted_at:%Y-%m-%d}.",
        )
    request = LeadTransitionRequest(
        to=LeadStatus.QUALIFIED, reason="Converted", via_conversion=True
    )
    facts = await lead_facts(session, lead, actor, now)
    # Fired once: the move written below is the one decided here.
    refuse_if(lead_move_refusals(lead, facts, actor, request, fire=True))
    await require_user(session, owner_id, "ownerId")

    found: Account | None
    if account_id is not None:
        found = await load(session, Account, account_id, field="accountId")
    else:
        # The account the lead is linked to (by routing or by hand) comes first.
        found = await linked_account(session, lead) or await matched_account(
            session, lead
        )
    if found is not None:
        on = await standing(session, owner_id=found.owner_id, account_id=found.id)
        refuse_if(refusals_for(actor, Operation.CONVERT_INTO_ACCOUNT, on))
    deal_owner: OpportunityOwner | None = None
    if opportunity_id is None and create_opportunity:
        # Who takes the new opportunity (D7): decided before anything is written.
        decided = converted_opportunity_owner(
            await owner_of(session, found.owner_id) if found else None,
            await owner_of(session, owner_id),
            Owner(actor.id, actor.role),
        )
        if isinstance(decided, list):
            refuse_if(decided)
        else:
            deal_owner = decided
    # A new account goes to the sales rep who takes the deal (else as before).
    account = found or await _new_account(
        session,
        lead,
        deal_owner.user_id if deal_owner else lead.owner_id or actor.id,
        regions,
    )
    contact = await _contact_for(session, lead, account, actor)

    opportunity: Opportunity | None = None
    if opportunity_id is not None:
        opportunity = await load(
            session, Opportunity, opportunity_id, field="opportunityId"
        )
        _refuse_unattachable(opportunity, account)
        on = await standing(
            session, owner_id=opportunity.owner_id, account_id=account.id
        )
        refuse_if(refusals_for(actor, Operation.CONVERT_INTO_OPPORTUNITY, on))
        await _add_contact_role(session, opportunity, contact, primary=False)
    elif create_opportunity:
        opportunity = Opportunity(
            name=(opportunity_name or "").strip() or f"{account.name} - New Business",
            account_id=account.id,  # type: ignore[arg-type]
            owner_id=deal_owner.user_id,  # type: ignore[union-attr]
            stage=OpportunityStage.PENDING_ACCEPTANCE,
            created_at=now,
            updated_at=now,
            stage_changed_at=now,
            sales_qualification_source=QUALIFICATION_SOURCE_BY_ROLE.get(actor.role),
            primary_contact_id=contact.id,
            initial_source=lead.initial_source,
            # The opportunity goes on with the lead's funnel entry and campaign.
            lead_id=lead.id,
            campaign_id=lead.campaign_id,
        )
        session.add(opportunity)
        await session.flush()
        await _add_contact_role(session, opportunity, contact, primary=True)
        record_transition(
            session,
            record_type=RecordType.OPPORTUNITY,
            record_id=opportunity.id,  # type: ignore[arg-type]
            from_state=None,
            to_state=OpportunityStage.PENDING_ACCEPTANCE.value,
            entered_from_at=None,
            at=now,
            actor=actor,
            reason="Created by converting its lead",
            event_kind="OPPORTUNITY_CREATED",
        )

    # Activities and engagements stay reachable from the new contact.
    for model in (Activity, Engagement):
        await session.execute(
            update(model)
            .where(col(model.lead_id) == lead.id)
            .values(contact_id=contact.id)
        )
    move_lead(session, lead, request, actor, now)
    lead.converted_at = now
    lead.converted_account_id = account.id
    lead.converted_contact_id = contact.id
    lead.converted_opportunity_id = opportunity.id if opportunity else None
    event = emit(
        session,
        CONVERTED_EVENT,
        RecordType.LEAD,
        lead.id,  # type: ignore[arg-type]
        actor,
        account_id=account.id,
        contact_id=contact.id,
        opportunity_id=opportunity.id if opportunity else None,
        attached_to_existing_opportunity=opportunity_id is not None,
        opportunity_owner_id=deal_owner.user_id if deal_owner else None,
        opportunity_owner_rule=deal_owner.rule if deal_owner else None,
        assignee_overruled=bool(
            deal_owner and owner_id is not None and owner_id != deal_owner.user_id
        ),
    )
    # D10: every owner on the account hears of it (attaching especially).
    told = conversion_recipients(
        await person(session, account.owner_id),
        await person(session, opportunity.owner_id if opportunity else None),
        await account_team(session, account.id),  # type: ignore[arg-type]
        actor.id,
    )
    await notify(session, event, told)
    await session.flush()
    return Conversion(
        lead=lead, account=account, contact=contact, opportunity=opportunity
    )


def _refuse_unattachable(opportunity: Opportunity, account: Account) -> None:
    found = []
    if opportunity.account_id != account.id:
        found.append(
            Refusal.on(
                "opportunity_id",
                ErrorCode.INVALID_INPUT,
                f"Opportunity {RecordRef.to(opportunity)} belongs to another account.",
            )
        )
    if opportunity.stage in CLOSED_STAGES:
        found.append(
            Refusal.on(
                "opportunity_id",
                ErrorCode.INVALID_INPUT,
                f"Opportunity {RecordRef.to(opportunity)} is closed; attach to an "
                "open one.",
            )
        )
    refuse_if(found)


async def _add_contact_role(
    session: AsyncSession, opportunity: Opportunity, contact: Contact, *, primary: bool
) -> None:
    existing = await session.scalar(
        select(
            exists(
                select(col(OpportunityContactRole.id)).where(
                    col(OpportunityContactRole.opportunity_id) == opportunity.id,
                    col(OpportunityContactRole.contact_id) == contact.id,
                )
            )
        )
    )
    if not existing:
        session.add(
            OpportunityContactRole(
                opportunity_id=opportunity.id,  # type: ignore[arg-type]
                contact_id=contact.id,  # type: ignore[arg-type]
                is_primary=primary,
            )
        )
