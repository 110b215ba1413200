"""Which records a list shows: each list's filter criteria, as a SELECT.

One query class per record kind (``LeadQuery``, ``AccountQuery``…); its
``statement()`` is what ``domain.services.paging`` pages and counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlmodel import col

from domain.enums import (
    AccountType,
    ActivityChannel,
    CampaignChannel,
    LeadStatus,
    OpportunityStage,
    OpportunityType,
    Pipeline,
    RecordType,
    Region,
    Role,
    SalesSegment,
)
from domain.records import (
    Account,
    Activity,
    Campaign,
    Contact,
    Event,
    EventRecipient,
    Lead,
    Opportunity,
    User,
)
from domain.services.custom_fields import CustomCriterion, criterion_conditions
from domain.sqltypes import utcnow


def _contains(columns: Sequence[Any], text: str) -> ColumnElement[bool]:
    needle = f"%{text.strip().lower()}%"
    return or_(*(func.lower(c).like(needle) for c in columns))


def _custom(model: Any, criteria: Sequence[CustomCriterion]) -> list[Any]:
    """Custom field criteria (issue 14 item 3) on the model's JSON column."""
    column = model.__table__.c.custom_fields
    return [
        c for criterion in criteria for c in criterion_conditions(column, criterion)
    ]


def _created(model: Any, after: datetime | None, before: datetime | None) -> list[Any]:
    found = []
    if after is not None:
        found.append(model.created_at >= after)
    if before is not None:
        found.append(model.created_at < before)
    return found


@dataclass(frozen=True)
class LeadQuery:
    """Which leads to list (every criterion is optional; all must hold)."""

    status: Sequence[LeadStatus] = ()
    owner_id: int | None = None
    unowned: bool | None = None
    segment: Sequence[SalesSegment] = ()
    region: Sequence[Region] = ()
    initial_source: str | None = None
    score_at_least: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None
    sla_breached: bool | None = None
    sla_met: bool | None = None
    timeout_before: datetime | None = None
    custom: Sequence[CustomCriterion] = ()
    now: datetime = field(default_factory=utcnow)

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Lead)
        if self.status:
            stmt = stmt.where(Lead.status.in_(self.status))  # type: ignore[attr-defined]
        if self.owner_id is not None:
            stmt = stmt.where(col(Lead.owner_id) == self.owner_id)
        if self.unowned is not None:
            stmt = stmt.where(
                Lead.owner_id.is_(None) if self.unowned else Lead.owner_id.is_not(None)  # type: ignore[union-attr]
            )
        if self.segment:
            stmt = stmt.where(Lead.sales_segment.in_(self.segment))  # type: ignore[attr-defined]
        if self.region:
            stmt = stmt.where(Lead.region.in_(self.region))  # type: ignore[union-attr]
        if self.initial_source is not None:
            stmt = stmt.where(col(Lead.initial_source) == self.initial_source)
        if self.score_at_least is not None:
            stmt = stmt.where(col(Lead.person_score) >= self.score_at_least)
        stmt = stmt.where(*_created(Lead, self.created_after, self.created_before))
        if self.search:
            stmt = stmt.where(
                _contains(
                    [Lead.first_name, Lead.last_name, Lead.email, Lead.company],
                    self.search,
                )
            )
        if self.sla_breached is not None or self.sla_met is not None:
            # The SQL twin of domain.rules.sla.sla_flags (tests hold them equal).
            due, met = Lead.sla_due_at, Lead.sla_met_at
            on_time = and_(met.is_not(None), met <= due)  # type: ignore[union-attr, operator, arg-type]
            late = and_(met.is_not(None), met > due)  # type: ignore[union-attr, operator, arg-type]
            overdue = and_(met.is_(None), due < self.now)  # type: ignore[union-attr, operator, arg-type]
            stmt = stmt.where(due.is_not(None))  # type: ignore[union-attr]
            if self.sla_breached is not None:
                breached = or_(late, overdue)
                stmt = stmt.where(breached if self.sla_breached else ~breached)
            if self.sla_met is not None:
                stmt = stmt.where(on_time if self.sla_met else ~on_time)
        if self.timeout_before is not None:
            stmt = stmt.where(col(Lead.timeout_at) < self.timeout_before)
        return stmt.where(*_custom(Lead, self.custom))


@dataclass(frozen=True)
class AccountQuery:
    """Which accounts to list."""

    owner_id: int | None = None
    type: Sequence[AccountType] = ()
    segment: Sequence[SalesSegment] = ()
    region: Sequence[Region] = ()
    is_named: bool | None = None
    parent_account_id: int | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    custom: Sequence[CustomCriterion] = ()

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Account).where(*_custom(Account, self.custom))
        if self.owner_id is not None:
            stmt = stmt.where(col(Account.owner_id) == self.owner_id)
        if self.type:
            stmt = stmt.where(Account.type.in_(self.type))  # type: ignore[attr-defined]
        if self.segment:
            stmt = stmt.where(Account.sales_segment.in_(self.segment))  # type: ignore[attr-defined]
        if self.region:
            stmt = stmt.where(Account.region.in_(self.region))  # type: ignore[union-attr]
        if self.is_named is not None:
            stmt = stmt.where(col(Account.is_named) == self.is_named)
        if self.parent_account_id is not None:
            stmt = stmt.where(col(Account.parent_account_id) == self.parent_account_id)
        if self.search:
            stmt = stmt.where(_contains([Account.name], self.search))
        return stmt.where(*_created(Account, self.created_after, self.created_before))


@dataclass(frozen=True)
class ContactQuery:
    """Which contacts to list."""

    account_id: int | None = None
    owner_id: int | None = None
    initial_source: str | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Contact)
        if self.account_id is not None:
            stmt = stmt.where(col(Contact.account_id) == self.account_id)
        if self.owner_id is not None:
            stmt = stmt.where(col(Contact.owner_id) == self.owner_id)
        if self.initial_source is not None:
            stmt = stmt.where(col(Contact.initial_source) == self.initial_source)
        if self.search:
            stmt = stmt.where(
                _contains(
                    [Contact.first_name, Contact.last_name, Contact.email], self.search
                )
            )
        return stmt.where(*_created(Contact, self.created_after, self.created_before))


@dataclass(frozen=True)
class OpportunityQuery:
    """Which opportunities to list."""

    stage: Sequence[OpportunityStage] = ()
    owner_id: int | None = None
    account_id: int | None = None
    type: Sequence[OpportunityType] = ()
    sales_qualified: bool | None = None
    pipeline: Sequence[Pipeline] = ()
    stale: bool | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    custom: Sequence[CustomCriterion] = ()

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Opportunity).where(*_custom(Opportunity, self.custom))
        if self.stage:
            stmt = stmt.where(Opportunity.stage.in_(self.stage))  # type: ignore[attr-defined]
        if self.owner_id is not None:
            stmt = stmt.where(col(Opportunity.owner_id) == self.owner_id)
        if self.account_id is not None:
            stmt = stmt.where(col(Opportunity.account_id) == self.account_id)
        if self.type:
            stmt = stmt.where(Opportunity.type.in_(self.type))  # type: ignore[attr-defined]
        if self.sales_qualified is not None:
            stmt = stmt.where(col(Opportunity.sales_qualified) == self.sales_qualified)
        if self.pipeline:
            stmt = stmt.where(Opportunity.pipeline.in_(self.pipeline))  # type: ignore[attr-defined]
        if self.stale is not None:
            flagged = col(Opportunity.stale_since).is_not(None)
            stmt = stmt.where(flagged if self.stale else ~flagged)
        if self.search:
            stmt = stmt.where(_contains([Opportunity.name], self.search))
        return stmt.where(
            *_created(Opportunity, self.created_after, self.created_before)
        )


@dataclass(frozen=True)
class ActivityQuery:
    """Which activities to list."""

    lead_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None
    opportunity_id: int | None = None
    owner_id: int | None = None
    channel: Sequence[ActivityChannel] = ()
    completed: bool | None = None

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Activity)
        for column, value in (
            (Activity.lead_id, self.lead_id),
            (Activity.contact_id, self.contact_id),
            (Activity.account_id, self.account_id),
            (Activity.opportunity_id, self.opportunity_id),
            (Activity.owner_id, self.owner_id),
        ):
            if value is not None:
                stmt = stmt.where(col(column) == value)
        if self.channel:
            stmt = stmt.where(Activity.channel.in_(self.channel))  # type: ignore[attr-defined]
        if self.completed is not None:
            done = Activity.completed_at.is_not(None)  # type: ignore[union-attr]
            stmt = stmt.where(done if self.completed else ~done)
        return stmt


@dataclass(frozen=True)
class UserQuery:
    """Which users to list."""

    role: Sequence[Role] = ()
    region: Sequence[Region] = ()
    active: bool | None = None
    search: str | None = None
    # Emails are private (``permissions.private_reader``): the search looks in
    # other users' emails only for a reader who may see them all (None).
    reader_id: int | None = None

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(User)
        if self.role:
            stmt = stmt.where(User.role.in_(self.role))  # type: ignore[attr-defined]
        if self.region:
            stmt = stmt.where(User.region.in_(self.region))  # type: ignore[union-attr]
        if self.active is not None:
            stmt = stmt.where(col(User.active) == self.active)
        if self.search and self.reader_id is None:
            stmt = stmt.where(_contains([User.name, User.email], self.search))
        elif self.search:
            own_email = _contains([User.email], self.search) & (
                col(User.id) == self.reader_id
            )
            stmt = stmt.where(_contains([User.name], self.search) | own_email)
        return stmt


@dataclass(frozen=True)
class CampaignQuery:
    """Which campaigns to list."""

    channel: Sequence[CampaignChannel] = ()
    search: str | None = None

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Campaign)
        if self.channel:
            stmt = stmt.where(Campaign.channel.in_(self.channel))  # type: ignore[attr-defined]
        if self.search:
            stmt = stmt.where(_contains([Campaign.name], self.search))
        return stmt


@dataclass(frozen=True)
class EventQuery:
    """Which events to list (D10)."""

    kinds: Sequence[str] = ()
    record: tuple[RecordType, int] | None = None
    recipient_id: int | None = None
    actor_id: int | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None
    # Events addressed to others are hidden from this user (None: from nobody;
    # ``permissions.private_reader``); events addressed to nobody are open.
    reader_id: int | None = None

    def statement(self) -> Select[Any]:
        """The SELECT for these criteria."""
        stmt = select(Event)
        if self.reader_id is not None:
            addressed = select(col(EventRecipient.id)).where(
                col(EventRecipient.event_id) == Event.id
            )
            stmt = stmt.where(
                ~exists(addressed)
                | exists(addressed.where(col(EventRecipient.user_id) == self.reader_id))
            )
        if self.kinds:
            stmt = stmt.where(Event.kind.in_(self.kinds))  # type: ignore[attr-defined]
        if self.record is not None:
            record_type, record_id = self.record
            stmt = stmt.where(
                col(Event.record_type) == record_type, col(Event.record_id) == record_id
            )
        if self.recipient_id is not None:
            stmt = stmt.where(
                Event.id.in_(  # type: ignore[union-attr]
                    select(col(EventRecipient.event_id)).where(
                        col(EventRecipient.user_id) == self.recipient_id
                    )
                )
            )
        if self.actor_id is not None:
            stmt = stmt.where(col(Event.actor_id) == self.actor_id)
        if self.occurred_after is not None:
            stmt = stmt.where(col(Event.occurred_at) >= self.occurred_after)
        if self.occurred_before is not None:
            stmt = stmt.where(col(Event.occurred_at) < self.occurred_before)
        return stmt
