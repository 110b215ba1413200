"""Users and their API tokens (A6): create, issue, authenticate, revoke.

Accountability: a change of a user's role or activity, and every token
issued or revoked, writes an event (D10) naming the actor. The last active
ADMIN can be neither deactivated nor demoted (``LAST_ACTIVE_ADMIN``); to
decide it a change of role or activity first locks the active ADMIN rows in
id order, then the user changed (one order for every such change, so ADMINs
deactivating each other at once neither deadlock nor all succeed).
Deactivating a user revokes all its tokens for good: reactivating it does
not bring them back.

API processes cache the tokens they checked (``api.auth``). Every change that
must end a cached token — a token revoked, a user changed (role, activity,
name) — bumps the one ``auth_generation`` row in its own transaction
(``bump_auth_generation``); a process re-reads it at most every second and
drops its cache when it moved.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode, RecordType, Role, TokenScope
from domain.errors import Refusal, Refused, refuse_if
from domain.records import ApiToken, AuthGeneration, User
from domain.rules.permissions import (
    Actor,
    may_manage_tokens,
    may_manage_users,
)
from domain.rules.token_scopes import ALL_SCOPES, widening_refusals
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
    await bump_auth_generation(session)
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


TOKEN_RULES: dict[str, list[Check]] = {"name": [max_length(200)]}


def scopes_from(read: bool, write: bool, admin: bool) -> frozenset[TokenScope]:
    """A token's scopes, from its three flags."""
    flags = {TokenScope.READ: read, TokenScope.WRITE: write, TokenScope.ADMIN: admin}
    return frozenset(scope for scope, held in flags.items() if held)


async def issue_token(
    user_id: int,
    *,
    session: AsyncSession,
    actor: Actor | None,
    label: str | None = None,
    scopes: Collection[TokenScope] = ALL_SCOPES,
    expires_at: datetime | None = None,
    granted: Collection[TokenScope] = ALL_SCOPES,
) -> tuple[ApiToken, str]:
    """A new token for a user; the clear text is returned once, never stored.

    Anyone may issue their own tokens, an ADMIN anyone's (``actor=None``: the
    command line, whose session tokens carry every scope). The new token's
    ``scopes`` must be among those of the calling token (``granted``).
    """
    if actor is not None:
        refuse_if(may_manage_tokens(actor, user_id))
    problems = widening_refusals(granted, scopes)
    if not scopes:
        problems.append(
            Refusal.on("scopes", ErrorCode.INVALID_INPUT, "Give at least one scope.")
        )
    if expires_at is not None and expires_at <= utcnow():
        problems.append(
            Refusal.on(
                "expires_at", ErrorCode.INVALID_INPUT, "Expiry must be in the future."
            )
        )
    refuse_if(problems)
    check_values({"name": label}, TOKEN_RULES)
    await load(session, User, user_id, field="userId")
    token = new_token()
    row = ApiToken(
        user_id=user_id,
        token_hash=hash_token(token),
        label=label,
        scope_read=TokenScope.READ in scopes,
        scope_write=TokenScope.WRITE in scopes,
        scope_admin=TokenScope.ADMIN in scopes,
        expires_at=expires_at,
    )
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
        scopes=sorted(scopes),
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return row, token


async def revoke_token(
    token_id: int, *, session: AsyncSession, actor: Actor
) -> ApiToken:
    """Revoke a token (your own, or as ADMIN anyone's): every process stops
    accepting it within a second (``api.auth``)."""
    row = await load(session, ApiToken, token_id)
    refuse_if(may_manage_tokens(actor, row.user_id))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await bump_auth_generation(session)
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


def may_see_token(actor: Actor, user_id: int) -> bool:
    """A token's metadata is shown to its user and to ADMINs."""
    return actor.role == Role.ADMIN or user_id == actor.id


def token_list(actor: Actor, user_id: int | None, active: bool | None) -> Select[Any]:
    """The tokens an actor may list: every one for an ADMIN, else their own."""
    stmt = select(ApiToken)
    if actor.role != Role.ADMIN:
        stmt = stmt.where(col(ApiToken.user_id) == actor.id)
    if user_id is not None:
        stmt = stmt.where(col(ApiToken.user_id) == user_id)
    if active is not None:
        live = col(ApiToken.revoked_at).is_(None) & (
            col(ApiToken.expires_at).is_(None) | (col(ApiToken.expires_at) > utcnow())
        )
        stmt = stmt.where(live if active else ~live)
    return stmt


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """Who a valid token belongs to, as plain values (safe to keep in a cache)."""

    token_id: int
    user_id: int
    name: str
    email: str
    role: Role
    scopes: frozenset[TokenScope]
    expires_at: datetime | None


async def token_holder(session: AsyncSession, token_hash: str) -> TokenHolder | None:
    """The active user an unrevoked token (by its hash) belongs to, else None;
    an expired one too (its ``expires_at`` tells)."""
    stmt = (
        select(
            col(ApiToken.id),
            col(ApiToken.user_id),
            col(User.name),
            col(User.email),
            col(User.role),
            col(ApiToken.scope_read),
            col(ApiToken.scope_write),
            col(ApiToken.scope_admin),
            col(ApiToken.expires_at),
        )
        .join(User, col(ApiToken.user_id) == User.id)
        .where(
            col(ApiToken.token_hash) == token_hash,
            col(ApiToken.revoked_at).is_(None),
            col(User.active).is_(True),
        )
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    token_id, user_id, name, email, role, read, write, admin, expires_at = row
    return TokenHolder(
        token_id=token_id,  # type: ignore[arg-type]  # a stored row's id
        user_id=user_id,
        name=name,
        email=email,
        role=Role(role),
        scopes=scopes_from(read, write, admin),
        expires_at=expires_at,
    )


# ``lastUsedAt`` is written at most this often per token.
LAST_USED_EVERY = timedelta(minutes=1)


async def record_token_use(session: AsyncSession, token_id: int) -> None:
    """Stamp ``last_used_at`` now, unless it was stamped less than a minute ago
    (by any process): one cheap UPDATE, no event."""
    now = utcnow()
    stamp = col(ApiToken.last_used_at)
    await session.execute(
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            stamp.is_(None) | (stamp <= now - LAST_USED_EVERY),
        )
        .values(last_used_at=now)
    )


AUTH_GENERATION_ID = 1


async def auth_generation(session: AsyncSession) -> int:
    """The counter that grows with every change ending cached tokens."""
    stmt = select(col(AuthGeneration.generation)).where(
        col(AuthGeneration.id) == AUTH_GENERATION_ID
    )
    return (await session.execute(stmt)).scalar_one_or_none() or 0


async def bump_auth_generation(session: AsyncSession) -> None:
    """Tell every API process to drop its cached tokens (once this commits)."""
    await session.execute(
        update(AuthGeneration)
        .where(col(AuthGeneration.id) == AUTH_GENERATION_ID)
        .values(generation=col(AuthGeneration.generation) + 1)
    )
