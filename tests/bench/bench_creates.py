"""createLead throughput and latency over HTTP, next to the raw-SQL ceiling of the
same writes measured in the same run (issue 15 item 1).

    BENCH_PG_DB=so_bench .venv/bin/python tests/bench/bench_creates.py \\
        [--db sqlite|postgresql|both] [--creates 8000] [--clients 16]
        [--workers 2] [--client httpx|wrk] [--seconds 10]

For each database it serves the API (`salesops serve --workers 2`) and creates
leads with distinct emails through `createLead` with concurrent clients (with
`--client wrk`, wrk — a load generator in C, `apt-get install wrk` — for
`--seconds`, over at most `--creates` leads); then does the same writes by
hand with 16 threads: take the email's key lock (PostgreSQL), look for a lead
or contact with that email, insert the lead, insert its RAW funnel entry,
commit. It prints both rates, the API's p50 / p99, the server's CPU per
create and the ratio API / raw.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.services.locks import key_lock_id
from tests.bench.harness import (
    ceiling_table,
    moment,
    raw_transactions,
)

CREATE = """mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code } } }"""
RAW_THREADS = 16


def create_body(n: int, run: str) -> dict[str, Any]:
    """The request creating lead ``n`` of a run (its own email)."""
    return {
        "query": CREATE,
        "variables": {
            "input": {
                "lastName": f"Bench {n}",
                "email": f"api{n}@{run}.bench.example",
                "company": "Bench Inc",
                "initialSource": "Web Direct",
            }
        },
    }


def raw_sql(url: str, count: int, run: str) -> dict[str, float]:
    """The same writes by hand: key lock, duplicate look-up, lead, entry."""
    look = (
        "SELECT (SELECT id FROM leads WHERE email = :email LIMIT 1), "
        "(SELECT id FROM contacts WHERE email = :email LIMIT 1)"
    )
    insert_lead = (
        "INSERT INTO leads (version, created_at, updated_at, last_name, email, "
        "company, initial_source, status, status_changed_at, sales_segment, "
        "person_score, is_public_sector) VALUES (1, :now, :now, :name, :email, "
        "'Bench Inc', 'Web Direct', 'RAW', :now, 'UNKNOWN', 0, false) RETURNING id"
    )
    insert_entry = (
        "INSERT INTO funnel_entries (lead_id, raw_at, sales_segment, "
        "initial_source) VALUES (:id, :now, 'UNKNOWN', 'Web Direct')"
    )

    def create(conn: Any, n: int, is_pg: bool) -> None:
        email = f"raw{n}@{run}.bench.example"
        values: dict[str, Any] = {
            "now": moment(is_pg),
            "email": email,
            "name": f"Raw {n}",
        }
        if is_pg:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"),
                {"k": key_lock_id("email", email)},
            )
        conn.execute(text(look), values).one()
        values["id"] = conn.execute(text(insert_lead), values).scalar_one()
        conn.execute(text(insert_entry), values)

    return raw_transactions(url, list(range(count)), create, RAW_THREADS)


def main() -> None:
    """Run and print the table."""

    def work(url: str, label: str, count: int) -> tuple[list[dict[str, Any]], Any]:
        bodies = [create_body(n, label) for n in range(count)]
        return bodies, lambda: raw_sql(url, count, label)

    ceiling_table(
        __doc__.splitlines()[0],
        "create",
        count_flag="--creates",
        count=8000,
        clients=[16],
        raw_threads=RAW_THREADS,
        prepare=lambda url: work,
    )


if __name__ == "__main__":
    main()
