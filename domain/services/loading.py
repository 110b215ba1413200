"""Loading records and checking input, the first steps of every use case.

Load a record (or refuse NOT_FOUND), check the version the caller read, check
input values against a record's field rules, set the fields that changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.enums import ErrorCode
from domain.errors import RecordRef, Refused
from domain.records import User
from domain.rules.validation import Check, validate

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
        ref = RecordRef(model.__name__, record_id)
        raise Refused.one(ErrorCode.NOT_FOUND, f"No such record: {ref}.", field)
    return row


async def load_optional(
    session: AsyncSession, model: type[R], record_id: int | None, *, field: str
) -> R | None:
    """Like ``load`` for an optional reference: None stays None."""
    if record_id is None:
        return None
    return await load(session, model, record_id, field=field)


async def require_user(session: AsyncSession, user_id: int | None, field: str) -> None:
    """The referenced user must exist (e.g. an owner)."""
    if user_id is not None:
        await load(session, User, user_id, field=field)


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
