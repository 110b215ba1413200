"""GraphQL subscriptions over ``graphql-transport-ws`` on /graphql (issue 12 item 3).

Every API process reads the outbox (``events``) with one shared cursor
(``EventFeed``, every ``POLL_SECONDS``) and hands each new event to its own
subscribers, so an event committed by any process reaches subscribers of every
process, on SQLite and PostgreSQL alike. A subscriber that passes ``after:``
(the id of the last event it saw) first gets what it missed, then the live feed.

The socket authenticates in ``connection_init`` (``{"Authorization": "Bearer
<token>"}`` or ``{"token": "<token>"}``; refused with close code 4403
without a valid one), the token is checked again every ``RECHECK_SECONDS`` and
the socket closed (4403) once it is revoked or its user deactivated, and a
browser page may connect only from the service's own or a configured origin
(``SALESOPS_CORS_ORIGINS``; others are refused at the upgrade with HTTP 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api import http_edge as edge
from api.auth import Authenticator
from api.context import Context, Info, Viewer
from api.enums import LeadStatusGQL, OpportunityStageGQL
from api.events import EventNode
from api.leads import LeadNode
from api.opportunities import OpportunityNode
from api.relay import decode_id, to_one
from domain.enums import LeadStatus, OpportunityStage
from domain.rules.event_filters import TransitionFilter, is_assignment
from domain.rules.permissions import private_reader
from domain.rules.token_scopes import scope_refusals
from domain.services.event_feed import (
    PAGE,
    FeedEvent,
    OutboxCursor,
    events_after,
    last_event_id,
)
from domain.services.lead_lifecycle import STATUS_EVENT
from domain.services.opportunity_pipeline import STAGE_EVENT

log = logging.getLogger("salesops.subscriptions")

POLL_SECONDS = 0.2
RECHECK_SECONDS = 5.0
# Event ids a subscriber remembers having had (a late event is never sent twice).
REMEMBERED = 10_000
FORBIDDEN = 4403
_CONTEXT = "salesops_socket_context"

Sessions = async_sessionmaker[AsyncSession]


# --- authentication ---------------------------------------------------------


async def socket_viewer(
    sessions: Sessions, authenticator: Authenticator, token: str | None
) -> Viewer | None:
    """The user a socket's token belongs to (None: no valid, unexpired token
    with the READ scope subscriptions need): the process's one token lookup
    (``api.auth``), at connection and at every re-check."""
    if not token:
        return None
    async with sessions() as session:
        principal = await authenticator.principal(session, token)
    if (
        principal is None
        or principal.expired()
        or scope_refusals(principal.scopes, "subscription", ())
    ):
        return None
    return principal.viewer


def token_of(params: Any) -> str | None:
    """The bearer token of a ``connection_init`` payload."""
    if not isinstance(params, dict):
        return None
    header = params.get("Authorization") or params.get("authorization")
    if isinstance(header, str):
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    token = params.get("token")
    return token.strip() if isinstance(token, str) and token.strip() else None


# --- the feed -----------------------------------------------------------------


class EventFeed:
    """One outbox reader per process, fanning new events out to its subscribers."""

    def __init__(self, sessions: Sessions, interval: float = POLL_SECONDS) -> None:
        self.sessions = sessions
        self.interval = interval
        self.queues: set[asyncio.Queue[FeedEvent]] = set()
        self.task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()

    async def subscribe(self) -> asyncio.Queue[FeedEvent]:
        """A queue that gets every event committed from now on."""
        queue: asyncio.Queue[FeedEvent] = asyncio.Queue()
        self.queues.add(queue)
        if self.task is None or self.task.done():
            self.started = asyncio.Event()
            self.task = asyncio.create_task(self._run())
        await self.started.wait()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[FeedEvent]) -> None:
        """Stop feeding ``queue`` (the reader stops with its last subscriber)."""
        self.queues.discard(queue)

    async def _run(self) -> None:
        async with self.sessions() as session:
            cursor = OutboxCursor(await last_event_id(session))
        self.started.set()
        while self.queues:
            try:
                async with self.sessions() as session:
                    found = await cursor.read(session)
            except Exception:  # the database is away: try again, keep subscribers
                log.exception("reading the outbox failed")
                found = []
            for event in found:
                for queue in list(self.queues):
                    queue.put_nowait(event)
            await asyncio.sleep(self.interval)


async def feed_events(
    info: Info, after: strawberry.ID | None
) -> AsyncIterator[FeedEvent]:
    """The events the viewer may read: those after ``after`` first (when given),
    then each new one as it is committed; none twice."""
    context: SocketContext = info.context  # type: ignore[assignment]
    feed = context.feed
    reader = private_reader(context.actor)
    queue = await feed.subscribe()
    had: deque[int] = deque(maxlen=REMEMBERED)
    try:
        floor = 0
        if after is not None:
            floor = decode_id(after, EventNode, "after")
            position = floor
            while True:
                async with feed.sessions() as session:
                    page = await events_after(session, position)
                for event in page:
                    had.append(event.id)
                    if event.readable_by(reader):
                        yield event
                if len(page) < PAGE:
                    break
                position = page[-1].id
        while True:
            event = await queue.get()
            if event.id in had or (after is not None and event.id <= floor):
                continue
            had.append(event.id)
            if event.readable_by(reader):
                yield event
    finally:
        feed.unsubscribe(queue)


async def _fresh(info: Info) -> None:
    """After each delivery: no cached record, no connection held between events
    (an idle transaction would hold back migrations and vacuum)."""
    context: SocketContext = info.context  # type: ignore[assignment]
    async with context.lock:
        context._loaders.clear()
        await context.session.close()


# --- types ------------------------------------------------------------------------


@strawberry.input(
    description="Which lead status changes to receive (all given must hold)."
)
class LeadStatusChangedFilter:
    """Lead status change criteria."""

    lead_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these leads."
    )
    from_: list[LeadStatusGQL] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, name="from", description="Only moves out of these statuses."
    )
    to: list[LeadStatusGQL] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only moves into these statuses."
    )


@strawberry.input(
    description="Which opportunity stage changes to receive (all given must hold)."
)
class OpportunityStageChangedFilter:
    """Stage change criteria."""

    opportunity_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these opportunities."
    )
    from_: list[OpportunityStageGQL] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, name="from", description="Only moves out of these stages."
    )
    to: list[OpportunityStageGQL] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only moves into these stages (e.g. DISCOVERY)."
    )


@strawberry.type(description="A lead moved from one status to another (live).")
class LeadStatusChange:
    """One lead status change."""

    event: EventNode = strawberry.field(
        description="The outbox event; its id resumes a subscription (`after:`)."
    )
    from_: LeadStatusGQL | None = strawberry.field(  # type: ignore[valid-type]
        name="from", description="The status it left (null: created)."
    )
    to: LeadStatusGQL = strawberry.field(description="The status it entered.")  # type: ignore[valid-type]
    lead_id: strawberry.Private[int]

    lead = to_one(
        LeadNode,
        "lead_id",
        description="The lead, as it is now.",
    )


@strawberry.type(description="An opportunity moved from one stage to another (live).")
class OpportunityStageChange:
    """One stage change."""

    event: EventNode = strawberry.field(
        description="The outbox event; its id resumes a subscription (`after:`)."
    )
    from_: OpportunityStageGQL | None = strawberry.field(  # type: ignore[valid-type]
        name="from", description="The stage it left (null: created)."
    )
    to: OpportunityStageGQL = strawberry.field(description="The stage it entered.")  # type: ignore[valid-type]
    opportunity_id: strawberry.Private[int]

    opportunity = to_one(
        OpportunityNode,
        "opportunity_id",
        description="The opportunity, as it is now.",
    )


def _ids(values: list[strawberry.ID] | None, node: type, name: str) -> list[int]:
    return [decode_id(v, node, name) for v in values or []]


def _names(values: list[Any] | None) -> list[str]:
    return [v.value for v in values or []]


After = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Resume after this event (the last `event.id` you got): the "
        "events since are sent first."
    ),
]


async def _matching(
    info: Info,
    after: strawberry.ID | None,
    wanted: Callable[[FeedEvent], bool],
) -> AsyncIterator[FeedEvent]:
    async for event in feed_events(info, after):
        if wanted(event):
            yield event
            # Its fields are resolved and sent: end their reads before waiting.
            await _fresh(info)


async def _transitions(
    info: Info,
    after: strawberry.ID | None,
    kind: str,
    ids: list[int],
    from_: list[Any] | None,
    to: list[Any] | None,
) -> AsyncIterator[tuple[FeedEvent, str | None, str]]:
    """The transition events of ``kind`` a filter wants: (event, from, to)."""
    wanted = TransitionFilter(kind, set(ids), set(_names(from_)), set(_names(to)))
    async for event in _matching(
        info, after, lambda e: wanted.matches(e.kind, e.record_id, e.payload)
    ):
        yield event, event.payload.get("from_state"), event.payload["to_state"]


@strawberry.type(
    description="Live events over graphql-transport-ws on /graphql: authenticate "
    'in connection_init ({Authorization: "Bearer <token>"}); pass `after:` '
    "the last event id you got to resume."
)
class Subscription:
    """Root subscriptions: the outbox, live."""

    @strawberry.subscription(
        description="Lead status changes as they are committed by any API process."
    )
    async def lead_status_changed(
        self,
        info: Info,
        filter: LeadStatusChangedFilter | None = None,
        after: After = None,
    ) -> AsyncGenerator[LeadStatusChange, None]:
        """Lead status changes."""
        given = filter or LeadStatusChangedFilter()
        ids = _ids(given.lead_ids, LeadNode, "filter.leadIds")
        async for event, start, end in _transitions(
            info, after, STATUS_EVENT, ids, given.from_, given.to
        ):
            yield LeadStatusChange(
                event=EventNode.from_row(event),
                from_=LeadStatus(start) if start else None,
                to=LeadStatus(end),
                lead_id=event.record_id,
            )

    @strawberry.subscription(
        description="Opportunity stage changes as they are committed by any API "
        "process, e.g. {to: [DISCOVERY]} for every newly sales-accepted deal."
    )
    async def opportunity_stage_changed(
        self,
        info: Info,
        filter: OpportunityStageChangedFilter | None = None,
        after: After = None,
    ) -> AsyncGenerator[OpportunityStageChange, None]:
        """Stage changes."""
        given = filter or OpportunityStageChangedFilter()
        ids = _ids(given.opportunity_ids, OpportunityNode, "filter.opportunityIds")
        async for event, start, end in _transitions(
            info, after, STAGE_EVENT, ids, given.from_, given.to
        ):
            yield OpportunityStageChange(
                event=EventNode.from_row(event),
                from_=OpportunityStage(start) if start else None,
                to=OpportunityStage(end),
                opportunity_id=event.record_id,
            )

    @strawberry.subscription(
        description="Owner changes (LEAD_ASSIGNED, ACCOUNT_ASSIGNED, "
        "CONTACT_ASSIGNED, OPPORTUNITY_ASSIGNED) as they are committed."
    )
    async def record_assigned(
        self,
        info: Info,
        to_me: Annotated[
            bool,
            strawberry.argument(
                description="true: only records assigned to you; false: every "
                "assignment you may read."
            ),
        ] = True,
        after: After = None,
    ) -> AsyncGenerator[EventNode, None]:
        """Assignments."""
        me = info.context.actor.id if to_me else None
        async for event in _matching(
            info, after, lambda e: is_assignment(e.kind, e.payload, me)
        ):
            yield EventNode.from_row(event)

    @strawberry.subscription(
        description="Events addressed to you (alerts, assignments, hand-offs), as "
        "they are committed."
    )
    async def notifications(
        self,
        info: Info,
        after: After = None,
    ) -> AsyncGenerator[EventNode, None]:
        """The viewer's notifications."""
        me = info.context.actor.id
        async for event in _matching(info, after, lambda e: me in e.recipient_ids):
            yield EventNode.from_row(event)


# --- the socket ---------------------------------------------------------------


@dataclass
class SocketContext(Context):
    """A socket's context: a ``Context`` (viewer set at ``connection_init``)."""

    feed: EventFeed = field(default=None)  # type: ignore[assignment]
    connection_params: Any = None
    watcher: asyncio.Task[None] | None = None


class SubscriptionsGraphQL(GraphQL[Context, None]):
    """strawberry's graphql-transport-ws endpoint with our authentication."""

    def __init__(
        self,
        schema: Any,
        sessions: Sessions,
        allowed: list[str],
        authenticator: Authenticator,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=(),
        )
        self.sessions = sessions
        self.allowed = allowed
        self.authenticator = authenticator
        self.feed = EventFeed(sessions)

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """The service's own origin and the configured ones (as for CORS)."""
        return edge.origin_allowed(origin, request.headers.get("host"), self.allowed)

    async def get_context(self, request: Any, response: Any = None) -> Context:  # type: ignore[override]
        """A context without a viewer until ``connection_init`` authenticates."""
        context = SocketContext(
            session=self.sessions(),
            viewer=None,
            request_id=edge.request_id(request.headers.get("x-request-id")),
            request=request,
            feed=self.feed,
        )
        request.scope[_CONTEXT] = context
        return context

    async def run(
        self, request: Any, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        """Serve a socket; once it is closed, stop watching its token and give
        its session's connection back (no transaction left open)."""
        try:
            return await super().run(request, context, root_value)
        finally:
            socket_context = request.scope.get(_CONTEXT)
            if isinstance(socket_context, SocketContext):
                if socket_context.watcher is not None:
                    socket_context.watcher.cancel()
                await socket_context.session.close()

    async def on_ws_connect(self, context: Context) -> None:  # type: ignore[override]
        """Authenticate ``connection_init``; watch the token for the socket's life."""
        assert isinstance(context, SocketContext)
        token = token_of(context.connection_params)
        viewer = await socket_viewer(self.sessions, self.authenticator, token)
        if viewer is None:
            raise ConnectionRejectionError(
                {"message": "Authentication required: a valid, unrevoked token."}
            )
        context.viewer = viewer
        context.watcher = asyncio.create_task(self._watch(context, token))

    async def _watch(self, context: SocketContext, token: str | None) -> None:
        """Close the socket once its token no longer authenticates (cancelled
        when the socket ends)."""
        socket: WebSocket = context.request
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            if WebSocketState.DISCONNECTED in (
                socket.application_state,
                socket.client_state,
            ):
                return
            try:
                viewer = await socket_viewer(self.sessions, self.authenticator, token)
            except Exception:  # the database is away: judge at the next check
                log.exception("re-checking a socket's token failed")
                continue
            if viewer is None:
                with contextlib.suppress(RuntimeError):
                    await socket.close(code=FORBIDDEN, reason="Token revoked")
                return
