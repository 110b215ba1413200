"""Authentication cost and revocation delay over HTTP (issue 15 item 3).

    .venv/bin/python tests/bench/bench_auth.py [--db sqlite|postgresql|both]
        [--requests 2000] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/so_b]

For each database: the CPU time the server side spends per `{ viewer { name } }`
request (in process, through the ASGI app, one client: CPU time is what a
shared machine does not distort) with the token cache off
(`token_cache_seconds=0`: a token query per request, as before) and on (60 s);
then the delay between a revocation committed through one served process and
the first 401 from another (5 revocations).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.app import create_app
from api.settings import load_settings
from tests.api.conftest import start_server
from tests.bench.harness import admin_token, cli, machine

VIEWER = {"query": "{ viewer { name } }"}
ISSUE = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id } } }"""
REVOKE = """mutation($input: RevokeApiTokenInput!) {
  revokeApiToken(input: $input) { userErrors { code } } }"""


def fresh(kind: str, pg_url: str) -> str:
    """An empty, migrated database of the given kind."""
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='salesops-auth-')}/bench.db"
    else:
        url = pg_url
        name = make_url(url).database
        admin = create_engine(
            make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    cli(url, "db", "upgrade")
    return url


async def cpu_per_request(url: str, token: str, total: int, cache: int) -> float:
    """Milliseconds of this process's CPU per viewer request (app in process)."""
    app = create_app(
        settings=load_settings(database_url=url, token_cache_seconds=cache)
    )
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
        for _ in range(100):  # warm up: caches, pool
            await http.post("/graphql", json=VIEWER, headers=headers)
        start = time.process_time()
        for _ in range(total):
            response = await http.post("/graphql", json=VIEWER, headers=headers)
            assert response.status_code == 200, response.text
        spent = time.process_time() - start
    await app.state.engine.dispose()
    return spent / total * 1000


async def revocation_delays(a: str, b: str, admin: str, rounds: int) -> list[float]:
    """Seconds from a revocation answered by ``a`` to the first 401 from ``b``."""
    delays = []
    headers = {"Authorization": f"Bearer {admin}"}
    async with (
        httpx.AsyncClient(base_url=a, timeout=60) as via_a,
        httpx.AsyncClient(base_url=b, timeout=60) as via_b,
    ):
        for _ in range(rounds):
            issued = (
                await via_a.post(
                    "/graphql",
                    json={
                        "query": ISSUE,
                        "variables": {"input": {"name": "b", "scopes": ["READ"]}},
                    },
                    headers=headers,
                )
            ).json()["data"]["createApiToken"]
            theirs = {"Authorization": f"Bearer {issued['token']}"}
            for client in (via_a, via_b):
                assert (
                    await client.post("/graphql", json=VIEWER, headers=theirs)
                ).status_code == 200
            await via_a.post(
                "/graphql",
                json={
                    "query": REVOKE,
                    "variables": {"input": {"id": issued["apiToken"]["id"]}},
                },
                headers=headers,
            )
            start = time.monotonic()
            for _ in range(10_000):
                answer = await via_b.post("/graphql", json=VIEWER, headers=theirs)
                if answer.status_code == 401:
                    break
                await asyncio.sleep(0.01)
            delays.append(time.monotonic() - start)
            await asyncio.sleep(0.3)  # the next round starts at another phase
    return delays


def run(kind: str, total: int, pg_url: str) -> None:
    """Both measurements on one database kind."""
    url = fresh(kind, pg_url)
    token = admin_token(url)
    for cache in (0, 60):
        ms = asyncio.run(cpu_per_request(url, token, total, cache))
        print(f"| {kind} | cache {cache} s | {ms:.2f} ms CPU per request |")
    started = [start_server(url) for _ in range(2)]
    try:
        delays = asyncio.run(
            revocation_delays(started[0][1], started[1][1], token, rounds=5)
        )
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(15)
    print(
        f"| {kind} | revocation → 401 on the other process | "
        + ", ".join(f"{d:.2f}" for d in delays)
        + f" s (max {max(delays):.2f}) |"
    )


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/so_tokens_b"
        ),
    )
    args = parser.parse_args()
    print(machine())
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        run(kind, args.requests, args.pg_url)


if __name__ == "__main__":
    main()
