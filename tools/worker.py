"""`salesops worker`: delivers the outbox to webhook subscriptions (issue 12),
writes the export jobs ``exportRecords`` queues (issue 13 item 5), runs
queued list imports (issue 13 item 1: ``import_round``, one job at a time),
queued duplicate scans (issue 13 item 3: ``scan_round``) and applies the
timeouts every ``tick_interval`` seconds (issue 14 item 4: ``tick_step``,
``domain.services.timeouts``; several workers may tick at once).

Exports: beside the delivery rounds, one task of its own claims the oldest QUEUED export
job (``FOR UPDATE SKIP LOCKED``: several workers never take the same one; a
RUNNING job whose worker has been silent for ``job_lease_seconds`` is taken
over: ``domain.services.jobs``) and writes its CSV into ``export_dir``
(``tools.exports``).

The loop: find the safe watermark (``safe_event_id``), then ``concurrency``
tasks each claim a subscription (a lease), fan its new events out to pending
deliveries, POST its oldest pending deliveries one after the other until one
fails (order per subscription), record the outcomes and release the lease.
Nothing to do: sleep ``poll_interval``. ``--once``: stop when nothing is due.
SIGTERM/SIGINT: finish the round, then stop. Several processes may run on
PostgreSQL (leases are claimed with ``FOR UPDATE SKIP LOCKED``); on SQLite run
one.

The body (JSON, UTF-8) of every POST::

    {"eventId": 42, "id": "<Event global id>", "type": "OPPORTUNITY_STAGE_CHANGED",
     "occurredAt": "2026-12-03T08:00:00+00:00",
     "record": {"id": "<global id>", "type": "OPPORTUNITY"},
     "from": "PENDING_ACCEPTANCE", "to": "DISCOVERY",
     "actor": "<User global id>" | null,
     "recipients": [{"user": "<User global id>", "capacity": "SAL"}],
     "payload": {...as stored...}}

with headers ``X-Salesops-Signature`` (``domain.rules.webhooks``),
``X-Salesops-Event-Id`` and ``X-Salesops-Delivery-Id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.db import make_async_engine
from domain.enums import RecordType
from domain.rules.webhooks import (
    DEFAULT_MAX_ATTEMPTS,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    is_success,
    sign,
)
from domain.services import exports as exporting
from domain.services import timeouts
from domain.services import webhook_delivery as delivery
from domain.services.sessions import make_sessions
from domain.sqltypes import utcnow
from tools.exports import run_export_job

log = logging.getLogger("salesops.worker")

DELIVERY_ID_HEADER = "X-Salesops-Delivery-Id"
USER_AGENT = "salesops-webhooks/1"

GlobalId = Callable[[str, int], str]


@dataclass(frozen=True)
class WorkerOptions:
    """How the worker runs (the command's options)."""

    once: bool = False
    poll_interval: float = 1.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: float = 10.0
    lease_seconds: float = 30.0
    batch: int = 100
    concurrency: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    export_dir: str = "exports"
    # An export or import job whose worker has been silent this long (it beats
    # after every batch) is taken over by another worker.
    job_lease_seconds: float = 300.0
    # Seconds between two ticks of the timeouts scheduler.
    tick_interval: float = 60.0


def default_global_id() -> GlobalId:
    """Global ids as the API writes them (the GraphQL type of each record)."""
    from api.events import NODE_OF, EventNode
    from api.relay import encode_id
    from api.users import UserNode

    names: dict[str, type] = {t.value: NODE_OF[t] for t in RecordType}
    names["EVENT"] = EventNode
    names["USER"] = UserNode
    return lambda kind, record_id: encode_id(names[kind], record_id)


def body_of(item: delivery.Due, global_id: GlobalId) -> bytes:
    """The JSON body of one delivery."""
    event = item.event
    payload = event.payload or {}
    document: dict[str, Any] = {
        "eventId": event.id,
        "id": global_id("EVENT", event.id),  # type: ignore[arg-type]
        "type": event.kind,
        "occurredAt": event.occurred_at.isoformat(),
        "record": {
            "id": global_id(str(event.record_type), event.record_id),
            "type": str(event.record_type),
        },
        "from": payload.get("from_state"),
        "to": payload.get("to_state"),
        "actor": global_id("USER", event.actor_id) if event.actor_id else None,
        "recipients": [
            {"user": global_id("USER", user_id), "capacity": capacity}
            for user_id, capacity in item.recipients
        ],
        "payload": payload,
    }
    return json.dumps(document, separators=(",", ":"), default=str).encode()


async def post(
    client: httpx.AsyncClient, url: str, secret: str, item: delivery.Due, body: bytes
) -> delivery.Outcome:
    """POST one delivery; the outcome whatever happens (never raises)."""
    attempt = item.attempts + 1
    at = utcnow()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        EVENT_ID_HEADER: str(item.event.id),
        DELIVERY_ID_HEADER: str(item.delivery_id),
    }
    started = time.perf_counter()
    code: int | None = None
    error: str | None = None
    try:
        response = await client.post(url, content=body, headers=headers)
        code = response.status_code
        if not is_success(code):
            error = f"HTTP {code}"
    except httpx.TimeoutException:
        error = "timeout"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    latency = int((time.perf_counter() - started) * 1000)
    return delivery.Outcome(
        delivery_id=item.delivery_id,
        attempt=attempt,
        at=at,
        succeeded=code is not None and is_success(code),
        response_code=code,
        latency_ms=latency,
        error=error,
    )


class Worker:
    """One worker process: its id, its sessions, its HTTP client."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        options: WorkerOptions,
        global_id: GlobalId,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.options = options
        self.global_id = global_id
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.policy = delivery.Policy(
            options.max_attempts, options.backoff_base, options.backoff_cap
        )
        self.watermark = 0
        self.stopping = asyncio.Event()
        self.last_tick: float | None = None

    async def advance_watermark(self) -> int:
        """The newest safe event id (kept when writers did not settle)."""
        async with self.sessions() as session:
            safe = await delivery.safe_event_id(session)
        if safe is not None:
            self.watermark = max(self.watermark, safe)
        return self.watermark

    async def serve_one(self) -> bool:
        """Claim one subscription and deliver what it is owed; False: none due."""
        options = self.options
        async with self.sessions() as session:
            held = await delivery.claim(
                session,
                worker=self.id,
                now=utcnow(),
                lease_seconds=options.lease_seconds,
                watermark=self.watermark,
            )
            if held is None:
                return False
            await delivery.fan_out(session, held, watermark=self.watermark)
            items = await delivery.due(session, held, limit=options.batch)
            outcomes: list[delivery.Outcome] = []
            # Stop well within the lease, so that nobody else takes it meanwhile.
            budget = time.monotonic() + options.lease_seconds / 2
            for item in items:
                outcome = await post(
                    self.client,
                    held.url,
                    held.secret,
                    item,
                    body_of(item, self.global_id),
                )
                outcomes.append(outcome)
                if not outcome.succeeded or time.monotonic() > budget:
                    break
            dead = await delivery.record(
                session,
                held,
                outcomes,
                worker=self.id,
                policy=self.policy,
                now=utcnow(),
            )
        for delivery_id in dead:
            log.warning(
                "webhook delivery %s dead-lettered after %d attempts",
                delivery_id,
                options.max_attempts,
                extra={"subscription_id": held.id, "delivery_id": delivery_id},
            )
        return True

    async def export_one(self) -> bool:
        """Claim one export job and write it; False: none is queued."""
        async with self.sessions() as session:
            job = await exporting.claim_export(
                session,
                worker=self.id,
                now=utcnow(),
                lease_seconds=self.options.job_lease_seconds,
            )
        if job is None:
            return False
        log.info("export job %s (%s) started", job.id, job.kind.value)
        await run_export_job(
            self.sessions, job, export_dir=Path(self.options.export_dir), worker=self.id
        )
        return True

    async def export_step(self) -> bool:
        """``export_one``, an error logged (and the step counted as idle)."""
        try:
            return await self.export_one()
        except Exception:  # a lost connection, a bug: log it, keep serving
            log.exception("export job claim failed; retrying")
            return False

    async def round(self) -> bool:
        """One round: every task serves subscriptions until none is due."""
        await self.advance_watermark()

        async def task() -> bool:
            served = False
            try:
                while not self.stopping.is_set() and await self.serve_one():
                    served = True
            except Exception:  # a lost connection, a bug: log it, keep serving
                log.exception("webhook delivery round failed; retrying")
            return served

        results = await asyncio.gather(
            *(task() for _ in range(self.options.concurrency))
        )
        return any(results)

    async def _claimed_round(
        self,
        what: str,
        claim: Callable[..., Awaitable[int | None]],
        run: Callable[..., Awaitable[None]],
    ) -> bool:
        """Claim the oldest queued job of a kind (or one whose worker died) with
        ``claim`` and run it with ``run``: True if one ran."""
        async with self.sessions() as session:
            job_id = await claim(
                session,
                worker=self.id,
                now=utcnow(),
                lease_seconds=self.options.job_lease_seconds,
            )
            if job_id is None:
                return False
            log.info("%s %s started", what, job_id)
            await run(job_id, session=session, worker=self.id, claimed=True)
            log.info("%s %s finished", what, job_id)
        return True

    async def import_round(self) -> bool:
        """Import the oldest queued list import (issue 13) — or resume one whose
        worker died — if any: True if one ran."""
        from api.imports import decode_reference
        from domain.services.import_jobs import claim_import_job, run_import_job

        return await self._claimed_round(
            "import job",
            claim_import_job,
            functools.partial(run_import_job, decode=decode_reference),
        )

    async def scan_round(self) -> bool:
        """Run the oldest queued duplicate scan (issue 13 item 3) — or one whose
        worker died — if any: True if one ran."""
        from domain.services.possible_duplicates import (
            claim_duplicate_scan,
            run_duplicate_scan,
        )

        return await self._claimed_round(
            "duplicate scan", claim_duplicate_scan, run_duplicate_scan
        )

    async def tick_step(self) -> bool:
        """Apply the timeouts due, once every ``tick_interval`` seconds: True
        when a tick ran and filled its limit (more may be due at once)."""
        started = time.monotonic()
        if (
            self.last_tick is not None
            and started - self.last_tick < self.options.tick_interval
        ):
            return False
        self.last_tick = started
        try:
            async with self.sessions() as session:
                report = await timeouts.tick(session, now=utcnow())
        except Exception:  # a lost connection, a bug: log it, keep serving
            log.exception("timeouts tick failed; retrying at the next one")
            return False
        if report.applied:
            log.info(
                "timeouts tick applied %d",
                len(report.applied),
                extra={k.value.lower(): report.count(k) for k in timeouts.TimeoutKind},
            )
        full = any(
            report.count(kind) >= timeouts.TICK_LIMIT for kind in timeouts.TimeoutKind
        )
        if full:
            self.last_tick = None  # the rest is due now: tick again at once
        return full

    async def run(self) -> None:
        """Delivery rounds, export jobs, list imports, duplicate scans and the
        timeouts' ticks side by side, until stopped (or, with ``once``, until
        none has anything to do; the timeouts tick once): a long export,
        import or scan never holds up a delivery."""
        await asyncio.gather(
            self.repeat(self.round),
            self.repeat(self.export_step),
            self.repeat(self.import_round),
            self.repeat(self.scan_round),
            self.repeat(self.tick_step),
        )

    async def repeat(self, step: Callable[[], Awaitable[bool]]) -> None:
        """``step`` until stopped (``once``: until it finds nothing to do),
        waiting ``poll_interval`` whenever it found nothing."""
        while not self.stopping.is_set():
            served = await step()
            if self.options.once and not served:
                return
            if not served:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.stopping.wait(), timeout=self.options.poll_interval
                    )


async def run_worker(
    database_url: str,
    options: WorkerOptions,
    *,
    engine_options: dict[str, Any] | None = None,
) -> None:
    """Run a worker on the database until stopped (SIGTERM/SIGINT) or done."""
    engine = make_async_engine(database_url, **(engine_options or {}))
    limits = httpx.Limits(max_connections=options.concurrency * 2)
    try:
        async with httpx.AsyncClient(
            timeout=options.timeout, follow_redirects=False, limits=limits
        ) as client:
            worker = Worker(make_sessions(engine), client, options, default_global_id())
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, worker.stopping.set)
            log.info("salesops worker %s delivering webhooks", worker.id)
            await worker.run()
    finally:
        await engine.dispose()
