"""Logs and metrics: which operation is slow, and for whom.

Logs (stdlib ``logging``): one JSON object a line (``SALESOPS_LOG_FORMAT=json``,
the default) or plain text (``console``). Every HTTP request writes one access
line (logger ``salesops.access``) with its request id, method, path (never the
query string), status and duration; a GraphQL request adds the operation's
name and type, its root fields, the actor id, the query cost and the outcome
(``ok``, ``user_errors`` with their codes, or ``error`` with the errors'
codes). Headers, variables and bodies are never logged, and any extra field
whose name speaks of a token, secret, password or authorization is redacted.

Metrics (prometheus-client; ``/metrics``): with ``PROMETHEUS_MULTIPROC_DIR``
set (``salesops serve`` sets it) every worker writes its samples to that
directory and ``/metrics`` answers the sum over the workers. Operations are
labelled by their root fields (bounded by the schema), never by the
client-chosen operation name (unbounded).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from graphql import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    get_operation_ast,
)
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from api.context import OperationReport
from api.settings import MULTIPROC_ENV
from domain.records import TransitionRecord
from domain.reports.outbox import OutboxLag
from domain.services.bulk import INSERTED_ROWS

ACCESS = logging.getLogger("salesops.access")
_SECRET_WORDS = ("token", "secret", "password", "authorization", "cookie")
MAX_ROOT_FIELDS = 3

# --- logs --------------------------------------------------------------------

_RECORD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def redact(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields with any secret-sounding one replaced by ``[redacted]``."""
    return {
        key: "[redacted]"
        if any(word in key.lower() for word in _SECRET_WORDS)
        else value
        for key, value in fields.items()
    }


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **redact(_extras(record)),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """Plain text for a terminal: the message, then ``key=value`` extras."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record on one line (a traceback follows when there is one)."""
        text = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in redact(_extras(record)).items())
        if not extras:
            return text
        head, _, rest = text.partition("\n")
        return f"{head} {extras}" + (f"\n{rest}" if rest else "")


def configure_logging(log_format: str, level: str) -> None:
    """Send every logger (ours, uvicorn's, SQLAlchemy's) to stderr in one format.

    uvicorn's own access log is switched off: ``salesops.access`` replaces it
    (it carries the request id).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else ConsoleFormatter()
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # strawberry logs every error with the request's document, which may hold
    # secrets in literals; the error policy logs unexpected errors itself.
    logging.getLogger("strawberry.execution").disabled = True
    # transitions logs two INFO lines at every state change ("Finished
    # processing state X exit callbacks"): noise beside the ledger and the
    # events, and a fifth of a batch of engagements' CPU (measured, py-spy).
    logging.getLogger("transitions").setLevel(logging.WARNING)


# --- what one GraphQL operation did --------------------------------------------


def _root_fields(operation: OperationDefinitionNode) -> str:
    names: list[str] = []
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names.extend(
                s.name.value
                for s in selection.selection_set.selections
                if isinstance(s, FieldNode)
            )
    unique = sorted(set(names))
    if len(unique) > MAX_ROOT_FIELDS:
        return "+".join(unique[:MAX_ROOT_FIELDS]) + "+…"
    return "+".join(unique) or "-"


def _user_error_codes(data: Any) -> list[str]:
    """The codes of the root payloads' ``userErrors``."""
    codes: list[str] = []
    if not isinstance(data, dict):
        return codes
    for payload in data.values():
        if isinstance(payload, dict):
            for problem in payload.get("userErrors") or ():
                if isinstance(problem, dict) and problem.get("code"):
                    codes.append(str(problem["code"]))
    return codes


class OperationObserver(SchemaExtension):
    """Records the operation's name, type, root fields and outcome.

    Listed before the error policy so that it reads the errors' final codes.
    """

    def on_operation(self) -> Iterator[None]:
        """After the operation: what it was and how it ended."""
        yield
        context = self.execution_context
        report: OperationReport | None = getattr(context.context, "operation", None)
        if report is None:
            return
        report.name = context.operation_name
        document = context.graphql_document
        operation = get_operation_ast(document, report.name) if document else None
        if operation is not None:
            report.type = operation.operation.value
            report.fields = _root_fields(operation)
        result = context.result
        errors = getattr(result, "errors", None) or []
        if errors:
            report.outcome = "error"
            report.codes = [
                str((e.extensions or {}).get("code", "ERROR")) for e in errors
            ]
        elif codes := _user_error_codes(getattr(result, "data", None)):
            report.outcome = "user_errors"
            report.codes = codes


# --- metrics -------------------------------------------------------------------

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

GRAPHQL_REQUESTS = Counter(
    "salesops_graphql_requests",
    "GraphQL requests by root fields, operation type, viewer role and outcome.",
    ["operation", "type", "role", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "salesops_graphql_request_duration_seconds",
    "Time to answer a GraphQL request, by root fields and operation type.",
    ["operation", "type"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "salesops_http_requests",
    "HTTP requests by path and status.",
    ["path", "status"],
)
TRANSITIONS = Counter(
    "salesops_transitions",
    "Committed status/stage changes by machine, from and to.",
    ["machine", "from_state", "to_state"],
)
REFUSALS = Counter(
    "salesops_refusals",
    "Refusals by code: userErrors and GraphQL errors.",
    ["code"],
)
POOL_IN_USE = Gauge(
    "salesops_db_pool_in_use",
    "Database connections checked out of the pools (all live workers).",
    multiprocess_mode="livesum",
)


def _known_path(path: str) -> str:
    """A bounded label for a path (unknown paths share one)."""
    if path in ("/graphql", "/healthz", "/readyz", "/metrics"):
        return path
    if path.startswith("/static/"):
        return "/static"
    return "other"


class Observed:
    """ASGI middleware: request id, one access log line and metrics per request."""

    def __init__(
        self, app: ASGIApp, *, request_id: Callable[[str | None], str]
    ) -> None:
        self.app = app
        self.request_id = request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request, remember its status, log and count it at the end."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"x-request-id")
        rid = self.request_id(raw.decode("latin-1") if raw is not None else None)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    (k, v) for k, v in message["headers"] if k != b"x-request-id"
                ] + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, state, status, time.perf_counter() - started)

    @staticmethod
    def _record(
        scope: Scope, state: dict[str, Any], status: int, seconds: float
    ) -> None:
        path = scope.get("path", "")
        fields: dict[str, Any] = {
            "request_id": state["request_id"],
            "method": scope.get("method"),
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        HTTP_REQUESTS.labels(_known_path(path), str(status)).inc()
        context = state.get("salesops_context")
        report: OperationReport | None = getattr(context, "operation", None)
        viewer = getattr(context, "viewer", None)
        if report is not None and (report.type is not None or report.codes):
            fields.update(
                operation_name=report.name,
                operation_type=report.type,
                operation=report.fields,
                actor_id=viewer.id if viewer else None,
                cost=report.cost,
                outcome=report.outcome,
                codes=report.codes,
            )
            role = viewer.role.value if viewer else "anonymous"
            GRAPHQL_REQUESTS.labels(
                report.fields, report.type, role, report.outcome
            ).inc()
            GRAPHQL_LATENCY.labels(report.fields, report.type).observe(seconds)
            for code in report.codes:
                REFUSALS.labels(code).inc()
        elif status >= 400 and path == "/graphql":
            fields["outcome"] = "refused"
        ACCESS.info(
            "%s %s %s %.1fms",
            scope.get("method"),
            path,
            status,
            seconds * 1000,
            extra=fields,
        )


def watch_pool(engine: AsyncEngine) -> None:
    """Keep ``salesops_db_pool_in_use`` in step with the engine's pool."""
    target = engine.sync_engine

    def checked_out(*_: Any) -> None:
        POOL_IN_USE.inc()

    def checked_in(*_: Any) -> None:
        POOL_IN_USE.dec()

    event.listen(target, "checkout", checked_out)
    event.listen(target, "checkin", checked_in)


_PENDING = "salesops_transitions"


def _pending(session: Session) -> list[tuple[str, str, str]]:
    return session.info.setdefault(_PENDING, [])


def _transition_labels(row: Any) -> tuple[str, str, str]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    machine = get("record_type")
    return (
        str(getattr(machine, "value", machine)).lower(),
        str(get("from_state") or "NONE"),
        str(get("to_state")),
    )


def watch_transitions(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Count committed transitions (ORM rows and bulk inserts alike) by machine."""
    session_class = sessions.kw["sync_session_class"]

    @event.listens_for(session_class, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        _pending(session).extend(
            _transition_labels(obj)
            for obj in session.new
            if isinstance(obj, TransitionRecord)
        )

    @event.listens_for(session_class, "do_orm_execute")
    def _bulk(state: ORMExecuteState) -> None:
        together = state.local_execution_options.get(INSERTED_ROWS)
        if together:
            _pending(state.session).extend(
                _transition_labels(values)
                for table, values in together
                if table is TransitionRecord.__table__
            )
            return
        statement = state.statement
        table = getattr(statement, "table", None)
        if not state.is_insert or table is not TransitionRecord.__table__:
            return
        params = state.parameters
        rows: Iterable[Any] = params if isinstance(params, list) else [params or {}]
        _pending(state.session).extend(_transition_labels(r) for r in rows)

    @event.listens_for(session_class, "after_commit")
    def _committed(session: Session) -> None:
        for labels in session.info.pop(_PENDING, []):
            TRANSITIONS.labels(*labels).inc()

    @event.listens_for(session_class, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)


class _OutboxCollector(Collector):
    """The outbox lag, read from the database when scraped."""

    def __init__(self, lag: OutboxLag) -> None:
        self.lag = lag

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Two gauges: events waiting, and the oldest one's age."""
        yield GaugeMetricFamily(
            "salesops_outbox_undelivered_events",
            "Events not yet delivered to every matching ACTIVE webhook subscription.",
            value=self.lag.undelivered,
        )
        yield GaugeMetricFamily(
            "salesops_outbox_oldest_undelivered_seconds",
            "Age of the oldest undelivered event (0 when none waits).",
            value=self.lag.oldest_seconds,
        )


def metrics_endpoint(
    lag: Callable[[], Awaitable[OutboxLag]],
) -> Callable[[Request], Awaitable[Response]]:
    """``/metrics``: every worker's samples (multiprocess mode) plus the outbox lag."""

    async def metrics(_: Request) -> Response:
        registry = REGISTRY
        if os.environ.get(MULTIPROC_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        outbox = CollectorRegistry()
        outbox.register(_OutboxCollector(await lag()))
        body = generate_latest(registry) + generate_latest(outbox)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def process_exited() -> None:
    """Drop this worker's live gauges (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())
