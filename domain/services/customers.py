"""Customers (D1, D10 round 2): a won NEW_BUSINESS deal makes its account a
CUSTOMER; reopening it within the window reverts the type (rules:
``domain.rules.customers``). Called in the stage move's or the creation's
transaction; each change is an event on the account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import AccountType, OpportunityStage, RecordType
from domain.lifecycle.opportunity import REOPEN_WINDOW_DAYS
from domain.records import Account, Event, Opportunity
from domain.rules.customers import customer_on_win, type_on_reopen
from domain.rules.permissions import Actor
from domain.services.loading import load
from domain.services.outbox import emit

BECAME_CUSTOMER = "ACCOUNT_BECAME_CUSTOMER"
CUSTOMER_REVERTED = "ACCOUNT_CUSTOMER_REVERTED"
Stage = OpportunityStage


async def _made_customer_from(
    session: AsyncSession, account_id: int, opportunity_id: int
) -> AccountType | None:
    """The type before, when this deal is the one that made the account a customer."""
    latest = (
        await session.execute(
            select(Event.payload)  # type: ignore[call-overload]
            .where(
                col(Event.kind) == BECAME_CUSTOMER,
                col(Event.record_type) == RecordType.ACCOUNT,
                col(Event.record_id) == account_id,
            )
            .order_by(col(Event.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if not latest or latest.get("opportunity_id") != opportunity_id:
        return None
    return AccountType(latest["previous_type"])


async def _other_won_deal(session: AsyncSession, opp: Opportunity) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    col(Opportunity.account_id) == opp.account_id,
                    col(Opportunity.id) != opp.id,
                    col(Opportunity.stage) == Stage.CLOSED_WON,
                )
            )
        )
    )


async def follow_the_deal(
    session: AsyncSession,
    opp: Opportunity,
    *,
    from_stage: Stage | None,
    to: Stage,
    closed_at: datetime | None,
    actor: Actor | None,
    now: datetime,
) -> None:
    """Make the account a customer on a win, or revert it on an early reopen."""
    if to == Stage.CLOSED_WON and from_stage != Stage.CLOSED_WON:
        account = await load(session, Account, opp.account_id, lock=True)
        if not customer_on_win(opp.type, account.type, account.customer_since):
            return
        previous = account.type
        account.type = AccountType.CUSTOMER
        account.customer_since = account.customer_since or now
        emit(
            session,
            BECAME_CUSTOMER,
            RecordType.ACCOUNT,
            account.id,  # type: ignore[arg-type]
            actor,
            opportunity_id=opp.id,
            previous_type=previous.value,
            customer_since=account.customer_since.isoformat(),
        )
    elif from_stage == Stage.CLOSED_WON and to != Stage.CLOSED_WON:
        account = await load(session, Account, opp.account_id, lock=True)
        restored = type_on_reopen(
            made_customer_from=await _made_customer_from(
                session,
                account.id,  # type: ignore[arg-type]
                opp.id,  # type: ignore[arg-type]
            ),
            account_type=account.type,
            other_won_deal=await _other_won_deal(session, opp),
            closed_at=closed_at,
            now=now,
            window_days=REOPEN_WINDOW_DAYS,
        )
        if restored is None:
            return
        account.type = restored
        account.customer_since = None
        emit(
            session,
            CUSTOMER_REVERTED,
            RecordType.ACCOUNT,
            account.id,  # type: ignore[arg-type]
            actor,
            opportunity_id=opp.id,
            type=restored.value,
        )
