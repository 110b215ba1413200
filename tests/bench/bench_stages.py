"""moveOpportunityStage throughput and latency over HTTP, next to a raw-SQL baseline.

    BENCH_PG_DB=so_bench .venv/bin/python tests/bench/bench_stages.py \\
        [--db sqlite|postgresql|both] [--moves 1000] [--clients 1 16]
        [--workers 2] [--client httpx|wrk] [--seconds 10]

For each database and number of concurrent clients, it accepts fresh
PENDING_ACCEPTANCE opportunities (to DISCOVERY, the SAO) through
`moveOpportunityStage`, supplying the SAO fields (business problem and
primary contact) in the same call, on a served API (`salesops serve
--workers 2`); then does the same writes by hand in raw SQL on other fresh
opportunities (lock the row, set the fields, stage and sales-accepted date,
insert the history row and the event row, stamp the funnel entry's SAO,
commit) with 16 threads, and
prints both rates, the server's CPU per move and the ratio. With `--client
wrk` the clients are wrk (a load generator in C, `apt-get install wrk`) for
`--seconds`, over at most `--moves` opportunities.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import make_sync_engine
from domain.enums import OpportunityStage
from domain.records import Account, Contact, FunnelEntry, Opportunity
from domain.rules.funnel import opportunity_stamps
from domain.services.milestones import stamp_values
from tests.api.ids import gid
from tests.bench.harness import (
    Work,
    ceiling_table,
    moment,
    raw_transactions,
)

RAW_THREADS = 16

MOVE = """mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) { opportunity { version } userErrors { code } } }"""
PROBLEM = "Releases take weeks"


def make_account(url: str) -> tuple[int, int]:
    """One account with one contact: (account id, contact id)."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    with engine.begin() as conn:
        account_id = conn.execute(
            insert(Account.__table__).returning(Account.__table__.c.id),
            {
                "name": "Bench Inc",
                "normalized_name": "bench",
                "type": "PROSPECT",
                "sales_segment": "UNKNOWN",
                "is_public_sector": False,
                "is_named": False,
                **stamps,
            },
        ).scalar_one()
        contact_id = conn.execute(
            insert(Contact.__table__).returning(Contact.__table__.c.id),
            {
                "last_name": "Buyer",
                "account_id": account_id,
                "initial_source": "Webcast",
                **stamps,
            },
        ).scalar_one()
    engine.dispose()
    return account_id, contact_id


def make_opportunities(url: str, account_id: int, count: int, start: int) -> list[int]:
    """Insert ``count`` PENDING_ACCEPTANCE opportunities (no SAO fields yet) and
    their funnel entries."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    rows = [
        {
            "id": start + n,
            "name": f"Bench {start + n}",
            "account_id": account_id,
            "type": "NEW_BUSINESS",
            "stage": "PENDING_ACCEPTANCE",
            "stage_changed_at": now,
            "currency": "USD",
            "incremental_acv": Decimal("10000.00"),
            "sales_qualified": False,
            "technical_requirements_confirmed": False,
            "poc_ran": False,
            "business_terms_agreed": False,
            "signed_order_form_received": False,
            "po_received": False,
            "restricted_party_screening": "NOT_STARTED",
            "finance_approved": False,
            "closed_lost_reasons": [],
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for n in range(count)
    ]
    # Each with its funnel entry, as the API makes one for a deal created
    # without a lead (PENDING_ACCEPTANCE at its creation).
    stamps = stamp_values(opportunity_stamps(now, OpportunityStage.PENDING_ACCEPTANCE))
    entries = [
        {"opportunity_id": row["id"], "sales_segment": "UNKNOWN", **stamps}
        for row in rows
    ]
    with engine.begin() as conn:
        conn.execute(insert(Opportunity.__table__), rows)
        conn.execute(insert(FunnelEntry.__table__), entries)
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "SELECT setval('opportunities_id_seq', "
                    "(SELECT max(id) FROM opportunities))"
                )
            )
    engine.dispose()
    return [start + n for n in range(count)]


def move_body(opportunity_id: int, contact_id: int) -> dict[str, object]:
    """The request accepting one opportunity, SAO fields supplied."""
    fields = {
        "businessProblem": PROBLEM,
        "primaryContactId": gid("Contact", contact_id),
    }
    return {
        "query": MOVE,
        "variables": {
            "input": {
                "id": gid("Opportunity", opportunity_id),
                "to": "DISCOVERY",
                "fields": fields,
            }
        },
    }


def raw_sql(
    url: str, ids: list[int], contact_id: int, clients: int
) -> dict[str, float]:
    """The same writes by hand: lock, update, history row, event row, the
    funnel entry's SAO stamp, commit."""
    payload = json.dumps({"to_state": "DISCOVERY"})
    statements = [
        "UPDATE opportunities SET stage = 'DISCOVERY', stage_changed_at = :now, "
        "sales_accepted_date = :now, business_problem = :problem, "
        "primary_contact_id = :contact, updated_at = :now, version = version + 1 "
        "WHERE id = :id",
        "INSERT INTO transition_records (record_type, record_id, from_state, "
        "to_state, at, override, seconds_in_from) VALUES ('OPPORTUNITY', :id, "
        "'PENDING_ACCEPTANCE', 'DISCOVERY', :now, false, 0)",
        "INSERT INTO events (kind, record_type, record_id, payload, occurred_at) "
        "VALUES ('OPPORTUNITY_STAGE_CHANGED', 'OPPORTUNITY', :id, :payload, :now)",
        "UPDATE funnel_entries SET sao_at = :now, seconds_to_sao = 0 "
        "WHERE opportunity_id = :id",
    ]

    def move(conn: Any, opportunity_id: int, is_pg: bool) -> None:
        values = {
            "now": moment(is_pg),
            "id": opportunity_id,
            "problem": PROBLEM,
            "contact": contact_id,
            "payload": payload,
        }
        lock = (
            "SELECT stage, stage_changed_at, version FROM opportunities WHERE id = :id"
        )
        conn.execute(text(lock + (" FOR UPDATE" if is_pg else "")), values).one()
        for statement in statements:
            conn.execute(text(statement), values)

    return raw_transactions(url, ids, move, clients)


def main() -> None:
    """Run and print the table."""

    def prepare(url: str) -> Work:
        account_id, contact_id = make_account(url)
        next_id = iter(range(1, 10**9, 10**6))  # a block of deal ids a run

        def work(url: str, label: str, count: int) -> tuple[list[dict[str, Any]], Any]:
            start = next(next_id)
            ids = make_opportunities(url, account_id, count, start)
            return [move_body(i, contact_id) for i in ids], lambda: raw_sql(
                url,
                make_opportunities(url, account_id, count, start + count),
                contact_id,
                RAW_THREADS,
            )

        return work

    ceiling_table(
        __doc__.splitlines()[0],
        "move",
        count_flag="--moves",
        count=1000,
        clients=[1, 16],
        raw_threads=RAW_THREADS,
        prepare=prepare,
    )


if __name__ == "__main__":
    main()
