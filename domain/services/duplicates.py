"""Duplicate people (D12): a lead or contact already using an email.

One identity per person under any concurrency: the check is not a plain
check-then-insert. ``find_person_by_email`` (and so ``refuse_duplicate_email``)
first takes a transaction-scoped lock on the normalized email
(``lock_email``: a PostgreSQL advisory lock on a stable hash of it; on SQLite
the write transaction, begun IMMEDIATE, already runs alone), then searches.
A second transaction creating or re-emailing a person with the same email
waits at the lock until the first commits (or rolls back), then sees its row
and is refused with DUPLICATE_RECORD naming it. Every path that creates a
lead or contact or changes its email goes through here (createLead,
updateLead, createContact, updateContact, conversion, the support hand-off's
quote lead). ``allowDuplicate: true`` skips the refusal and the lock. The
lock's place among the others is ``domain.services.locks``'s order.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import among
from domain.enums import ErrorCode
from domain.errors import RecordRef, Refusal, Refused
from domain.records import Contact, Lead
from domain.rules.validation import normalize_email
from domain.services.locks import lock_key, lock_keys

EMAIL_LOCKS = "person-email"


async def lock_email(session: AsyncSession, email: str) -> None:
    """Hold the normalized ``email``'s lock until commit (see the module doc)."""
    await lock_key(session, EMAIL_LOCKS, email)


_KINDS = ((Lead, "Lead"), (Contact, "Contact"))


@cache
def _person_by_email(excluded_kind: str | None) -> Any:
    """``find_person_by_email``'s statement (``email`` and, for the kind
    ``excluded_kind``, the ``excluded`` id bound), built once per kind."""
    return select(
        *(
            select(col(model.id))
            .where(
                col(model.email) == bindparam("email"),
                *(
                    [col(model.id) != bindparam("excluded")]
                    if excluded_kind == kind
                    else []
                ),
            )
            .limit(1)
            .scalar_subquery()
            for model, kind in _KINDS
        )
    )


async def find_person_by_email(
    session: AsyncSession,
    email: str | None,
    *,
    exclude: tuple[str, int] | None = None,
) -> tuple[str, int] | None:
    """The first lead or contact already using this email (case-insensitive),
    the email locked first until commit; ``exclude`` (kind, id): a record
    changing its own email does not count."""
    email = normalize_email(email)
    if email is None:
        return None
    await lock_email(session, email)
    # One round trip for both (after the lock: a statement's snapshot is taken
    # when it starts). Emails are stored normalized: the index on email serves.
    excluded_kind, excluded_id = exclude if exclude is not None else (None, None)
    found = (
        await session.execute(
            _person_by_email(excluded_kind),
            {"email": email, "excluded": excluded_id},
        )
    ).one()
    for (_, kind), record_id in zip(_KINDS, found, strict=True):
        if record_id is not None:
            return kind, record_id
    return None


async def refuse_duplicate_email(
    session: AsyncSession,
    email: str | None,
    *,
    allow_duplicate: bool,
    exclude: tuple[str, int] | None = None,
) -> None:
    """D12: an exact duplicate email is refused, naming the existing record
    (``exclude``: the record being re-emailed)."""
    if allow_duplicate:
        return
    existing = await find_person_by_email(session, email, exclude=exclude)
    if existing is not None:
        raise Refused([duplicate_email_refusal(email, existing)])


def duplicate_email_refusal(email: str | None, existing: tuple[str, int]) -> Refusal:
    """DUPLICATE_RECORD naming the lead or contact that has the email (D12)."""
    ref = RecordRef(*existing)
    return Refusal(
        code=ErrorCode.DUPLICATE_RECORD,
        message=f"{ref.type} {ref} already has the email {email!r}; "
        "pass allowDuplicate: true to use it anyway.",
        field=("email",),
        record=ref,
    )


async def people_by_email(
    session: AsyncSession, emails: Iterable[str]
) -> dict[str, tuple[str, int]]:
    """``find_person_by_email`` for many normalized emails at once: the emails
    locked with one statement, then one statement per kind."""
    wanted = sorted(set(emails))
    await lock_keys(session, EMAIL_LOCKS, wanted)
    found: dict[str, tuple[str, int]] = {}
    if not wanted:
        return found
    for model, kind in ((Contact, "Contact"), (Lead, "Lead")):
        rows = await session.execute(
            select(col(model.email), func.min(col(model.id)))
            .where(among(session, col(model.email), wanted))
            .group_by(col(model.email))
        )
        # A lead wins over a contact, as in find_person_by_email.
        for found_email, record_id in rows:
            if found_email is not None and record_id is not None:
                found[found_email] = (kind, record_id)
    return found
