"""Duplicate match keys (D12) kept on every lead and contact row.

The keys (``domain.rules.matching.match_keys``) are columns, indexed, so that
``possibleDuplicates`` is a few index lookups instead of a scan. They follow
the person's email, name, company and phone:

- through the ORM, by a ``before_flush`` hook (``install``) on every session
  ``domain.services.sessions.make_sessions`` makes — whatever use case writes
  a lead or contact, its keys are written in the same flush;
- on bulk paths (the demo loader's COPY, a merge's Core writes), by
  ``fill_match_keys`` on the row dicts before they are written, or
  ``keys_of_row`` for one row.

A contact's company key is its account (``account_id``), so contacts carry no
``match_company``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from domain.records import Contact, Lead
from domain.rules.matching import MATCH_KEY_COLUMNS, match_keys

# Columns a key is made from: a change of one of them re-keys the record.
SOURCES = ("email", "first_name", "last_name", "company", "phone")
CONTACT_KEY_COLUMNS = tuple(c for c in MATCH_KEY_COLUMNS if c != "match_company")


def keys_of_row(row: Mapping[str, Any], *, contact: bool) -> dict[str, Any]:
    """The match-key columns for a lead's (or contact's) values."""
    keys = match_keys(
        email=row.get("email"),
        first_name=row.get("first_name"),
        last_name=row.get("last_name"),
        company=None if contact else row.get("company"),
        phone=row.get("phone"),
    )
    columns = CONTACT_KEY_COLUMNS if contact else MATCH_KEY_COLUMNS
    return {name: getattr(keys, name) for name in columns}


def fill_match_keys(rows: Iterable[dict[str, Any]], *, contact: bool) -> None:
    """Set the match keys of row dicts in place (bulk inserts, COPY)."""
    for row in rows:
        row.update(keys_of_row(row, contact=contact))


def _key(record: Lead | Contact) -> None:
    contact = isinstance(record, Contact)
    values = {name: getattr(record, name, None) for name in SOURCES}
    for name, value in keys_of_row(values, contact=contact).items():
        if getattr(record, name) != value:
            setattr(record, name, value)


def key_records(session: Session, _context: Any, _instances: Any) -> None:
    """Key every new lead and contact of this flush, and every changed one whose
    source columns were set (a rescore or a move sets none: computing its keys
    again cost a tenth of a batch of engagements, measured)."""
    for record in session.new:
        if isinstance(record, Lead | Contact):
            _key(record)
    for record in session.dirty:
        if isinstance(record, Lead | Contact) and sources_set(record):
            _key(record)


def sources_set(record: Lead | Contact) -> bool:
    """Whether a source column of the record was set since it was loaded (its
    previous value is kept in the state's ``committed_state``)."""
    return not inspect(record).committed_state.keys().isdisjoint(SOURCES)


def install(session_class: type[Session]) -> None:
    """Keep the match keys of sessions of this class (``before_flush``)."""
    # Inserted before the version bump, so keying alone never bumps a version
    # on its own: it only runs where a source column changed anyway.
    event.listen(session_class, "before_flush", key_records, insert=True)
