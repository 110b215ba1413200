"""Webhook delivery by `salesops worker`: throughput with 1 and 2 workers and
latency from event commit to the receiver, next to the outbox write rate.

    BENCH_PG_DB=so_webhooks_b .venv/bin/python tests/bench/bench_webhooks.py \\
        [--events 4000] [--subscriptions 4] [--rate 200] [--seconds 10]

PostgreSQL only (several workers are a PostgreSQL setup). The database named
by ``BENCH_PG_DB`` (default ``salesops_webhooks_bench``, created if missing) is
emptied and migrated. Events are written the way the use cases write them (one
INSERT into ``events`` per transaction, 4 writer threads); the receiver is the
tests' Starlette app on loopback (it verifies every signature).

1. Outbox write rate: as fast as the writers go.
2. Throughput: a backlog of ``--events`` events for ``--subscriptions``
   subscriptions that want all of them, drained by 1, then 2 workers
   (deliveries per second, from the first delivery to the last: a worker's
   start-up is left out).
3. Latency: with the workers running, events written at ``--rate`` per second
   for ``--seconds``; commit → receiver p50 / p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import make_async_engine, upgrade_to_head
from domain.enums import RecordType, Role
from domain.records import Event
from domain.rules.permissions import Actor
from domain.services.sessions import make_sessions
from domain.services.users import create_user
from domain.services.webhooks import create_webhook_subscription
from domain.sqltypes import utcnow
from tests.api.receiver import Receiver, running_receiver
from tests.bench.harness import BIN, machine, percentile

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"
WORKER = ("--poll-interval", "0.02", "--concurrency", "4")


def fresh(name: str) -> str:
    """The bench database, emptied and migrated."""
    admin = create_engine(PG.format("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG.format(name)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade_to_head(url)
    return url


async def subscribe(url: str, receiver: Receiver, count: int) -> None:
    """``count`` subscriptions that want every event, made by an ADMIN."""
    engine = make_async_engine(url)
    sessions = make_sessions(engine)
    async with sessions() as s, s.begin():
        values = {"name": "Bench", "email": f"b{time.time()}@bench.example"}
        admin = await create_user({**values, "role": Role.ADMIN}, session=s, actor=None)
        for n in range(count):
            hook = await create_webhook_subscription(
                {"url": receiver.url(f"s{n}")},
                session=s,
                actor=Actor(admin.id, admin.role),  # type: ignore[arg-type]
            )
            receiver.secrets[f"s{n}"] = hook.secret
    await engine.dispose()


def write_events(
    url: str, count: int, *, threads: int = 4, rate: float | None = None
) -> tuple[float, dict[int, float]]:
    """Write ``count`` events, one per transaction (at ``rate`` per second if
    given); (seconds taken, commit time of each event id)."""
    engine = create_engine(url, pool_size=threads)
    committed: dict[int, float] = {}
    lock = threading.Lock()
    start = time.monotonic()
    per_thread = -(-count // threads)  # the count rounded up to the threads

    def writer(k: int) -> None:
        for n in range(per_thread):
            if rate:
                due = start + (n * threads + k) / rate
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
            with engine.begin() as conn:
                event_id = conn.execute(
                    insert(Event.__table__).returning(Event.__table__.c.id),
                    {
                        "kind": "LEAD_STATUS_CHANGED",
                        "record_type": RecordType.LEAD.value,
                        "record_id": n,
                        "payload": {"from_state": "RAW", "to_state": "NURTURE"},
                        "occurred_at": utcnow(),
                    },
                ).scalar_one()
            with lock:
                committed[event_id] = time.time()

    pool = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    engine.dispose()
    return time.monotonic() - start, committed


def delivered(receiver: Receiver, names: list[str]) -> int:
    """Distinct (subscription, event) pairs accepted."""
    return len(receiver.accepted)


def workers(url: str, count: int) -> list[subprocess.Popen[Any]]:
    """Start ``count`` `salesops worker` processes."""
    return [
        subprocess.Popen(
            [str(BIN / "salesops"), "worker", *WORKER],
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop(processes: list[subprocess.Popen[Any]]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        p.wait(30)


def wait_for(receiver: Receiver, names: list[str], total: int, timeout: float) -> float:
    """Seconds until ``total`` deliveries were accepted."""
    start = time.monotonic()
    while delivered(receiver, names) < total:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {delivered(receiver, names)} of {total} delivered")
        time.sleep(0.01)
    return time.monotonic() - start


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--subscriptions", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    name = os.environ.get("BENCH_PG_DB", "salesops_webhooks_bench")
    names = [f"s{n}" for n in range(args.subscriptions)]
    print(f"machine: {machine()}; load {os.getloadavg()[0]:.1f}")
    print(
        "| workers | outbox writes/s (4 writers) | backlog deliveries/s | "
        f"latency p50 / p99 ms at {args.rate:.0f} events/s |"
    )
    print("|---|---|---|---|")
    for count in (1, 2):
        url = fresh(name)
        with running_receiver() as receiver:
            asyncio.run(subscribe(url, receiver, args.subscriptions))
            seconds, written = write_events(url, args.events)
            write_rate = len(written) / seconds
            running = workers(url, count)
            try:
                backlog = len(written) * args.subscriptions
                wait_for(receiver, names, backlog, 600)
                with receiver.lock:
                    times = sorted(r.at for r in receiver.got if r.answered == 200)
                throughput = (backlog - 1) / (times[backlog - 1] - times[0])
                before = delivered(receiver, names)
                steady = int(args.rate * args.seconds)
                _, committed = write_events(url, steady, rate=args.rate)
                total = before + len(committed) * args.subscriptions
                wait_for(receiver, names, total, 600)
            finally:
                stop(running)
            with receiver.lock:
                first: dict[tuple[str, int], float] = {}
                for r in receiver.got:
                    if r.event_id in committed and r.answered == 200:
                        first.setdefault((r.name, r.event_id), r.at)
            latencies = [at - committed[e] for (_, e), at in first.items()]
            p50 = percentile(latencies, 50) * 1000
            p99 = percentile(latencies, 99) * 1000
            print(
                f"| {count} | {write_rate:.0f} | {throughput:.0f} | "
                f"{p50:.0f} / {p99:.0f} |"
            )


if __name__ == "__main__":
    main()
