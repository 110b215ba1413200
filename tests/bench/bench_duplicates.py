"""possibleDuplicates for one record at 1,000,000 leads (issue 13 item 3).

    .venv/bin/python tests/bench/bench_duplicates.py [--database-url URL]
        [--leads 1000000] [--samples 300] [--scan]

Fills an empty, migrated database (default: a fresh SQLite file; PostgreSQL:
``BENCH_PG_DB`` or ``--database-url``, whose schema is dropped first) with
synthetic leads written by one set-based INSERT … SELECT (a recursive CTE on
SQLite, ``generate_series`` on PostgreSQL). Their match keys are what
``domain.rules.matching`` gives for such values (lower-case ASCII names and
emails), with duplicates planted: every 10th lead is the one before again
(email, name, company), every other 25th has the name, domain and company of
the lead 7 before, every 40th the phone of the lead 3 before, and 1,999 first
by 4,999 last names keep the rest apart. Then ``lead(id) { possibleDuplicates { … } }`` is executed through the
real schema (in process, one request per sample) for random leads, and the
p50 / p95 / p99 latencies are printed. ``--scan`` also times a full scan job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.context import Context, Viewer
from api.schema import schema
from domain.db import (
    make_async_engine,
    make_sync_engine,
    write_transaction,
)
from domain.enums import MergeKind, Role
from domain.rules.permissions import Actor
from domain.services.possible_duplicates import (
    run_duplicate_scan,
    start_duplicate_scan,
)
from domain.services.sessions import make_sessions
from domain.services.users import create_user
from tests.api.ids import gid
from tests.bench.harness import fill_leads, machine

QUERY = """query($id: ID!) { lead(id: $id) {
  possibleDuplicates(first: 10) { recordId reason score } } }"""

# One row per n: the values and the keys the normalizers give them.
_COLUMNS = """
    first_name, last_name, email, company, phone, initial_source, status,
    status_changed_at, person_score, sales_segment, is_public_sector, version,
    created_at, updated_at, match_email, match_name, match_domain,
    match_company, match_phone"""


def _select(sqlite: bool) -> str:
    cat = "||"
    # Every k below 1,999 x 4,999 gets a name of its own.
    fn = "'f' || (k % 1999)"
    ln = "'l' || ((k / 1999) % 4999)"
    dom = "'d' || (k % 50000) || '.example'"
    now = "'2026-01-01 00:00:00'" if sqlite else "TIMESTAMPTZ '2026-01-01 00:00:00Z'"
    phone = "'415' || substr('0000000' || ((m * 7) % 10000000), -7, 7)"
    if not sqlite:
        phone = "'415' || lpad(((m * 7) % 10000000)::text, 7, '0')"
    # k: whose name/domain the row takes; e: whose email; m: whose phone.
    keyed = """
      SELECT n,
        CASE WHEN n % 10 = 0 THEN n - 1
             WHEN n % 25 = 0 AND n > 7 THEN n - 7 ELSE n END AS k,
        CASE WHEN n % 10 = 0 THEN n - 1 ELSE n END AS e,
        CASE WHEN n % 40 = 0 THEN n - 3 ELSE n END AS m
      FROM ids"""
    return f"""
      SELECT {fn}, {ln}, 'p' {cat} e {cat} '@' {cat} {dom}, 'Company ' {cat} (k % 50000),
        {phone}, 'Web Direct', 'RAW', {now}, 0, 'UNKNOWN', false, 1, {now}, {now},
        'p' {cat} e {cat} '@' {cat} {dom},
        CASE WHEN {fn} < {ln} THEN {fn} {cat} ' ' {cat} {ln}
             ELSE {ln} {cat} ' ' {cat} {fn} END,
        {dom}, 'company ' {cat} (k % 50000), {phone}
      FROM ({keyed}) AS keyed"""


def fill(url: str, leads: int) -> float:
    """Migrate and fill; the seconds it took."""
    return fill_leads(url, leads, _COLUMNS, _select)


async def measure(url: str, leads: int, samples: int, scan: bool) -> dict[str, Any]:
    """Time possibleDuplicates for random leads (and a full scan)."""
    engine = make_async_engine(url)
    sessions = make_sessions(engine)
    async with sessions() as s, write_transaction(s):
        ops = await create_user(
            {"name": "Ops", "email": "ops@bench.example", "role": Role.SALES_OPS},
            session=s,
            actor=None,
        )
    viewer = Viewer(id=ops.id, name=ops.name, email=ops.email, role=ops.role)
    rng = random.Random(13)
    times, found = [], 0
    for _ in range(samples):
        lead = rng.randint(1, leads)
        async with sessions() as session:
            context = Context(session=session, viewer=viewer, request_id="bench")
            started = time.perf_counter()
            result = await schema.execute(
                QUERY, variable_values={"id": gid("Lead", lead)}, context_value=context
            )
            times.append(time.perf_counter() - started)
        assert not result.errors, result.errors
        found += bool(result.data["lead"]["possibleDuplicates"])  # type: ignore[index]
    times.sort()
    out: dict[str, Any] = {
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
        "with_duplicates": found,
    }
    if scan:
        async with sessions() as s:
            async with write_transaction(s):
                job = await start_duplicate_scan(
                    MergeKind.LEAD, session=s, actor=Actor(ops.id, ops.role)
                )
                job_id = job.id
            started = time.perf_counter()
            await run_duplicate_scan(job_id, session=s, worker="bench")  # type: ignore[arg-type]
            out["scan_s"] = time.perf_counter() - started
            out["scan_pairs"] = (
                await s.execute(text("SELECT pair_count, status FROM duplicate_scans"))
            ).one()
    await engine.dispose()
    return out


def main() -> None:
    """Fill, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_PG_DB"))
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--scan", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="Measure a database filled before."
    )
    args = parser.parse_args()
    url = args.database_url or (
        f"sqlite:///{tempfile.mkdtemp(prefix='salesops-bench-')}/dups.db"
    )
    print(f"{machine()}; load {os.getloadavg()[0]:.2f}")
    if args.reuse:
        engine = make_sync_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM duplicate_scans"))
            conn.execute(text("DELETE FROM users"))
        engine.dispose()
    else:
        seconds = fill(url, args.leads)
        print(f"{url.split(':')[0]}: {args.leads:,} leads written in {seconds:.1f} s")
    figures = asyncio.run(measure(url, args.leads, args.samples, args.scan))
    print(
        f"possibleDuplicates (one lead, through the schema, {args.samples} samples): "
        f"p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
        f"p99 {figures['p99_ms']:.1f} ms; {figures['with_duplicates']} of them "
        "had duplicates"
    )
    if "scan_s" in figures:
        print(
            f"full scan: {figures['scan_s']:.1f} s, "
            f"{figures['scan_pairs'][0]:,} pairs ({figures['scan_pairs'][1]})"
        )


if __name__ == "__main__":
    main()
