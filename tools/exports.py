"""Writing exports to CSV (issue 13 item 5): ``salesops export`` and the export
jobs ``salesops worker`` runs.

Both write the same file the same way: the header of the kind's column
catalogue (``domain.rules.export_columns``: the contract with the import),
then the rows the list query shows (``domain.services.exports.export_batches``,
one streamed SELECT: constant memory), each cell as the catalogue writes it. The
file is written beside its name (``<name>.<random>.part``) and renamed when
complete, so a reader never sees half a file. Same data, same filter: the same bytes.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.exports import file_name_of, parse_filter
from api.relay import global_id
from domain.enums import ErrorCode, ExportKind
from domain.errors import Refused
from domain.records import ExportJob
from domain.rules.export_columns import header, row_writer
from domain.services import exports as exporting
from domain.services.exports import DEFAULT_BATCH, ListQuery
from domain.services.jobs import JobTakenOverError

log = logging.getLogger("salesops.exports")

Progress = Callable[[int, int], Awaitable[None]]


async def write_export(
    kind: ExportKind,
    query: ListQuery,
    path: Path,
    *,
    sessions: async_sessionmaker[AsyncSession],
    progress: Progress | None = None,
    batch: int = DEFAULT_BATCH,
) -> int:
    """Write the export to ``path``; the number of rows written."""
    # A file of its own per writer: a worker whose job was taken over never
    # writes into its successor's file.
    part = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        return await _write_part(kind, query, part, path, sessions, progress, batch)
    finally:
        part.unlink(missing_ok=True)


async def _write_part(
    kind: ExportKind,
    query: ListQuery,
    part: Path,
    path: Path,
    sessions: async_sessionmaker[AsyncSession],
    progress: Progress | None,
    batch: int,
) -> int:
    written = 0
    async with sessions() as session:
        total = await exporting.count_rows(kind, query, session=session)
        await session.rollback()
        if progress is not None:
            await progress(0, total)
        # Local file writes, one batch at a time: each is shorter than the query
        # that fed it, so the worker's other tasks wait no longer than that.
        with open(part, "w", newline="", encoding="utf-8") as handle:  # noqa: ASYNC230
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(header(kind))
            cells = row_writer(kind, global_id)
            async for rows in exporting.export_batches(
                kind, query, session=session, batch=batch
            ):
                writer.writerows(map(cells, rows))
                written += len(rows)
                if progress is not None:
                    await progress(written, max(total, written))
    os.replace(part, path)
    return written


def filter_from_args(kind: ExportKind, given: list[str]) -> dict[str, Any]:
    """A filter (the API's JSON) from ``--filter`` values: each a JSON object,
    or ``key=value`` — the value read as JSON when it is (``5``, ``true``), else
    text; a comma-separated text for a list field (``status=MQL,ACCEPTED``)."""
    from graphql import get_nullable_type, is_list_type

    from api.exports import FILTERS
    from api.schema import schema

    filter_cls, _, _ = FILTERS[kind]
    gql_type: Any = schema._schema.get_type(
        filter_cls.__strawberry_definition__.name  # type: ignore[attr-defined]
    )
    found: dict[str, Any] = {}
    for item in given:
        text = item.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise Refused.one(
                    ErrorCode.INVALID_INPUT, f"--filter {text!r}: {exc}", "filter"
                ) from None
            if not isinstance(value, dict):
                raise Refused.one(
                    ErrorCode.INVALID_INPUT,
                    f"--filter {text!r}: a JSON filter is an object.",
                    "filter",
                )
            found.update(value)
            continue
        key, equals, raw = text.partition("=")
        if not equals or not key.strip():
            raise Refused.one(
                ErrorCode.INVALID_INPUT,
                f"--filter {text!r}: give key=value or a JSON object.",
                "filter",
            )
        key = key.strip()
        field = gql_type.fields.get(key)
        if field is not None and is_list_type(get_nullable_type(field.type)):
            found[key] = [_scalar(part) for part in raw.split(",") if part.strip()]
        else:
            found[key] = _scalar(raw)
    return found


def _scalar(raw: str) -> Any:
    text = raw.strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, int | float | bool) else text


async def run_export_job(
    sessions: async_sessionmaker[AsyncSession],
    job: ExportJob,
    *,
    export_dir: Path,
    worker: str,
) -> None:
    """Write one claimed job's file and record how it ended (never raises)."""
    assert job.id is not None
    job_id = job.id

    async def progress(done: int, total: int) -> None:
        async with sessions() as session:
            await exporting.record_progress(
                job_id, session=session, worker=worker, rows=done, total=total
            )

    try:
        query = parse_filter(job.kind, job.filter)
        export_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once
        name = file_name_of(job_id)
        rows = await write_export(
            job.kind, query, export_dir / name, sessions=sessions, progress=progress
        )
    except JobTakenOverError:
        log.warning("export job %s was taken over by another worker; stopped", job_id)
        return
    except Exception as exc:  # a bad stored filter, a full disk, a lost database
        error = (
            "; ".join(r.message for r in exc.refusals)
            if isinstance(exc, Refused)
            else f"{type(exc).__name__}: {exc}"
        )
        log.exception("export job %s failed", job_id)
        async with sessions() as session:
            await exporting.fail_export(
                job_id, session=session, worker=worker, error=error
            )
        return
    async with sessions() as session:
        await exporting.finish_export(
            job_id, session=session, worker=worker, rows=rows, file_name=name
        )
    log.info("export job %s done: %d rows", job_id, rows)
