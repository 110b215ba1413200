"""Exports (issue 13 item 5): the rows of a list, streamed in batches, and the
export jobs the worker runs.

``export_batches`` reads the SELECT a list query builds (``domain.services.
listing``: the very filter classes of ``leads``, ``contacts``…, so an export
holds exactly the records the list shows) with only the columns of the export
(``domain.rules.export_columns``), streamed ``batch`` rows at a time in id
order: memory stays constant whatever the row count, on SQLite and PostgreSQL
alike.

Jobs: ``start_export`` queues one (``exportRecords``), ``claim_export`` gives the
oldest QUEUED job — or a RUNNING one whose worker stopped beating — to one
worker (``FOR UPDATE SKIP LOCKED``), ``record_progress`` / ``finish_export`` /
``fail_export`` write where it stands, each in its own short transaction, and
raise ``JobTakenOverError`` when another worker has taken the job over
(``domain.services.jobs``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import write_transaction
from domain.enums import ExportJobStatus, ExportKind
from domain.errors import refuse_if
from domain.records import Account, AccountDomain, Contact, ExportJob, Lead, Opportunity
from domain.rules.export_columns import COLUMNS, Cell
from domain.rules.permissions import Actor, may_export
from domain.services.jobs import JobTakenOverError, claim_job, heartbeat
from domain.sqltypes import utcnow

MODEL_OF: dict[ExportKind, Any] = {
    ExportKind.LEAD: Lead,
    ExportKind.CONTACT: Contact,
    ExportKind.ACCOUNT: Account,
    ExportKind.OPPORTUNITY: Opportunity,
}
DEFAULT_BATCH = 5_000


class ListQuery(Protocol):
    """A list's criteria (``LeadQuery``, ``ContactQuery``…)."""

    def statement(self) -> Select[Any]:
        """The SELECT of the list."""
        ...


def _columns(kind: ExportKind) -> list[Any]:
    """The SQL columns of an export, in the catalogue's order; a NULL where the
    record has no such column (``externalId`` before imports add it, a list
    filled per batch)."""
    model = MODEL_OF[kind]
    found = []
    for column in COLUMNS[kind]:
        attribute = getattr(model, column.attribute, None)
        if column.cell is Cell.LIST or attribute is None:
            found.append(null().label(column.attribute))
        else:
            found.append(attribute)
    return found


def _id_position(kind: ExportKind) -> int:
    return next(n for n, c in enumerate(COLUMNS[kind]) if c.attribute == "id")


async def count_rows(
    kind: ExportKind, query: ListQuery, *, session: AsyncSession
) -> int:
    """How many records the export will write."""
    model = MODEL_OF[kind]
    inner = query.statement().with_only_columns(model.id).subquery()
    return int(
        (await session.execute(select(func.count()).select_from(inner))).scalar_one()
    )


async def _domains(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(col(AccountDomain.account_id), col(AccountDomain.domain)).where(
            col(AccountDomain.account_id).in_(ids)
        )
    )
    for account_id, domain in rows:
        found[account_id].append(domain)
    return found


async def export_batches(
    kind: ExportKind,
    query: ListQuery,
    *,
    session: AsyncSession,
    batch: int = DEFAULT_BATCH,
) -> AsyncIterator[list[list[Any]]]:
    """The export's rows (values in ``COLUMNS[kind]`` order), ``batch`` at a time.

    One SELECT in id order, streamed (``stream_results``/``yield_per``: a
    server-side cursor on PostgreSQL, a stepped cursor on SQLite), so memory
    holds one batch whatever the row count, the whole file is one snapshot, and
    a filter served by another index (``createdBefore``) is one scan, not one
    per batch as keyset paging would make it.
    """
    at_id = _id_position(kind)
    lists = [n for n, c in enumerate(COLUMNS[kind]) if c.cell is Cell.LIST]
    statement = (
        query.statement()
        .with_only_columns(*_columns(kind))
        .order_by(MODEL_OF[kind].id)
        .execution_options(yield_per=batch)
    )
    # Core rows through the connection: no ORM loading for plain columns.
    connection = await session.connection()
    result = await connection.stream(statement)
    async for partition in result.partitions(batch):
        rows = [list(r) for r in partition]
        if lists:
            domains = await _domains(session, [r[at_id] for r in rows])
            for r in rows:
                for n in lists:
                    r[n] = domains.get(r[at_id], [])
        yield rows


async def start_export(
    kind: ExportKind,
    *,
    session: AsyncSession,
    actor: Actor,
    filter_of: Callable[[], dict[str, Any]],
) -> ExportJob:
    """Queue an export of ``kind``: the permission first, then ``filter_of()``
    (the edge's checked filter, as JSON; it raises ``Refused`` on a bad one)."""
    refuse_if(may_export(actor))
    job = ExportJob(kind=kind, filter=filter_of(), requested_by_id=actor.id)
    session.add(job)
    await session.flush()
    return job


async def claim_export(
    session: AsyncSession, *, worker: str, now: datetime, lease_seconds: float
) -> ExportJob | None:
    """The oldest QUEUED job (or a RUNNING one silent past the lease), now this
    worker's and started afresh; None when there is none."""
    async with write_transaction(session):
        job = await claim_job(
            session,
            ExportJob,
            worker=worker,
            now=now,
            lease_seconds=lease_seconds,
            queued=ExportJobStatus.QUEUED,
            running=ExportJobStatus.RUNNING,
        )
        if job is not None:
            job.started_at = now
            job.row_count = 0
            job.error = None
    return job


async def _set(session: AsyncSession, job_id: int, worker: str, **values: Any) -> None:
    """Write on the job while ``worker`` holds it; ``JobTakenOverError`` if it no
    longer does (another worker took the job over: this one stops)."""
    async with write_transaction(session):
        held = await heartbeat(session, ExportJob, job_id, worker=worker, **values)
    if not held:
        raise JobTakenOverError(job_id)


async def record_progress(
    job_id: int, *, session: AsyncSession, worker: str, rows: int, total: int
) -> None:
    """Rows written so far, of how many (and a heartbeat)."""
    await _set(session, job_id, worker, row_count=rows, total_rows=total)


async def finish_export(
    job_id: int, *, session: AsyncSession, worker: str, rows: int, file_name: str
) -> None:
    """The job is DONE: its file and row count."""
    await _set(
        session,
        job_id,
        worker,
        status=ExportJobStatus.DONE,
        row_count=rows,
        file_name=file_name,
        finished_at=utcnow(),
    )


async def fail_export(
    job_id: int, *, session: AsyncSession, worker: str, error: str
) -> None:
    """The job FAILED, and why."""
    await _set(
        session,
        job_id,
        worker,
        status=ExportJobStatus.FAILED,
        error=error,
        finished_at=utcnow(),
    )
