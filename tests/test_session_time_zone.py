"""PostgreSQL sessions run in UTC whatever the server's default zone, so psycopg
hands back ``datetime.UTC`` itself (``domain.db._in_utc``); a URL that sets its
own connection ``options`` keeps them."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.db import is_sqlite, make_async_engine, make_sync_engine


def _on_postgresql(url: str) -> None:
    if is_sqlite(url):
        pytest.skip("SQLite has no session time zone")


async def test_api_sessions_run_in_utc(database_url):
    _on_postgresql(database_url)
    engine = make_async_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            zone = (await conn.execute(text("SHOW TimeZone"))).scalar_one()
            now = (await conn.execute(text("SELECT now()"))).scalar_one()
    finally:
        await engine.dispose()

    assert zone == "UTC"
    assert now.tzinfo is UTC


def test_cli_sessions_run_in_utc_unless_the_url_says_otherwise(database_url):
    _on_postgresql(database_url)
    own = make_url(database_url).update_query_dict(
        {"options": "-c TimeZone=Europe/Berlin"}
    )
    zones = []
    for url in (database_url, own.render_as_string(hide_password=False)):
        engine = make_sync_engine(url)
        try:
            with engine.connect() as conn:
                zones.append(conn.execute(text("SHOW TimeZone")).scalar_one())
        finally:
            engine.dispose()

    assert zones == ["UTC", "Europe/Berlin"]
