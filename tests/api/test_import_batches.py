"""The list import's batch path (issue 13 item 1): new leads decided by
createLead's own rules and written set-based — the same rows createLead
writes, a constant number of statements per batch, locks in the order of
``domain.services.locks``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from domain.db import write_transaction
from domain.enums import ImportOutcome, Role
from domain.records import FunnelEntry, Lead
from domain.rules.permissions import Actor
from domain.services import imports
from domain.services.leads import create_lead
from tests.api.test_imports import run
from tests.api.test_statement_budgets import Statements

MAPPING = {
    "externalId": "Id",
    "firstName": {"split": "Name", "part": "first"},
    "lastName": {"split": "Name", "part": "last"},
    "email": "Email",
    "title": "Title",
    "company": "Company",
    "country": "Country",
    "numberOfEmployees": "Employees",
}
HEADER = "Id,Name,Email,Title,Company,Country,Employees\n"
# Leads whose row differs only by its email, name and external id.
DIFFERING = {"id", "email", "first_name", "last_name", "external_id"}
# Moments of the creation, and the keys made of the email and name.
MOMENTS = {"created_at", "updated_at", "status_changed_at"}
KEYS = {"match_email", "match_name"}


def lead_rows(count: int, start: int = 0) -> str:
    """``count`` new leads none of which routes (an analyst scores +5)."""
    return HEADER + "".join(
        f"X{n},Person{n} Row{n},p{n}@co{n % 7}.example,Analyst,Co {n % 7},"
        f"{('USA', 'Germany', 'Japan')[n % 3]},{n * 10}\n"
        for n in range(start, start + count)
    )


def columns(record: Any, leave_out: set[str]) -> dict[str, Any]:
    """The record's columns but those left out."""
    return {
        c.name: getattr(record, c.name)
        for c in type(record).__table__.columns
        if c.name not in leave_out
    }


async def test_a_batch_writes_the_lead_and_entry_create_lead_writes(sessions, make):
    """Column by column (but the row's own email, name and moments), the lead
    and funnel entry an import's batch writes are createLead's."""
    ops = await make.user(Role.MARKETING_OPS)
    data = HEADER + "X1,Jane Doe,jane@acme.example,Analyst,Acme,Canada,250\n"
    results, _ = await run(sessions, ops, data, MAPPING, source="Webcast")
    assert [r.outcome for r in results] == [ImportOutcome.CREATED]
    async with sessions() as session, write_transaction(session):
        by_api = await create_lead(
            {
                "first_name": "John",
                "last_name": "Roe",
                "email": "john@acme.example",
                "title": "Analyst",
                "company": "Acme",
                "country": "Canada",
                "number_of_employees": 250,
                "initial_source": "Webcast",
                "import_source": "Webcast",
            },
            session=session,
            actor=Actor(ops.id, ops.role),
        )
    async with sessions() as session:
        imported = (
            await session.execute(select(Lead).where(Lead.external_id == "X1"))
        ).scalar_one()
        again = await session.get(Lead, by_api.id)
        entries = {
            e.lead_id: e for e in (await session.execute(select(FunnelEntry))).scalars()
        }
    leave_out = DIFFERING | MOMENTS | KEYS
    assert columns(imported, leave_out) == columns(again, leave_out)
    assert (imported.sales_segment.value, imported.region.value) == (
        "MID_MARKET",
        "US_EAST",
    )
    assert imported.person_score == 5
    assert imported.match_name == "doe jane"
    assert imported.match_email == "jane@acme.example"
    entry_leave_out = {"id", "lead_id", "raw_at"}
    assert columns(entries[imported.id], entry_leave_out) == columns(
        entries[again.id], entry_leave_out
    )
    assert entries[imported.id].raw_at == imported.created_at


async def test_a_batch_sends_the_same_statements_for_20_rows_as_for_200(
    sessions, make, engine
):
    """Statements per batch, not per row: an import of one batch of 200 new leads
    sends what one of 20 sends. The budget of such an import — SQLite 11,
    PostgreSQL 11: the file's checks (SQLite: its BEGIN IMMEDIATE), then the
    batch: SQLite's BEGIN IMMEDIATE, the rule tables' heads, the leads named by
    an email or external id, the emails' locks (PostgreSQL), the contacts and
    the leads having those emails, a savepoint, the new ids (SQLite: the largest
    id; PostgreSQL: drawn from the sequence), the leads, their funnel entries,
    the savepoint's release."""
    ops = await make.user(Role.MARKETING_OPS)
    # The rule tables are read once per process (then only their heads).
    await run(sessions, ops, lead_rows(1, start=5000), MAPPING)
    sent = []
    for count, start in ((20, 0), (200, 1000)):
        with Statements(engine) as statements:
            _results, tally = await run(
                sessions, ops, lead_rows(count, start), MAPPING, batch_size=200
            )
        assert tally.created == count
        sent.append(statements.sent)
    small, large = sent
    assert len(small) == len(large), "\n".join(["20 rows:", *small, "200:", *large])
    budget = 11
    assert len(large) <= budget, "\n".join(large)


async def test_a_batch_locks_the_leads_it_updates_before_the_emails(
    sessions, make, engine
):
    """Lock order (``domain.services.locks``): the existing leads a batch names,
    then the emails — never an email before a lead row."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write transaction runs alone: it takes no locks")
    ops = await make.user(Role.MARKETING_OPS)
    await run(sessions, ops, lead_rows(3), MAPPING)
    changed = (
        lead_rows(3).replace("Analyst", "Director")
        + lead_rows(2, start=50)[len(HEADER) :]
    )
    with Statements(engine) as statements:
        _results, tally = await run(sessions, ops, changed, MAPPING)
    assert (tally.updated, tally.created) == (3, 2)
    locks = [
        s
        for s in statements.sent
        if ("FOR UPDATE" in s and s.startswith("SELECT leads")) or "advisory" in s
    ]
    assert "FOR UPDATE" in locks[0] and "advisory" in locks[1], "\n".join(locks)


async def test_rows_sharing_an_email_in_one_batch_are_decided_in_file_order(
    sessions, make
):
    """The second row with an email takes the one-by-one path after the first
    is written: it updates the lead the first created (same external id) or is
    a duplicate (another external id)."""
    ops = await make.user(Role.MARKETING_OPS)
    data = (
        HEADER
        + "A1,Ann Lee,ann@co.example,Analyst,Co,USA,5\n"
        + "A1,Ann Lee,ann@co.example,Director,Co,USA,5\n"
        + "A2,Ann Other,ANN@co.example,Analyst,Co,USA,5\n"
    )
    results, _tally = await run(sessions, ops, data, MAPPING)
    assert [r.outcome for r in results] == [
        ImportOutcome.CREATED,
        ImportOutcome.UPDATED,
        ImportOutcome.SKIPPED_DUPLICATE,
    ]
    assert results[1].record == results[0].record == results[2].record
    async with sessions() as session:
        leads = list((await session.execute(select(Lead))).scalars())
    assert [(lead.external_id, lead.title) for lead in leads] == [("A1", "Director")]


async def test_a_refused_row_in_a_batch_leaves_nothing_and_the_rest_is_written(
    sessions, make
):
    """A row createLead's checks refuse is rejected alone; its neighbours are
    written, with their funnel entries."""
    ops = await make.user(Role.MARKETING_OPS)
    data = lead_rows(2) + "X9,Bad Mail,not-an-email,Analyst,Co,USA,5\n"
    results, _ = await run(sessions, ops, data, MAPPING)
    assert [r.outcome for r in results] == [
        ImportOutcome.CREATED,
        ImportOutcome.CREATED,
        ImportOutcome.REJECTED,
    ]
    assert results[2].codes == ["INVALID_INPUT"]
    async with sessions() as session:
        leads = list((await session.execute(select(Lead))).scalars())
        entries = list((await session.execute(select(FunnelEntry))).scalars())
    assert sorted(lead.external_id for lead in leads) == ["X0", "X1"]
    assert sorted(e.lead_id for e in entries) == sorted(lead.id for lead in leads)


async def test_an_import_refreshes_the_statistics_as_it_grows(
    sessions, make, engine, monkeypatch
):
    """PostgreSQL: ANALYZE of the leads and funnel entries once the created rows
    reach ``ANALYZE_FROM``, then each time they double (here from 4: after the
    batches ending at rows 4 and 8, not 6); SQLite: never."""
    monkeypatch.setattr(imports, "ANALYZE_FROM", 4)
    ops = await make.user(Role.MARKETING_OPS)
    with Statements(engine) as statements:
        _, tally = await run(sessions, ops, lead_rows(10), MAPPING, batch_size=2)
    assert tally.created == 10
    analyzed = [s for s in statements.sent if s.startswith("ANALYZE")]
    if engine.dialect.name == "postgresql":
        assert analyzed == ["ANALYZE leads", "ANALYZE funnel_entries"] * 2
    else:
        assert analyzed == []
