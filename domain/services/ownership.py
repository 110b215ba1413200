"""Record ownership (D8, D10): owner changes, adoptions, lead ownership transfers.

The rules are ``domain.rules.permissions`` (who may) and
``domain.rules.notifications`` (who is told); this module loads what they
need and writes the events, in the caller's transaction:

- every owner change made by a person is a ``<RECORD>_ASSIGNED`` event
  (``LEAD_ASSIGNED``, ``ACCOUNT_ASSIGNED``, ``CONTACT_ASSIGNED``,
  ``OPPORTUNITY_ASSIGNED``) with ``owner_id``, ``previous_owner_id`` and
  ``via`` (``UPDATE`` or ``TRANSFER``), addressed to the new and the previous
  owner (not to whoever made the change);
- a record leaving the Sales Admin placeholder raises the alert
  ``SALES_ADMIN_RECORD_ADOPTED`` to SALES_OPS.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, RecordType, Role
from domain.errors import RecordRef, Refused, refuse_if
from domain.lifecycle.lead import converted_lead_refusals
from domain.records import Account, AccountTeamMember, Lead, User
from domain.rules.notifications import (
    SALES_ADMIN_RECORD_ADOPTED,
    Person,
    adoption_recipients,
    owner_change_recipients,
)
from domain.rules.permissions import (
    Actor,
    Operation,
    Owner,
    Standing,
    is_adoption,
    is_placeholder,
    may_change_lead_owner,
    refusals_for,
)
from domain.services.loading import check_version, load
from domain.services.outbox import address, emit

UPDATE = "UPDATE"
TRANSFER = "TRANSFER"


def assigned_event(record_type: RecordType) -> str:
    """The event kind of an owner change: LEAD_ASSIGNED, ACCOUNT_ASSIGNED, …"""
    return f"{record_type.value}_ASSIGNED"


async def owner_of(session: AsyncSession, owner_id: int | None) -> Owner | None:
    """The current owner as the ownership rules see them."""
    if owner_id is None:
        return None
    user = await session.get(User, owner_id)
    if user is None:
        return None
    return Owner(user.id, user.role, user.active)  # type: ignore[arg-type]


async def standing(
    session: AsyncSession, *, owner_id: int | None, account_id: int | None
) -> Standing:
    """What the permission table needs to know of a record: its owner (the
    Sales Admin placeholder?), its account's owner and team."""
    owner = await owner_of(session, owner_id)
    account_owner_id: int | None = None
    team: frozenset[int] = frozenset()
    if account_id is not None:
        account_owner_id = await session.scalar(
            select(col(Account.owner_id)).where(col(Account.id) == account_id)
        )
        team = frozenset(
            (
                await session.scalars(
                    select(col(AccountTeamMember.user_id)).where(
                        col(AccountTeamMember.account_id) == account_id
                    )
                )
            ).all()
        )
    return Standing(owner_id, is_placeholder(owner), account_owner_id, team)


async def may_place_on(
    session: AsyncSession, actor: Actor, account_id: int, operation: Operation
) -> None:
    """A record goes onto an account only when the table lets the actor write
    there (``operation``: CREATE_DEAL_ON_ACCOUNT, MOVE_DEAL_TO_ACCOUNT,
    MOVE_CONTACT_TO_ACCOUNT); refused with FORBIDDEN, or NOT_FOUND on accountId."""
    account = await load(session, Account, account_id, field="accountId")
    on = await standing(session, owner_id=account.owner_id, account_id=account.id)
    refuse_if(refusals_for(actor, operation, on))


async def record_owner_change(
    session: AsyncSession,
    *,
    record_type: RecordType,
    record_id: int,
    actor: Actor,
    previous: Owner | None,
    new_owner_id: int | None,
    via: str = UPDATE,
    reason: str | None = None,
) -> None:
    """Write the assignment event, and the adoption alert when it is one (D10)."""
    payload: dict[str, Any] = {
        "owner_id": new_owner_id,
        "previous_owner_id": previous.id if previous else None,
        "via": via,
    }
    if reason is not None:
        payload["reason"] = reason
    event = emit(
        session, assigned_event(record_type), record_type, record_id, actor, **payload
    )
    told = owner_change_recipients(
        new_owner_id,
        previous.id if previous else None,
        actor.id,
        previous_is_placeholder=is_placeholder(previous),
        new_is_placeholder=is_placeholder(await owner_of(session, new_owner_id)),
    )
    await address(session, event, [(r.user_id, r.capacity) for r in told])
    if not is_adoption(previous, new_owner_id):
        return
    alert = emit(
        session,
        SALES_ADMIN_RECORD_ADOPTED,
        record_type,
        record_id,
        actor,
        previous_owner_id=previous.id if previous else None,
        owner_id=new_owner_id,
        adopted_by_id=actor.id,
    )
    rows = (
        await session.execute(
            select(col(User.id), col(User.role), col(User.active)).where(
                col(User.role) == Role.SALES_OPS
            )
        )
    ).all()
    ops = adoption_recipients([Person(i, r, a) for i, r, a in rows], actor.id)  # type: ignore[arg-type]
    await address(session, alert, [(r.user_id, r.capacity) for r in ops])


async def transfer_lead_ownership(
    lead_id: int,
    to_user_id: int,
    *,
    session: AsyncSession,
    actor: Actor,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Lead:
    """Hand a lead to another user (D8): a BDR's lead by that BDR or SALES_OPS.

    The new owner must be an active user other than the current owner; a
    converted lead is read-only.
    """
    lead = await load(session, Lead, lead_id, lock=True)
    check_version(lead, expected_version)
    refuse_if(converted_lead_refusals(lead.id, lead.converted_at))
    to_user = await load(session, User, to_user_id, field="toUserId")
    previous = await owner_of(session, lead.owner_id)
    refuse_if(may_change_lead_owner(actor, previous, to_user_id))
    if to_user_id == lead.owner_id:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"User {RecordRef.to(to_user)} already owns this lead.",
            "toUserId",
        )
    if not to_user.active:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"User {RecordRef.to(to_user)} is inactive and gets no new work.",
            "toUserId",
        )
    lead.owner_id = to_user_id
    await record_owner_change(
        session,
        record_type=RecordType.LEAD,
        record_id=lead.id,  # type: ignore[arg-type]
        actor=actor,
        previous=previous,
        new_owner_id=to_user_id,
        via=TRANSFER,
        reason=reason,
    )
    await session.flush()
    return lead
