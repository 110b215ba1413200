"""Likely duplicates of leads and contacts (D12), found by their match keys.

For one record (``possible_duplicates``): one indexed lookup per reason whose
key the record has (``ix_leads_match_*`` / ``ix_contacts_match_*``), each
capped, so the cost does not grow with the table (the benchmark measures it at
1,000,000 leads). The reasons a candidate matches on are combined into one
score (``domain.rules.matching.duplicate_score``).

Over a whole table (``run_duplicate_scan``): a job. ``start_duplicate_scan``
writes its row (QUEUED); a worker claims it (``claim_duplicate_scan``, the
claim every job shares: ``domain.services.jobs``) — or the request that
started it runs it at once when the table is small (``scan_runs_inline``) —
marks it RUNNING, self-joins the table on each reason's keys (pairs ``a.id <
b.id``) and stores the pairs, best first, with their count (DONE; FAILED with
the error if it breaks). A scan whose worker died is claimed again after the
lease; the silent worker, should it come back, writes nothing.

Decisions where the spec is silent: a contact's "company" is its account; a
lead is compared with leads and a contact with contacts (merges are of one
kind); a key shared by more than ``KEY_CAP`` records is read only that far
(such keys are data-quality problems of their own, e.g. a switchboard phone);
a scan keeps the best ``SCAN_PAIR_CAP`` pairs (and counts all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.db import write_transaction
from domain.enums import DuplicateReason, DuplicateScanStatus, ErrorCode, MergeKind
from domain.errors import Refused
from domain.records import Contact, DuplicateScan, Lead
from domain.rules.matching import duplicate_score, ordered_reasons
from domain.rules.permissions import Actor, Operation, refusals
from domain.services.jobs import (
    JobTakenOverError,
    claim_job_id,
    heartbeat,
    take_queued,
)
from domain.services.loading import load
from domain.sqltypes import utcnow

KEY_CAP = 200
SCAN_PAIR_CAP = 10_000
# A scan of up to this many leads or contacts runs inside the request that
# starts it (``scan_runs_inline``); a larger one is QUEUED for the worker.
INLINE_MAX_RECORDS = 20_000

MODELS: dict[MergeKind, type[Lead] | type[Contact]] = {
    MergeKind.LEAD: Lead,
    MergeKind.CONTACT: Contact,
}


@dataclass(frozen=True, slots=True)
class PossibleDuplicate:
    """Another record of the same kind that is likely the same person."""

    kind: MergeKind
    record_id: int
    reasons: tuple[DuplicateReason, ...]
    score: int


def model_of(kind: MergeKind, field: str = "kind") -> type[Lead] | type[Contact]:
    """Leads or contacts; accounts have no person keys (INVALID_INPUT)."""
    model = MODELS.get(kind)
    if model is None:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"Duplicates are searched among leads and contacts, not {kind.value}.",
            field,
        )
    return model


def _reason_keys(model: Any, kind: MergeKind) -> dict[DuplicateReason, tuple[Any, ...]]:
    """The key columns each reason compares (``model``: the class or an alias)."""
    company = model.match_company if kind is MergeKind.LEAD else model.account_id
    return {
        DuplicateReason.SAME_EMAIL: (model.match_email,),
        DuplicateReason.SAME_NAME_AND_DOMAIN: (model.match_name, model.match_domain),
        DuplicateReason.SAME_NAME_AND_COMPANY: (model.match_name, company),
        DuplicateReason.SAME_PHONE: (model.match_phone,),
    }


def ranked(kind: MergeKind, found: dict[int, set[DuplicateReason]]) -> list[Any]:
    """Candidates best first: score, then id."""
    out = [
        PossibleDuplicate(kind, rid, tuple(ordered_reasons(r)), duplicate_score(r))
        for rid, r in found.items()
    ]
    out.sort(key=lambda d: (-d.score, d.record_id))
    return out


async def possible_duplicates(
    session: AsyncSession, kind: MergeKind, record_id: int, *, first: int
) -> list[PossibleDuplicate]:
    """The record's likely duplicates among its kind, best first (at most ``first``).

    One statement: per reason, the records sharing that reason's keys with this
    one (an index lookup each, joined to the record's row, capped), united; a
    record that does not exist has none. One round trip matters more than the
    lookups themselves (measured on PostgreSQL at 1M leads under load: five
    statements 58 ms, each lookup 0.1 ms in the server).
    """
    model: Any = model_of(kind)
    me = aliased(model)
    branches = []
    for reason, columns in _reason_keys(model, kind).items():
        mine = _reason_keys(me, kind)[reason]
        branch = (
            select(model.id.label("id"), literal(reason.value).label("reason"))
            .join(me, me.id == record_id)
            .where(*(c == m for c, m in zip(columns, mine, strict=True)))
            .where(*(m.is_not(None) for m in mine))
            .where(model.id != record_id)
            .limit(KEY_CAP)
            .subquery()
        )
        branches.append(select(branch.c.id, branch.c.reason))
    found: dict[int, set[DuplicateReason]] = {}
    for other, reason in await session.execute(union_all(*branches)):
        found.setdefault(other, set()).add(DuplicateReason(reason))
    return ranked(kind, found)[:first]


async def start_duplicate_scan(
    kind: MergeKind, *, session: AsyncSession, actor: Actor | None
) -> DuplicateScan:
    """Queue a full scan of leads or contacts (run it with ``run_duplicate_scan``);
    ``actor`` None: the system (the CLI, run by whoever runs the service)."""
    if actor is not None and (refused := refusals(actor, Operation.MERGE_RECORDS)):
        raise Refused(refused)
    model_of(kind)
    scan = DuplicateScan(
        kind=kind,
        status=DuplicateScanStatus.QUEUED,
        requested_by_id=actor.id if actor else None,
    )
    session.add(scan)
    await session.flush()
    return scan


async def scan_pairs(
    session: AsyncSession, kind: MergeKind
) -> dict[tuple[int, int], set[DuplicateReason]]:
    """Every pair of records of ``kind`` sharing a reason's keys (id < other id)."""
    model: Any = model_of(kind)
    a, b = aliased(model), aliased(model)
    pairs: dict[tuple[int, int], set[DuplicateReason]] = {}
    keys_a, keys_b = _reason_keys(a, kind), _reason_keys(b, kind)
    for reason, columns in keys_a.items():
        same: list[ColumnElement[bool]] = [
            left == right for left, right in zip(columns, keys_b[reason], strict=True)
        ]
        rows = await session.execute(
            select(a.id, b.id)
            .join(b, and_(*same, b.id > a.id))
            .where(*(c.is_not(None) for c in columns))
        )
        for pair in rows:
            pairs.setdefault((pair[0], pair[1]), set()).add(reason)
    return pairs


async def scan_runs_inline(session: AsyncSession, kind: MergeKind) -> bool:
    """Whether a scan of ``kind`` is small enough to run inside the request that
    starts it (``INLINE_MAX_RECORDS``); a larger one is left QUEUED for
    ``salesops worker``."""
    model: Any = model_of(kind)
    count = await session.scalar(select(func.count()).select_from(model))
    return int(count or 0) <= INLINE_MAX_RECORDS


async def claim_duplicate_scan(
    session: AsyncSession, *, worker: str, now: datetime, lease_seconds: float
) -> int | None:
    """The oldest queued scan — or a RUNNING one whose worker has been silent
    past the lease — now ``worker``'s (None: none)."""
    return await claim_job_id(
        session,
        DuplicateScan,
        worker=worker,
        now=now,
        lease_seconds=lease_seconds,
        queued=DuplicateScanStatus.QUEUED,
        running=DuplicateScanStatus.RUNNING,
    )


async def run_duplicate_scan(
    scan_id: int, *, session: AsyncSession, worker: str, claimed: bool = False
) -> None:
    """Run a scan as ``worker`` (claim it first unless ``claimed``): DONE with its
    pairs, or FAILED with the reason. A worker whose scan was taken over (it was
    silent past the lease) writes nothing."""
    if not claimed and not await take_queued(
        session,
        DuplicateScan,
        scan_id,
        worker=worker,
        queued=DuplicateScanStatus.QUEUED,
        running=DuplicateScanStatus.RUNNING,
    ):
        return
    async with write_transaction(session):
        kind = (await load(session, DuplicateScan, scan_id)).kind
    try:
        async with write_transaction(session):
            pairs = await scan_pairs(session, kind)
            best = sorted(
                (
                    (-duplicate_score(r), a, b, [x.value for x in ordered_reasons(r)])
                    for (a, b), r in pairs.items()
                ),
            )[:SCAN_PAIR_CAP]
            done = await heartbeat(
                session,
                DuplicateScan,
                scan_id,
                worker=worker,
                status=DuplicateScanStatus.DONE,
                pair_count=len(pairs),
                pairs=[[a, b, -score, why] for score, a, b, why in best],
                finished_at=utcnow(),
            )
            if not done:
                raise JobTakenOverError(scan_id)
    except JobTakenOverError:
        return
    except Exception as exc:  # the job reports its failure on its row
        async with write_transaction(session):
            await heartbeat(
                session,
                DuplicateScan,
                scan_id,
                worker=worker,
                status=DuplicateScanStatus.FAILED,
                error=str(exc),
                finished_at=utcnow(),
            )


async def latest_scan(session: AsyncSession, kind: MergeKind) -> DuplicateScan | None:
    """The newest finished scan of ``kind`` (None before the first)."""
    return (
        await session.execute(
            select(DuplicateScan)
            .where(
                DuplicateScan.kind == kind,  # type: ignore[arg-type]
                DuplicateScan.status == DuplicateScanStatus.DONE,  # type: ignore[arg-type]
            )
            .order_by(DuplicateScan.id.desc())  # type: ignore[union-attr]
            .limit(1)
        )
    ).scalar_one_or_none()


def scan_result(
    scan: DuplicateScan, first: int
) -> Sequence[tuple[int, int, int, list[DuplicateReason]]]:
    """The first pairs of a scan: (id, other id, score, reasons)."""
    return [
        (a, b, score, [DuplicateReason(r) for r in why])
        for a, b, score, why in scan.pairs[:first]
    ]
