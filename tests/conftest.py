"""Test fixtures: a real database (SQLite file, or PostgreSQL via DATABASE_URL),
migrated with Alembic once per run and emptied before every test; an ``api``
caller that executes GraphQL through the real schema as a given user; and
builders for records.

When ``DATABASE_URL`` names PostgreSQL and it cannot be reached, the run
fails at once (it never silently falls back to SQLite or skips).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from api.context import Context, Viewer
from api.schema import schema
from domain.db import (
    is_sqlite,
    make_async_engine,
    make_sync_engine,
    upgrade_to_head,
    write_transaction,
)
from domain.enums import Role
from domain.records import User
from domain.rules.permissions import Actor
from domain.services.leads import create_lead
from domain.services.sessions import make_sessions
from domain.services.users import create_user, issue_token
from tests.messages import assert_clean_messages

_TMP = tempfile.mkdtemp(prefix="salesops-tests-")


def _own_database(url: str, worker: str) -> str:
    """The PostgreSQL database of one xdist worker beside ``url`` (made if
    missing); an unreachable server is left for ``database_url`` to report."""
    own = make_url(url).set(database=f"{make_url(url).database}_{worker}")
    admin = make_sync_engine(
        own.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": own.database},
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    except Exception:  # reported by the database_url fixture, which fails the run
        return url
    finally:
        admin.dispose()
    return own.render_as_string(hide_password=False)


# Under pytest-xdist each worker has its own database: its own SQLite file (the
# temporary folder is per process), and on PostgreSQL the test database's name
# with the worker's suffix. DATABASE_URL is rewritten for this process, so that
# everything it starts (served processes, the CLI) uses the worker's database.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if (
    _WORKER
    and os.environ.get("DATABASE_URL")
    and not is_sqlite(os.environ["DATABASE_URL"])
):
    os.environ["DATABASE_URL"] = _own_database(os.environ["DATABASE_URL"], _WORKER)


# The files that take longest (seconds of one worker, measured 2026-12-03),
# scheduled first: under ``--dist loadfile`` a worker takes whole files in
# collection order, so a long file left to the end runs alone while the other
# workers idle. The rest keep their order.
LONGEST_FIRST = (
    "tests/api/test_fuzz.py",
    "tests/tools/test_crm_history.py",
    "tests/api/test_webhook_crashes.py",
    "tests/api/test_webhook_delivery.py",
    "tests/api/test_opportunity_pipeline.py",
    "tests/api/test_reports.py",
    "tests/api/test_authorization_table.py",
    "tests/api/test_replicas.py",
    "tests/api/test_served_concurrency.py",
    "tests/tools/test_demo.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (``LONGEST_FIRST``), then the others as collected."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail the run at once, before any worker starts, when the PostgreSQL the
    run is asked to use does not answer (never skip, never fall back)."""
    url = os.environ.get("DATABASE_URL")
    if _WORKER or not url or is_sqlite(url):
        return
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.exit(f"The test database {url} is unreachable: {exc}", returncode=3)
    finally:
        engine.dispose()


def _test_database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{Path(_TMP) / 'test.db'}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A freshly migrated database for this run."""
    url = _test_database_url()
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            if is_sqlite(url):
                conn.execute(text("SELECT 1"))
            else:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # an expected database is missing: fail, never skip
        pytest.exit(f"The test database {url} is unreachable: {exc}", returncode=3)
    finally:
        engine.dispose()
    upgrade_to_head(url)
    yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The async engine the API uses, for the whole run."""
    eng = make_async_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory (what the app makes per request), with the app's hooks."""
    return make_sessions(engine)


# Versioned rule tables seeded by the migrations (D5, D6, D3 rule 5): emptied with the rest
# and their seeded rows put back, so that edits of one test never leak.
RULE_TABLES = (
    "rule_table_heads",
    "scoring_table_versions",
    "scoring_table_points",
    "scoring_free_mail_domains",
    "region_table_versions",
    "region_table_rows",
    "stage_requirements_versions",
    "timeouts_versions",
)


@pytest.fixture(scope="session")
def seeded_rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """The rows the migrations seeded into the rule tables."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                name: [
                    dict(row._mapping)
                    for row in conn.execute(SQLModel.metadata.tables[name].select())
                ]
                for name in RULE_TABLES
            }
    finally:
        engine.dispose()


@pytest.fixture
async def empty_database(
    engine: AsyncEngine, seeded_rows: dict[str, list[dict[str, Any]]]
) -> None:
    """Empty tables (ids from 1): every test that touches the database starts so."""
    await empty_tables(engine, seeded_rows)


async def empty_tables(
    engine: AsyncEngine, seeded_rows: dict[str, list[dict[str, Any]]]
) -> None:
    """Empty every table (ids from 1), the rule tables back to their seeds."""
    # Reference data seeded by migrations stays (its mutable state is reset).
    # The auth generation only grows: served processes of a module outlive a
    # test and must see it move, never go back.
    seeded = {"routing_pools", "auth_generation"}
    tables = [
        t.name
        for t in reversed(SQLModel.metadata.sorted_tables)
        if t.name not in seeded
    ]
    # DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of every table costs
    # ~0.2 s (new files for each relation), a DELETE of a test's few rows
    # ~0.02 s; the id sequences are reset by hand (what RESTART IDENTITY did).
    # On PostgreSQL the statements go as one script, in one round trip.
    deletes = [f'DELETE FROM "{name}"' for name in tables]
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for statement in deletes:
                await conn.execute(text(statement))
        else:
            resets = [
                f"SELECT setval('{seq}', 1, false)"
                for seq in await _id_sequences(conn, tables)
            ]
            await conn.exec_driver_sql(";\n".join(deletes + resets))
        await conn.execute(text("UPDATE routing_pools SET last_position = NULL"))
        for name in RULE_TABLES:
            await conn.execute(
                SQLModel.metadata.tables[name].insert(), seeded_rows[name]
            )


_SEQUENCES: dict[tuple[str, ...], list[str]] = {}


async def _id_sequences(conn: Any, tables: list[str]) -> list[str]:
    """The sequences that number the tables' rows (PostgreSQL), looked up once."""
    key = tuple(tables)
    if key not in _SEQUENCES:
        rows = await conn.execute(
            text(
                "SELECT s.oid::regclass::text FROM pg_class s"
                " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid"
                " WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"
            ),
            {"tables": list(tables)},
        )
        _SEQUENCES[key] = sorted(row[0] for row in rows)
    return _SEQUENCES[key]


@dataclass
class Result:
    """What a GraphQL call returned."""

    data: Any
    errors: list[Any]

    def ok(self) -> Any:
        """The data, asserting there was no top-level error."""
        assert not self.errors, self.errors
        return self.data


class Api:
    """Executes GraphQL through the real schema, as one user, per call a session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, as_user: User
    ) -> Result:
        """Run one operation, like one HTTP request."""
        viewer = Viewer(
            id=as_user.id, name=as_user.name, email=as_user.email, role=as_user.role
        )
        async with self.sessions() as session:
            context = Context(session=session, viewer=viewer, request_id="test")
            result = await schema.execute(
                query, variable_values=variables, context_value=context
            )
        errors = [
            {"message": e.message, "path": e.path, **(e.extensions or {})}
            for e in result.errors or []
        ]
        # Every user error the suite provokes is read as a client would read it.
        assert_clean_messages(result.data)
        return Result(data=result.data, errors=errors)


@pytest.fixture
def api(sessions: async_sessionmaker[AsyncSession], empty_database: None) -> Api:
    """Call the GraphQL API: ``await api(query, variables, as_user=user)``."""
    return Api(sessions)


class Builders:
    """Builders for records, going through the domain services."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def user(self, role: Role = Role.SDR, **overrides: Any) -> User:
        """A user (default an SDR) with a unique email."""
        n = self._next()
        values = {"name": f"User {n}", "email": f"user{n}@example.com", "role": role}
        values.update(overrides)
        async with self.sessions() as session, write_transaction(session):
            return await create_user(values, session=session, actor=None)

    async def token(self, user: User) -> str:
        """A fresh API token for the user."""
        async with self.sessions() as session, write_transaction(session):
            _, token = await issue_token(user.id, session=session, actor=None)
        return token

    async def lead(self, *, by: User | None = None, **overrides: Any) -> Any:
        """A RAW lead with a unique email (created by ``by`` or a new MARKETING_OPS)."""
        by = by or await self.user(Role.MARKETING_OPS)
        n = self._next()
        values = {
            "first_name": "Ada",
            "last_name": f"Lovelace{n}",
            "email": f"ada{n}@acme.example",
            "company": "Acme",
            "initial_source": "Web Direct",
        }
        values.update(overrides)
        async with self.sessions() as session, write_transaction(session):
            return await create_lead(
                values, session=session, actor=Actor(by.id, by.role)
            )

    async def run(self, use_case: Any) -> Any:
        """Run any service call ``use_case(session)`` in one write transaction."""
        async with self.sessions() as session, write_transaction(session):
            return await use_case(session)


@pytest.fixture
def make(sessions: async_sessionmaker[AsyncSession], empty_database: None) -> Builders:
    """Record builders: ``await make.user(Role.AE)``, ``await make.lead(...)``."""
    return Builders(sessions)


class StatementCounter:
    """Counts SQL statements sent by the engine while active, a ``COPY`` sent
    on its driver connection (``domain.services.bulk.copy_rows``) included:
    it passes by SQLAlchemy's events, but it is a statement all the same."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.count = 0
        self._copy: Any = None

    def _on_execute(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        import psycopg

        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        self._copy = psycopg.AsyncCursor.copy

        def counted_copy(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return self._copy(cursor, *args, **kwargs)

        psycopg.AsyncCursor.copy = counted_copy  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        import psycopg

        psycopg.AsyncCursor.copy = self._copy  # type: ignore[method-assign]
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


@pytest.fixture
def count_statements(engine: AsyncEngine) -> Any:
    """``with count_statements() as c: ...; c.count``."""
    return lambda: StatementCounter(engine)


async def row_count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    """How many rows a table has."""
    from sqlalchemy import func, select

    async with sessions() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
        )
