"""Held writes (``domain.services.bulk``): on PostgreSQL a move's row UPDATEs
and its few new rows go as one statement of data-modifying CTEs, whose parts
PostgreSQL runs in no promised order. Rows of one table are chained, each
part taking its values from the part before it, so their ids still follow
the order the use case wrote them in (the outbox is read in id order)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import RecordType
from domain.records import Event, Lead
from domain.services import bulk
from domain.services.outbox import emit
from tests.api.test_statement_budgets import Statements


@pytest.mark.parametrize("rows", [2, 3, bulk.TOGETHER_ROWS])
async def test_rows_of_one_table_held_with_updates_keep_their_order(
    make, sessions, engine, rows
):
    lead = await make.lead()

    async def write(session: Any) -> None:
        bulk.write_in_bulk(session)
        await bulk.update_row(
            session, Lead.__table__, "id", lead.id, {"company": "Chained"}
        )
        for n in range(rows):
            emit(session, "LEAD_NOTE", RecordType.LEAD, lead.id, None, n=n)
        await bulk.flush_bulk(session)

    for _ in range(10):
        with Statements(engine) as statements:
            await make.run(write)
        if engine.dialect.name == "postgresql":
            # The update and every row: one statement.
            assert len(statements.sent) == 1, statements.sent
    async with sessions() as session:
        written = (
            await session.execute(
                select(Event.payload)
                .where(Event.kind == "LEAD_NOTE")
                .order_by(Event.id)
            )
        ).scalars()
        assert [p["n"] for p in written] == list(range(rows)) * 10
        assert (await session.get(Lead, lead.id)).company == "Chained"
