"""Duplicate people (D12): a lead or contact already using an email."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import ErrorCode
from domain.errors import Refusal, Refused
from domain.records import Contact, Lead
from domain.rules.validation import normalize_email


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
                select(col(model.id)).where(col(model.email) == email).limit(1)
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
