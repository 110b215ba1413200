"""`salesops import FILE --kind lead|contact|account …`: a list import from the
command line (D12, issue 13 item 1), with a progress bar and a row report.

The rows go through ``domain.services.imports`` — the same path as the API's
``startImport`` and the worker's jobs. The mapping is a JSON file
(``domain.rules.import_mapping``), a mapping saved by name, or, when none is
given, the one suggested from the file's header.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.imports import decode_reference, report_line
from domain.enums import ImportKind, RecordType, Role
from domain.errors import Refused, plain_refs
from domain.records import ImportMapping, User
from domain.rules.import_mapping import (
    ColumnMapping,
    parse_mapping,
    suggest_mapping,
    unmapped_columns,
)
from domain.rules.permissions import Actor
from domain.rules.validation import normalize_email
from domain.services.import_files import ImportFile, open_import_file
from domain.services.imports import ImportOptions, RowResult, Tally, import_file
from tools.cli_errors import CliError

REPORT_HEADER = ["row", "outcome", "recordId", "codes", "fields", "message"]


@dataclass(frozen=True)
class ImportRequest:
    """The command's arguments."""

    path: Path
    kind: ImportKind
    mapping: str | None = None
    source: str | None = None
    campaign: str | None = None
    dry_run: bool = False
    atomic: bool = False
    report: Path | None = None
    as_email: str | None = None
    historical: bool = False


@contextmanager
def report_writer(path: Path | None) -> Iterator[Callable[[list[RowResult]], None]]:
    """Write row results to a CSV row report (nothing when ``path`` is None)."""
    if path is None:
        yield lambda results: None
        return
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(REPORT_HEADER)
        yield lambda results: write_report_rows(out, results)


def write_report_rows(out: Any, results: list[RowResult]) -> None:
    """One CSV line per row result."""
    for r in results:
        out.writerow(report_line(r))


async def importer(session: AsyncSession, email: str | None) -> Actor:
    """The importing user: ``--as EMAIL``, else the first active ADMIN."""
    stmt = select(User).where(col(User.active).is_(True))
    if email is not None:
        stmt = stmt.where(col(User.email) == normalize_email(email))
    else:
        stmt = stmt.where(col(User.role) == Role.ADMIN).order_by(col(User.id))
    user = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if user is None or user.id is None:
        raise CliError(
            f"no active user {email!r}: name the importing user with --as EMAIL"
            if email
            else "no active ADMIN user: name the importing user with --as EMAIL"
        )
    return Actor(user.id, user.role)


def read_mapping_file(given: str) -> Any:
    """The JSON document of a mapping file (None: no such file)."""
    path = Path(given)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the mapping {given}: {exc}") from exc


async def load_mapping(
    session: AsyncSession, kind: ImportKind, given: str | None, file: ImportFile
) -> tuple[ColumnMapping, list[str]]:
    """The mapping (a JSON file, a saved name, or suggested) and notes to print."""
    notes: list[str] = []
    if given is None:
        suggestion = suggest_mapping(kind, file.header)
        for column, name in suggestion.fuzzy.items():
            notes.append(f"column {column!r} mapped to {name} (similar name)")
        return suggestion.mapping, notes
    doc = await asyncio.to_thread(read_mapping_file, given)
    if doc is None:
        saved = await session.scalar(
            select(ImportMapping).where(col(ImportMapping.name) == given)
        )
        if saved is None:
            raise CliError(f"no mapping file or saved mapping named {given!r}")
        doc = {"kind": saved.kind.value, "fields": saved.fields}
    mapping, refused = parse_mapping(kind, doc)
    if mapping is None:
        raise CliError("; ".join(plain_refs(r.message) for r in refused))
    return mapping, notes


async def run_import(
    request: ImportRequest,
    session: AsyncSession,
    *,
    progress: Callable[[int], None],
    say: Callable[[str], None],
) -> tuple[Tally, list[str]]:
    """Import the file; ``progress`` gets the rows done after each batch.
    Returns the counts and the columns no field reads."""
    file = open_import_file(request.path, request.path.name)
    if not file.header:
        raise CliError(f"{request.path} has no header row")
    async with session.begin():
        actor = await importer(session, request.as_email)
        mapping, notes = await load_mapping(
            session, request.kind, request.mapping, file
        )
    for note in notes:
        say(note)
    campaign_id = (
        decode_reference(request.campaign, RecordType.CAMPAIGN, "campaign")
        if request.campaign
        else None
    )
    options = ImportOptions(
        kind=request.kind,
        mapping=mapping,
        source=request.source,
        campaign_id=campaign_id,
        dry_run=request.dry_run,
        atomic=request.atomic,
        historical=request.historical,
        file_name=request.path.name,
    )
    with report_writer(request.report) as write:

        async def report(results: list[RowResult], _: AsyncSession) -> None:
            write(results)
            progress(len(results))

        try:
            tally = await import_file(
                file,
                options,
                session=session,
                actor=actor,
                decode=decode_reference,
                report=report,
            )
        except Refused as refused:
            raise CliError(
                "import refused: "
                + " ".join(plain_refs(r.message) for r in refused.refusals)
            ) from refused
    return tally, unmapped_columns(mapping, file.header)


def summary(tally: Tally, request: ImportRequest, unmapped: list[str]) -> str:
    """One line: what was (or, dry, would be) done."""
    verb = "would be" if request.dry_run else "were"
    line = (
        f"{tally.rows:,} rows: {tally.created:,} created, {tally.updated:,} updated, "
        f"{tally.unchanged:,} unchanged, {tally.skipped:,} skipped as duplicates, "
        f"{tally.rejected:,} rejected"
    )
    if request.dry_run:
        line += " (dry run: nothing written)"
    elif request.atomic and tally.rejected:
        line += " (atomic: nothing written)"
    if unmapped:
        line += f"; unmapped columns {verb} ignored: {', '.join(unmapped)}"
    return line
