"""List import on the API (D12, issue 13 item 1): mappings, ``startImport``,
``ImportJob``.

``startImport`` takes the file as a multipart upload (the GraphQL multipart
request spec); a small file is imported inside the request, a larger one is
QUEUED for ``salesops worker``. Either way the answer is the job, whose
status, progress, counts and row report (``rows``) are readable.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlmodel import col
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from api.accounts import AccountNode
from api.campaigns import CampaignNode
from api.contacts import ContactNode
from api.context import Info
from api.enums import ImportJobStatusGQL, ImportKindGQL, ImportOutcomeGQL
from api.errors import UserError, client_message
from api.inputs import mutate
from api.leads import LeadNode
from api.opportunities import OpportunityNode
from api.relay import (
    Connection,
    RecordNode,
    connection,
    decode_id,
    global_id,
    load_node,
    to_one,
)
from api.users import UserNode
from domain import records as rec
from domain.enums import ErrorCode, ImportJobStatus, ImportKind, RecordType
from domain.errors import RecordRef, Refusal, Refused
from domain.rules.import_mapping import suggest_mapping
from domain.rules.permissions import HISTORY_IMPORTERS, IMPORTERS, role_names
from domain.services.import_jobs import (
    INLINE_MAX_BYTES,
    ImportRequest,
    run_import_job,
    save_import_mapping,
    start_import,
)
from domain.services.imports import RowResult

REFERENCE_NODES: dict[RecordType, type] = {
    RecordType.USER: UserNode,
    RecordType.ACCOUNT: AccountNode,
    RecordType.CAMPAIGN: CampaignNode,
    RecordType.LEAD: LeadNode,
    RecordType.CONTACT: ContactNode,
    RecordType.OPPORTUNITY: OpportunityNode,
}


def decode_reference(value: str, record_type: RecordType, field: str) -> int:
    """A reference cell (a global id) -> the database id (refused: INVALID_INPUT)."""
    return decode_id(value, REFERENCE_NODES[record_type], field)


def record_id(record: RecordRef | None) -> str | None:
    """The referenced record's global id."""
    return global_id(record.type, record.id) if record else None


def report_line(r: RowResult) -> list[str | int | None]:
    """One line of the CSV row report: row, outcome, recordId, codes, fields,
    message."""
    return [
        r.row_number,
        r.outcome.value,
        record_id(r.record),
        ";".join(r.codes),
        ";".join(r.fields),
        client_message(r.message) if r.message else None,
    ]


_WHO = role_names(IMPORTERS)


@strawberry.type(
    name="ImportMapping",
    description="A column mapping saved by name: which file column feeds which "
    "field, and how (trim, split, combine, map, constant, template).",
)
class ImportMappingType:
    """A saved mapping."""

    name: str = strawberry.field(description="Its name (unique).")
    kind: ImportKindGQL = strawberry.field(description="The records it imports.")
    fields: JSON = strawberry.field(
        description='Field -> spec: "Column", or {column|combine|split|constant|'
        "template, separator, part, trim, map} (see the README)."
    )
    saved_at: datetime = strawberry.field(description="When it was last saved.")

    @classmethod
    def of(cls, row: rec.ImportMapping) -> ImportMappingType:
        """A saved mapping row -> GraphQL object."""
        return cls(
            name=row.name, kind=row.kind, fields=row.fields, saved_at=row.saved_at
        )  # type: ignore[arg-type]


@strawberry.type(description="A header column matched to a field by similarity.")
class ImportColumnMatch:
    """A fuzzy match to check."""

    column: str = strawberry.field(description="The file's column.")
    field: str = strawberry.field(description="The field it was taken for.")


@strawberry.type(description="A mapping suggested from a file's header.")
class ImportMappingSuggestion:
    """What suggestImportMapping found."""

    fields: JSON = strawberry.field(
        description="The suggested mapping (as ImportMapping.fields)."
    )
    fuzzy_matches: list[ImportColumnMatch] = strawberry.field(
        description="Columns matched by a similar name, not an exact one: check them."
    )
    unmapped_columns: list[str] = strawberry.field(
        description="Columns no field reads (ignored on import)."
    )


@strawberry.type(name="ImportRow", description="One line of an import's row report.")
class ImportRowNode(RecordNode):
    """A row's outcome."""

    model = rec.ImportRow

    row_number: int = strawberry.field(
        description="The row's line in the file (the header is row 1)."
    )
    outcome: ImportOutcomeGQL = strawberry.field(description="What happened to it.")
    codes: list[str] = strawberry.field(
        description="ErrorCode of each refusal (REJECTED, SKIPPED_DUPLICATE), then "
        "of each warning of the row (VALUE_CORRECTED, UNKNOWN_COUNTRY)."
    )
    fields: list[str] = strawberry.field(
        description="The fields the refusals and warnings are about (camelCase)."
    )
    message: strawberry.Private[str | None]
    record_type: strawberry.Private[Any]
    record_id: strawberry.Private[int | None]

    @strawberry.field(name="message", description="The refusals, for a person.")
    def message_for_people(self) -> str | None:
        """The stored message with the records it names as global ids."""
        return client_message(self.message) if self.message else None

    @strawberry.field(
        name="recordId",
        description="The record created or updated, or the existing duplicate "
        "(null when rejected, and for records a dry run would create).",
    )
    def record_global_id(self) -> strawberry.ID | None:
        """The record's global id."""
        if self.record_id is None or self.record_type is None:
            return None
        name = RECORD_NAMES[RecordType(self.record_type)]
        return strawberry.ID(global_id(name, self.record_id))


RECORD_NAMES = {
    RecordType.LEAD: "Lead",
    RecordType.CONTACT: "Contact",
    RecordType.ACCOUNT: "Account",
    RecordType.USER: "User",
    RecordType.OPPORTUNITY: "Opportunity",
    RecordType.ACTIVITY: "Activity",
}


@strawberry.type(
    name="ImportJob",
    description="A list import (D12): QUEUED, RUNNING, then DONE or FAILED; its "
    "counts and row report grow while it runs.",
)
class ImportJobNode(RecordNode):
    """An import job."""

    model = rec.ImportJob

    kind: ImportKindGQL = strawberry.field(description="The records it imports.")
    status: ImportJobStatusGQL = strawberry.field(description="Where it stands.")
    file_name: str = strawberry.field(description="The uploaded file's name.")
    dry_run: bool = strawberry.field(description="A rehearsal: nothing is written.")
    atomic: bool = strawberry.field(description="All rows or none.")
    historical: bool = strawberry.field(
        description="A history import: closed deals and past stages (issue 13)."
    )
    created_at: datetime = strawberry.field(description="When it was requested.")
    started_at: datetime | None = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    total_rows: int | None = strawberry.field(description="Rows in the file.")
    rows_done: int = strawberry.field(description="Rows with an outcome so far.")
    created: int = strawberry.field(description="Rows CREATED.")
    updated: int = strawberry.field(description="Rows UPDATED.")
    unchanged: int = strawberry.field(description="Rows UNCHANGED.")
    skipped: int = strawberry.field(description="Rows SKIPPED_DUPLICATE.")
    rejected: int = strawberry.field(description="Rows REJECTED.")
    unmapped: strawberry.Private[list[str]]
    error: strawberry.Private[str | None]
    requested_by_id: strawberry.Private[int]

    @strawberry.field(name="error", description="Why it FAILED.")
    def error_for_people(self) -> str | None:
        """The stored error with the records it names as global ids."""
        return client_message(self.error) if self.error else None

    @strawberry.field(description="Columns of the file no field reads (ignored).")
    def unmapped_columns(self) -> list[str]:
        """The ignored columns."""
        return list(self.unmapped)

    @strawberry.field(description="0 to 1: the share of rows done.")
    def progress(self) -> float:
        """rowsDone / totalRows."""
        if not self.total_rows:
            return 1.0 if self.status is ImportJobStatus.DONE else 0.0
        return min(1.0, self.rows_done / self.total_rows)

    requested_by = to_one(
        UserNode,
        "requested_by_id",
        description="Who started it.",
    )

    @strawberry.field(description="The row report, in file order.")
    async def rows(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size (max 500).")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to start after.")
        ] = None,
        last: Annotated[
            int | None, strawberry.argument(description="Last rows of the page.")
        ] = None,
        before: Annotated[
            str | None, strawberry.argument(description="Cursor to end before.")
        ] = None,
    ) -> Connection[ImportRowNode]:
        """A keyset page of the row report."""
        statement = select(rec.ImportRow).where(col(rec.ImportRow.job_id) == self.id)
        return await connection(
            info, ImportRowNode, statement, first, after, last, before
        )


@strawberry.input(description="saveImportMapping input.")
class SaveImportMappingInput:
    """A mapping to save by name."""

    name: str = strawberry.field(description="Its name (saving it again replaces it).")
    kind: ImportKindGQL = strawberry.field(description="The records it imports.")
    fields: JSON = strawberry.field(
        description="Field -> spec (see ImportMapping.fields)."
    )


@strawberry.type(description="Result of saveImportMapping.")
class SaveImportMappingPayload:
    """The saved mapping, or why not."""

    import_mapping: ImportMappingType | None = strawberry.field(
        description="The saved mapping."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(description="startImport input.")
class StartImportInput:
    """The file and how to import it."""

    file: Upload = strawberry.field(
        description="The CSV or XLSX file (GraphQL multipart request)."
    )
    kind: ImportKindGQL = strawberry.field(description="The records it holds.")
    mapping_name: str | None = strawberry.field(
        default=None, description="A saved mapping to use."
    )
    mapping: JSON | None = strawberry.field(
        default=None,
        description="A mapping given here (as ImportMapping.fields). With neither "
        "this nor mappingName, the one suggested from the header.",
    )
    source: str | None = strawberry.field(
        default=None,
        description="The list's source: initial source of the records it creates, "
        "unless a row maps one (D4).",
    )
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The list's campaign: first touch of its new leads."
    )
    dry_run: bool = strawberry.field(
        default=False,
        description="Decide every row and report it; write nothing.",
    )
    atomic: bool = strawberry.field(
        default=False, description="All rows or none: one rejected row writes nothing."
    )
    historical: bool = strawberry.field(
        default=False,
        description="Migrate a CRM's history (opportunities): deals "
        "already past 0-Pending Acceptance, won or lost, with the days they were "
        "sales-accepted and closed; the entry requirements of the stages they "
        "passed are not checked again, and the ledger records the import. By "
        f"{role_names(HISTORY_IMPORTERS)}.",
    )


@strawberry.type(description="Result of startImport.")
class StartImportPayload:
    """The job, or why not."""

    job: ImportJobNode | None = strawberry.field(
        description="The job: DONE already for a small file, else QUEUED for "
        "`salesops worker`."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class ImportQueries:
    """Root fields about list imports."""

    @strawberry.field(description="The saved import mappings, by name.")
    async def import_mappings(
        self,
        info: Info,
        kind: Annotated[
            ImportKindGQL | None,
            strawberry.argument(description="Only the mappings of this kind."),
        ] = None,
    ) -> list[ImportMappingType]:
        """Saved mappings."""
        stmt = select(rec.ImportMapping).order_by(col(rec.ImportMapping.name))
        if kind is not None:
            stmt = stmt.where(col(rec.ImportMapping.kind) == ImportKind(kind))
        rows = await info.context.read(lambda s: _all(s, stmt))
        return [ImportMappingType.of(r) for r in rows]

    @strawberry.field(
        description="A mapping for a file's header: exact field names (as "
        "`createLead`'s input and `externalId`) first, then known aliases, then "
        "similar names."
    )
    def suggest_import_mapping(
        self,
        kind: Annotated[ImportKindGQL, strawberry.argument(description="The records.")],
        header: Annotated[
            list[str], strawberry.argument(description="The file's column names.")
        ],
    ) -> ImportMappingSuggestion:
        """A suggestion."""
        found = suggest_mapping(ImportKind(kind), header)
        return ImportMappingSuggestion(
            fields=found.mapping.to_json()["fields"],
            fuzzy_matches=[
                ImportColumnMatch(column=c, field=f) for c, f in found.fuzzy.items()
            ],
            unmapped_columns=found.unmapped,
        )

    @strawberry.field(description="One import job by global id.")
    async def import_job(self, info: Info, id: strawberry.ID) -> ImportJobNode | None:
        """A job, or null."""
        return await load_node(info, ImportJobNode, decode_id(id, ImportJobNode, "id"))


async def _all(session: Any, stmt: Any) -> list[Any]:
    return list((await session.execute(stmt)).scalars())


@strawberry.type
class ImportMutations:
    """Root mutations about list imports."""

    @strawberry.mutation(description=f"Save a column mapping by name (D12). By {_WHO}.")
    async def save_import_mapping(
        self, info: Info, input: SaveImportMappingInput
    ) -> SaveImportMappingPayload:
        """Save a mapping."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: save_import_mapping(
                input.name, ImportKind(input.kind), input.fields, session=s, actor=actor
            ),
        )
        return SaveImportMappingPayload(
            import_mapping=row and ImportMappingType.of(row), user_errors=errors
        )

    @strawberry.mutation(
        description="Import leads, contacts, accounts, users, opportunities or "
        "activities from a CSV or XLSX file (D12, issue 13): every row goes through "
        "the same rules as createLead/updateLead (and the contact, account, user, "
        "opportunity and activity mutations) and gets an outcome in the job's "
        f"row report. Files up to {INLINE_MAX_BYTES // 1024} KiB are imported "
        "before the answer; larger ones are QUEUED for `salesops worker`. "
        f"By {_WHO}."
    )
    async def start_import(
        self, info: Info, input: StartImportInput
    ) -> StartImportPayload:
        """Start an import."""
        actor = info.context.actor

        async def use_case(s: Any) -> rec.ImportJob:
            if not callable(getattr(input.file, "read", None)):
                raise Refused(
                    [
                        Refusal.on(
                            "file",
                            ErrorCode.INVALID_INPUT,
                            "Send the file as a multipart upload (GraphQL "
                            "multipart request spec), not in the JSON variables.",
                        )
                    ]
                )
            content = await input.file.read()
            if isinstance(content, str):
                content = content.encode()
            name = getattr(input.file, "filename", None) or "upload"
            campaign_id = (
                decode_id(input.campaign_id, CampaignNode, "campaignId")
                if input.campaign_id is not None
                else None
            )
            request = ImportRequest(
                content=content,
                file_name=name,
                kind=ImportKind(input.kind),
                mapping_name=input.mapping_name,
                mapping=input.mapping,
                source=input.source,
                campaign_id=campaign_id,
                dry_run=input.dry_run,
                atomic=input.atomic,
                historical=input.historical,
            )
            return await start_import(request, session=s, actor=actor)

        row, errors = await mutate(info, use_case)
        if row is None:
            return StartImportPayload(job=None, user_errors=errors)
        job_id = row.id
        assert job_id is not None
        if len(row.content or b"") <= INLINE_MAX_BYTES:
            async with info.context.lock:
                await run_import_job(
                    job_id,
                    session=info.context.session,
                    decode=decode_reference,
                    worker=f"api:{socket.gethostname()}:{os.getpid()}",
                )
        done = await info.context.read(
            lambda s: s.get(rec.ImportJob, job_id, populate_existing=True)
        )
        return StartImportPayload(job=ImportJobNode.from_row(done), user_errors=[])
