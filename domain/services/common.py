"""Building blocks every use case shares: load, lock, version check, apply, emit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.enums import ErrorCode, RecordType
from domain.errors import Refusal, Refused
from domain.records import Contact, Event, EventRecipient, Lead, User
from domain.rules.permissions import Actor
from domain.rules.validation import Check, normalize_email, validate

R = TypeVar("R", bound=SQLModel)


async def load(
    session: AsyncSession,
    model: type[R],
    record_id: int,
    *,
    lock: bool = False,
    field: str = "id",
) -> R:
    """The record, or ``Refused(NOT_FOUND)``; ``lock`` holds its row until commit.

    On PostgreSQL the lock is ``SELECT … FOR UPDATE``; on SQLite the write
    transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    stmt = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise Refused.one(
            ErrorCode.NOT_FOUND, f"No {model.__name__} with id {record_id}.", field
        )
    return row


async def load_optional(
    session: AsyncSession, model: type[R], record_id: int | None, *, field: str
) -> R | None:
    """Like ``load`` for an optional reference: None stays None."""
    if record_id is None:
        return None
    return await load(session, model, record_id, field=field)


def check_version(record: Any, expected_version: int | None) -> None:
    """Refuse with STALE_VERSION when the caller read an older version."""
    if expected_version is not None and record.version != expected_version:
        raise Refused.one(
            ErrorCode.STALE_VERSION,
            f"The record is at version {record.version}, not {expected_version}: "
            "read it again and retry.",
            "expectedVersion",
        )


def check_values(
    values: Mapping[str, Any],
    rules: Mapping[str, Sequence[Check]],
    *,
    required_fields: Sequence[str] = (),
) -> None:
    """Validate input values against a record's field rules; refuse all at once."""
    found = validate(values, rules, required_fields=required_fields)
    if found:
        raise Refused(found)


def apply(record: Any, values: Mapping[str, Any]) -> bool:
    """Set the given fields; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    return changed


def refuse_if(refusals: list[Refusal]) -> None:
    """Abort the use case when there is any refusal."""
    if refusals:
        raise Refused(refusals)


async def require_user(session: AsyncSession, user_id: int | None, field: str) -> None:
    """The referenced user must exist (e.g. an owner)."""
    if user_id is not None:
        await load(session, User, user_id, field=field)


async def find_person_by_email(
    session: AsyncSession, email: str | None
) -> tuple[str, int] | None:
    """The first lead or contact already using this email (case-insensitive)."""
    email = normalize_email(email)
    if email is None:
        return None
    for model, kind in ((Lead, "Lead"), (Contact, "Contact")):
        found = (
            await session.execute(
                # Emails are stored normalized, so the index on email serves this.
                select(model.id).where(model.email == email).limit(1)  # type: ignore[attr-defined]
            )
        ).scalar_one_or_none()
        if found is not None:
            return kind, found
    return None


async def refuse_duplicate_email(
    session: AsyncSession, email: str | None, *, allow_duplicate: bool
) -> None:
    """D12: an exact duplicate email is refused, naming the existing record."""
    if allow_duplicate:
        return
    existing = await find_person_by_email(session, email)
    if existing is not None:
        kind, record_id = existing
        raise Refused(
            [
                Refusal(
                    code=ErrorCode.DUPLICATE_RECORD,
                    message=f"{kind} {record_id} already has the email {email!r}; "
                    "pass allowDuplicate: true to create anyway.",
                    field=("email",),
                    record=(kind, record_id),
                )
            ]
        )


def emit(
    session: AsyncSession,
    kind: str,
    record_type: RecordType,
    record_id: int,
    actor: Actor | None,
    **payload: Any,
) -> Event:
    """Write an outbox event in the current transaction (D10)."""
    event = Event(
        kind=kind,
        record_type=record_type,
        record_id=record_id,
        actor_id=actor.id if actor else None,
        payload=payload,
    )
    session.add(event)
    return event


async def address(
    session: AsyncSession, event: Event, recipients: Sequence[tuple[int, str]]
) -> Event:
    """Address an emitted event to users, each in a capacity (e.g. "SAL"), D10.

    A user listed twice is addressed once, in the first capacity given.
    """
    await session.flush()
    seen: set[int] = set()
    for user_id, capacity in recipients:
        if user_id not in seen:
            seen.add(user_id)
            session.add(
                EventRecipient(event_id=event.id, user_id=user_id, capacity=capacity)  # type: ignore[arg-type]
            )
    return event


def refuse_initial_source_change(
    current: str | None, values: Mapping[str, Any]
) -> None:
    """D4: once set, ``initial_source`` never changes."""
    new = values.get("initial_source", current)
    if current is not None and new != current:
        raise Refused.one(
            ErrorCode.IMMUTABLE_FIELD,
            f"initialSource is {current!r} and can never change (the first known "
            "touch is kept).",
            "initial_source",
        )
