"""Who an event is addressed to (D10): load the people the rules of
``domain.rules.notifications`` decide over, and address the event."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.records import AccountTeamMember, Event, User
from domain.rules.notifications import MANAGER_ROLES, Person, Recipient
from domain.services.bulk import HeldRow
from domain.services.outbox import address


def _person(user: User) -> Person:
    return Person(user.id, user.role, user.active, user.region)  # type: ignore[arg-type]


async def person(session: AsyncSession, user_id: int | None) -> Person | None:
    """A user as the notification rules see them (None when unknown)."""
    if user_id is None:
        return None
    user = await session.get(User, user_id)
    return _person(user) if user is not None else None


async def managing_people(session: AsyncSession) -> list[Person]:
    """The users a manager is picked from: every RD and SALES_OPS user."""
    users = (
        await session.execute(select(User).where(col(User.role).in_(MANAGER_ROLES)))
    ).scalars()
    return [_person(u) for u in users]


async def account_team(session: AsyncSession, account_id: int) -> list[Person]:
    """The account's team members, each as a person (their user role)."""
    users = (
        await session.execute(
            select(User)
            .join(AccountTeamMember, col(AccountTeamMember.user_id) == col(User.id))
            .where(col(AccountTeamMember.account_id) == account_id)
        )
    ).scalars()
    return [_person(u) for u in users]


async def notify(
    session: AsyncSession, event: Event | HeldRow, recipients: Sequence[Recipient]
) -> None:
    """Address the event to the recipients, each in their capacity."""
    await address(session, event, [(r.user_id, r.capacity) for r in recipients])
