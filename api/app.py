"""The Starlette application: /graphql (GraphiQL for browsers), /healthz, /readyz,
/metrics, and GraphiQL's own assets under /static (no CDN).

Settings (``api.settings``) are read once per process by ``create_app_from_env``
and passed in; ``create_app`` takes them as values.

Authentication (A6): every GraphQL request carries ``Authorization: Bearer
<token>``; without a valid token the answer is HTTP 401 with a GraphQL error
body. ``api.auth`` maps the token to its principal (cached per process, see
there; expired tokens say so), ``api.rate_limit`` answers 429 past the
token's limit, and ``lastUsedAt`` is stamped after the response. The
GraphiQL page itself is served without a token; in demo mode, and only to a
browser on the loopback interface, it comes preloaded with a demo
admin token so a newcomer can run queries at once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from api import http_edge as edge
from api import observability
from api.auth import Authenticator, NotAuthenticated
from api.context import Context
from api.exports import DOWNLOAD_PATH, download_endpoint
from api.rate_limit import RateLimiter
from api.schema import schema
from api.settings import Settings, load_settings
from api.subscriptions import SubscriptionsGraphQL
from api.tracing import traced_schema
from domain.db import (
    current_revision,
    head_revision,
    make_async_engine,
    write_transaction,
)
from domain.enums import ErrorCode
from domain.reports.outbox import OutboxLag, outbox_lag
from domain.services.sessions import make_sessions
from domain.services.users import record_token_use

log = logging.getLogger("salesops.api")

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
DEMO_TOKEN_ENV = "SALESOPS_DEMO_TOKEN"
STATIC = Path(__file__).resolve().parent / "static"
GRAPHIQL_PAGE = STATIC / "graphiql" / "index.html"

# Lines of at most 50 characters: in a 1,280-px window the query editor shows
# them whole, left of its toolbar (tests/api/test_graphiql_offline.py).
DEMO_QUERY = """# Welcome to salesops (signed in as demo admin).
# Run it with the play button, then open the
# Docs panel: every type and field is there.
query FirstLook {
  viewer { name role }
  leads(first: 5, filter: {status: [MQL]}) {
    totalCount
    nodes {
      id firstName lastName company status
      personScore owner { name }
    }
  }
}
"""


def _is_graphiql_page(request: Request) -> bool:
    """The GraphiQL HTML page: a browser's GET that carries no operation."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


class SalesopsGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI app with our context and the demo GraphiQL page."""

    def __init__(
        self, *args: Any, demo_token: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.demo_token = demo_token

    async def get_context(self, request: Any, response: Any = None) -> Context:  # type: ignore[override]
        """The context the auth middleware prepared (none for the GraphiQL page)."""
        context: Context | None = request.scope.get("state", {}).get("salesops_context")
        if context is not None:
            context.request = request
        return context  # type: ignore[return-value]

    @property
    def graphql_ide_html(self) -> str:
        """strawberry's GraphiQL page with its scripts served by us (no CDN)."""
        return GRAPHIQL_PAGE.read_text(encoding="utf-8")

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL; preloaded with the demo token for a loopback browser."""
        html = self.graphql_ide_html
        client = request.client.host if request.client else ""
        if self.demo_token and client in LOOPBACK:
            headers = {"Authorization": f"Bearer {self.demo_token}"}
            html = html.replace(
                "const defaultHeaders = {};",
                f"const defaultHeaders = {json.dumps(headers)};",
            ).replace(
                "parameters.q || EXAMPLE_QUERY",
                f"parameters.q || {json.dumps(DEMO_QUERY)}",
            )
        return HTMLResponse(html)


class AuthenticatedGraphQL:
    """Opens the request's session, authenticates the bearer token, then serves."""

    def __init__(
        self,
        graphql: ASGIApp,
        sessions: Any,
        authenticator: Authenticator,
        limiter: RateLimiter,
        *,
        max_body: int = edge.DEFAULT_MAX_BODY_BYTES,
        max_upload: int = edge.DEFAULT_MAX_UPLOAD_BYTES,
        cost_budget: int | None = None,
    ) -> None:
        self.graphql = graphql
        self.sessions = sessions
        self.authenticator = authenticator
        self.limiter = limiter
        self.max_body = max_body
        self.max_upload = max_upload
        self.cost_budget = cost_budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One request: session in, viewer checked, session closed afterwards."""
        if scope["type"] != "http":
            await self.graphql(scope, receive, send)
            return
        request = Request(scope, receive)
        if _is_graphiql_page(request):
            await self.graphql(scope, receive, send)
            return
        rid = scope.get("state", {}).get("request_id") or edge.request_id(
            request.headers.get("x-request-id")
        )
        try:
            if request.method == "POST":
                receive = await edge.read_body(
                    request, receive, self.max_body, self.max_upload
                )
            else:
                edge.check_get(request)
        except edge.Refusal as refusal:
            await refusal.response()(scope, receive, send)
            return
        async with self.sessions() as session:
            try:
                principal = await self.authenticator.authenticate(
                    session, request.headers.get("authorization")
                )
            except NotAuthenticated as refused:
                await session.rollback()
                await edge.unauthorized(str(refused))(scope, receive, send)
                return
            if (wait := self.limiter.retry_after(principal.token_id)) is not None:
                await session.rollback()
                response = edge.error_response(
                    429,
                    ErrorCode.RATE_LIMITED.value,
                    f"This API token made more than {self.limiter.per_minute:,} "
                    f"requests in a minute: retry in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )
                await response(scope, receive, send)
                return
            # The auth read stays in the request's transaction (one round trip
            # fewer); a write ends it before it begins (domain.db.write_transaction).
            scope.setdefault("state", {})["salesops_context"] = Context(
                session=session,
                viewer=principal.viewer,
                scopes=principal.scopes,
                request_id=rid,
                cost_budget=self.cost_budget,
            )

            async def send_with_id(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append(
                        (b"x-request-id", rid.encode())
                    )
                await send(message)

            await self.graphql(scope, receive, send_with_id)
        # After the response: a background step, like Starlette's BackgroundTask.
        if self.authenticator.use_due(principal):
            await self._stamp_use(principal.token_id)

    async def _stamp_use(self, token_id: int) -> None:
        """``lastUsedAt`` of the token; a failure only costs the stamp."""
        try:
            async with self.sessions() as session, write_transaction(session):
                await record_token_use(session, token_id)
        except Exception as exc:  # a busy or read-only database: skip the stamp
            log.warning("could not stamp lastUsedAt of token %s: %s", token_id, exc)


def create_app(
    database_url: str | None = None,
    demo_token: str | None = None,
    settings: Settings | None = None,
) -> Starlette:
    """The ASGI application for ``settings`` (default: read from the environment;
    ``database_url`` overrides the settings' database)."""
    if settings is None:
        settings = load_settings()
    if database_url is not None:
        settings = settings.model_copy(update={"database_url": database_url})
    engine = make_async_engine(settings.database_url, **settings.engine_options())
    sessions = make_sessions(engine)
    authenticator = Authenticator(settings.token_cache_seconds)
    limiter = RateLimiter(settings.token_rate_limit)
    observability.watch_pool(engine)
    observability.watch_transitions(sessions)
    tracing = traced_schema(settings.otlp_endpoint) if settings.otlp_endpoint else None
    served = tracing.schema if tracing else schema
    graphql = SalesopsGraphQL(
        served,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=True,
        # startImport's file (GraphQL multipart request spec); requests are
        # authenticated by bearer token only, never a cookie (no CSRF).
        multipart_uploads_enabled=True,
        demo_token=demo_token,
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        """Ready when the database answers, is at head and accepts a write."""
        try:
            at, head = await current_revision(engine), head_revision()
        except Exception as exc:  # the database is unreachable: not ready
            log.warning("readiness check failed: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, 503
            )
        if at != head:
            return JSONResponse(
                {"status": "unavailable", "migration": at, "head": head},
                status_code=503,
            )
        try:
            await _try_write(engine)
        except Exception as exc:  # read-only, full disk, replica: not ready
            log.warning("readiness write check failed: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "database": "read-only", "migration": at},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "migration": at})

    async def lag() -> OutboxLag:
        async with sessions() as session:
            return await outbox_lag(session)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        _settle_heap()
        yield
        await engine.dispose()
        if tracing is not None:
            tracing.shutdown()
        observability.process_exited()

    routes = [
        Route(
            "/graphql",
            AuthenticatedGraphQL(
                graphql,
                sessions,
                authenticator,
                limiter,
                max_body=settings.max_body_bytes,
                max_upload=settings.max_upload_bytes,
                cost_budget=settings.query_cost_budget,
            ),
            methods=["GET", "POST"],
        ),
        Route(
            DOWNLOAD_PATH + "{job}",
            download_endpoint(Path(settings.export_dir), sessions, authenticator),
        ),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        # Subscriptions (graphql-transport-ws) on the same path: api.subscriptions.
        WebSocketRoute(
            "/graphql",
            SubscriptionsGraphQL(
                served, sessions, settings.cors_origins, authenticator
            ),
        ),
    ]
    if settings.metrics:
        routes.append(Route("/metrics", observability.metrics_endpoint(lag)))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(observability.Observed, request_id=edge.request_id),
            edge.cors(settings.cors_origins),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.sessions = sessions
    # The one token → principal lookup (and its cache) of this process.
    app.state.authenticator = authenticator
    app.state.rate_limiter = limiter
    app.state.settings = settings
    app.state.tracing = tracing
    return app


_HEAP_SETTLED = False


def _settle_heap() -> None:
    """Once per process, when it starts serving: collect, then ``gc.freeze()``
    what start-up built (modules, the schema, table metadata, compiled
    statements), so the collector's full passes stop walking it.

    Every request leaves ~100 objects in reference cycles (graphql-core's
    execution context, the SQLAlchemy session, starlette's request: library
    internals), so full collections come every few hundred requests; each
    walked the whole start-up heap and stopped the process for 80-130 ms,
    stalling every request in flight. Measured with wrk, 16 clients, ``serve
    --workers 2`` on PostgreSQL (`bench_transitions.py --client wrk`): full
    passes 80-130 ms → 8-17 ms, transitionLead p99 217 → 67 ms. The frozen
    objects live as long as the process, which they would anyway."""
    global _HEAP_SETTLED
    if not _HEAP_SETTLED:
        _HEAP_SETTLED = True
        gc.collect()
        gc.freeze()


async def _try_write(engine: Any) -> None:
    """Write a row and roll it back: a read-only or full database refuses."""
    async with engine.connect() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        await conn.rollback()


def create_app_from_env() -> Starlette:
    """App factory for ``uvicorn --factory`` (each worker process): settings and
    logging from the environment."""
    settings = load_settings()
    observability.configure_logging(settings.log_format, settings.log_level)
    return create_app(
        settings=settings, demo_token=os.environ.get(DEMO_TOKEN_ENV) or None
    )
