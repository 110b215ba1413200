"""API benchmark: a leads page with relations, and createLead throughput.

    .venv/bin/python tests/bench/bench_api.py [--db sqlite|postgresql|both]
        [--scale 50] [--pages 200] [--creates 2000] [--clients 8]
        [--page-clients 16] [--page-client httpx|wrk] [--workers 1]

For each database it loads `salesops demo-data --scale N` into a fresh
database, serves it (one uvicorn process) and measures over real HTTP the
p50/p99 of `leads(first: 100)` with owner and account (walking the pages with
cursors), the same pages fetched by `--page-clients` concurrent clients (each
client takes the next cursor of the walk: issue 15 item 6 asks p99 < 50 ms at
16 clients on demo x50), then `createLead` requests per second with C
concurrent clients. `--workers` is `serve --workers`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import (
    admin_token,
    cli,
    fresh_database,
    machine,
    run_clients,
    served,
    summary,
    wrk_posts,
)

PAGE = """query($after: String) {
  leads(first: 100, after: $after) {
    pageInfo { endCursor hasNextPage }
    nodes { id firstName lastName status personScore owner { id name } account { id name } }
  }
}"""
CREATE = """mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code } }
}"""


async def page(client: httpx.AsyncClient, after: str | None) -> dict:
    """One page of 100 leads with owner and account after ``after``."""
    answer = await client.post(
        "/graphql", json={"query": PAGE, "variables": {"after": after}}
    )
    return answer.json()["data"]["leads"]  # type: ignore[no-any-return]


async def pages(base: str, headers: dict[str, str], count: int) -> dict[str, float]:
    """Latency of successive pages of 100 leads with owner and account."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        after = None
        start = time.perf_counter()
        for _ in range(count):
            began = time.perf_counter()
            info = (await page(client, after))["pageInfo"]
            latencies.append(time.perf_counter() - began)
            after = info["endCursor"] if info["hasNextPage"] else None
        elapsed = time.perf_counter() - start
    return summary(latencies, elapsed)


async def pages_at_once(
    base: str,
    headers: dict[str, str],
    count: int,
    clients: int,
    load_generator: str = "httpx",
) -> dict[str, float]:
    """The same pages (their cursors found first, not timed) fetched by
    ``clients`` concurrent clients: httpx in this process, or wrk (a load
    generator in C) for 10 s, going over the pages again as often as it can."""
    cursors: list[str | None] = [None]
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        while len(cursors) < count:
            info = (await page(client, cursors[-1]))["pageInfo"]
            if not info["hasNextPage"]:
                break
            cursors.append(info["endCursor"])
    if load_generator == "wrk":
        bodies = [{"query": PAGE, "variables": {"after": c}} for c in cursors]
        # reads: the walk repeated, more than 10 s can take
        return wrk_posts(base, headers, bodies * 40, clients, '"nodes":[{')
    latencies: list[float] = []
    queue = iter(cursors)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for after in queue:
            began = time.perf_counter()
            nodes = (await page(client, after))["nodes"]
            latencies.append(time.perf_counter() - began)
            assert nodes, after

    elapsed = await run_clients(base, headers, clients, client_loop)
    return summary(latencies, elapsed)


async def creates(
    base: str, headers: dict[str, str], total: int, clients: int
) -> dict[str, float]:
    """createLead requests per second with concurrent clients."""
    latencies: list[float] = []
    numbers = iter(range(total))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for n in numbers:
            variables = {
                "input": {
                    "email": f"bench{n}@bench-create.example",
                    "lastName": f"Bench {n}",
                    "initialSource": "Web Direct",
                }
            }
            began = time.perf_counter()
            body = (
                await client.post(
                    "/graphql", json={"query": CREATE, "variables": variables}
                )
            ).json()
            latencies.append(time.perf_counter() - began)
            assert body["data"]["createLead"]["userErrors"] == [], body

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return summary(latencies, elapsed)


def main() -> None:
    """Run and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--scale", type=float, default=50)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--page-clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--page-client",
        choices=["httpx", "wrk"],
        default="httpx",
        help="the concurrent page clients: httpx, or wrk (apt-get install wrk)",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}; load at start: {os.getloadavg()[0]:.2f}")
    print(
        "| database | demo load s | leads page p50 ms | p99 ms | "
        f"{args.page_clients} clients: pages/s | p50 ms | p99 ms | "
        "connections per worker | createLead req/s | p50 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        url = fresh_database(kind)
        start = time.perf_counter()
        cli(url, "demo-data", "--scale", str(args.scale))
        loaded = time.perf_counter() - start
        headers = {"Authorization": f"Bearer {admin_token(url)}"}
        with served(url, workers=args.workers) as base:
            page = asyncio.run(pages(base, headers, args.pages))
            many = asyncio.run(
                pages_at_once(
                    base, headers, args.pages, args.page_clients, args.page_client
                )
            )
            made = asyncio.run(creates(base, headers, args.creates, args.clients))
        print(
            f"| {kind} | {loaded:.1f} | {page['p50_ms']:.1f} | {page['p99_ms']:.1f} | "
            f"{many['per_second']:.0f} | {many['p50_ms']:.1f} | {many['p99_ms']:.1f} | "
            f"{many.get('spread', '-')} | "
            f"{made['per_second']:.0f} | {made['p50_ms']:.1f} |",
            flush=True,
        )
    print(f"load at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
