"""transitionLead throughput and latency over HTTP, next to a raw-SQL baseline.

    .venv/bin/python tests/bench/bench_transitions.py [--db sqlite|postgresql|both]
        [--moves 1000]

For each database and for 1 and 8 concurrent clients, it moves fresh RAW leads
to NURTURE through `transitionLead` on a served API (one uvicorn process),
then does the same writes by hand in raw SQL on other fresh leads (lock the
row, update the lead, insert the history row and the event row, commit) with
as many threads, and prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import make_sync_engine
from domain.records import Lead
from tests.api.ids import gid
from tests.bench.harness import (
    admin_token,
    cli,
    fresh_database,
    machine,
    served,
    summary,
)

MOVE = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { version } userErrors { code } } }"""


def make_leads(url: str, count: int, start: int) -> list[int]:
    """Insert ``count`` RAW leads with ids from ``start``."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    rows = [
        {
            "id": start + n,
            "last_name": f"Bench {start + n}",
            "email": f"b{start + n}@bench.example",
            "initial_source": "Web Direct",
            "status": "RAW",
            "sales_segment": "UNKNOWN",
            "status_changed_at": now,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "person_score": 0,
            "is_public_sector": False,
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Lead.__table__), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval('leads_id_seq', (SELECT max(id) FROM leads))")
            )
    engine.dispose()
    return [start + n for n in range(count)]


async def over_http(
    base: str, token: str, ids: list[int], clients: int
) -> dict[str, float]:
    """Move each lead once through the API with concurrent clients."""
    latencies: list[float] = []
    queue = iter(ids)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for lead_id in queue:
            lead_gid = gid("Lead", lead_id)
            body = {
                "query": MOVE,
                "variables": {
                    "input": {"id": lead_gid, "to": "NURTURE", "reason": "bench"}
                },
            }
            start = time.perf_counter()
            answer = (await client.post("/graphql", json=body)).json()
            latencies.append(time.perf_counter() - start)
            assert answer["data"]["transitionLead"]["userErrors"] == [], answer

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return summary(latencies, elapsed)


def raw_sql(url: str, ids: list[int], clients: int) -> dict[str, float]:
    """The same writes by hand: lock, update, history row, event row, commit."""
    engine = make_sync_engine(url, pool_size=clients + 2)
    is_pg = engine.dialect.name == "postgresql"
    latencies: list[float] = []
    lock = (
        "SELECT status, status_changed_at, version FROM leads WHERE id = :id FOR UPDATE"
        if is_pg
        else "SELECT status, status_changed_at, version FROM leads WHERE id = :id"
    )

    def move(lead_id: int) -> None:
        start = time.perf_counter()
        now = datetime.now(UTC)
        stamp = now if is_pg else now.replace(tzinfo=None)
        with engine.connect() as conn:
            conn = conn.execution_options(salesops_sqlite_immediate=True)
            with conn.begin():
                conn.execute(text(lock), {"id": lead_id}).one()
                conn.execute(
                    text(
                        "UPDATE leads SET status = 'NURTURE', status_changed_at = :now, "
                        "updated_at = :now, version = version + 1 WHERE id = :id"
                    ),
                    {"now": stamp, "id": lead_id},
                )
                conn.execute(
                    text(
                        "INSERT INTO transition_records (record_type, record_id, "
                        "from_state, to_state, at, reason, override, seconds_in_from) "
                        "VALUES ('LEAD', :id, 'RAW', 'NURTURE', :now, 'bench', false, 0)"
                    ),
                    {"now": stamp, "id": lead_id},
                )
                conn.execute(
                    text(
                        "INSERT INTO events (kind, record_type, record_id, payload, "
                        "occurred_at) VALUES ('LEAD_STATUS_CHANGED', 'LEAD', :id, "
                        ":payload, :now)"
                    ),
                    {
                        "now": stamp,
                        "id": lead_id,
                        "payload": json.dumps({"to": "NURTURE"}),
                    },
                )
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(move, ids))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return summary(latencies, elapsed)


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--moves", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        "| database | clients | API moves/s | API p50 ms | API p99 ms | raw SQL moves/s | API / raw |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        url = fresh_database(kind)
        cli(url, "db", "upgrade")
        token = admin_token(url)
        next_id = 1
        with served(url) as base:
            for clients in (1, 8):
                api_ids = make_leads(url, args.moves, next_id)
                next_id += args.moves
                sql_ids = make_leads(url, args.moves, next_id)
                next_id += args.moves
                api = asyncio.run(over_http(base, token, api_ids, clients))
                raw = raw_sql(url, sql_ids, clients)
                print(
                    f"| {kind} | {clients} | {api['per_second']:.0f} | {api['p50_ms']:.1f} | "
                    f"{api['p99_ms']:.1f} | {raw['per_second']:.0f} | "
                    f"{api['per_second'] / raw['per_second']:.2f} |"
                )


if __name__ == "__main__":
    main()
