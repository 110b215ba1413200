"""Engines, sessions and transactions for SQLite (default) and PostgreSQL.

``DATABASE_URL`` selects the database; without it a SQLite file
``salesops.db`` in the working directory is used. The same URL serves the
async engine of the API and the sync engine of migrations, the CLI and bulk
loads: the driver part is swapped, the database is the same.

SQLite is tuned for several writers: WAL journal, foreign keys on, a busy
timeout, and write transactions that begin ``IMMEDIATE`` so that two writers
queue on the lock instead of failing later with "database is locked"
(measured: deferred BEGIN lost 1,433 of 1,600 concurrent writes, IMMEDIATE
none). Read transactions stay deferred so readers never block writers.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import PassiveFlag
from sqlalchemy.pool import NullPool

from domain.records import Versioned
from domain.sqltypes import utcnow

DEFAULT_DATABASE_URL = "sqlite:///salesops.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "salesops_sqlite_immediate"
# A pooled PostgreSQL connection idle longer than this is pinged before use;
# one in steady use is not (see ``_ping_when_idle``).
IDLE_PING_SECONDS = 5.0
# No pooled connection is used past this age (a server or proxy that drops old
# connections quietly never hands one back).
POOL_RECYCLE_SECONDS = 1800
_IDLE_SINCE = "salesops_idle_since"


def database_url() -> str:
    """The configured database URL (``DATABASE_URL`` or the SQLite default)."""
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def is_sqlite(url: str) -> bool:
    """Whether the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def sync_url(url: str) -> str:
    """The URL with a synchronous driver (sqlite3 / psycopg)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return u.set(drivername="sqlite").render_as_string(hide_password=False)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """The URL with an asyncio driver (aiosqlite / psycopg async)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return u.set(drivername="sqlite+aiosqlite").render_as_string(
            hide_password=False
        )
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _install_sqlite_behaviour(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout, and explicit BEGIN [IMMEDIATE]."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the driver's implicit BEGIN is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _in_utc(url: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The engine's arguments with PostgreSQL sessions in UTC (unless the URL
    sets its own ``options``).

    Every time is stored and read as UTC (``sqltypes.UTCDateTime``); with the
    session's ``TimeZone`` UTC, psycopg hands back ``datetime.UTC`` itself, which
    ``as_utc`` passes through, where the server's default zone (``Etc/UTC`` here,
    anything on another server) made it convert every value read (measured: 3 %
    of the CPU of a batch of engagements, most of it ``astimezone``)."""
    if is_sqlite(url) or "options" in make_url(url).query:
        return kwargs
    connect_args = {"options": "-c TimeZone=UTC", **kwargs.get("connect_args", {})}
    return {**kwargs, "connect_args": connect_args}


def make_sync_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """A synchronous engine for migrations, the CLI and bulk loads."""
    url = url or database_url()
    engine = create_engine(sync_url(url), **_in_utc(url, kwargs))
    if is_sqlite(url):
        _install_sqlite_behaviour(engine)
    return engine


def immediate_writes(conn: Connection) -> Connection:
    """``conn`` whose next transaction begins IMMEDIATE on SQLite (it takes the
    write lock at BEGIN, queued behind other writers); no change elsewhere."""
    return conn.execution_options(**{_IMMEDIATE: True})


def make_async_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An asyncio engine for the API."""
    url = url or database_url()
    if not is_sqlite(url):
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    engine = create_async_engine(async_url(url), **_in_utc(url, kwargs))
    if is_sqlite(url):
        _install_sqlite_behaviour(engine.sync_engine)
    elif not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine.sync_engine, IDLE_PING_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection's liveness only when it sat idle in the pool
    for ``idle_seconds`` or more; a dead one is replaced before use.

    ``pool_pre_ping`` pings at every checkout: one more round trip per request
    (with the autocommit switches around it, ~1.5 % of a move's CPU and a
    wake-up of the server's backend, measured). A connection in steady use has
    just answered, so it is not asked again; one that sat idle is, and that is
    when a restarted or failed-over server leaves dead connections behind. A
    connection that dies while in steady use fails its request as it would
    mid-transaction, and SQLAlchemy then invalidates the whole pool, so the
    next requests open fresh connections.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out another (a fresh one
            # when the pool holds no other).
            raise DisconnectionError(str(error)) from error


SessionHook = Callable[[type[Session]], None]


def make_sessionmaker(
    engine: AsyncEngine, *, hooks: Sequence[SessionHook]
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no lazy reloads in async),
    with the version bump and the given ``hooks`` installed.

    Each factory has a Session class of its own, and its hooks are installed
    on that class, never on SQLAlchemy's global ``Session``: a session has the
    hooks of the factory that made it, and nothing is installed by importing a
    module. This module knows no service: ``domain.services.sessions`` names
    the domain's hooks once and every caller makes its sessions there.
    ``hooks`` has no default so that no caller forgets it.
    """
    session_class = type("SalesopsSession", (Session,), {})
    event.listen(session_class, "before_flush", bump_versions)
    for install in hooks:
        install(session_class)
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=session_class,
    )


def among(session: AsyncSession, column: Any, values: Sequence[Any]) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:values)``, one array
    parameter however many values: the statement is compiled and parsed once,
    where an ``IN`` list renders (and psycopg parses) a parameter per value on
    every execution (measured: a third of a list import's client CPU at 1,000
    emails a batch)."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


def sibling_session(session: AsyncSession) -> AsyncSession:
    """A new session made as ``session`` was (its engine, its factory's hooks and
    settings), for work that runs beside it on a connection of its own; the
    caller closes it."""
    return AsyncSession(
        bind=session.bind,
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=type(session.sync_session),
    )


_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _writer_lock(session: AsyncSession) -> asyncio.Lock | None:
    """SQLite: one writer at a time per process, queued fairly in asyncio.

    SQLite's own busy handler polls with growing sleeps, which gives a long
    tail under contention (measured p99 ≈ 2 s with 8 clients); queuing the
    writers of one process on an asyncio lock first leaves the busy handler
    only the writers of other processes to arbitrate.
    """
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return None
    engine = bind.sync_engine if isinstance(bind, AsyncEngine) else bind
    return _SQLITE_WRITERS.setdefault(engine, asyncio.Lock())  # type: ignore[arg-type]


@asynccontextmanager
async def write_transaction(
    session: AsyncSession, *, commit: bool = True
) -> AsyncIterator[AsyncSession]:
    """Run one write use case atomically: commit on success, roll back on error.

    Any read transaction the session had open is ended first (objects read so
    far are detached, keeping their values), so the write starts from a fresh
    snapshot; on SQLite it begins IMMEDIATE and thereby queues behind other
    writers instead of failing.

    ``commit=False`` is a dry run: the use case runs to its end (flushed, so
    new rows have their ids), then everything is rolled back; the objects it
    returned are detached first and keep the values they would have had.
    """
    async with AsyncExitStack() as stack:
        lock = _writer_lock(session)
        if lock is not None:
            await stack.enter_async_context(lock)
        if session.in_transaction():
            await session.commit()
        session.expunge_all()
        await session.connection(execution_options={_IMMEDIATE: True})
        try:
            yield session
            if commit:
                await session.commit()
            else:
                await session.flush()
                session.expunge_all()
                await session.rollback()
        except BaseException:
            await session.rollback()
            session.expunge_all()
            raise


async def number_new_rows(session: AsyncSession) -> None:
    """SQLite: give the session's new rows their ids before a large flush.

    SQLite cannot hand back the generated ids of a multi-row INSERT in row
    order, so the ORM inserts new objects that have no id one statement per
    row (measured: most of a batch of engagements' time); with their ids set it
    writes each table with one ``executemany``. The ids are the ones SQLite
    would give (the table's largest + 1, in the order the objects were added),
    and no other writer can take them meanwhile: a write transaction holds the
    database's write lock from its start (BEGIN IMMEDIATE, ``write_transaction``).
    PostgreSQL returns a multi-row INSERT's ids in order: nothing to do there.
    """
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return
    waiting: dict[Any, list[Any]] = {}
    for obj in session.new:
        state = inspect(obj)
        key = state.mapper.primary_key
        if len(key) == 1 and key[0].name == "id" and getattr(obj, "id", 0) is None:
            waiting.setdefault(key[0], []).append(state)
    for column, states in waiting.items():
        if len(states) == 1:
            continue  # one row: the driver's lastrowid, no statement of our own
        largest = await session.scalar(select(func.max(column)))
        states.sort(key=lambda state: state.insert_order)
        for n, state in enumerate(states, start=(largest or 0) + 1):
            state.obj().id = n


def bump_versions(session: Session, _context: Any, _instances: Any) -> None:
    """Every changed stateful record gets ``version + 1`` and a fresh ``updated_at``
    (a ``before_flush`` hook of every session ``make_sessionmaker`` makes)."""
    now = utcnow()
    for obj in session.dirty:
        if isinstance(obj, Versioned) and columns_modified(obj):
            obj.version = (obj.version or 0) + 1
            obj.updated_at = now


def columns_modified(obj: Any) -> bool:
    """``Session.is_modified(obj, include_collections=False)``, asking only the
    attributes set since the object was loaded (``changed_columns``)."""
    return bool(changed_columns(obj, first_only=True))


def changed_columns(obj: Any, *, first_only: bool = False) -> dict[str, Any]:
    """The column attributes whose value changed since the object was loaded,
    name → new value (``first_only``: stop at the first). An attribute has a
    change only if SQLAlchemy kept its committed value (``committed_state``),
    so the other ~60 columns of a lead need not be asked (measured: a tenth of
    a batch of engagements went to asking them)."""
    state = inspect(obj)
    changed: dict[str, Any] = {}
    if not state.modified:
        return changed
    attributes = state.manager
    for key in state.committed_state:
        impl = attributes[key].impl
        if hasattr(impl, "get_collection") or not hasattr(impl, "get_history"):
            continue
        added, _, deleted = impl.get_history(
            state, state.dict, passive=PassiveFlag.NO_CHANGE
        )
        if added or deleted:
            changed[key] = state.dict.get(key)
            if first_only:
                break
    return changed


# --- migrations -------------------------------------------------------------

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    digest = hashlib.sha256(f"salesops:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def database_lock(url: str, name: str) -> Iterator[None]:
    """Hold an exclusive lock named ``name`` on the database for a job of many
    transactions (the demo load), as the migrations hold theirs: so that
    replicas starting together queue, and each re-checks under the lock.

    PostgreSQL: a session advisory lock on a connection of its own, held until
    the block ends. SQLite file: an exclusive ``flock`` on ``<file>.<name>.lock``
    beside the database (in-memory databases have one process: no lock).
    """
    if is_sqlite(url):
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            yield
            return
        lock_path = Path(database).with_name(f"{Path(database).name}.{name}.lock")
        with open(lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = make_sync_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            key = {"key": lock_key(name)}
            conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
    finally:
        engine.dispose()


def alembic_config(url: str | None = None) -> AlembicConfig:
    """An Alembic config for the migrations shipped with the package."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url or database_url()))
    return cfg


def upgrade_to_head(url: str | None = None) -> None:
    """Migrate the database to the newest revision."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None when never migrated)."""

    def _read(conn: Any) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(_read)
