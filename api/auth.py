"""Bearer tokens → principals, with a short-lived in-process cache (issue 15 item 3).

``Authenticator.principal`` is the one way a request (HTTP or websocket) turns
a bearer token into the acting user: a token seen in the last
``token_cache_seconds`` (default 60) costs no query. Revocation stays prompt
across processes: every change that must end a cached token bumps the
``auth_generation`` row in its own transaction
(``domain.services.users.bump_auth_generation``), and each process re-reads
that counter at most every ``CHECK_SECONDS`` (1 s) — on the first request
after that — and drops its whole cache when it moved. So a request that
reaches any process more than 1 s after a revocation (or a deactivation, or
a role change) commits is judged on the new state
(``tests/api/test_token_cache.py`` measures it with two processes).

A token may expire (``expiresAt``): past it, HTTP 401 saying so. Its scopes
(READ, WRITE, ADMIN) are checked before execution by ``TokenScopes``, with the
pure rule ``domain.rules.token_scopes``; the role is checked by the services.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension

from api.context import Viewer
from api.errors import client_message
from domain.enums import TokenScope
from domain.rules.token_scopes import scope_refusals
from domain.services.users import auth_generation, hash_token, token_holder
from domain.sqltypes import utcnow

# How often a process re-reads the generation counter: the bound on how long a
# revoked token may still be accepted by a process that cached it.
CHECK_SECONDS = 1.0
# A process stamps a token's ``lastUsedAt`` at most this often (the database
# write is conditional too, so several processes add at most one each).
LAST_USED_SECONDS = 60.0
# Past this many cached tokens the expired ones are dropped (and, when none
# had expired, all of them): memory stays bounded whatever clients send.
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and with which token."""

    viewer: Viewer
    token_id: int
    scopes: frozenset[TokenScope]
    expires_at: datetime | None = None

    def expired(self) -> bool:
        """Whether the token is past its expiry."""
        return self.expires_at is not None and self.expires_at <= utcnow()


class NotAuthenticated(Exception):  # noqa: N818 - what the request is
    """No valid token: the message says which way (HTTP 401)."""


MISSING = (
    "Authentication required: send 'Authorization: Bearer <token>' with a "
    "valid, unrevoked token."
)


class Authenticator:
    """One per process: maps bearer tokens to principals, caching hits."""

    def __init__(
        self,
        ttl_seconds: float = 60.0,
        *,
        check_seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.check_seconds = check_seconds
        self.clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._generation: int | None = None
        self._checked_at = float("-inf")
        # Grows when the cache is dropped: a lookup that began before a drop
        # must not put back what it read (it may predate the revocation).
        self._epoch = 0
        self._used_at: dict[int, float] = {}

    async def authenticate(
        self, session: AsyncSession, authorization: str | None
    ) -> Principal:
        """The principal of an ``Authorization`` header value; else
        ``NotAuthenticated`` (missing, unknown, revoked, inactive user, expired)."""
        token = bearer_token(authorization)
        principal = token and await self.principal(session, token)
        if not principal:
            raise NotAuthenticated(MISSING)
        if principal.expired():
            assert principal.expires_at is not None
            raise NotAuthenticated(
                f"This API token expired at {principal.expires_at.isoformat()}: "
                "issue a new one (createApiToken)."
            )
        return principal

    async def principal(self, session: AsyncSession, token: str) -> Principal | None:
        """The principal of a bearer token (``None``: unknown, revoked, inactive
        user); an expired token's too (``Principal.expired``)."""
        now = self.clock()
        if self.ttl <= 0:
            return await self._lookup(session, hash_token(token))
        if now - self._checked_at >= self.check_seconds:
            # Stamped before the read: concurrent requests do not all re-check.
            self._checked_at = now
            generation = await auth_generation(session)
            if generation != self._generation:
                self._drop()
                self._generation = generation
        key = hash_token(token)
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        epoch = self._epoch
        principal = await self._lookup(session, key)
        if principal is not None and epoch == self._epoch:
            self._remember(key, now + self.ttl, principal)
        return principal

    def use_due(self, principal: Principal) -> bool:
        """Whether this process should stamp the token's ``lastUsedAt`` now (at
        most once a minute per token); marks it stamped."""
        now = self.clock()
        last = self._used_at.get(principal.token_id, float("-inf"))
        if now - last < LAST_USED_SECONDS:
            return False
        if len(self._used_at) >= MAX_ENTRIES:
            self._used_at = {
                k: at for k, at in self._used_at.items() if now - at < LAST_USED_SECONDS
            }
        self._used_at[principal.token_id] = now
        return True

    def _drop(self) -> None:
        self._entries.clear()
        self._epoch += 1

    def _remember(self, key: str, until: float, principal: Principal) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            now = self.clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = (until, principal)

    @staticmethod
    async def _lookup(session: AsyncSession, key: str) -> Principal | None:
        holder = await token_holder(session, key)
        if holder is None:
            return None
        viewer = Viewer(
            id=holder.user_id, name=holder.name, email=holder.email, role=holder.role
        )
        return Principal(
            viewer=viewer,
            token_id=holder.token_id,
            scopes=holder.scopes,
            expires_at=holder.expires_at,
        )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments)


class TokenScopes(SchemaExtension):
    """Refuses, before execution, an operation the token's scopes do not cover
    (``INSUFFICIENT_SCOPE``); calls without a token's scopes pass."""

    def on_execute(self) -> Iterator[None]:
        """Check the operation's root fields against the calling token."""
        context = self.execution_context
        granted = getattr(context.context, "scopes", None)
        document = context.graphql_document
        if granted is not None and document is not None and context.result is None:
            operation = get_operation_ast(document, context.operation_name)
            if isinstance(operation, OperationDefinitionNode):
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                fields = list(_root_fields(operation.selection_set, fragments))
                refusals = scope_refusals(granted, operation.operation.value, fields)
                if refusals:
                    context.result = ExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                client_message(r.message),
                                extensions={"code": r.code.value},
                            )
                            for r in refusals
                        ],
                    )
        yield
