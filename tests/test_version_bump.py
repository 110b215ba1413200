"""``domain.db.columns_modified`` (the version bump's change test) answers as
SQLAlchemy's ``Session.is_modified(obj, include_collections=False)`` does, for
every way a record's columns can be set."""

from __future__ import annotations

from typing import Any

import pytest

from domain.db import columns_modified
from domain.enums import LeadStatus
from domain.records import Lead


def same_value(lead: Lead) -> None:
    lead.company = lead.company


def new_value(lead: Lead) -> None:
    lead.company = "Other Inc"


def set_back(lead: Lead) -> None:
    before = lead.person_score
    lead.person_score = before + 5
    lead.person_score = before


def two_columns(lead: Lead) -> None:
    lead.status = LeadStatus.NURTURE
    lead.title = "CTO"


def to_null(lead: Lead) -> None:
    lead.phone = None if lead.phone is not None else "+1 555 0100"


def nothing(_lead: Lead) -> None:
    pass


@pytest.mark.parametrize(
    "change", [same_value, new_value, set_back, two_columns, to_null, nothing]
)
async def test_columns_modified_answers_as_sqlalchemy_is_modified(
    make: Any, sessions: Any, change: Any
) -> None:
    lead = await make.lead()
    async with sessions() as session:
        loaded = await session.get(Lead, lead.id)
        change(loaded)

        expected = session.sync_session.is_modified(loaded, include_collections=False)
        assert columns_modified(loaded) == expected
        assert expected == (change in (new_value, two_columns, to_null))
        await session.rollback()
