"""Append-only rows (events, ledger rows), written one by one or in bulk.

A use case that writes thousands of them (a batch of engagements) calls
``write_in_bulk``: from then on ``add_row`` holds rows in memory, and
``flush_bulk`` writes each table with one statement.

A move (a lead's or an opportunity's) writes a handful of rows in different
tables; on PostgreSQL it also holds its row UPDATEs (``update_row``), and
``flush_bulk`` sends them and the held rows as one statement of data-modifying
CTEs: one round trip instead of four (each costs ~0.3 ms of the API's CPU
through SQLAlchemy and psycopg, and a wake-up of the database's backend). The
statements are built once per shape (tables and columns) with named
parameters: building one with its values bound costs ~0.3 ms (measured).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Executable, Table, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.db import number_new_rows
from domain.records import Event

R = TypeVar("R", bound=SQLModel)

_BULK = "salesops.bulk"
# The execution option naming the rows a statement of CTEs inserts, (table,
# values) each: an INSERT's own table and parameters say it for a plain one,
# not for a statement whose last part is another table's (observers, such as
# the transitions metric, read it).
INSERTED_ROWS = "salesops_inserted_rows"


@dataclass(eq=False)
class HeldRow:
    """An append-only row (an event, a ledger row) a bulk use case holds until
    ``flush_bulk``; ``id`` is known once it is written (on PostgreSQL, only for
    a row that ``write_after_bulk`` waits for: nothing else asks)."""

    table: Table
    values: dict[str, Any]
    id: int | None = None


@dataclass
class _Bulk:
    """What a bulk use case holds: its rows in order, and the rows to write once
    some of them have ids (an event's recipients)."""

    transaction: Any
    rows: list[HeldRow] = field(default_factory=list)
    later: list[tuple[Any, Callable[[], Sequence[SQLModel]]]] = field(
        default_factory=list
    )
    updates: list[_RowUpdate] = field(default_factory=list)


@dataclass(frozen=True)
class _RowUpdate:
    """A held UPDATE of the rows of ``table`` whose ``key`` column is ``match``."""

    table: Table
    key: str
    match: Any
    values: dict[str, Any]


def write_in_bulk(session: AsyncSession) -> None:
    """For the rest of this transaction, hold its events and ledger rows (and the
    events' recipients) in memory, and write them with ``flush_bulk``.

    A use case that writes thousands (a batch of engagements) writes each table
    with one statement instead of building an ORM object per row (measured: a
    third of such a batch's time) and never flushes in between. Held rows are
    not visible to queries before ``flush_bulk``, as unflushed objects are not.
    """
    session.info[_BULK] = _Bulk(transaction=session.sync_session.get_transaction())


def _bulk(session: AsyncSession) -> _Bulk | None:
    """The bulk state of the current transaction (a rolled-back attempt's rows
    are never written by the next transaction of the same session)."""
    bulk = session.info.get(_BULK)
    if bulk is None or bulk.transaction is not session.sync_session.get_transaction():
        return None
    return bulk  # type: ignore[no-any-return]


def add_row(session: AsyncSession, model: type[R], **values: Any) -> R | HeldRow:
    """Add an append-only row: an ORM object, or a held row in a bulk use case."""
    bulk = _bulk(session)
    if bulk is None:
        row = model(**values)
        session.add(row)
        return row
    held = HeldRow(model.__table__, values)  # type: ignore[attr-defined]
    bulk.rows.append(held)
    return held


def write_after_bulk(
    session: AsyncSession, row: Any, make_rows: Callable[[], Sequence[SQLModel]]
) -> bool:
    """In a bulk use case, add the rows ``make_rows`` makes once ``flush_bulk``
    has written the held rows (``row`` then has its id); False outside one."""
    bulk = _bulk(session)
    if bulk is None:
        return False
    bulk.later.append((row, make_rows))
    return True


def holds_writes(session: AsyncSession) -> bool:
    """Whether ``update_row`` holds its UPDATE in this transaction: a bulk use
    case on PostgreSQL (SQLite has no data-modifying CTEs, and its statements
    cost no round trip)."""
    return _bulk(session) is not None and session.get_bind().dialect.name == (
        "postgresql"
    )


async def update_row(
    session: AsyncSession, table: Table, key: str, match: Any, values: dict[str, Any]
) -> None:
    """UPDATE ``values`` in the rows of ``table`` whose ``key`` column is
    ``match`` (one cached statement per table, key and columns), now, or held
    for ``flush_bulk`` when ``holds_writes``: it then runs in the same
    statement as the held rows and the other held updates.

    Parts of one statement see one snapshot and none sees another's changes:
    hold only updates that no later query of the use case reads back before
    ``flush_bulk``, each on rows no other held update touches (PostgreSQL
    forbids changing one row twice in one statement)."""
    bulk = _bulk(session)
    if bulk is not None and holds_writes(session):
        bulk.updates.append(_RowUpdate(table, key, match, values))
        return
    statement = _update(table, key, tuple(values), "")
    await session.execute(statement, {**values, _KEY: match})


_KEY = "key_"


@lru_cache(maxsize=512)
def _update(table: Table, key: str, columns: tuple[str, ...], prefix: str) -> Any:
    """The UPDATE of these columns of the rows matching ``key``, its parameters
    named ``prefix`` + column (and ``prefix`` + ``key_``), built once."""
    return (
        update(table)
        .where(table.c[key] == bindparam(prefix + _KEY, type_=table.c[key].type))
        .values(
            {
                name: bindparam(prefix + name, type_=table.c[name].type)
                for name in columns
            }
        )
    )


@lru_cache(maxsize=512)
def _insert_one(table: Table, columns: tuple[str, ...], prefix: str) -> Any:
    """The INSERT of one row of these columns, parameters named ``prefix`` +
    column, built once."""
    return insert(table).values(
        {name: bindparam(prefix + name, type_=table.c[name].type) for name in columns}
    )


Shape = tuple[Table, str | None, tuple[str, ...]]


@lru_cache(maxsize=512)
def _together(shapes: tuple[Shape, ...]) -> Executable:
    """Held updates and rows of these shapes (table, key or None for an
    INSERT, columns) as one statement: the last with the others as its CTEs
    (PostgreSQL runs each part once, whether or not the statement reads it);
    part n's parameters are prefixed ``hn_``. Built once per shape.

    The parts run in no promised order (seen: the main part before its CTEs),
    so a table's second row would not be sure to get the larger id. Rows of
    one table are chained instead: each after the first takes its values
    ``FROM`` the part of the row before it, which returns its id — PostgreSQL
    must have inserted that row (and drawn its id) before it can make the
    next."""
    inserted = [table for table, key, _ in shapes if key is None]
    repeated = {table for table in inserted if inserted.count(table) > 1}
    ctes: list[Any] = []
    before: dict[Table, Any] = {}
    part: Any = None
    for n, (table, key, columns) in enumerate(shapes):
        prefix = f"h{n}_"
        if key is not None:
            part = _update(table, key, columns, prefix)
        elif table in before:
            part = insert(table).from_select(
                list(columns),
                select(
                    *(bindparam(prefix + c, type_=table.c[c].type) for c in columns)
                ).select_from(before[table]),
            )
        else:
            part = _insert_one(table, columns, prefix)
        if n == len(shapes) - 1:
            break
        if key is None and table in repeated:
            part = part.returning(*table.primary_key.columns)
        cte = part.cte(f"held_{n}")
        if key is None:
            before[table] = cte
        ctes.append(cte)
    return part.add_cte(*ctes) if ctes else part  # type: ignore[no-any-return]


# The most rows of one table that go with the held updates, chained (a move or
# one engagement writes one to three events; a batch writes its by COPY).
TOGETHER_ROWS = 8


async def _write_together(
    session: AsyncSession, updates: list[_RowUpdate], rows: list[HeldRow]
) -> None:
    """The held updates and rows with one statement (``_together``)."""
    shapes: list[Shape] = []
    parameters: dict[str, Any] = {}
    for update_ in updates:
        prefix = f"h{len(shapes)}_"
        shapes.append((update_.table, update_.key, tuple(update_.values)))
        parameters[prefix + _KEY] = update_.match
        parameters.update({prefix + k: v for k, v in update_.values.items()})
    inserted: list[tuple[Table, dict[str, Any]]] = []
    for row in rows:
        prefix = f"h{len(shapes)}_"
        values = _with_defaults(row.table, row.values)
        shapes.append((row.table, None, tuple(values)))
        parameters.update({prefix + k: v for k, v in values.items()})
        inserted.append((row.table, values))
    await session.execute(
        _together(tuple(shapes)),
        parameters,
        execution_options={INSERTED_ROWS: inserted},
    )


async def flush_bulk(session: AsyncSession) -> None:
    """Write what ``write_in_bulk`` held (the rows of a table with one statement,
    in the order they came, and the held writes), flush the session, then the
    rows that waited."""
    bulk = _bulk(session)
    session.info.pop(_BULK, None)
    if bulk is not None:
        # One statement per table (and set of columns: every row of a table is
        # made by one function, so in practice per table), rows in their order.
        tables: dict[tuple[Table, tuple[str, ...]], list[HeldRow]] = {}
        for row in bulk.rows:
            tables.setdefault((row.table, tuple(row.values)), []).append(row)
        # Only the rows others wait for need their ids back.
        wanted = {id(row) for row, _ in bulk.later}
        # With held updates (PostgreSQL), a table's few rows that need no id go
        # with them, an INSERT part each, chained in their order (``_together``;
        # SQLAlchemy compiles a multi-row VALUES anew at every execution).
        together: list[HeldRow] = []
        for (table, _), rows in tables.items():
            ids_wanted = any(id(r) in wanted for r in rows)
            if bulk.updates and not ids_wanted and len(rows) <= TOGETHER_ROWS:
                together += rows
            else:
                await _insert(session, table, rows, ids_wanted)
        if bulk.updates:
            await _write_together(session, bulk.updates, together)
    await number_new_rows(session)
    await session.flush()
    if bulk is not None and bulk.later:
        for _, make_rows in bulk.later:
            session.add_all(make_rows())
        await session.flush()


def _with_defaults(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """The row with the columns' Python-side defaults it leaves out (an INSERT
    in a CTE has no execution of its own to compute them)."""
    missing = {}
    for column in table.columns:
        default = column.default
        if column.key in values or default is None or default.is_sequence:
            continue
        if default.is_callable:
            missing[column.key] = default.arg(None)  # type: ignore[attr-defined]
        elif default.is_scalar:
            missing[column.key] = default.arg  # type: ignore[attr-defined]
    return {**values, **missing} if missing else values


async def _insert(
    session: AsyncSession, table: Table, rows: list[HeldRow], ids_wanted: bool
) -> None:
    """One INSERT for the rows; their ids given back in order when wanted."""
    values = [row.values for row in rows]
    many = len(values) >= COPY_FROM
    if not ids_wanted:
        # A plain executemany: half the time of one returning the ids (measured),
        # and on SQLite no lookup of the largest id; many rows by COPY.
        if many:
            await copy_rows(session, table, values)
        else:
            await session.execute(insert(table), values)
        return
    ids = await insert_with_ids(session, table, values, drawn=many)
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id


def same_columns(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the same columns, for one executemany: a column some row
    leaves out is null in it."""
    names = dict.fromkeys(name for row in values for name in row)
    if all(len(row) == len(names) for row in values):
        return values
    return [{name: row.get(name) for name in names} for row in values]


EVENTS: Table = Event.__table__  # type: ignore[attr-defined]
# What an INSERT into the outbox takes, taken by hand.
_LOCK_EVENTS = text("LOCK TABLE events IN ROW EXCLUSIVE MODE")


async def insert_with_ids(
    session: AsyncSession,
    table: Table,
    values: list[dict[str, Any]],
    *,
    drawn: bool = False,
) -> list[int]:
    """INSERT the rows with one statement; their ids, in the rows' order.

    ``drawn``: on PostgreSQL, the ids are drawn from the table's sequence first
    (one more statement; for the outbox two: its write lock first), then the
    rows written by a binary COPY — for large batches (a list import's): an
    INSERT … RETURNING sorted by parameter order is one statement of every
    row's parameters cast and ordered, which the server planned and ran 5-10x
    slower than the plain insert (measured, 200 leads: 240-600 ms against 40-60
    ms)."""
    if len(values) == 1:
        # One row: the driver's lastrowid (SQLite) or RETURNING, nothing more.
        done = await session.execute(insert(table).values(values[0]))
        return [done.inserted_primary_key[0]]  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        # SQLite cannot return a multi-row INSERT's ids in order; the ids SQLite
        # would give are taken under the transaction's write lock instead (see
        # ``number_new_rows``).
        largest = await session.scalar(select(func.max(table.c.id)))
        ids = list(range((largest or 0) + 1, (largest or 0) + 1 + len(values)))
    elif drawn:
        if table is EVENTS:
            # The outbox's write lock before its ids: the webhook worker takes
            # an id drawn by a transaction holding no write lock on ``events``
            # as committed or never to be (``webhook_delivery.safe_event_id``),
            # and the COPY takes that lock only when it runs, after the draw.
            await session.execute(_LOCK_EVENTS)
        sequence = func.pg_get_serial_sequence(table.name, "id")
        ids = sorted(
            await session.scalars(
                select(func.nextval(sequence)).select_from(
                    func.generate_series(1, len(values))
                )
            )
        )
    else:
        result = await session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), values
        )
        return list(result.scalars())
    await copy_rows(
        session, table, [{**v, "id": i} for v, i in zip(values, ids, strict=True)]
    )
    return ids


@dataclass(frozen=True)
class _CopyPlan:
    """A table's binary ``COPY … FROM STDIN`` for rows with given columns: each
    value's bind processor (the column type's, for the dialect, as a Core
    INSERT applies it), the columns' PostgreSQL types, and the Python-side
    defaults of the columns the rows leave out."""

    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    types: tuple[int, ...]
    defaults: tuple[tuple[str, Any], ...]

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """One row's values in the plan's column order, bound."""
        if self.defaults:
            values = {**values, **{n: _default(d) for n, d in self.defaults}}
        return tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(
                (values.get(n) for n in self.names), self.processors, strict=True
            )
        )


def _default(default: Any) -> Any:
    """A column default's value for one row (a callable's per row, as Core)."""
    return default.arg(None) if default.is_callable else default.arg


# From this many rows of a table, PostgreSQL gets them by COPY, their ids (when
# wanted) drawn from the sequence first (``insert_with_ids(drawn=True)``: two
# statements), rather than by an executemany or one INSERT … RETURNING in
# parameter order, which it plans and runs slower for large batches: 500
# engagements a call, 2,391-2,397 against 2,265-2,302 engagements/s
# (alternating runs); events and ledger rows of such a batch too: see
# ``_insert``. Smaller writes keep the one statement (the budget of a
# 3-engagement call is a test).
COPY_FROM = 100

_COPY_TYPES: dict[tuple[str, str], dict[str, int]] = {}


async def copy_rows(
    session: AsyncSession, table: Table, values: list[dict[str, Any]]
) -> None:
    """Write the rows (all with the same columns) into ``table`` in the session's
    transaction: what ``session.execute(insert(table), values)`` writes.

    On PostgreSQL with psycopg by one binary ``COPY``: the server parses no
    statement per row and the client binds no parameters through SQLAlchemy —
    each value goes through its column type's bind processor, the columns the
    rows leave out take their Python-side defaults, as a Core INSERT does.
    A JSON value goes as SQLAlchemy's psycopg dialect binds it (psycopg's
    ``Json`` wrapper, which psycopg dumps in binary). A constraint the rows break raises
    SQLAlchemy's ``IntegrityError``, as the INSERT would. Elsewhere, the INSERT
    itself."""
    dialect = session.get_bind().dialect
    if not values or dialect.name != "postgresql" or dialect.driver != "psycopg":
        if values:
            await session.execute(insert(table), values)
        return
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    plan = await _copy_plan(connection, driver, table, tuple(values[0]))
    try:
        async with driver.cursor() as cursor, cursor.copy(plan.sql) as copy:
            copy.set_types(list(plan.types))
            for row in values:
                await copy.write_row(plan.row(row))
    except driver.IntegrityError as error:
        raise IntegrityError(plan.sql, None, error) from error


async def _copy_plan(
    connection: Any, driver: Any, table: Table, names: tuple[str, ...]
) -> _CopyPlan:
    """The plan for rows with these columns (the types read once per database)."""
    dialect = connection.dialect
    key = (str(connection.engine.url), table.name)
    if key not in _COPY_TYPES:
        async with driver.cursor() as cursor:
            await cursor.execute(
                "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid ="
                " %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table.name,),
            )
            _COPY_TYPES[key] = dict(await cursor.fetchall())
    types = _COPY_TYPES[key]
    left_out = [
        c for c in table.columns if c.name not in names and c.default is not None
    ]
    columns = [table.c[n] for n in names] + left_out
    quote = dialect.identifier_preparer.quote
    return _CopyPlan(
        sql=f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in columns)})"
        " FROM STDIN (FORMAT BINARY)",
        names=tuple(c.name for c in columns),
        processors=tuple(
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        ),
        types=tuple(types[c.name] for c in columns),
        defaults=tuple((c.name, c.default) for c in left_out),
    )
