"""Pooled PostgreSQL connections are checked for liveness only after they sat
idle (``domain.db._ping_when_idle``): a connection in steady use costs no ping,
and one the server dropped while it sat idle is replaced before a request
uses it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from domain import db
from domain.db import is_sqlite, make_async_engine, make_sync_engine


def _on_postgresql(url: str) -> None:
    if is_sqlite(url):
        pytest.skip("SQLite has no pooled server connections to lose")


async def _backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_in_steady_use_is_not_pinged(database_url, monkeypatch):
    _on_postgresql(database_url)
    pings: list[Any] = []
    engine = make_async_engine(database_url, pool_size=1, max_overflow=0)
    monkeypatch.setattr(
        engine.sync_engine.dialect, "do_ping", lambda conn: pings.append(conn)
    )
    try:
        first = await _backend_pid(engine)
        second = await _backend_pid(engine)
    finally:
        await engine.dispose()

    assert (first, pings) == (second, [])


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    database_url, monkeypatch
):
    _on_postgresql(database_url)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    engine = make_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        dropped = await _backend_pid(engine)
        other = make_sync_engine(database_url)
        with other.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        other.dispose()

        # The pooled connection is dead; the request gets a live one, no error.
        replaced = await _backend_pid(engine)
    finally:
        await engine.dispose()

    assert replaced != dropped
