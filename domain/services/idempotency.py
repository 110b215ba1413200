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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from domain.enums import ErrorCode
from domain.errors import Refused
from domain.records import IdempotencyKey
from domain.rules.permissions import Actor
from domain.services.loading import load
from domain.services.locks import lock_key
from domain.services.lookups import by_ids

T = TypeVar("T", bound=SQLModel)
KEY_LOCKS = "idempotency-key"


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
    if seen is not None and seen.input_hash != fingerprint:
        raise Refused.one(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"The idempotency key {key!r} was used for another {mutation} input.",
            "idempotencyKey",
        )
    return seen


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
    if key is None:
        return await run()
    seen = await _first_answer(
        session, actor=actor, mutation=mutation, key=key, fingerprint=fingerprint
    )
    if seen is not None:
        return await load(session, model, seen.record_id)  # type: ignore[arg-type]
    result = await run()
    session.add(
        IdempotencyKey(
            user_id=actor.id,
            mutation=mutation,
            key=key,
            input_hash=fingerprint,
            record_id=result.id,  # type: ignore[attr-defined]
        )
    )
    await session.flush()
    return result


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
    if key is None:
        return list(await run())
    seen = await _first_answer(
        session, actor=actor, mutation=mutation, key=key, fingerprint=fingerprint
    )
    if seen is not None:
        found = await by_ids(session, model, seen.record_ids or [])
        return [row for row in found if row is not None]
    result = list(await run())
    session.add(
        IdempotencyKey(
            user_id=actor.id,
            mutation=mutation,
            key=key,
            input_hash=fingerprint,
            record_ids=[row.id for row in result],  # type: ignore[attr-defined]
        )
    )
    await session.flush()
    return result
