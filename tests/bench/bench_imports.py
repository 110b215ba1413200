"""List import throughput (issue 13 item 1): rows/s of `salesops import` on a lead
file, next to a raw SQL insert of the same rows in the same run.

    BENCH_PG_DB=so_imports_bench .venv/bin/python tests/bench/bench_imports.py
        [--rows 100000] [--db sqlite|postgresql|both]

Each database is made fresh (harness.fresh_database) and migrated; one ADMIN
imports. The file: ``--rows`` leads (external id, full name split into first and
last, a company email at one of 500 domains, company, the title "Analyst",
a country among five regions), written to a temporary CSV; the import reads it
from disk as the CLI does (``tools.imports.run_import``). "Analyst" scores +5
(company email): no lead reaches the routing threshold, so every row takes the
batch path (createLead's checks and ``new_lead_values`` per row; per batch of
200 the leads and their funnel entries written with one INSERT each, commit per
batch). Printed beside the rate: the importing process's CPU seconds (on a
shared machine the wall clock also counts the time other jobs had the cores).

Raw insert: the same rows' columns (names, email, company, title, country,
initial source, status, score, segment, timestamps) inserted into ``leads`` by
hand with one executemany per 10,000 rows and transaction, nothing else (no
rule, no match key, no funnel entry); then again with each lead's RAW funnel
entry (one more executemany per 10,000), the floor the schema sets for a new
lead.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import async_url, make_async_engine, make_sync_engine
from domain.enums import ImportKind, LeadStatus, SalesSegment
from domain.records import FunnelEntry, Lead
from domain.services.sessions import make_sessions
from tests.bench.harness import admin_token, fresh_database, machine
from tools.imports import ImportRequest, run_import

COUNTRIES = ("USA", "Germany", "Japan", "Brazil", "Canada")
RAW_BATCH = 10_000
RAW_IDS = 10_000_000  # the second raw insert's explicit ids start here


def write_file(path: Path, rows: int) -> None:
    """The lead list (see the module doc)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            ["externalId", "Full Name", "email", "company", "title", "country"]
        )
        for n in range(rows):
            out.writerow(
                [
                    f"B{n}",
                    f"Person{n} Bench{n}",
                    f"p{n}@co{n % 500}.example",
                    f"Co {n % 500}",
                    "Analyst",
                    COUNTRIES[n % len(COUNTRIES)],
                ]
            )


MAPPING = {
    "kind": "LEAD",
    "fields": {
        "externalId": "externalId",
        "firstName": {"split": "Full Name", "part": "first"},
        "lastName": {"split": "Full Name", "part": "last"},
        "email": "email",
        "company": "company",
        "title": "title",
        "country": "country",
    },
}


async def import_rate(url: str, path: Path, mapping: Path) -> tuple[float, str]:
    """Rows/s of the import, and its summary."""
    engine = make_async_engine(async_url(url))
    request = ImportRequest(
        path=path,
        kind=ImportKind.LEAD,
        mapping=str(mapping),
        source="Bench list",
        as_email="bench@bench.example",
    )
    try:
        async with make_sessions(engine)() as session:
            start, cpu = time.perf_counter(), time.process_time()
            tally, _ = await run_import(
                request, session, progress=lambda n: None, say=lambda s: None
            )
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await engine.dispose()
    assert tally.created == tally.rows, tally
    return tally.rows / elapsed, (
        f"{tally.rows:,} rows in {elapsed:.1f} s, client CPU {cpu:.1f} s"
    )


def raw_rate(url: str, path: Path, *, entries: bool = False) -> float:
    """Rows/s of a hand-written bulk insert of the same rows (``entries``: with
    explicit ids, and each lead's RAW funnel entry in the same transaction)."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    with path.open(encoding="utf-8") as f:
        rows = [
            {
                "first_name": r["Full Name"].split(" ")[0],
                "last_name": r["Full Name"].split(" ")[1],
                "email": "raw." + r["email"],
                "company": r["company"],
                "title": r["title"],
                "country": r["country"],
                "initial_source": "Bench list",
                "status": LeadStatus.RAW,
                "person_score": 5,
                "sales_segment": SalesSegment.UNKNOWN,
                "is_public_sector": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "status_changed_at": now,
            }
            for r in csv.DictReader(f)
        ]
    if entries:
        for n, row in enumerate(rows, start=RAW_IDS):
            row["id"] = n
    start = time.perf_counter()
    for i in range(0, len(rows), RAW_BATCH):
        with engine.begin() as conn:
            part = rows[i : i + RAW_BATCH]
            conn.execute(insert(Lead), part)
            if entries:
                conn.execute(
                    insert(FunnelEntry),
                    [
                        {
                            "lead_id": row["id"],
                            "raw_at": now,
                            "sales_segment": row["sales_segment"],
                            "initial_source": row["initial_source"],
                        }
                        for row in part
                    ],
                )
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql", "both"), default="both"
    )
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    print(machine(), "| load average", " ".join(f"{x:.1f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        path, mapping = Path(tmp) / "leads.csv", Path(tmp) / "mapping.json"
        write_file(path, args.rows)
        mapping.write_text(__import__("json").dumps(MAPPING), encoding="utf-8")
        for kind in kinds:
            url = fresh_database(kind)
            admin_token(url)  # migrates, and makes the importing ADMIN
            rate, said = asyncio.run(import_rate(url, path, mapping))
            raw = raw_rate(url, path)
            with_entries = raw_rate(url, path, entries=True)
            print(
                f"{kind} (load average {os.getloadavg()[0]:.1f}): import "
                f"{rate:,.0f} rows/s ({said}); raw insert {raw:,.0f} rows/s, "
                f"with funnel entries {with_entries:,.0f} rows/s; "
                f"import/raw = 1/{raw / rate:,.1f}"
            )


if __name__ == "__main__":
    main()
