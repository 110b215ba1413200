"""The account team (D1): users helping on an account besides its owner.

The handbook's "GitLab Team" on an account: e.g. an SDR assigned to help with
outreach, the Customer Success manager, a second SAL. Notifications about the
account go to them (``domain.rules.notifications``). Who may change the team:
whoever may change the account (EDIT_ACCOUNT_TEAM in the permission table).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, Role
from domain.errors import RecordRef, Refused, refuse_if
from domain.records import Account, AccountTeamMember, User
from domain.rules.permissions import Actor, Operation, may_edit_record
from domain.services.loading import load
from domain.sqltypes import utcnow


async def _editable_account(
    session: AsyncSession, account_id: int, actor: Actor
) -> Account:
    account = await load(session, Account, account_id, lock=True, field="accountId")
    refuse_if(
        may_edit_record(actor, account.owner_id, "account", Operation.EDIT_ACCOUNT_TEAM)
    )
    return account


async def add_team_member(
    account_id: int,
    user_id: int,
    role: Role | None,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Account:
    """Add a user to the account team, in ``role`` (default: the user's role)."""
    account = await _editable_account(session, account_id, actor)
    user = await load(session, User, user_id, field="userId")
    role = role or user.role
    taken = await session.scalar(
        select(col(AccountTeamMember.id)).where(
            col(AccountTeamMember.account_id) == account_id,
            col(AccountTeamMember.user_id) == user_id,
            col(AccountTeamMember.role) == role,
        )
    )
    if taken is not None:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"User {RecordRef('User', user_id)} is already on the team of account "
            f"{RecordRef('Account', account_id)} as "
            f"{role.value}.",
            "userId",
        )
    session.add(AccountTeamMember(account_id=account_id, user_id=user_id, role=role))
    account.updated_at = utcnow()  # the team counts as a change (new version)
    await session.flush()
    return account


async def remove_team_member(
    account_id: int,
    user_id: int,
    role: Role | None,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Account:
    """Remove a user from the account team (in ``role``, or in every role)."""
    account = await _editable_account(session, account_id, actor)
    stmt = delete(AccountTeamMember).where(
        AccountTeamMember.account_id == account_id,  # type: ignore[arg-type]
        AccountTeamMember.user_id == user_id,  # type: ignore[arg-type]
    )
    if role is not None:
        stmt = stmt.where(AccountTeamMember.role == role)  # type: ignore[arg-type]
    removed = (await session.execute(stmt)).rowcount  # type: ignore[attr-defined]
    if not removed:
        raise Refused.one(
            ErrorCode.NOT_FOUND,
            f"User {RecordRef('User', user_id)} is not on the team of account "
            f"{RecordRef('Account', account_id)}"
            + (f" as {role.value}." if role else "."),
            "userId",
        )
    account.updated_at = utcnow()
    await session.flush()
    return account


async def team_members(
    session: AsyncSession, account_ids: Sequence[int]
) -> list[list[AccountTeamMember]]:
    """The team of each account, in the order they joined (one query)."""
    rows = (
        await session.execute(
            select(AccountTeamMember)
            .where(AccountTeamMember.account_id.in_(set(account_ids)))  # type: ignore[attr-defined]
            .order_by(AccountTeamMember.id)  # type: ignore[arg-type]
        )
    ).scalars()
    found: dict[int, list[AccountTeamMember]] = {i: [] for i in account_ids}
    for row in rows:
        found[row.account_id].append(row)
    return [found[i] for i in account_ids]
