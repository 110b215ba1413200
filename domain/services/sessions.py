"""The application's sessions: the database's factory with the domain's hooks.

``domain.db`` knows no service, so the hooks that keep derived rows in step
with every flush are named here, once, and every caller that makes sessions
(the API, the CLI, the tests, the benchmarks) asks for them here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.db import SessionHook, make_sessionmaker
from domain.services import match_keys, milestones

# Funnel entries (D11) and duplicate match keys (D12) follow every flush.
DOMAIN_HOOKS: tuple[SessionHook, ...] = (milestones.install, match_keys.install)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on ``engine`` with the domain's hooks installed."""
    return make_sessionmaker(engine, hooks=DOMAIN_HOOKS)
