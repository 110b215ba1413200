"""Engagements scored and routed per second, next to a raw bulk insert of the same
rows (issue #5): the batch path (`recordEngagements`) for the whole batch, the
single path (`recordEngagement`) as a second, smaller figure.

    DATABASE_URL=... .venv/bin/python tests/bench/bench_engagements.py
        [--engagements 100000] [--leads 20000] [--batch 500] [--clients 4]
        [--single 5000] [--single-clients 8] [--single-client httpx|wrk]
        [--workers 1] [--wipe]

DATABASE_URL names the database (a SQLite file or PostgreSQL); without it a
fresh SQLite file in a temporary directory is used. The database is emptied
and migrated first: one that already has tables is refused unless `--wipe`
is given.

Setup (not timed): 3 BDRs in each regional BDR pool (US East, US West, EMEA,
APAC, LATAM) through `createUser` and `setRoutingPoolMembers`, and the leads
bulk-inserted RAW and unowned, spread over those five regions, each with a
company email and a neutral title (score 5). Then the batch: engagement i
goes to lead i mod L, so the leads take their engagements in rounds, and each
round has one kind: WEBCAST_REGISTRATION (+15), GATED_ASSET_DOWNLOAD (+30: the
score reaches 50, so the lead is routed to its region's BDR pool),
TRADESHOW_BOOTH_VISIT (+30), LOW_INTENT_LIVE_ATTENDED (+15: 95, the lead
becomes an MQL), NEWSLETTER_OPT_IN (+10), then again. Every engagement is
stored, the lead rescored from all its engagements, Active and status kept up
to date, routed when its score crosses 50, with the ledger and events.

- Batch path (the main figure): the engagements in input order, cut into
  `recordEngagements` calls of `--batch` engagements, sent by `--clients`
  concurrent clients over HTTP.
- Single path: `--single` more engagements in the same rounds over
  `--single / 5` more leads, each a `recordEngagement` request, from
  `--single-clients` concurrent clients (`--single 0` skips it).
- Raw insert: the batch's rows (lead, kind, times) inserted into `engagements`
  by hand, bulk, 10,000 rows per statement batch and transaction, nothing else.
- The single path's per-request ceiling: one transaction per engagement by
  hand with 16 threads (lock the lead, insert the engagement, update its
  score, insert the event), measured right before and right after the single
  path (the ratio is to their mean), printed with the server's CPU per
  engagement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import is_sqlite, make_sync_engine
from domain.enums import EngagementKind, LeadStatus
from domain.records import Engagement, FunnelEntry, Lead
from domain.rules.routing import DEFAULT_BDR_POOLS
from domain.rules.scoring import score
from domain.rules.segmentation import region_for, sales_segment_for
from domain.services.milestones import new_lead_entry
from tests.api.ids import gid
from tests.bench.harness import (
    admin_token,
    cli,
    machine,
    moment,
    raw_transactions,
    served,
    server_cpu_seconds,
    summary,
    timed_posts,
)

RECORD = """mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) { lead { version } userErrors { code } } }"""
RECORD_BATCH = """mutation($input: RecordEngagementsInput!) {
  recordEngagements(input: $input) {
    results { engagement { id } lead { status } } userErrors { code } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) {
  createUser(input: $input) { user { id } userErrors { code } } }"""
SET_POOL = """mutation($input: SetRoutingPoolMembersInput!) {
  setRoutingPoolMembers(input: $input) { pool { key } userErrors { code } } }"""

# One kind per round: the score crosses 50 in round 2 (routing), 90 in round 4.
ROUNDS = (
    EngagementKind.WEBCAST_REGISTRATION,
    EngagementKind.GATED_ASSET_DOWNLOAD,
    EngagementKind.TRADESHOW_BOOTH_VISIT,
    EngagementKind.LOW_INTENT_LIVE_ATTENDED,
    EngagementKind.NEWSLETTER_OPT_IN,
)
# (country, state) of the leads, in turn: one per regional BDR pool.
PLACES = (("US", "NY"), ("US", "CA"), ("DE", None), ("JP", None), ("BR", None))
BDRS_PER_POOL = 3
TITLE = "Analyst"
RAW_BATCH = 10_000
RAW_THREADS = 16


def prepare_database(url: str, wipe: bool) -> None:
    """Empty the database (refusing one with tables unless ``wipe``), migrate it."""
    engine = make_sync_engine(url)
    tables = inspect(engine).get_table_names()
    engine.dispose()
    if tables and not wipe:
        sys.exit(f"{url} has tables ({len(tables)}); pass --wipe to empty it first.")
    if is_sqlite(url):
        path = make_url(url).database
        for suffix in ("", "-wal", "-shm"):
            if path and os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        engine = make_sync_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    cli(url, "db", "upgrade")


def graphql(client: httpx.Client, query: str, variables: dict[str, Any]) -> Any:
    """One request; its data, asserting no error of any kind."""
    body = client.post("/graphql", json={"query": query, "variables": variables})
    answer = body.json()
    assert "errors" not in answer, answer
    return answer["data"]


def staff_pools(base: str, token: str) -> dict[str, list[str]]:
    """BDRs in every regional pool the leads will be routed to, via the API."""
    pools = sorted({DEFAULT_BDR_POOLS[region_for(c, s)] for c, s in PLACES})  # type: ignore[index]
    staffed: dict[str, list[str]] = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for pool in pools:
            ids = []
            for n in range(BDRS_PER_POOL):
                made = graphql(
                    client,
                    CREATE_USER,
                    {
                        "input": {
                            "name": f"{pool} BDR {n}",
                            "email": f"{pool.lower()}.{n}@bench.example",
                            "role": "BDR",
                        }
                    },
                )["createUser"]
                assert made["userErrors"] == [], made
                ids.append(made["user"]["id"])
            done = graphql(client, SET_POOL, {"input": {"pool": pool, "userIds": ids}})[
                "setRoutingPoolMembers"
            ]
            assert done["userErrors"] == [], done
            staffed[pool] = ids
    return staffed


def make_leads(url: str, count: int, first: int = 1) -> list[int]:
    """Bulk-insert ``count`` RAW, unowned leads spread over the five regions, with
    ids from ``first``, and their funnel entries."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    rows = []
    for n in range(first, first + count):
        country, state = PLACES[n % len(PLACES)]
        email = f"lead{n}@company{n}.example"
        rows.append(
            {
                "id": n,
                "first_name": "Bench",
                "last_name": f"Lead {n}",
                "email": email,
                "title": TITLE,
                "country": country,
                "state": state,
                "number_of_employees": 500,
                "sales_segment": sales_segment_for(500).value,
                "region": region_for(country, state).value,  # type: ignore[union-attr]
                "initial_source": "Web Direct",
                "status": LeadStatus.RAW.value,
                "status_changed_at": now,
                "created_at": now,
                "updated_at": now,
                "version": 1,
                "person_score": score(TITLE, email, ()).total,
                "is_public_sector": False,
            }
        )
    # Each with its RAW funnel entry, as every lead the API makes has one.
    entries = [new_lead_entry(row) for row in rows]
    with engine.begin() as conn:
        for start in range(0, len(rows), RAW_BATCH):
            conn.execute(insert(Lead.__table__), rows[start : start + RAW_BATCH])  # type: ignore[attr-defined]
            conn.execute(
                insert(FunnelEntry.__table__),  # type: ignore[attr-defined]
                entries[start : start + RAW_BATCH],
            )
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval('leads_id_seq', (SELECT max(id) FROM leads))")
            )
        # The statistics a running database has (autovacuum's ANALYZE): without
        # them PostgreSQL planned the lead lock's snapshot check on a wrong
        # index, 60 against 5 ms for 500 leads (measured).
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return [row["id"] for row in rows]


def batch(lead_ids: list[int], engagements: int) -> list[tuple[int, EngagementKind]]:
    """(lead id, kind) of each engagement: the leads in rounds, one kind per round."""
    count = len(lead_ids)
    return [
        (lead_ids[i % count], ROUNDS[(i // count) % len(ROUNDS)])
        for i in range(engagements)
    ]


async def in_batches(
    base: str,
    token: str,
    work: list[tuple[int, EngagementKind]],
    size: int,
    clients: int,
) -> dict[str, float]:
    """Record every engagement through `recordEngagements`, ``size`` per call, in
    input order, with concurrent clients."""
    latencies: list[float] = []
    queue = iter(range(0, len(work), size))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for first in queue:
            body = {
                "query": RECORD_BATCH,
                "variables": {
                    "input": {
                        "engagements": [
                            {"leadId": gid("Lead", lead_id), "kind": kind.value}
                            for lead_id, kind in work[first : first + size]
                        ]
                    }
                },
            }
            start = time.perf_counter()
            # A connection per call: a kept-alive connection stays with the
            # worker that accepted it, and four opened at once are accepted by
            # one worker (measured: one worker at 75 % CPU, the other idle);
            # a new one is accepted by a worker that is free.
            answer = (
                await client.post(
                    "/graphql", json=body, headers={"Connection": "close"}
                )
            ).json()
            latencies.append(time.perf_counter() - start)
            done = answer["data"]["recordEngagements"]
            assert done["userErrors"] == [], answer
            assert len(done["results"]) == len(work[first : first + size])

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    figures = summary(latencies, elapsed)
    figures["per_second"] = len(work) / elapsed
    figures["seconds"] = elapsed
    return figures


def record_body(lead_id: int, kind: EngagementKind) -> dict[str, Any]:
    """The request recording one engagement."""
    return {
        "query": RECORD,
        "variables": {"input": {"leadId": gid("Lead", lead_id), "kind": kind.value}},
    }


def outcome(url: str, lead_ids: list[int]) -> dict[str, int]:
    """What a run did to these leads: engagements stored, leads routed/owned, MQLs."""
    engine = make_sync_engine(url)
    first, last = min(lead_ids), max(lead_ids)
    with engine.connect() as conn:

        def one(stmt: Any) -> int:
            return int(conn.execute(stmt).scalar_one())

        def leads() -> Any:
            return (
                select(func.count())
                .select_from(Lead)
                .where(Lead.id.between(first, last))  # type: ignore[union-attr]
            )

        found = {
            "engagements": one(
                select(func.count())
                .select_from(Engagement)
                .where(Engagement.lead_id.between(first, last))  # type: ignore[union-attr]
            ),
            "routed": one(leads().where(Lead.routing_rule == "SCORE_AT_LEAST_50")),  # type: ignore[arg-type]
            "owned": one(leads().where(Lead.owner_id.is_not(None))),  # type: ignore[union-attr]
            "mql": one(leads().where(Lead.status == LeadStatus.MQL)),  # type: ignore[arg-type]
        }
        per_owner = [
            int(n)
            for n in conn.execute(
                leads()
                .where(Lead.owner_id.is_not(None))  # type: ignore[union-attr]
                .group_by(Lead.owner_id)
            ).scalars()
        ]
    engine.dispose()
    found["owners"] = len(per_owner)
    found["fewest"] = min(per_owner, default=0)
    found["most"] = max(per_owner, default=0)
    return found


def raw_insert(url: str, work: list[tuple[int, EngagementKind]]) -> float:
    """Rows per second of a plain bulk insert of the same engagements."""
    engine = make_sync_engine(url)
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if is_sqlite(url) else now
    rows = [
        {
            "lead_id": lead_id,
            "kind": kind.value,
            "occurred_at": stamp,
            "created_at": stamp,
        }
        for lead_id, kind in work
    ]
    table = Engagement.__table__  # type: ignore[attr-defined]
    start = time.perf_counter()
    for first in range(0, len(rows), RAW_BATCH):
        with engine.connect() as conn:
            conn = conn.execution_options(salesops_sqlite_immediate=True)
            with conn.begin():
                conn.execute(insert(table), rows[first : first + RAW_BATCH])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(rows) / elapsed


def raw_single(url: str, work: list[tuple[int, EngagementKind]]) -> dict[str, float]:
    """The per-request ceiling of ``recordEngagement``: each engagement in its
    own transaction by hand, ``RAW_THREADS`` threads — lock the lead, insert the
    engagement, update the lead's score, insert the score event, commit (what
    every engagement writes at least; the API also moves, routes, and keeps
    the funnel entry when the score or the kind says so)."""
    statements = [
        "INSERT INTO engagements (lead_id, kind, occurred_at, created_at) "
        "VALUES (:id, :kind, :now, :now)",
        "UPDATE leads SET person_score = person_score + 15, updated_at = :now, "
        "version = version + 1 WHERE id = :id",
        "INSERT INTO events (kind, record_type, record_id, payload, occurred_at) "
        "VALUES ('LEAD_SCORE_CHANGED', 'LEAD', :id, :payload, :now)",
    ]
    payload = json.dumps({"before": 5, "after": 20})

    def one(conn: Any, item: tuple[int, EngagementKind], is_pg: bool) -> None:
        lead_id, kind = item
        values = {
            "now": moment(is_pg),
            "id": lead_id,
            "kind": kind.value,
            "payload": payload,
        }
        lock = "SELECT person_score, version FROM leads WHERE id = :id"
        conn.execute(text(lock + (" FOR UPDATE" if is_pg else "")), values).one()
        for statement in statements:
            conn.execute(text(statement), values)

    return raw_transactions(url, work, one, RAW_THREADS)


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engagements", type=int, default=100_000)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--single-clients", type=int, default=8)
    parser.add_argument(
        "--single-client",
        choices=["httpx", "wrk"],
        default="httpx",
        help="the single path's clients: httpx, or wrk (apt-get install wrk) for "
        "10 s over at most --single engagements",
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--wipe", action="store_true", help="Empty a database that has tables."
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='salesops-bench-')}/bench.db"
    )
    kind = "sqlite" if is_sqlite(url) else "postgresql"
    prepare_database(url, args.wipe)
    token = admin_token(url)
    lead_ids = make_leads(url, args.leads)
    work = batch(lead_ids, args.engagements)
    single_leads = max(1, args.single // len(ROUNDS))
    single_ids = make_leads(url, single_leads, first=args.leads + 1)
    single_work = batch(single_ids, args.single)
    with served(url, workers=args.workers) as base:
        staffed = staff_pools(base, token)
        cpu = server_cpu_seconds(base)
        batched = asyncio.run(in_batches(base, token, work, args.batch, args.clients))
        batched["cpu_ms"] = (server_cpu_seconds(base) - cpu) / len(work) * 1000
        done = outcome(url, lead_ids)
        assert done["engagements"] == args.engagements, done
        single = None
        ceilings = []
        if args.single:
            # The ceiling right before and right after the API's run (the
            # machine's speed drifts by a fifth within minutes), on the batch's
            # leads; the ratio is to their mean.
            ceiling_work = batch(lead_ids, len(single_work))
            ceilings.append(raw_single(url, ceiling_work))
            bodies = [record_body(i, kind) for i, kind in single_work]
            single = timed_posts(
                base, token, bodies, args.single_clients, args.single_client
            )
            ceilings.append(raw_single(url, ceiling_work))
    raw = raw_insert(url, work)
    print(f"machine: {machine()}")
    print(
        f"{kind}, {args.workers} worker(s); pools "
        + ", ".join(f"{p} ({len(m)})" for p, m in staffed.items())
    )
    print(
        f"batch path, after the run: {done['routed']:,} leads routed (score crossed "
        f"50), {done['owned']:,} owned by {done['owners']} BDRs "
        f"({done['fewest']:,} to {done['most']:,} each), {done['mql']:,} MQL; "
        f"{batched['seconds']:.0f} s in all, {batched['cpu_ms']:.2f} ms server CPU "
        "per engagement"
    )
    print(
        "| database | path | engagements / leads | clients | engagements/s "
        "(scored+routed) | request p50 / p99 ms | raw insert rows/s | path / raw |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {kind} | recordEngagements, {args.batch} per call | "
        f"{args.engagements:,} / {args.leads:,} | {args.clients} | "
        f"{batched['per_second']:,.0f} | "
        f"{batched['p50_ms']:,.0f} / {batched['p99_ms']:,.0f} | "
        f"{raw:,.0f} | {batched['per_second'] / raw:.3f} |"
    )
    if single is not None:
        checked = outcome(url, single_ids)
        # wrk leaves up to one request per connection unanswered at its end,
        # which the server still records
        stored, answered = checked["engagements"], single["count"]
        assert answered <= stored <= answered + args.single_clients, checked
        print(
            f"| {kind} | recordEngagement, 1 per call "
            f"({args.single_client}) | "
            f"{single['count']:,.0f} / {single_leads:,} | {args.single_clients} | "
            f"{single['per_second']:,.0f} | "
            f"{single['p50_ms']:.1f} / {single['p99_ms']:.1f} | "
            f"{raw:,.0f} | {single['per_second'] / raw:.4f} |"
        )
        before, after = ceilings
        mean = (before["per_second"] + after["per_second"]) / 2
        print(
            f"\nrecordEngagement: {single['per_second']:,.0f}/s, "
            f"{single['cpu_ms']:.1f} ms server CPU each; its per-request ceiling "
            f"(one transaction per engagement by hand, {RAW_THREADS} threads: lock, "
            f"insert, update the score, event) before / after it "
            f"{before['per_second']:,.0f} / {after['per_second']:,.0f}/s, "
            f"p50 / p99 {after['p50_ms']:.1f} / {after['p99_ms']:.1f} ms; "
            f"ratio to their mean {single['per_second'] / mean:.2f}; connections "
            f"per worker {single.get('spread', '-')}"
        )


if __name__ == "__main__":
    main()
