"""Import jobs (D12, issue 13 item 1): a file uploaded once, imported by a worker.

``start_import`` checks what can be checked before any row (permission, the
file's header against the mapping, the campaign) and queues the job with the
file's bytes; ``run_import_job`` imports it (``domain.services.imports``),
writing the row report and the counts batch by batch, so ``progress`` grows
while it runs. ``claim_import_job`` hands the oldest queued job — or one whose
worker died — to one worker (``domain.services.jobs``: a lease with a
heartbeat, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writer runs
alone).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import write_transaction
from domain.enums import ErrorCode, ImportJobStatus, ImportKind, RecordType
from domain.errors import Refused, refuse_if
from domain.records import ImportJob, ImportMapping, ImportRow, User
from domain.rules.import_mapping import (
    ColumnMapping,
    parse_mapping,
    suggest_mapping,
    unmapped_columns,
)
from domain.rules.permissions import Actor
from domain.rules.validation import max_length, required, validate
from domain.services.import_files import count_rows, open_import_file
from domain.services.imports import (
    Decode,
    ImportOptions,
    RowResult,
    check_import,
    counter_of,
    import_file,
    import_refusals,
)
from domain.services.jobs import (
    JobTakenOverError,
    claim_job_id,
    heartbeat,
    take_queued,
)
from domain.services.loading import load
from domain.sqltypes import utcnow

# Files up to this size are imported inside the request that uploads them.
INLINE_MAX_BYTES = 64 * 1024
MAPPING_RULES = {"name": [required, max_length(120)]}
RECORD_TYPES = {
    "Lead": RecordType.LEAD,
    "Contact": RecordType.CONTACT,
    "Account": RecordType.ACCOUNT,
    "User": RecordType.USER,
    "Opportunity": RecordType.OPPORTUNITY,
    "Activity": RecordType.ACTIVITY,
}


async def save_import_mapping(
    name: str, kind: ImportKind, doc: Any, *, session: AsyncSession, actor: Actor
) -> ImportMapping:
    """Save (or replace) a mapping by name; a malformed one is refused whole."""
    refuse_if(import_refusals(actor))
    refuse_if(validate({"name": name}, MAPPING_RULES))
    mapping, refused = parse_mapping(kind, doc)
    refuse_if(refused)
    assert mapping is not None
    fields = mapping.to_json()["fields"]
    saved = await session.scalar(
        select(ImportMapping).where(col(ImportMapping.name) == name.strip())
    )
    if saved is None:
        saved = ImportMapping(name=name.strip(), kind=kind, fields=fields)
        session.add(saved)
    else:
        saved.kind, saved.fields = kind, fields
    saved.saved_by_id, saved.saved_at = actor.id, utcnow()
    await session.flush()
    return saved


async def saved_mapping(
    session: AsyncSession, name: str, kind: ImportKind, field: str = "mappingName"
) -> ColumnMapping:
    """A saved mapping by name (NOT_FOUND, or refused if for another kind)."""
    saved = await session.scalar(
        select(ImportMapping).where(col(ImportMapping.name) == name)
    )
    if saved is None:
        raise Refused.one(ErrorCode.NOT_FOUND, f"No mapping named {name!r}.", field)
    mapping, refused = parse_mapping(
        kind, {"kind": saved.kind.value, "fields": saved.fields}
    )
    refuse_if(refused)
    assert mapping is not None
    return mapping


async def mapping_for(
    session: AsyncSession,
    kind: ImportKind,
    *,
    name: str | None,
    doc: Any,
    header: list[str],
) -> ColumnMapping:
    """The mapping a request names (``name``), gives (``doc``), or, with
    neither, the one suggested from the file's header."""
    if name is not None and doc is not None:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            "Give mappingName or mapping, not both.",
            "mapping",
        )
    if name is not None:
        return await saved_mapping(session, name, kind)
    if doc is None:
        return suggest_mapping(kind, header).mapping
    mapping, refused = parse_mapping(kind, doc)
    refuse_if(refused)
    assert mapping is not None
    return mapping


@dataclass(frozen=True)
class ImportRequest:
    """What ``startImport`` asks: the file and how to import it."""

    content: bytes
    file_name: str
    kind: ImportKind
    mapping_name: str | None = None
    mapping: Any = None
    source: str | None = None
    campaign_id: int | None = None
    dry_run: bool = False
    atomic: bool = False
    historical: bool = False


async def start_import(
    request: ImportRequest, *, session: AsyncSession, actor: Actor
) -> ImportJob:
    """Queue an import: refused whole, before any row, when the user may not
    import, the file cannot be read or has no header, the mapping is malformed
    or reads a column the file lacks, or the campaign does not exist."""
    refuse_if(import_refusals(actor))
    try:
        file = open_import_file(request.content, request.file_name)
        total = count_rows(request.content, request.file_name)
    except Exception as exc:  # a file neither CSV nor XLSX can read
        raise Refused.one(
            ErrorCode.INVALID_INPUT, f"The file cannot be read: {exc}", "file"
        ) from exc
    if not file.header:
        raise Refused.one(
            ErrorCode.INVALID_INPUT, "The file has no header row.", "file"
        )
    mapping = await mapping_for(
        session,
        request.kind,
        name=request.mapping_name,
        doc=request.mapping,
        header=file.header,
    )
    options = ImportOptions(
        kind=request.kind,
        mapping=mapping,
        source=request.source,
        campaign_id=request.campaign_id,
        dry_run=request.dry_run,
        atomic=request.atomic,
        historical=request.historical,
        file_name=request.file_name,
    )
    await check_import(file, options, session=session, actor=actor)
    job = ImportJob(
        kind=request.kind,
        status=ImportJobStatus.QUEUED,
        file_name=request.file_name[:255],
        content=request.content,
        mapping=mapping.to_json(),
        source=request.source,
        campaign_id=request.campaign_id,
        dry_run=request.dry_run,
        atomic=request.atomic,
        historical=request.historical,
        requested_by_id=actor.id,
        total_rows=total,
        unmapped=unmapped_columns(mapping, file.header),
    )
    session.add(job)
    await session.flush()
    return job


async def claim_import_job(
    session: AsyncSession, *, worker: str, now: datetime, lease_seconds: float
) -> int | None:
    """The oldest queued job — or a RUNNING one whose worker has been silent
    past the lease — now ``worker``'s (None: none)."""
    return await claim_job_id(
        session,
        ImportJob,
        worker=worker,
        now=now,
        lease_seconds=lease_seconds,
        queued=ImportJobStatus.QUEUED,
        running=ImportJobStatus.RUNNING,
    )


async def run_import_job(
    job_id: int,
    *,
    session: AsyncSession,
    decode: Decode,
    worker: str,
    claimed: bool = False,
) -> None:
    """Import a job's file as ``worker`` (claim it first unless ``claimed``):
    DONE, or FAILED with the reason (an atomic import with a rejected row
    writes nothing).

    Each batch's rows, its row report and the job's counts commit together, so
    a job taken over from a dead worker resumes after the rows it reported —
    none is imported twice, none is lost. A worker whose job was taken over
    stops at its next batch (``JobTakenOverError``: that batch rolls back)."""
    if not claimed and not await take_queued(
        session,
        ImportJob,
        job_id,
        worker=worker,
        queued=ImportJobStatus.QUEUED,
        running=ImportJobStatus.RUNNING,
    ):
        return
    async with write_transaction(session):
        job = await load(session, ImportJob, job_id)
        user = await load(session, User, job.requested_by_id)
    actor = Actor(user.id, user.role)  # type: ignore[arg-type]
    mapping, _ = parse_mapping(job.kind, job.mapping)
    assert mapping is not None and job.content is not None
    options = ImportOptions(
        kind=job.kind,
        mapping=mapping,
        source=job.source,
        campaign_id=job.campaign_id,
        dry_run=job.dry_run,
        atomic=job.atomic,
        historical=job.historical,
        file_name=job.file_name,
    )

    async def report(results: list[RowResult], batch_session: AsyncSession) -> None:
        await batch_session.execute(
            ImportRow.__table__.insert(),  # type: ignore[attr-defined]
            [_report_row(job_id, r) for r in results],
        )
        counts = {
            "rows_done": col(ImportJob.rows_done) + len(results),
            **{
                name: col(getattr(ImportJob, name))
                + sum(1 for r in results if counter_of(r.outcome) == name)
                for name in ("created", "updated", "unchanged", "skipped", "rejected")
            },
        }
        if not await heartbeat(
            batch_session, ImportJob, job_id, worker=worker, **counts
        ):
            raise JobTakenOverError(job_id)

    opened = open_import_file(job.content, job.file_name)
    # Resuming a job taken over: the rows already reported are done.
    file = replace(opened, rows=itertools.islice(opened.rows, job.rows_done, None))
    try:
        tally = await import_file(
            file, options, session=session, actor=actor, decode=decode, report=report
        )
    except JobTakenOverError:
        return
    except Exception as exc:  # the job reports its failure on its row
        message = (
            " ".join(r.message for r in exc.refusals)
            if isinstance(exc, Refused)
            else f"{type(exc).__name__}: {exc}"
        )
        async with write_transaction(session):
            await heartbeat(
                session,
                ImportJob,
                job_id,
                worker=worker,
                status=ImportJobStatus.FAILED,
                error=message,
                finished_at=utcnow(),
            )
        return
    failed = job.atomic and tally.rejected and not job.dry_run
    async with write_transaction(session):
        await heartbeat(
            session,
            ImportJob,
            job_id,
            worker=worker,
            status=ImportJobStatus.FAILED if failed else ImportJobStatus.DONE,
            error=f"Atomic import: {tally.rejected} rows rejected, nothing was written."
            if failed
            else None,
            finished_at=utcnow(),
            content=None,
        )


def _report_row(job_id: int, r: RowResult) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "row_number": r.row_number,
        "outcome": r.outcome,
        "record_type": RECORD_TYPES[r.record.type] if r.record else None,
        "record_id": r.record.id if r.record else None,
        "codes": r.codes,
        "fields": r.fields,
        "message": r.message,
    }
