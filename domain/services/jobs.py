"""Background jobs (exports, list imports, duplicate scans): who runs one, and
whether it still does.

A job row has ``status`` (QUEUED, RUNNING, then DONE or FAILED), ``claimed_by``
(the worker running it) and ``heartbeat_at`` (that worker's last sign of
life). ``claim_job`` hands the oldest QUEUED job — or a RUNNING one whose
worker has been silent longer than the lease (it died) — to one worker:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take the
same job; SQLite's single writer serialises the claims. ``heartbeat`` writes a
job's progress only while the worker still holds it: a worker whose job was
taken over learns it there (False) and stops.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import write_transaction
from domain.services.loading import load
from domain.sqltypes import utcnow

Job = TypeVar("Job")


class JobTakenOverError(Exception):
    """The job is no longer this worker's (it was silent past the lease and
    another worker claimed it): stop without writing its outcome."""

    def __init__(self, job_id: int) -> None:
        super().__init__("the job was taken over by another worker")
        self.job_id = job_id


def _status_column(model: Any) -> Any:
    return col(model.status)


async def claim_job(
    session: AsyncSession,
    model: type[Job],
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
    queued: StrEnum,
    running: StrEnum,
) -> Job | None:
    """The oldest QUEUED job of ``model`` (or a RUNNING one silent past the
    lease), now RUNNING and ``worker``'s, in the caller's write transaction;
    None when there is none."""
    stale = now - timedelta(seconds=lease_seconds)
    status = _status_column(model)
    job = (
        await session.execute(
            select(model)
            .where(
                or_(
                    status == queued,
                    (status == running) & (col(model.heartbeat_at) < stale),  # type: ignore[attr-defined]
                )
            )
            .order_by(col(model.id))  # type: ignore[attr-defined]
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if job is None:
        return None
    take(job, worker=worker, now=now, running=running)
    return job


async def claim_job_id(
    session: AsyncSession,
    model: type[Job],
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
    queued: StrEnum,
    running: StrEnum,
) -> int | None:
    """``claim_job`` in a write transaction of its own: the claimed job's id."""
    async with write_transaction(session):
        job = await claim_job(
            session,
            model,
            worker=worker,
            now=now,
            lease_seconds=lease_seconds,
            queued=queued,
            running=running,
        )
        return None if job is None else job.id  # type: ignore[attr-defined]


async def take_queued(
    session: AsyncSession,
    model: type[Job],
    job_id: int,
    *,
    worker: str,
    queued: StrEnum,
    running: StrEnum,
) -> bool:
    """Take one named job for ``worker`` (its own write transaction) if it is
    still QUEUED — as a request that runs a small job at once does; False:
    someone already took it."""
    async with write_transaction(session):
        job = await load(session, model, job_id, lock=True)  # type: ignore[type-var]
        if job.status is not queued:  # type: ignore[attr-defined]
            return False
        take(job, worker=worker, now=utcnow(), running=running)
        return True


def take(job: Any, *, worker: str, now: datetime, running: StrEnum) -> None:
    """Mark a job (read under lock) as run by ``worker`` from ``now``."""
    job.status = running
    job.claimed_by = worker
    job.heartbeat_at = now
    if job.started_at is None:
        job.started_at = now


async def heartbeat(
    session: AsyncSession, model: Any, job_id: int, *, worker: str, **values: Any
) -> bool:
    """Write ``values`` and a heartbeat on the job while ``worker`` holds it, in
    the caller's transaction; False (nothing written): another worker took it."""
    result = await session.execute(
        update(model)
        .where(col(model.id) == job_id, col(model.claimed_by) == worker)
        .values(heartbeat_at=utcnow(), **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
