"""Every lock a use case takes, and the one order in which it takes them.

A use case that locks several things takes them in this order, each kind at
most once per kind (several rows of one kind in one statement, in id or key
order), and never goes back to an earlier kind:

1. its idempotency key (``idempotency.once``: a key lock, then the key's row);
2. the rule-table heads, ``FOR KEY SHARE`` to write scores or regions, ``FOR
   UPDATE`` to edit a table (``rule_tables.rule_tables(lock=True)`` /
   ``lock_for_edit``);
3. existing lead, account, contact or opportunity rows it changes, ``FOR
   UPDATE`` (``loading.load(lock=True)``; a batch of leads in id order; a
   merge, all its records in id order, or an undo, its merge row first);
4. the normalized email of a person it creates or re-emails
   (``duplicates.lock_email``), before it looks for a duplicate;
5. routing pools, ``FOR UPDATE``, in key order (``routing.take_turn`` takes one,
   a batch takes every pool at once);
6. the active ADMIN rows (``users``), only by user changes, which take nothing
   else.

On PostgreSQL two transactions taking locks in one order can only queue, never
deadlock (a cycle needs one of them to go back to an earlier kind). On SQLite
a write transaction begins ``IMMEDIATE`` and holds the database's write lock
from its first statement, so writers run one at a time and these locks are
no-ops or row locks SQLite does not have.

Key locks (1, 4) are PostgreSQL transaction-scoped advisory locks
(``pg_advisory_xact_lock``) on a stable 64-bit hash of a namespace and the
key: released at commit or rollback, so a waiter proceeds once the holder's
rows are visible (or gone). A hash collision only makes two keys queue.

A statement that locks a row and reads what goes with it (a move's facts and
funnel stamps) must know when it waited: PostgreSQL then returns the row's
newest version (the writer it waited for committed), but every other part of
the statement — joins, subqueries — still reads the snapshot taken before the
wait, so they can miss that writer's rows (measured). ``versions_seen`` adds
the row's version twice, as locked and as the snapshot saw it, and
``locked_rows`` runs the statement once more, under the lock now held, when
they differ: one more round trip, only after a wait behind a writer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, BigInteger, bindparam, column, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased


def key_lock_id(namespace: str, key: str) -> int:
    """A stable signed 64-bit id of ``key`` in ``namespace`` (not ``hash()``,
    which differs between processes)."""
    digest = hashlib.sha256(f"{namespace}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_key(session: AsyncSession, namespace: str, key: str) -> None:
    """Hold a lock on ``key`` until the transaction ends (PostgreSQL); SQLite's
    write transaction already runs alone."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(_key_lock(), {"id": key_lock_id(namespace, key)})


@cache
def _key_lock() -> Any:
    """``lock_key``'s statement (the lock id bound as ``id``), built once."""
    return select(func.pg_advisory_xact_lock(bindparam("id", type_=BigInteger)))


async def lock_keys(session: AsyncSession, namespace: str, keys: Iterable[str]) -> None:
    """``lock_key`` for many keys with one statement, in lock-id order."""
    if session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted({key_lock_id(namespace, key) for key in keys})
    if not ids:
        return
    # One array parameter (not a VALUES row per key: compiled and parsed anew
    # for every count), unnested in order.
    listed = func.unnest(bindparam("ids", ids, type_=ARRAY(BigInteger))).alias("k")
    await session.execute(
        select(func.pg_advisory_xact_lock(column("k", BigInteger))).select_from(listed)
    )


def versions_seen(model: Any) -> list[Any]:
    """The columns a locking statement of ``model`` ends with: the locked row's
    ``version``, then the version the statement's snapshot saw (a correlated
    subquery on the same row: it reads the snapshot, not the locked version)."""
    seen = aliased(model)
    return [
        model.version,
        select(seen.version).where(seen.id == model.id).scalar_subquery(),
    ]


async def locked_rows(
    session: AsyncSession, statement: Any, parameters: dict[str, Any]
) -> Sequence[Any]:
    """The rows of a statement that locks rows ``FOR UPDATE`` and ends with
    ``versions_seen``; run again when it waited behind a writer of any of them
    (see the module docstring), so everything it read is as fresh as its lock."""
    rows = (await session.execute(statement, parameters)).all()
    if any(row[-2] != row[-1] for row in rows):
        rows = (await session.execute(statement, parameters)).all()
    return rows
