"""The bulk load of the demo data set: rows written in chunks, in one transaction.

Rows are written in chunks of 5,000 with ids assigned by the caller (parents
before children, so foreign keys hold row by row), all in one transaction: a
failure leaves the database empty. Every value goes through its column type's
bind processor (``Sink``). On PostgreSQL a writer thread copies each chunk
(binary COPY) while the next is drawn; the secondary indexes, unique and
foreign-key constraints are dropped for the load and built again (checked) at
its end, the id sequences are moved past the inserted ids, and the funnel
entries are vacuumed and analyzed (their index walks want the visibility
map). SQLite inserts each chunk itself (a writer thread measured slower: the
two threads queue on the GIL at every row), keeps its indexes but the funnel
entries' ones, and skips the foreign-key checks during the load.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable
from functools import cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    ForeignKeyConstraint,
    Table,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from domain.db import immediate_writes
from domain.records import (
    Account,
    AccountDomain,
    AccountTeamMember,
    Activity,
    Campaign,
    Contact,
    Engagement,
    FunnelEntry,
    Lead,
    Opportunity,
    OpportunityContactRole,
    RoutingPoolMember,
    TransitionRecord,
    User,
)
from domain.services.match_keys import fill_match_keys
from domain.sqltypes import UTCDateTime
from tools.demo.draw import DAY, utc_of

Progress = Callable[[str, int, int], None]

CHUNK = 5_000


def _table(model: Any) -> Table:
    """The Core table of a SQLModel record."""
    return cast(Table, model.__table__)


USERS = _table(User)
POOL_MEMBERS = _table(RoutingPoolMember)
CAMPAIGNS = _table(Campaign)
ACCOUNTS = _table(Account)
ACCOUNT_DOMAINS = _table(AccountDomain)
TEAM_MEMBERS = _table(AccountTeamMember)
CONTACTS = _table(Contact)
OPPORTUNITIES = _table(Opportunity)
CONTACT_ROLES = _table(OpportunityContactRole)
LEADS = _table(Lead)
ENGAGEMENTS = _table(Engagement)
ACTIVITIES = _table(Activity)
TRANSITIONS = _table(TransitionRecord)
FUNNEL_ENTRIES = _table(FunnelEntry)

# insertion order (parents first); also the order of the emptiness check
TABLES: tuple[Table, ...] = (
    USERS,
    POOL_MEMBERS,
    CAMPAIGNS,
    ACCOUNTS,
    ACCOUNT_DOMAINS,
    TEAM_MEMBERS,
    CONTACTS,
    OPPORTUNITIES,
    CONTACT_ROLES,
    LEADS,
    ENGAGEMENTS,
    ACTIVITIES,
    TRANSITIONS,
    FUNNEL_ENTRIES,
)


class Sink:
    """Inserts rows table by table, counting them.

    Rows are dicts keyed by column name; UTCDateTime columns hold whole
    seconds since 1970 (or None). Each value goes through its column type's
    bind processor for the connection's dialect (Money to cents, UTCDateTime
    to UTC, enums to their values, JSON to text), exactly as a Core insert
    would convert it; the rows then go to the driver in chunks, without
    Core's per-row parameter bookkeeping: an ``executemany`` of a positional
    INSERT, or on PostgreSQL with psycopg a binary ``COPY ... FROM STDIN``
    run by a writer thread, so that the server stores the rows while the next
    are drawn (measured at 200,000 leads: 56 s when each COPY is awaited, 37 s
    so; at 40,000 leads row-by-row INSERTs took 14.5 s, awaited COPYs 11.0 s,
    the writer thread 7.6 s; binary COPY takes a sixth of the client CPU of
    text COPY).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}
        self._plans: dict[str, _InsertPlan] = {}
        dialect = conn.dialect
        self.writer: _Writer | None = None
        copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        # Binary COPY needs each column's type (read before the writer owns
        # the connection); measured: 6x less client CPU than text COPY.
        self.column_types: dict[tuple[str, str], int] = {}
        if copy:
            found = conn.exec_driver_sql(
                "SELECT c.relname, a.attname, a.atttypid::int FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relname = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped",
                ([t.name for t in TABLES],),
            )
            self.column_types = {(t, name): oid for t, name, oid in found}
        if copy:
            self.writer = _Writer(conn.connection.driver_connection)
            self.writer.start()

    def close(self, *, abort: bool = False) -> None:
        """Wait until every row is written (PostgreSQL); raise a writer's error.

        With ``abort`` the rows still queued are dropped (the transaction is
        about to roll back).
        """
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.finish(abort=abort)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Write ``rows`` into ``table`` in chunks (PostgreSQL: via the writer)."""
        if not rows:
            return
        if table is LEADS or table is CONTACTS:  # the duplicate match keys (D12)
            fill_match_keys(rows, contact=table is CONTACTS)
        # Columns the demo has no value for (an import's external id) are NULL.
        missing = [c.name for c in table.columns if c.name not in rows[0]]
        for row in rows if missing else ():
            for name in missing:
                row.setdefault(name, None)
        plan = self._plans.get(table.name)
        if plan is None:
            plan = self._plans[table.name] = _InsertPlan(table, self.conn.dialect)
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            if self.writer is not None:
                types = [self.column_types[(table.name, c.name)] for c in table.c]
                self.writer.put(plan.copy_sql, plan.parameters(part), types)
            else:
                self.conn.exec_driver_sql(plan.sql, plan.parameters(part))
            self.counts[table.name] += len(part)


class _Writer(threading.Thread):
    """Runs the binary COPY of each queued chunk, in order, on the driver
    connection.

    The main thread does not touch the connection until ``finish`` returns.
    """

    def __init__(self, driver_connection: Any) -> None:
        super().__init__(name="salesops-demo-copy", daemon=True)
        self.driver_connection = driver_connection
        self.queue: queue.Queue[tuple[str, list[tuple[Any, ...]], list[int]] | None]
        self.queue = queue.Queue(maxsize=8)
        self.error: BaseException | None = None
        self.abort = False

    def run(self) -> None:
        try:
            with self.driver_connection.cursor() as cursor:
                while (item := self.queue.get()) is not None:
                    if self.abort:
                        continue
                    sql, rows, types = item
                    with cursor.copy(sql) as copy:
                        copy.set_types(types)
                        write_row = copy.write_row
                        for values in rows:
                            write_row(values)
        except BaseException as error:
            self.error = error
            while self.queue.get() is not None:  # let the producer finish
                pass

    def put(self, sql: str, rows: list[tuple[Any, ...]], types: list[int]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((sql, rows, types))

    def finish(self, *, abort: bool = False) -> None:
        self.abort = abort
        self.queue.put(None)
        self.join()
        if self.error is not None and not abort:
            raise self.error


_PROBE_TIMESTAMPS = (0, 951_868_799, 1_772_452_805, 4_102_444_799)


class _SQLiteTimestamps:
    """The text SQLite stores for whole-second UTC times, from cached parts.

    Used only when it gives, for probe values, exactly what the column
    type's own bind processor gives (see ``_InsertPlan``).
    """

    def __init__(self) -> None:
        self.days: dict[int, str] = {}
        self.times = [
            f"{h:02d}:{m:02d}:{sec:02d}.000000"
            for h in range(24)
            for m in range(60)
            for sec in range(60)
        ]

    def __call__(self, ts: int) -> str:
        day, second = divmod(ts, DAY)
        text_ = self.days.get(day)
        if text_ is None:
            text_ = self.day(day)
        return text_ + self.times[second]

    def day(self, day: int) -> str:
        """The date part of a day's times (cached)."""
        text_ = self.days[day] = utc_of(day * DAY).strftime("%Y-%m-%d ")
        return text_


@cache
def _sqlite_timestamps() -> _SQLiteTimestamps:
    """One shared cache of SQLite's timestamp texts."""
    return _SQLiteTimestamps()


def _timestamp_converter(
    processor: Callable[[Any], Any] | None, dialect: Any
) -> Callable[[int], Any]:
    """Seconds since 1970 to the value the column type binds.

    A shortcut (SQLite's text, or the datetime itself) is taken only when it
    equals the type's own result on probe values; otherwise every value goes
    through the type's bind processor.
    """

    def through_type(ts: int) -> Any:
        moment = utc_of(ts)
        return processor(moment) if processor is not None else moment

    shortcut: Callable[[int], Any]
    shortcut = _sqlite_timestamps() if dialect.name == "sqlite" else utc_of
    if all(shortcut(ts) == through_type(ts) for ts in _PROBE_TIMESTAMPS):
        return shortcut
    return through_type


class _InsertPlan:
    """A table's positional INSERT and the bind processors of its columns.

    Enum and boolean columns take few values: each value's processed form is
    computed once by the type's processor and then looked up.
    """

    def __init__(self, table: Table, dialect: Any) -> None:
        names = [column.name for column in table.columns]
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        target = (
            f"{dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(name) for name in names)})"
        )
        self.sql = f"INSERT INTO {target} VALUES ({', '.join([mark] * len(names))})"
        self.copy_sql = f"COPY {target} FROM STDIN (FORMAT BINARY)"
        self.getter = itemgetter(*names)
        self.processors: list[tuple[int, Callable[[Any], Any]]] = []
        self.memos: list[tuple[int, dict[Any, Any], Callable[[Any], Any]]] = []
        self.timestamps: list[tuple[int, Callable[[int], Any]]] = []
        # SQLite's timestamp text is built inline (no call per value) when the
        # cached parts are what the type binds.
        self.sqlite_text: _SQLiteTimestamps | None = None
        self.text_columns: list[int] = []
        for i, column in enumerate(table.columns):
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if isinstance(column.type, UTCDateTime):
                convert = _timestamp_converter(processor, dialect)
                if isinstance(convert, _SQLiteTimestamps):
                    self.sqlite_text = convert
                    self.text_columns.append(i)
                else:
                    self.timestamps.append((i, convert))
            elif processor is not None and isinstance(column.type, SAEnum | Boolean):
                self.memos.append((i, {}, processor))
            elif processor is not None:
                self.processors.append((i, processor))

    def parameters(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        getter = self.getter
        processors = self.processors
        memos = self.memos
        timestamps = self.timestamps
        text_columns = self.text_columns
        texts = self.sqlite_text
        days = texts.days if texts is not None else {}
        times = texts.times if texts is not None else []
        out = []
        for row in rows:
            values = list(getter(row))
            for i, processor in processors:
                value = values[i]
                if value is not None:
                    values[i] = processor(value)
            for i, memo, processor in memos:
                value = values[i]
                if value is not None:
                    found = memo.get(value)
                    if found is None:
                        found = memo[value] = processor(value)
                    values[i] = found
            for i, convert in timestamps:
                ts = values[i]
                if ts is not None:
                    values[i] = convert(ts)
            for i in text_columns:
                ts = values[i]
                if ts is not None:
                    day, second = divmod(ts, DAY)
                    date_part = days.get(day)
                    if date_part is None:
                        date_part = texts.day(day)  # type: ignore[union-attr]
                    values[i] = date_part + times[second]
            out.append(tuple(values))
        return out


def write(
    engine: Engine, build: Callable[[Sink], None], progress: Progress | None
) -> dict[str, int]:
    """Run ``build`` on a sink into an empty, migrated database; the row counts.

    The whole load is one transaction (see ``_load``). Then, on SQLite, the
    write-ahead log is checkpointed and truncated; on PostgreSQL the funnel
    entries are vacuumed and analyzed.
    """
    sqlite = engine.dialect.name == "sqlite"
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived rows and no cycles: spare the collector
    try:
        counts = _load(engine, build, progress)
    finally:
        if collecting:
            gc.enable()
    if sqlite:  # move the load out of the write-ahead log, and shrink the log
        raw = engine.raw_connection()
        try:
            cast(Any, raw.driver_connection).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    else:  # the funnel's index walks want the visibility map and statistics now
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {FUNNEL_ENTRIES.name}")
    return counts


def _load(
    engine: Engine, build: Callable[[Sink], None], progress: Progress | None
) -> dict[str, int]:
    """Write the data set in one transaction; the row counts by table.

    Indexes (on PostgreSQL all secondary indexes, unique and foreign-key
    constraints; on SQLite the funnel entries' indexes) are dropped first and
    built again once the rows are in, inside the same transaction: building
    an index from all its rows is a sort, where maintaining it row by row is
    a random insert per row and index. SQLite does not check foreign keys
    during the load (its pragma cannot be changed inside a transaction, and
    the generator writes keys that hold by construction); PostgreSQL checks
    each one again when it is added back.
    """
    sqlite = engine.dialect.name == "sqlite"
    report = progress or (lambda _phase, _done, _total: None)
    with engine.connect() as conn:
        driver = cast(Any, conn.connection.driver_connection)
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            conn = immediate_writes(conn)
            with conn.begin():
                _refuse_unless_empty(conn)
                if sqlite:  # a larger page cache for a big load and its indexes
                    cache_size = driver.execute("PRAGMA cache_size").fetchone()[0]
                    driver.execute("PRAGMA cache_size=-1048576")
                else:
                    conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
                try:
                    rebuild = _drop_for_load(conn)
                    sink = Sink(conn)  # on PostgreSQL it starts a writer thread
                    try:
                        build(sink)
                    except BaseException:
                        sink.close(abort=True)
                        raise
                    sink.close()
                    report("indexes", 0, len(rebuild))
                    for done, statement in enumerate(rebuild, start=1):
                        conn.execute(statement)
                        report("indexes", done, len(rebuild))
                finally:
                    if sqlite:
                        driver.execute(f"PRAGMA cache_size={int(cache_size)}")
                if not sqlite:
                    _reset_sequences(conn)
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")
    return sink.counts


def _drop_for_load(conn: Connection) -> list[Any]:
    """Drop what slows the load (see ``_load``); the statements that build it
    again, indexes before constraints."""
    indexes: list[Any] = []
    uniques: list[Any] = []
    foreign_keys: list[Any] = []
    postgresql = conn.dialect.name == "postgresql"
    if not postgresql:
        # SQLite keeps its indexes (building one afterwards reads the whole
        # table again: measured slower) but those of the funnel entries, whose
        # per-milestone keys arrive in random order (measured at 200,000
        # leads: 26.3 s so, 30.7 s keeping them).
        for index in sorted(FUNNEL_ENTRIES.indexes, key=lambda i: str(i.name)):
            conn.execute(DropIndex(index))
            indexes.append(CreateIndex(index))
        return indexes
    for table in TABLES:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            conn.execute(DropIndex(index))
            indexes.append(CreateIndex(index))
        for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
            if isinstance(constraint, ForeignKeyConstraint):
                conn.execute(DropConstraint(constraint))
                foreign_keys.append(AddConstraint(constraint))
    if postgresql:
        for table in TABLES:
            for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
                if isinstance(constraint, UniqueConstraint):
                    conn.execute(DropConstraint(constraint))
                    uniques.append(AddConstraint(constraint))
    return indexes + uniques + foreign_keys


def _refuse_unless_empty(conn: Connection) -> None:
    names = set(inspect(conn).get_table_names())
    missing = [t.name for t in TABLES if t.name not in names]
    if missing:
        raise ValueError(
            "The database is not migrated (missing tables: "
            f"{', '.join(missing)}); run the migrations first."
        )
    found = []
    for table in TABLES:
        count = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            found.append(f"{count:,} {table.name}")
    if found:
        raise ValueError(
            "The demo data set loads only into an empty database; this one already "
            f"has {', '.join(found)}."
        )


def _reset_sequences(conn: Connection) -> None:
    for table in TABLES:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) IS NOT NULL FROM {table.name}))"
            )
        )
