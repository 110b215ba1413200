"""Idempotent writes (A3): a repeated key with the same input returns the first
result without applying the change twice; the same key with another input is
refused with IDEMPOTENCY_KEY_REUSED.

Only successful results are remembered: a refused attempt wrote nothing, so
repeating it simply asks again. Keys are scoped per user and mutation. A batch
mutation's first answer is the list of its records, in input order
(``once_many``).

Under concurrency the key is claimed before the work: ``_first_answer`` takes
a transaction-scoped lock on (user, mutation, key) (``locks.lock_key``, the
first lock of ``domain.services.locks``'s order) and only then reads the key's
row. Requests repeating one key at once queue on that lock: the first runs the
mutation and stores its answer in the same transaction; the others wake after
its commit, read the stored answer and return it (not DUPLICATE_RECORD, not a
unique-constraint error). If the first was refused it wrote nothing, and the
next one runs the mutation itself. On SQLite the write transaction already
runs alone.

Keys are kept ``KEY_RETENTION`` (24 hours): an older key is forgotten (a
repeat after that runs the mutation again), and expired keys are deleted at
most once an hour per process, by the first keyed write after the hour
(``prune_expired_keys``, which an operator may also run by hand).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from domain.enums import ErrorCode
from domain.errors import Refused
from domain.records import IdempotencyKey
from domain.rules.permissions import Actor
from domain.services.loading import load
from domain.services.locks import lock_key
from domain.services.lookups import by_ids
from domain.sqltypes import utcnow

T = TypeVar("T", bound=SQLModel)
A = TypeVar("A")  # any answer: a record, a list of them, a conversion
KEY_LOCKS = "idempotency-key"
# How long a key answers repeats (stated in the API's idempotencyKey docs).
KEY_RETENTION = timedelta(hours=24)
# How often a process deletes expired keys (on a keyed write, opportunistically).
PRUNE_EVERY_SECONDS = 3600.0
_last_prune: float | None = None


def input_fingerprint(values: Any) -> str:
    """A stable hash of a mutation's input."""
    canonical = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _first_answer(
    session: AsyncSession,
    *,
    actor: Actor,
    mutation: str,
    key: str,
    fingerprint: str,
) -> IdempotencyKey | None:
    """The stored first answer to this key (locked), None for a new key; the
    same key with another input is refused."""
    if not key.strip() or len(key) > 200:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            "idempotencyKey must be 1 to 200 characters.",
            "idempotencyKey",
        )
    await lock_key(session, KEY_LOCKS, f"{actor.id}\x00{mutation}\x00{key}")
    stmt = (
        select(IdempotencyKey)
        .where(
            col(IdempotencyKey.user_id) == actor.id,
            col(IdempotencyKey.mutation) == mutation,
            col(IdempotencyKey.key) == key,
        )
        .with_for_update()
    )
    seen = (await session.execute(stmt)).scalar_one_or_none()
    if seen is not None and seen.created_at < utcnow() - KEY_RETENTION:
        # Expired but not yet pruned: forgotten, as the retention promises.
        await session.delete(seen)
        await session.flush()
        return None
    if seen is not None and seen.input_hash != fingerprint:
        raise Refused.one(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"The idempotency key {key!r} was used for another {mutation} input.",
            "idempotencyKey",
        )
    return seen


async def prune_expired_keys(
    session: AsyncSession, *, now: datetime | None = None
) -> int:
    """Delete the keys older than ``KEY_RETENTION``; how many went."""
    cutoff = (now or utcnow()) - KEY_RETENTION
    result = await session.execute(
        delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < cutoff)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _prune_due() -> bool:
    """Whether this process last pruned more than an hour ago (or never)."""
    global _last_prune
    now = time.monotonic()
    if _last_prune is not None and now - _last_prune < PRUNE_EVERY_SECONDS:
        return False
    _last_prune = now
    return True


async def once_with(
    session: AsyncSession,
    *,
    actor: Actor,
    mutation: str,
    key: str | None,
    fingerprint: str,
    run: Callable[[], Awaitable[A]],
    remember: Callable[[A], dict[str, Any]],
    recall: Callable[[IdempotencyKey], Awaitable[A]],
) -> A:
    """Run ``run`` unless this key already answered; then ``recall`` that answer.

    ``remember`` says what of an answer is stored (``record_id`` or
    ``record_ids``), ``recall`` loads the answer again from the stored row.
    """
    if key is None:
        return await run()
    seen = await _first_answer(
        session, actor=actor, mutation=mutation, key=key, fingerprint=fingerprint
    )
    if seen is not None:
        return await recall(seen)
    result = await run()
    if _prune_due():
        await prune_expired_keys(session)
    session.add(
        IdempotencyKey(
            user_id=actor.id,
            mutation=mutation,
            key=key,
            input_hash=fingerprint,
            **remember(result),
        )
    )
    await session.flush()
    return result


async def once(
    session: AsyncSession,
    *,
    actor: Actor,
    mutation: str,
    key: str | None,
    fingerprint: str,
    model: type[T],
    run: Callable[[], Awaitable[T]],
) -> T:
    """Run ``run`` unless this key already produced a record; then return that."""

    async def recall(seen: IdempotencyKey) -> T:
        return await load(session, model, seen.record_id)  # type: ignore[arg-type]

    return await once_with(
        session,
        actor=actor,
        mutation=mutation,
        key=key,
        fingerprint=fingerprint,
        run=run,
        remember=lambda row: {"record_id": row.id},  # type: ignore[attr-defined]
        recall=recall,
    )


async def once_many(
    session: AsyncSession,
    *,
    actor: Actor,
    mutation: str,
    key: str | None,
    fingerprint: str,
    model: type[T],
    run: Callable[[], Awaitable[Sequence[T]]],
) -> list[T]:
    """``once`` for a batch mutation: its records, in order, are the answer."""

    async def run_list() -> list[T]:
        return list(await run())

    async def recall(seen: IdempotencyKey) -> list[T]:
        found = await by_ids(session, model, seen.record_ids or [])
        return [row for row in found if row is not None]

    return await once_with(
        session,
        actor=actor,
        mutation=mutation,
        key=key,
        fingerprint=fingerprint,
        run=run_list,
        remember=lambda rows: {"record_ids": [row.id for row in rows]},  # type: ignore[attr-defined]
        recall=recall,
    )
