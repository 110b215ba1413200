"""Exporting 1,000,000 leads to CSV (issue 13 item 5): rows/s and peak memory.

    .venv/bin/python tests/bench/bench_exports.py [--database-url URL]
        [--leads 1000000] [--small 100000] [--reuse]

Fills an empty, migrated database (default: a fresh SQLite file; PostgreSQL:
``--database-url``, whose schema is dropped first) with synthetic leads by one
set-based INSERT … SELECT. Then, each in a process of its own (so its peak RSS
is its own, ``ru_maxrss``):

- the export: ``tools.exports.write_export`` — the code ``salesops export``
  and the worker run — of every lead, and of the first ``--small`` leads (a
  ``createdBefore`` filter), to show the memory does not grow with the rows;
- the ceiling: the same rows' columns straight to CSV with no formatting —
  ``COPY (SELECT …) TO STDOUT WITH CSV`` on PostgreSQL, a streaming sqlite3
  cursor into ``csv.writer`` on SQLite.

Prints rows/s, peak RSS and the ratio export / ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


from domain.db import is_sqlite
from tests.bench.harness import fill_leads, machine

COLUMNS = """first_name, last_name, email, company, title, phone, city, country,
    initial_source, lead_source, status, status_changed_at, person_score,
    sales_segment, region, is_public_sector, version, created_at, updated_at"""
START = datetime(2026, 1, 1, tzinfo=UTC)


def _select(sqlite: bool) -> str:
    # created_at grows one second per lead, so a createdBefore cut is a prefix.
    if sqlite:
        at = "strftime('%Y-%m-%d %H:%M:%f', '2026-01-01 00:00:00', '+' || n || ' seconds')"
    else:
        at = "TIMESTAMPTZ '2026-01-01 00:00:00Z' + n * INTERVAL '1 second'"
    return f"""
      SELECT 'First' || (n % 1999), 'Last' || (n % 4999),
        'p' || n || '@d' || (n % 50000) || '.example', 'Company ' || (n % 50000),
        CASE WHEN n % 3 = 0 THEN 'VP Engineering' ELSE 'Developer' END,
        '+1 415 ' || (1000000 + n % 8999999), 'Berlin', 'Germany',
        'Web Direct', 'Organic Search', 'RAW', {at}, n % 120, 'SMB', 'EMEA',
        false, 1, {at}, {at}
      FROM ids"""


def fill(url: str, leads: int) -> float:
    """Migrate and fill; the seconds it took."""
    return fill_leads(url, leads, COLUMNS, _select)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _export(url: str, path: Path, before: str | None) -> int:
    from api.exports import parse_filter
    from domain.db import make_async_engine
    from domain.enums import ExportKind
    from domain.services.sessions import make_sessions
    from tools.exports import write_export

    raw = {"createdBefore": before} if before else {}
    engine = make_async_engine(url)
    try:
        return await write_export(
            ExportKind.LEAD,
            parse_filter(ExportKind.LEAD, raw),
            path,
            sessions=make_sessions(engine),
        )
    finally:
        await engine.dispose()


def _ceiling(url: str, path: Path, limit: int | None) -> int:
    """The same rows' columns to CSV with no formatting at all."""
    columns = "id, " + " ".join(COLUMNS.split())
    where = f"WHERE id <= {limit}" if limit else ""
    select = f"SELECT {columns} FROM leads {where} ORDER BY id"
    if is_sqlite(url):
        import csv
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            cursor = db.execute(select)
            while batch := cursor.fetchmany(5000):
                writer.writerows(batch)
                rows += len(batch)
        db.close()
        return rows
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    rows = 0
    copy_sql = f"COPY ({select}) TO STDOUT WITH CSV HEADER"
    with (
        psycopg.connect(conninfo) as conn,
        open(path, "wb") as handle,
        conn.cursor().copy(copy_sql) as copy,
    ):
        for chunk in copy:
            handle.write(chunk)
    with open(path, "rb") as handle:
        rows = sum(1 for _ in handle) - 1
    return rows


def child(mode: str, url: str, limit: int | None) -> None:
    """One measurement in this process: prints {rows, seconds, peak_mib}."""
    path = Path(tempfile.mkdtemp(prefix="salesops-export-")) / "out.csv"
    # Imports first: the timer and the memory baseline start with the work.
    import api.schema  # noqa: F401
    import tools.exports  # noqa: F401

    baseline = _peak_mib()
    started = time.perf_counter()
    if mode == "export":
        before = (START.timestamp() + limit + 0.5) if limit else None
        cut = datetime.fromtimestamp(before, UTC).isoformat() if before else None
        rows = asyncio.run(_export(url, path, cut))
    else:
        rows = _ceiling(url, path, limit)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "peak_mib": _peak_mib(),
                "baseline_mib": baseline,
                "bytes": path.stat().st_size,
            }
        )
    )
    path.unlink()


def measure(mode: str, url: str, limit: int | None) -> dict[str, Any]:
    """Run one measurement in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--database-url", url]
        + (["--limit", str(limit)] if limit else []),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Fill, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database_url, args.limit)
        return
    url = args.database_url or (
        f"sqlite:///{tempfile.mkdtemp(prefix='salesops-bench-')}/export.db"
    )
    print(f"{machine()}; load {os.getloadavg()[0]:.2f}")
    if not args.reuse:
        seconds = fill(url, args.leads)
        print(f"{url.split(':')[0]}: {args.leads:,} leads written in {seconds:.1f} s")
    results = {
        "export small": measure("export", url, args.small),
        "export all": measure("export", url, None),
        "ceiling all": measure("ceiling", url, None),
    }
    for name, r in results.items():
        print(
            f"{name:13} {r['rows']:>9,} rows in {r['seconds']:6.1f} s = "
            f"{r['rows'] / r['seconds']:>9,.0f} rows/s, peak RSS "
            f"{r['peak_mib']:6.1f} MiB (+{r['peak_mib'] - r['baseline_mib']:.1f} "
            f"after imports), {r['bytes'] / 2**20:6.1f} MiB written"
        )
    ratio = results["export all"]["seconds"] / results["ceiling all"]["seconds"]
    print(f"export / ceiling time: {ratio:.1f}x")


if __name__ == "__main__":
    main()
