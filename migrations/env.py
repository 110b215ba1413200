"""Alembic environment: the models' metadata, a sync engine for DATABASE_URL.

Migrations run under a lock, so that replicas starting together (N processes
running ``serve`` or ``db upgrade`` at once) queue: the first migrates, the
others then find the database at head and do nothing. PostgreSQL: a
transaction-level advisory lock taken at the start of the migration
transaction (released by its commit). SQLite: an exclusive ``flock`` on a file
beside the database (``<file>.migrate.lock``), held for the whole run.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import domain.records  # noqa: F401  (registers every table on the metadata)
from domain.db import make_sync_engine

config = context.config
target_metadata = SQLModel.metadata
# Any fixed 64-bit number nobody else uses: "salesops" in ASCII.
ADVISORY_LOCK_KEY = 0x73616C65736F7073 >> 1


@contextmanager
def sqlite_file_lock(url: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<database file>.migrate.lock`` (file databases)."""
    database = make_url(url).database
    if (
        make_url(url).get_backend_name() != "sqlite"
        or not database
        or (database == ":memory:" or database.startswith("file:"))
    ):
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    if not lock_path.parent.is_dir():  # SQLite will say it cannot open the file
        yield
        return
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_migrations_offline() -> None:
    """Emit SQL without a connection (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through a live connection (shared when the caller passes one)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        with sqlite_file_lock(str(connection.engine.url)):
            _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_sync_engine(url)
    try:
        with sqlite_file_lock(url), engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Queue behind any other migrating process; the revision is read
            # after this, so a late comer sees the first one's work.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
