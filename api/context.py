"""The per-request context: one database session, the viewer, DataLoaders.

Resolvers of one request run concurrently, but a session is not safe for
concurrent use (measured: InvalidRequestError), so every database call of a
request goes through ``Context.read`` / ``Context.write``, which take the
request's lock. DataLoaders batch the relation lookups of a whole page into
one ``IN`` query per record type.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from domain.db import write_transaction
from domain.enums import ErrorCode, Role, TokenScope
from domain.errors import Refused
from domain.rules.permissions import Actor
from domain.services.lookups import by_ids

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated user, as plain values (safe after any rollback)."""

    id: int
    name: str
    email: str
    role: Role

    @property
    def actor(self) -> Actor:
        """The viewer as the domain's acting user."""
        return Actor(id=self.id, role=self.role)


@dataclass
class OperationReport:
    """What a GraphQL operation was and how it ended (api.observability fills
    it; the access log and the metrics read it)."""

    name: str | None = None
    type: str | None = None
    fields: str = "-"
    cost: int | None = None
    outcome: str = "ok"
    codes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """Everything a resolver may use for one request."""

    session: AsyncSession
    viewer: Viewer | None
    request_id: str
    request: Any = None
    # The calling token's scopes (``api.auth``); None: every scope (in-process
    # calls, tests).
    scopes: frozenset[TokenScope] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The most this request may cost (SALESOPS_QUERY_COST_BUDGET); None: the
    # default of api.cost.
    cost_budget: int | None = None
    # What the operation was and how it ended, for the access log and metrics.
    operation: OperationReport = field(default_factory=OperationReport)
    # Refused string inputs of root mutations, by response key (api.input_limits).
    input_refusals: dict[str, list[Any]] = field(default_factory=dict)
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        """The acting user; every operation is authenticated before it runs."""
        if self.viewer is None:
            raise PermissionError("unauthenticated request reached a resolver")
        return self.viewer.actor

    async def read(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run one read against the request's session, one at a time."""
        async with self.lock:
            return await fn(self.session)

    @asynccontextmanager
    async def write(self, *, dry_run: bool = False) -> AsyncIterator[AsyncSession]:
        """One atomic use case; cached reads are dropped so payloads read fresh.

        ``dry_run``: the use case runs and is rolled back (nothing is written).
        """
        async with self.lock:
            self._loaders.clear()
            async with write_transaction(self.session, commit=not dry_run) as session:
                yield session

    async def attempt(
        self,
        use_case: Callable[[AsyncSession], Awaitable[T]],
        *,
        dry_run: bool = False,
    ) -> tuple[T | None, list[Any]]:
        """Run a write use case: (result, []) or (None, refusals); nothing half-done."""
        try:
            async with self.write(dry_run=dry_run) as session:
                return await use_case(session), []
        except Refused as refused:
            return None, refused.refusals

    def loader(
        self,
        key: Hashable,
        batch: Callable[[AsyncSession, Sequence[Any]], Awaitable[list[Any]]],
    ) -> DataLoader[Any, Any]:
        """The request's DataLoader for ``key``, made on first use."""
        if key not in self._loaders:

            async def load(keys: Sequence[Any]) -> list[Any]:
                return await self.read(lambda s: batch(s, list(keys)))

            self._loaders[key] = DataLoader(load_fn=load)
        return self._loaders[key]

    def records(self, model: type) -> DataLoader[int, Any]:
        """The DataLoader of one record type by primary key."""
        return self.loader(model, lambda s, ids: by_ids(s, model, ids))


Info = strawberry.Info[Context, None]


def refused(code: ErrorCode, message: str, field: str | None = None) -> Refused:
    """Shorthand for an edge-level refusal (e.g. a global id of the wrong type)."""
    return Refused.one(code, message, field)
