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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Viewer
from domain.services.users import auth_generation, hash_token, token_holder

# How often a process re-reads the generation counter: the bound on how long a
# revoked token may still be accepted by a process that cached it.
CHECK_SECONDS = 1.0
# Past this many cached tokens the expired ones are dropped (and, when none
# had expired, all of them): memory stays bounded whatever clients send.
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and with which token."""

    viewer: Viewer
    token_id: int


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

    async def principal(self, session: AsyncSession, token: str) -> Principal | None:
        """The principal of a bearer token (``None``: unknown, revoked, inactive)."""
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
        return Principal(viewer=viewer, token_id=holder.token_id)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, else None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
