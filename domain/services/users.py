"""Users and their API tokens (A6): create, issue, authenticate, revoke.

Accountability: a change of a user's role or activity, and every token
issued or revoked, writes an event (D10) naming the actor. The last active
ADMIN can be neither deactivated nor demoted (``LAST_ACTIVE_ADMIN``); to
decide it a change of role or activity first locks the active ADMIN rows in
id order, then the user changed (one order for every such change, so ADMINs
deactivating each other at once neither deadlock nor all succeed).
Deactivating a user revokes all its tokens for good: reactivating it does
not bring them back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, RecordType, Role
from domain.errors import Refused, refuse_if
from domain.records import ApiToken, User
from domain.rules.permissions import Actor, may_manage_users
from domain.rules.validation import (
    Check,
    max_length,
    normalize_email,
    required,
    valid_email,
)
from domain.services.loading import apply, check_values, check_version, load
from domain.services.outbox import emit
from domain.sqltypes import utcnow

TOKEN_PREFIX = "sops_"

USER_RULES: dict[str, list[Check]] = {
    "name": [required, max_length(200)],
    "email": [required, valid_email, max_length(320)],
    "role": [required],
    "active": [required],
}

USER_ROLE_CHANGED = "USER_ROLE_CHANGED"
USER_ACTIVATED = "USER_ACTIVATED"
USER_DEACTIVATED = "USER_DEACTIVATED"
API_TOKEN_ISSUED = "API_TOKEN_ISSUED"
API_TOKEN_REVOKED = "API_TOKEN_REVOKED"
# Changing these may remove the last active ADMIN.
ADMIN_FIELDS = frozenset({"role", "active"})


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256 (hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh opaque bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def _refuse_taken_email(
    session: AsyncSession, email: str, except_id: int | None = None
) -> None:
    stmt = select(col(User.id)).where(col(User.email) == email)
    if except_id is not None:
        stmt = stmt.where(col(User.id) != except_id)
    if (await session.execute(stmt.limit(1))).scalar_one_or_none() is not None:
        raise Refused.one(
            ErrorCode.DUPLICATE_RECORD, f"A user with email {email!r} exists.", "email"
        )


async def create_user(
    values: Mapping[str, Any], *, session: AsyncSession, actor: Actor | None
) -> User:
    """Create a user; only an ADMIN may (``actor=None`` is the command line)."""
    if actor is not None:
        refuse_if(may_manage_users(actor))
    check_values(values, USER_RULES, required_fields=("name", "email", "role"))
    data = dict(values)
    data["email"] = normalize_email(data["email"])
    await _refuse_taken_email(session, data["email"])
    user = User(**data)
    session.add(user)
    await session.flush()
    return user


async def update_user(
    user_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
) -> User:
    """Change a user's profile, role, activity or out-of-office (ADMIN only)."""
    refuse_if(may_manage_users(actor))
    # Lock order: the active ADMIN rows (by id), then the user changed.
    admins = await _lock_active_admins(session) if ADMIN_FIELDS & set(values) else []
    user = await load(session, User, user_id, lock=True)
    check_version(user, expected_version)
    check_values(values, USER_RULES)
    data = dict(values)
    if "email" in data:
        data["email"] = normalize_email(data["email"])
        await _refuse_taken_email(session, data["email"], except_id=user.id)
    role, active = user.role, user.active
    new_role, new_active = data.get("role", role), data.get("active", active)
    leaving = role == Role.ADMIN and active
    if leaving and (new_role != Role.ADMIN or not new_active) and admins == [user_id]:
        raise Refused.one(
            ErrorCode.LAST_ACTIVE_ADMIN,
            "This is the last active ADMIN: make another user an active ADMIN "
            "before deactivating or demoting this one.",
            "id",
        )
    apply(user, data)
    if new_role != role:
        emit(
            session,
            USER_ROLE_CHANGED,
            RecordType.USER,
            user_id,
            actor,
            previous_role=str(role),
            role=str(new_role),
        )
    if new_active != active:
        revoked = [] if new_active else await _revoke_all_tokens(session, user_id)
        kind = USER_ACTIVATED if new_active else USER_DEACTIVATED
        emit(session, kind, RecordType.USER, user_id, actor, revoked_token_ids=revoked)
    await session.flush()
    return user


async def _lock_active_admins(session: AsyncSession) -> list[int]:
    """The active ADMINs' ids, their rows locked in id order until commit."""
    stmt = (
        select(User.id)  # type: ignore[call-overload]
        .where(User.role == Role.ADMIN, User.active.is_(True))  # type: ignore[attr-defined]
        .order_by(User.id)  # type: ignore[arg-type]
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def _revoke_all_tokens(session: AsyncSession, user_id: int) -> list[int]:
    """Revoke every live token of a user; the ids revoked."""
    stmt = (
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))  # type: ignore[arg-type,union-attr]
        .values(revoked_at=utcnow())
        .returning(ApiToken.id)  # type: ignore[call-overload]
    )
    return sorted((await session.execute(stmt)).scalars())


async def issue_token(
    user_id: int,
    *,
    session: AsyncSession,
    actor: Actor | None,
    label: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for a user; the clear text is returned once, never stored."""
    if actor is not None:
        refuse_if(may_manage_users(actor))
    await load(session, User, user_id, field="userId")
    token = new_token()
    row = ApiToken(user_id=user_id, token_hash=hash_token(token), label=label)
    session.add(row)
    await session.flush()
    emit(
        session,
        API_TOKEN_ISSUED,
        RecordType.USER,
        user_id,
        actor,
        token_id=row.id,
        label=label,
    )
    return row, token


async def revoke_token(
    token_id: int, *, session: AsyncSession, actor: Actor
) -> ApiToken:
    """Revoke a token: it stops working at once."""
    refuse_if(may_manage_users(actor))
    row = await load(session, ApiToken, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        emit(
            session,
            API_TOKEN_REVOKED,
            RecordType.USER,
            row.user_id,
            actor,
            token_id=row.id,
        )
    await session.flush()
    return row


async def authenticate(session: AsyncSession, token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to, else None."""
    stmt = (
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == User.id)
        .where(
            col(ApiToken.token_hash) == hash_token(token),
            col(ApiToken.revoked_at).is_(None),
        )
    )
    user = (await session.execute(stmt)).scalar_one_or_none()
    if user is None or not user.active:
        return None
    return user
