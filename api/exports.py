"""Exports on the API (issue 13 item 5): ``exportRecords``, ``exportJob`` and the
download at ``GET /exports/<ExportJob id>``.

The filter of an export is the list query's own input (``LeadFilter``,
``ContactFilter``, ``AccountFilter``, ``OpportunityFilter``), turned into the
list's domain query by the list's own function (``lead_query``…): one filter
implementation. A job keeps it as JSON spelled as the API spells it (what
``salesops export --filter`` takes too); ``parse_filter`` reads it back through
the schema's own input validation, so the worker, the CLI and the mutation
refuse the same mistakes with the same ``INVALID_INPUT`` paths.

The job runs in ``salesops worker`` (``tools.exports``), never in the request;
its CSV lands in ``SALESOPS_EXPORT_DIR`` and is served by the app, with the
same bearer-token authentication as ``/graphql``, to whoever asked for it,
SALES_OPS and ADMIN.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import strawberry
from graphql.utilities import coerce_input_value
from graphql.utilities.validate_input_value import validate_input_value
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from strawberry.types.arguments import convert_argument

from api import http_edge as edge
from api.accounts import AccountFilter, account_query
from api.auth import Authenticator, NotAuthenticated
from api.contacts import ContactFilter, contact_query
from api.context import Info
from api.enums import ExportJobStatusGQL, ExportKindGQL
from api.errors import UserError
from api.inputs import mutate
from api.leads import LeadFilter, lead_query
from api.opportunities import OpportunityFilter, opportunity_query
from api.relay import RecordNode, decode_id, encode_id, load_node, to_one
from api.users import UserNode
from domain import records as rec
from domain.enums import ErrorCode, ExportJobStatus, ExportKind, TokenScope
from domain.errors import Refusal, Refused
from domain.rules.permissions import (
    EXPORTERS,
    Actor,
    may_read_private,
    role_names,
)
from domain.services import exports as exporting
from domain.services.exports import ListQuery

# kind -> (the list's filter input, its field in ExportRecordsInput, -> query)
FILTERS: dict[ExportKind, tuple[type, str, Callable[[Any], ListQuery]]] = {
    ExportKind.LEAD: (LeadFilter, "leadFilter", lead_query),
    ExportKind.CONTACT: (ContactFilter, "contactFilter", contact_query),
    ExportKind.ACCOUNT: (AccountFilter, "accountFilter", account_query),
    ExportKind.OPPORTUNITY: (OpportunityFilter, "opportunityFilter", opportunity_query),
}
DOWNLOAD_PATH = "/exports/"


def file_name_of(job_id: int) -> str:
    """The name of a job's CSV in the export directory."""
    return f"export-{job_id}.csv"


def parse_filter(
    kind: ExportKind, raw: dict[str, Any], field: str = "filter"
) -> ListQuery:
    """The list query of a filter given as JSON (the API's spelling), or
    ``Refused`` with one INVALID_INPUT per mistake (paths under ``field``)."""
    from api.schema import schema  # the schema imports this module

    filter_cls, _, to_query = FILTERS[kind]
    if not isinstance(raw, dict):
        raise Refused.one(ErrorCode.INVALID_INPUT, "A filter is a JSON object.", field)
    gql_type = schema._schema.get_type(filter_cls.__strawberry_definition__.name)  # type: ignore[attr-defined]
    mistakes: list[Refusal] = []

    def note(error: Any, path: Any = None) -> None:
        where = [str(p) for p in (path or [])]
        mistakes.append(
            Refusal(ErrorCode.INVALID_INPUT, error.message, (field, *where))
        )

    validate_input_value(raw, gql_type, note)  # type: ignore[arg-type]
    if mistakes:
        raise Refused(mistakes)
    value = convert_argument(
        coerce_input_value(raw, gql_type),  # type: ignore[arg-type]
        filter_cls,
        schema.schema_converter.scalar_registry,
        schema.config,
    )
    try:
        return to_query(value)
    except Refused as refused:
        raise Refused([r.under(field) for r in refused.refusals]) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def filter_json(value: Any) -> dict[str, Any]:
    """A filter input as JSON, spelled as the API spells it (given fields only)."""
    from api.schema import schema

    definition = value.__strawberry_definition__
    found = {}
    for f in definition.fields:
        given = getattr(value, f.python_name)
        if given is None or given is strawberry.UNSET:
            continue
        found[schema.config.name_converter.get_graphql_name(f)] = _plain(given)
    return found


def may_download(actor: Actor, requested_by_id: int | None) -> bool:
    """Whoever asked for the export, SALES_OPS and ADMIN."""
    return may_read_private(actor, {requested_by_id} if requested_by_id else set())


@strawberry.type(name="ExportJob", description="An export of records to CSV (a job).")
class ExportJobNode(RecordNode):
    """Where the export stands and, once DONE, where to download it."""

    model = rec.ExportJob

    kind: ExportKindGQL = strawberry.field(description="Which records.")
    status: ExportJobStatusGQL = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    started_at: datetime | None = strawberry.field(
        description="When a worker started it."
    )
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    row_count: int = strawberry.field(description="Rows written so far (DONE: all).")
    total_rows: int | None = strawberry.field(
        description="Rows it will write (known once RUNNING)."
    )
    error: str | None = strawberry.field(description="Why it FAILED.")
    requested_by_id: strawberry.Private[int | None]

    @strawberry.field(description="0 to 1: the share of rows written (null: QUEUED).")
    def progress(self) -> float | None:
        """rowCount / totalRows."""
        if self.status == ExportJobStatus.DONE:
            return 1.0
        if not self.total_rows:
            return None
        return min(1.0, self.row_count / self.total_rows)

    @strawberry.field(
        description="Where to GET the CSV once DONE (a path on this server; send "
        "the same `Authorization: Bearer` header). Null before, and for viewers "
        "other than whoever asked for it, SALES_OPS and ADMIN."
    )
    def download_url(self, info: Info) -> str | None:
        """``/exports/<id>``."""
        if self.status != ExportJobStatus.DONE:
            return None
        if not may_download(info.context.actor, self.requested_by_id):
            return None
        return DOWNLOAD_PATH + encode_id(ExportJobNode, int(self.id))

    requested_by = to_one(
        UserNode,
        "requested_by_id",
        description="Who asked for it.",
    )


@strawberry.input(description="exportRecords input.")
class ExportRecordsInput:
    """Which records, filtered as their list query filters them."""

    kind: ExportKindGQL = strawberry.field(description="Which records.")
    lead_filter: LeadFilter | None = strawberry.field(
        default=None, description="kind LEAD: the `leads` filter."
    )
    contact_filter: ContactFilter | None = strawberry.field(
        default=None, description="kind CONTACT: the `contacts` filter."
    )
    account_filter: AccountFilter | None = strawberry.field(
        default=None, description="kind ACCOUNT: the `accounts` filter."
    )
    opportunity_filter: OpportunityFilter | None = strawberry.field(
        default=None, description="kind OPPORTUNITY: the `opportunities` filter."
    )


@strawberry.type(description="Result of exportRecords.")
class ExportRecordsPayload:
    """The queued job, or why not."""

    job: ExportJobNode | None = strawberry.field(description="The job (null: refused).")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


_INPUT_FIELDS = {
    "leadFilter": "lead_filter",
    "contactFilter": "contact_filter",
    "accountFilter": "account_filter",
    "opportunityFilter": "opportunity_filter",
}


def export_filter(kind: ExportKind, data: ExportRecordsInput) -> dict[str, Any]:
    """The JSON filter of the input's kind, checked; a filter of another kind
    is refused."""
    _, wanted, _ = FILTERS[kind]
    wrong = [
        Refusal.on(
            name,
            ErrorCode.INVALID_INPUT,
            f"`{name}` filters another kind: kind {kind.value} takes `{wanted}`.",
        )
        for name, attribute in _INPUT_FIELDS.items()
        if name != wanted and getattr(data, attribute) is not None
    ]
    if wrong:
        raise Refused(wrong)
    given = getattr(data, _INPUT_FIELDS[wanted])
    raw = filter_json(given) if given is not None else {}
    parse_filter(kind, raw, wanted)
    return raw


@strawberry.type
class ExportQueries:
    """Root fields about exports."""

    @strawberry.field(description="One export job by global id.")
    async def export_job(self, info: Info, id: strawberry.ID) -> ExportJobNode | None:
        """A job, or null."""
        return await load_node(info, ExportJobNode, decode_id(id, ExportJobNode, "id"))


@strawberry.type
class ExportMutations:
    """Root mutations about exports."""

    @strawberry.mutation(
        description="Export every lead, contact, account or opportunity its list "
        "query would show with this filter to a CSV file (a job): QUEUED here, "
        "written by `salesops worker`; follow it with `exportJob` and download "
        "it from `downloadUrl`. Columns: the create input's fields, then "
        "externalId and read-only columns (README, Export). "
        f"By {role_names(EXPORTERS)}."
    )
    async def export_records(
        self, info: Info, input: ExportRecordsInput
    ) -> ExportRecordsPayload:
        """Queue an export."""
        actor = info.context.actor
        kind = ExportKind(input.kind)
        row, errors = await mutate(
            info,
            lambda s: exporting.start_export(
                kind,
                session=s,
                actor=actor,
                filter_of=lambda: export_filter(kind, input),
            ),
        )
        return ExportRecordsPayload(
            job=row and ExportJobNode.from_row(row), user_errors=errors
        )


def download_endpoint(
    export_dir: Path, sessions: Any, authenticator: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    """``GET /exports/<ExportJob id>``: the CSV of a DONE job (404 otherwise),
    for whoever asked for it, SALES_OPS and ADMIN (403 for others); the bearer
    token as on ``/graphql`` (401 without), with the READ scope."""

    async def download(request: Request) -> Response:
        async with sessions() as session:
            try:
                principal = await authenticator.authenticate(
                    session, request.headers.get("authorization")
                )
            except NotAuthenticated as refused:
                return edge.unauthorized(str(refused))
            try:
                job_id = decode_id(request.path_params["job"], ExportJobNode, "id")
            except Refused:
                job_id = None
            # Closing the session keeps the row's values (a rollback would expire them).
            job = await session.get(rec.ExportJob, job_id) if job_id else None
        if TokenScope.READ not in principal.scopes:
            return edge.error_response(
                403,
                ErrorCode.INSUFFICIENT_SCOPE.value,
                "This API token lacks the READ scope needed to download an export.",
            )
        if job is None or job.status != ExportJobStatus.DONE or not job.file_name:
            return edge.error_response(
                404, ErrorCode.NOT_FOUND.value, "No finished export with this id."
            )
        if not may_download(principal.viewer.actor, job.requested_by_id):
            return edge.error_response(
                403,
                ErrorCode.FORBIDDEN.value,
                "An export is downloaded by whoever asked for it, SALES_OPS or ADMIN.",
            )
        path = export_dir / job.file_name
        if not path.is_file():
            return edge.error_response(
                404, ErrorCode.NOT_FOUND.value, "The export's file is gone."
            )
        return FileResponse(
            path,
            media_type="text/csv; charset=utf-8",
            filename=f"{job.kind.value.lower()}s-{job.id}.csv",
        )

    return download
