"""transitionLead throughput and latency over HTTP, next to the raw-SQL ceiling of
the same writes measured in the same run (issue 15).

    BENCH_PG_DB=so_bench .venv/bin/python tests/bench/bench_transitions.py \\
        [--db sqlite|postgresql|both] [--moves 2000] [--clients 8 16] [--workers 2]
        [--client httpx|wrk]

For each database it serves the API (`salesops serve --workers 2`) and, for
each number of concurrent clients, accepts fresh INQUIRY leads (INQUIRY →
ACCEPTED: the guards read the owner and the actor, the move reaches the
ACCEPTED milestone, so the funnel entry is written) through `transitionLead`,
then does the same writes by hand on other fresh leads with 16 threads
(psycopg / sqlite3 through SQLAlchemy Core text): lock the row, update the lead,
insert the history row and the event row, update the funnel entry, commit. It
prints both rates, the API's p50 / p99, the server's CPU per move (its
processes' user + system time over the run: the figure a loaded machine
disturbs least) and the ratio API / raw. The ceiling is
measured right after each API run, so both share the machine's load of the
moment (the machine is shared: say its `uptime` with the figures).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import immediate_writes, make_sync_engine
from domain.records import FunnelEntry, Lead
from tests.api.ids import gid
from tests.bench.harness import (
    Work,
    ceiling_table,
    moment,
    raw_transactions,
)

MOVE = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { version } userErrors { code } } }"""
RAW_THREADS = 16


def make_leads(url: str, count: int, start: int) -> list[int]:
    """Insert ``count`` INQUIRY leads owned by the benchmark ADMIN, with ids from
    ``start``, and their funnel entries (RAW and INQUIRY reached)."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    ids = [start + n for n in range(count)]
    # IMMEDIATE on SQLite: the served API may still finish the load's last
    # requests (wrk leaves some in flight), and a deferred transaction that
    # read first could not then write ("database is locked" at once).
    with engine.connect() as conn, immediate_writes(conn).begin():
        owner = conn.execute(
            text("SELECT id FROM users WHERE email = 'bench@bench.example'")
        ).scalar_one()
        conn.execute(
            insert(Lead.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": lead_id,
                    "last_name": f"Bench {lead_id}",
                    "email": f"b{lead_id}@bench.example",
                    "initial_source": "Web Direct",
                    "status": "INQUIRY",
                    "owner_id": owner,
                    "sales_segment": "UNKNOWN",
                    "status_changed_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                    "person_score": 0,
                    "is_public_sector": False,
                }
                for lead_id in ids
            ],
        )
        conn.execute(
            insert(FunnelEntry.__table__),  # type: ignore[attr-defined]
            [
                {
                    "lead_id": lead_id,
                    "raw_at": now,
                    "inquiry_at": now,
                    "seconds_to_inquiry": 0,
                    "sales_segment": "UNKNOWN",
                    "initial_source": "Web Direct",
                    "owner_id": owner,
                }
                for lead_id in ids
            ],
        )
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval('leads_id_seq', (SELECT max(id) FROM leads))")
            )
    engine.dispose()
    return ids


def move_body(lead_id: int) -> dict[str, Any]:
    """The request accepting one lead."""
    return {
        "query": MOVE,
        "variables": {"input": {"id": gid("Lead", lead_id), "to": "ACCEPTED"}},
    }


def raw_sql(url: str, ids: list[int], threads: int) -> dict[str, float]:
    """The same writes by hand: lock, update, history row, event row, funnel
    entry, commit."""
    statements = [
        "UPDATE leads SET status = 'ACCEPTED', status_changed_at = :now, "
        "updated_at = :now, version = version + 1 WHERE id = :id",
        "INSERT INTO transition_records (record_type, record_id, from_state, "
        "to_state, actor_id, at, reason, override, seconds_in_from) VALUES "
        "('LEAD', :id, 'INQUIRY', 'ACCEPTED', NULL, :now, NULL, false, 0)",
        "INSERT INTO events (kind, record_type, record_id, payload, occurred_at) "
        "VALUES ('LEAD_STATUS_CHANGED', 'LEAD', :id, :payload, :now)",
        "UPDATE funnel_entries SET accepted_at = :now, seconds_to_accepted = 0 "
        "WHERE lead_id = :id",
    ]
    payload = json.dumps({"from_state": "INQUIRY", "to_state": "ACCEPTED"})

    def move(conn: Any, lead_id: int, is_pg: bool) -> None:
        values = {"now": moment(is_pg), "id": lead_id, "payload": payload}
        lock = "SELECT status, status_changed_at, version FROM leads WHERE id = :id"
        conn.execute(text(lock + (" FOR UPDATE" if is_pg else "")), values).one()
        for statement in statements:
            conn.execute(text(statement), values)

    return raw_transactions(url, ids, move, threads)


def main() -> None:
    """Run and print the table."""

    def prepare(url: str) -> Work:
        next_id = iter(range(1, 10**9, 10**6))  # a block of lead ids a run

        def work(url: str, label: str, count: int) -> tuple[list[dict[str, Any]], Any]:
            start = next(next_id)
            bodies = [move_body(i) for i in make_leads(url, count, start)]
            return bodies, lambda: raw_sql(
                url, make_leads(url, count, start + count), RAW_THREADS
            )

        return work

    ceiling_table(
        __doc__.splitlines()[0],
        "move",
        count_flag="--moves",
        count=2000,
        clients=[8, 16],
        raw_threads=RAW_THREADS,
        prepare=prepare,
    )


if __name__ == "__main__":
    main()
