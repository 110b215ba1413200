"""The list import's batch path (issue 13 item 1): new leads decided by
createLead's own rules and written set-based — the same rows createLead
writes, a constant number of statements per batch, locks in the order of
``domain.services.locks``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from domain.db import write_transaction
from domain.enums import ImportOutcome, Role
from domain.records import FunnelEntry, Lead
from domain.rules.permissions import Actor
from domain.services import bulk, imports
from domain.services.bulk import copy_rows
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
    sessions, make, engine, monkeypatch
):
    """Statements per batch, not per row: an import of one batch of 200 new leads
    sends what one of 20 sends. The budget of such an import — SQLite 11,
    PostgreSQL 11: the file's checks (SQLite: its BEGIN IMMEDIATE), then the
    batch: SQLite's BEGIN IMMEDIATE, the rule tables' heads (PostgreSQL: and
    the plan mode), the leads named by an email or external id, the emails'
    locks (PostgreSQL), the contacts and the leads having those emails, a
    savepoint, the new ids (SQLite: the largest id; PostgreSQL: drawn from the
    sequence), the leads, their funnel entries (PostgreSQL: each a binary COPY
    on the driver's connection, which the engine's events do not see: counted
    here by watching ``copy_rows``), the savepoint's release."""
    copies: list[str] = []

    async def counted_copy(session: Any, table: Any, values: Any) -> None:
        if engine.dialect.name == "postgresql":
            copies.append(f"COPY {table.name}")
        await copy_rows(session, table, values)

    monkeypatch.setattr(bulk, "copy_rows", counted_copy)
    monkeypatch.setattr(imports, "copy_rows", counted_copy)
    ops = await make.user(Role.MARKETING_OPS)
    # The rule tables are read once per process (then only their heads).
    await run(sessions, ops, lead_rows(1, start=5000), MAPPING)
    sent = []
    for count, start in ((20, 0), (200, 1000)):
        copies.clear()
        with Statements(engine) as statements:
            _results, tally = await run(
                sessions, ops, lead_rows(count, start), MAPPING, batch_size=200
            )
        assert tally.created == count
        sent.append(statements.sent + copies)
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


async def test_batches_in_flight_decide_shared_emails_and_ids_in_file_order(
    sessions, make, engine
):
    """Batches of two rows (on PostgreSQL two batches run at once, each on its
    own connection): a row sharing an email or external id with a row of the
    batch before it is decided after that batch committed — as the dry run,
    one batch after the other, decides it, with no write refused on the way —
    and every report line comes in file order. (Each batch waits 0.2 s before
    it commits: the next one has read and decided by then.)"""
    ops = await make.user(Role.MARKETING_OPS)
    data = (
        HEADER
        + "A1,Ann Lee,ann@co.example,Analyst,Co,USA,5\n"
        + "B1,Bo Ng,bo@co.example,Analyst,Co,USA,5\n"
        + "A1,Ann Lee,ann.lee@co.example,Director,Co,USA,5\n"  # batch 2: A1 again
        + "C1,Cy Ro,cy@co.example,Analyst,Co,USA,5\n"
        + "D1,Di Bo,BO@co.example,Analyst,Co,USA,5\n"  # batch 3: B1's email
        + "E1,Ed Ek,ed@co.example,Analyst,Co,USA,5\n"
        + "F1,Fa Fe,fa@co.example,Analyst,Co,USA,5\n"  # batch 4: nothing shared
        + "C1,Cy Ro,cy@co.example,Manager,Co,USA,5\n"
    )
    dry, dry_tally = await run(sessions, ops, data, MAPPING, batch_size=2, dry_run=True)
    with Statements(engine) as statements:
        real, tally = await run(
            sessions, ops, data, MAPPING, batch_size=2, slow_commits=0.2
        )
    refused = [s for s in statements.sent if s.startswith("ROLLBACK TO SAVEPOINT")]
    assert not refused
    assert [r.row_number for r in real] == list(range(2, 10))
    assert (
        [r.outcome for r in real]
        == [r.outcome for r in dry]
        == [
            ImportOutcome.CREATED,
            ImportOutcome.CREATED,
            ImportOutcome.UPDATED,
            ImportOutcome.CREATED,
            ImportOutcome.SKIPPED_DUPLICATE,
            ImportOutcome.CREATED,
            ImportOutcome.CREATED,
            ImportOutcome.UPDATED,
        ]
    )
    assert tally == dry_tally
    assert real[2].record == real[0].record and real[4].record == real[1].record
    async with sessions() as session:
        leads = {
            lead.external_id: lead.title
            for lead in (await session.execute(select(Lead))).scalars()
        }
    assert leads == {
        "A1": "Director",
        "B1": "Analyst",
        "C1": "Manager",
        "E1": "Analyst",
        "F1": "Analyst",
    }


async def test_a_batch_meeting_a_concurrent_writer_of_its_ids_runs_again_alone(
    sessions, make, engine
):
    """PostgreSQL: a batch that has said it takes no more locks (the next batch
    may hold some) does not fall back row by row when the database refuses its
    new leads — here another transaction writes a lead with the external id of
    a row of batch 2 and commits only once batch 2 waits on it. Batch 2 and
    the batch after it roll back and run again alone: the row updates the other
    writer's lead, every other row is created once, the report is whole."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one batch at a time: nothing runs beside it")
    ops = await make.user(Role.MARKETING_OPS)
    with Statements(engine) as statements:
        async with sessions() as outside, outside.begin():
            await create_lead(
                {
                    "first_name": "Other",
                    "last_name": "Writer",
                    "email": "other@writer.example",
                    "initial_source": "Webcast",
                    "external_id": "X3",
                },
                session=outside,
                actor=Actor(ops.id, ops.role),
            )
            await outside.flush()
            importing = asyncio.create_task(
                run(sessions, ops, lead_rows(6), MAPPING, batch_size=2)
            )
            await _until_a_lock_is_awaited(sessions)
        results, tally = await importing
    assert [r.outcome for r in results] == [
        ImportOutcome.CREATED,
        ImportOutcome.CREATED,
        ImportOutcome.CREATED,
        ImportOutcome.UPDATED,
        ImportOutcome.CREATED,
        ImportOutcome.CREATED,
    ]
    assert (tally.rows, tally.created, tally.updated) == (6, 5, 1)
    assert any(s.startswith("ROLLBACK TO SAVEPOINT") for s in statements.sent)
    async with sessions() as session:
        leads = {
            lead.external_id: lead.email
            for lead in (await session.execute(select(Lead))).scalars()
        }
        entries = await session.scalar(select(func.count()).select_from(FunnelEntry))
    assert sorted(leads) == ["X0", "X1", "X2", "X3", "X4", "X5"]
    assert leads["X3"] == "p3@co3.example"
    assert entries == 6


async def _until_a_lock_is_awaited(sessions: Any) -> None:
    """Return once some transaction waits on a lock (PostgreSQL), at most 60 s."""
    for _ in range(600):
        async with sessions() as session:
            waiting = await session.scalar(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            )
        if waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no transaction ever waited on the other writer's lead")
