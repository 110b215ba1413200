"""cProfile of the whole HTTP stack (ASGI app in-process: middleware, auth,
strawberry, resolver, service, database) for one kind of request, repeated
(issue 15: "profile first").

    BENCH_PG_DB=so_bench .venv/bin/python tests/bench/profile_request.py \\
        [--db sqlite|postgresql] [--op transition|engagement|engagements|page] \\
        [--requests 300] [--top 40]

Prints the wall time per request and the top functions by cumulative and by
own time; ``--out FILE`` keeps the raw profile for snakeviz/pstats.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.app import create_app
from tests.api.ids import gid
from tests.bench.bench_api import PAGE
from tests.bench.bench_engagements import RECORD, RECORD_BATCH
from tests.bench.bench_engagements import make_leads as make_raw_leads
from tests.bench.bench_transitions import MOVE, make_leads
from tests.bench.harness import admin_token, cli, fresh_database


def bodies(url: str, op: str, count: int) -> list[dict[str, Any]]:
    """The request bodies: one per request, each on its own lead(s)."""
    if op == "transition":
        ids = make_leads(url, count + 20, 1)
        return [
            {
                "query": MOVE,
                "variables": {"input": {"id": gid("Lead", i), "to": "ACCEPTED"}},
            }
            for i in ids
        ]
    if op == "engagement":
        ids = make_raw_leads(url, count + 20)
        return [
            {
                "query": RECORD,
                "variables": {
                    "input": {
                        "leadId": gid("Lead", i),
                        "kind": "WEBCAST_REGISTRATION",
                    }
                },
            }
            for i in ids
        ]
    if op == "page":  # the demo data, loaded by main before the token
        return [{"query": PAGE, "variables": {"after": None}} for _ in range(count)]
    per = 100
    ids = make_raw_leads(url, count * per, count + 21)
    return [
        {
            "query": RECORD_BATCH,
            "variables": {
                "input": {
                    "engagements": [
                        {"leadId": gid("Lead", i), "kind": "WEBCAST_REGISTRATION"}
                        for i in ids[n * per : (n + 1) * per]
                    ]
                }
            },
        }
        for n in range(count)
    ]


async def run(url: str, token: str, work: list[dict[str, Any]], warm: int) -> float:
    """Send the requests one after another; seconds for the timed ones."""
    app = create_app(url)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as client:
        for body in work[:warm]:
            answer = (await client.post("/graphql", json=body)).json()
            assert "errors" not in answer, answer
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        for body in work[warm:]:
            answer = (await client.post("/graphql", json=body)).json()
        profile.disable()
        elapsed = time.perf_counter() - start
        assert "errors" not in answer, answer
    run.profile = profile  # type: ignore[attr-defined]
    return elapsed


def main() -> None:
    """Profile and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument(
        "--op",
        choices=["transition", "engagement", "engagements", "page"],
        default="transition",
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out")
    args = parser.parse_args()
    url = fresh_database(args.db)
    if args.op == "page":
        cli(url, "demo-data", "--scale", "2")
    else:
        cli(url, "db", "upgrade")
    token = admin_token(url)
    work = bodies(url, args.op, args.requests)
    warm = 20 if args.op != "engagements" else 2
    elapsed = asyncio.run(run(url, token, work, warm))
    timed = len(work) - warm
    print(
        f"{args.op} on {args.db}: {elapsed / timed * 1000:.2f} ms per request "
        f"({timed} requests, profiler on)"
    )
    profile = run.profile  # type: ignore[attr-defined]
    if args.out:
        profile.dump_stats(args.out)
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
