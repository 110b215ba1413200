"""Subscription delivery latency (issue 12 item 3): a lead status change
committed through the API → the `leadStatusChanged` message at a websocket
subscriber, with `salesops serve --workers N`.

    DATABASE_URL=... .venv/bin/python tests/bench/bench_subscriptions.py
        [--moves 300] [--workers 2] [--subscribers 4] [--wipe]

DATABASE_URL names the database (a SQLite file or PostgreSQL); without it a
fresh SQLite file in a temporary directory is used. A PostgreSQL database that
already has tables is refused unless `--wipe` is given.

Setup (not timed): an ADMIN, `--moves` RAW leads through `createLead`, and
`--subscribers` sockets (spread by the kernel over the workers), each
subscribed to `leadStatusChanged(filter: {to: [NURTURE]})`. Then one client
moves the leads to NURTURE one after the other (`transitionLead`); latency is
from the mutation's answer (its transaction committed) to each subscriber's
message about that lead, so every move is measured once per subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import inspect, text
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import is_sqlite, make_sync_engine
from tests.bench.harness import admin_token, machine, percentile, served

CREATE = """mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code } } }"""
MOVE = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { userErrors { code } } }"""
WATCH = """subscription { leadStatusChanged(filter: {to: [NURTURE]}) {
  lead { id } event { id } } }"""


def prepare(url: str, wipe: bool) -> None:
    """An empty database (refuse one with tables unless wiping)."""
    if is_sqlite(url):
        return
    engine = make_sync_engine(url)
    try:
        if inspect(engine).get_table_names() and not wipe:
            sys.exit("the database has tables: pass --wipe to empty it")
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


async def subscriber(
    base: str,
    token: str,
    arrivals: dict[str, list[float]],
    ready: asyncio.Event,
    all_in: tuple[int, asyncio.Event],
) -> None:
    """One socket: note when each lead's message arrives."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"token": token}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH}})
        )
        ready.set()
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                lead = message["payload"]["data"]["leadStatusChanged"]["lead"]["id"]
                arrivals.setdefault(lead, []).append(time.perf_counter())
                expected, done = all_in
                if sum(len(v) for v in arrivals.values()) >= expected:
                    done.set()


async def run(base: str, token: str, moves: int, subscribers: int) -> dict[str, float]:
    """Create the leads, subscribe, move them; the latency figures."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        leads = []
        for n in range(moves):
            answer = await http.post(
                "/graphql",
                json={
                    "query": CREATE,
                    "variables": {
                        "input": {
                            "email": f"b{n}@bench{n}.example",
                            "initialSource": "Webcast",
                        }
                    },
                },
            )
            leads.append(answer.json()["data"]["createLead"]["lead"]["id"])
        arrivals: dict[str, list[float]] = {}
        readies = [asyncio.Event() for _ in range(subscribers)]
        done = asyncio.Event()
        tasks = [
            asyncio.create_task(
                subscriber(base, token, arrivals, ready, (moves * subscribers, done))
            )
            for ready in readies
        ]
        for ready in readies:
            await ready.wait()
        await asyncio.sleep(1.0)  # every worker's feed has started
        committed: dict[str, float] = {}
        started = time.perf_counter()
        for lead in leads:
            answer = await http.post(
                "/graphql",
                json={
                    "query": MOVE,
                    "variables": {
                        "input": {"id": lead, "to": "NURTURE", "reason": "Bench"}
                    },
                },
            )
            assert answer.json()["data"]["transitionLead"]["userErrors"] == []
            committed[lead] = time.perf_counter()
        elapsed = time.perf_counter() - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 30)
        for task in tasks:
            task.cancel()
    latencies = [at - committed[lead] for lead, ats in arrivals.items() for at in ats]
    return {
        "moves_per_second": moves / elapsed,
        "messages": len(latencies),
        "expected": moves * subscribers,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def main() -> None:
    """Parse arguments, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--subscribers", type=int, default=4)
    parser.add_argument("--wipe", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{tempfile.mkdtemp(prefix='salesops-bench-')}/bench.db"
    )
    prepare(url, args.wipe)
    with served(url, args.workers) as base:
        token = admin_token(url)
        figures = asyncio.run(run(base, token, args.moves, args.subscribers))
    print(machine())
    print(f"workers={args.workers} subscribers={args.subscribers} moves={args.moves}")
    for name, value in figures.items():
        print(f"{name}: {value:,.1f}")


if __name__ == "__main__":
    main()
