"""Shared benchmark harness: fresh databases, a served API, timing helpers.

Benchmarks are scripts run on demand (never part of the test suite); their
numbers go into the README together with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.connections import spread

BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# BENCH_PG_DB names the benchmark database (dropped and made again each run).
PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "salesops_bench")
PG_BENCH = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


def machine() -> str:
    """One line saying where the numbers came from."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def fresh_database(kind: str) -> str:
    """An empty database URL of the given kind (sqlite or postgresql)."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='salesops-bench-')}/bench.db"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_BENCH_DB}"'))
    admin.dispose()
    return PG_BENCH


def cli(database_url: str, *args: str) -> str:
    """Run the salesops CLI against a database; its stdout."""
    done = subprocess.run(
        [str(BIN / "salesops"), *args],
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def admin_token(database_url: str) -> str:
    """Create a benchmark ADMIN and return its token."""
    out = cli(
        database_url,
        "users", "create", "--email", "bench@bench.example", "--name", "Bench",
        "--role", "ADMIN",
    )  # fmt: skip
    return out.strip().splitlines()[-1]


# The process of each ``served`` base URL (its workers are its children).
SERVED: dict[str, int] = {}


def server_cpu_seconds(base: str) -> float:
    """CPU seconds (user + system) the server at ``base`` and its workers have
    used so far (Linux ``/proc``): the API's own cost, whatever the load of the
    machine does to its wall-clock rate."""
    tick = os.sysconf("SC_CLK_TCK")
    pids, total = [SERVED[base]], 0.0
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                children = Path(f"/proc/{pid}/task/{task}/children").read_text()
                pids += [int(child) for child in children.split()]
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except FileNotFoundError:
            continue  # a process that ended meanwhile
    return total


@contextmanager
def served(database_url: str, workers: int = 1) -> Iterator[str]:
    """`salesops serve` on a free loopback port; yields the base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [
            str(BIN / "salesops"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    SERVED[base] = process.pid
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(15)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    """Throughput and latency figures of one run."""
    return {
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


async def run_clients(
    base: str,
    headers: dict[str, str],
    clients: int,
    client_loop: Callable[[httpx.AsyncClient], Awaitable[None]],
) -> float:
    """``client_loop`` run ``clients`` times at once over one pool of that many
    connections; the seconds it took."""
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=60, limits=limits
    ) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        return time.perf_counter() - start


def fill_leads(
    url: str, leads: int, columns: str, select: Callable[[bool], str]
) -> float:
    """Migrate an emptied database and insert ``leads`` synthetic leads by one
    INSERT … SELECT over a generated series (``select(sqlite)`` reads ``ids.n``);
    the seconds it took."""
    from domain.db import is_sqlite, make_sync_engine, upgrade_to_head

    sqlite = is_sqlite(url)
    started = time.perf_counter()
    engine = make_sync_engine(url)
    with engine.begin() as conn:
        if not sqlite:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade_to_head(url)
    engine = make_sync_engine(url)
    with engine.begin() as conn:
        ids = (
            f"WITH RECURSIVE ids(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM ids "
            f"WHERE n < {leads}) "
            if sqlite
            else f"WITH ids(n) AS (SELECT generate_series(1, {leads})) "
        )
        conn.execute(text(f"INSERT INTO leads ({columns}) {ids} {select(sqlite)}"))
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


# The load generator in C (Debian's ``wrk``): a request costs it a few
# microseconds, where an httpx client in Python costs about as much CPU as the
# server's own work, on the same two cores. wrk runs for a fixed time (it
# cannot stop after a number of requests): each of its threads sends its share
# of the bodies (every Tth) in order and checks each answer for ``expect``;
# the figures count the answers that came back within the time. A thread
# that runs out of bodies makes the run fail (give more).
_WRK_SCRIPT = r"""
local bodies = dofile(BODIES)
local threads, count = {}, 0
function setup(thread)
  thread:set("index", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  step = THREADS
  nxt = index + 1
  ok, failed, ran_out = 0, 0, 0
end
function request()
  if nxt <= #bodies then
    local body = bodies[nxt]
    nxt = nxt + step
    return wrk.format("POST", "/graphql", HEADERS, body)
  end
  ran_out = 1
  return wrk.format("GET", "/healthz")
end
function response(status, headers, body)
  if string.find(body, '"data"', 1, true) then
    if status == 200 and string.find(body, EXPECT, 1, true) then
      ok = ok + 1
    else
      failed = failed + 1
      if failed == 1 then io.stderr:write(body .. "\n") end
    end
  end
end
function done(summary, latency, requests)
  local good, bad, out = 0, 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    bad = bad + t:get("failed")
    out = out + t:get("ran_out")
  end
  io.write(string.format(
    'WRK {"ok": %d, "failed": %d, "ran_out": %d, "seconds": %f, '
    .. '"p50_ms": %f, "p99_ms": %f}\n',
    good, bad, out, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def connection_spread(base: str) -> str:
    """How the open client connections to ``base`` are spread over the server's
    workers right now, most first ("8/8"; ``tests.connections``)."""
    port = int(base.rsplit(":", 1)[1])
    return "/".join(str(n) for n in spread(SERVED[base], port)) or "-"


def _lua_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wrk_posts(
    base: str,
    headers: dict[str, str],
    bodies: list[dict[str, Any]],
    clients: int,
    expect: str,
    seconds: int = 10,
    threads: int = 2,
) -> dict[str, Any]:
    """POST the bodies in order to ``base``/graphql for ``seconds`` with
    ``clients`` connections through wrk; each answer must contain ``expect``.
    Throughput and latency like ``summary``, ``count``: the answers, and
    ``spread``: the connections per server process a second into the run."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    threads = min(threads, clients)
    all_headers = {"Content-Type": "application/json", **headers}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder, "bodies.lua")
        data.write_text(
            "return {\n"
            + ",\n".join(_lua_string(json.dumps(body)) for body in bodies)
            + "\n}\n"
        )
        script = Path(folder, "run.lua")
        lua_headers = ", ".join(
            f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in all_headers.items()
        )
        script.write_text(
            f"BODIES = {_lua_string(str(data))}\nTHREADS = {threads}\n"
            f"EXPECT = {_lua_string(expect)}\nHEADERS = {{{lua_headers}}}\n"
            + _WRK_SCRIPT
        )
        command = ["wrk", "-t", str(threads), "-c", str(clients)]
        command += ["-d", f"{seconds}s", "--timeout", "30s", "-s", str(script), base]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as running:
            time.sleep(min(1.0, seconds / 3))
            spread = connection_spread(base)
            stdout, _ = running.communicate(timeout=seconds + 60)
        if running.returncode:
            raise SystemExit(f"wrk failed ({running.returncode})")
    line = next(x for x in stdout.splitlines() if x.startswith("WRK "))
    result = json.loads(line[4:])
    if result["failed"] or result["ran_out"]:
        raise SystemExit(f"wrk: {result} ({len(bodies)} bodies); see its stderr above")
    return {
        "per_second": result["ok"] / result["seconds"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "count": result["ok"],
        "spread": spread,
    }


def raw_transactions(
    url: str,
    items: list[Any],
    write: Callable[[Any, Any, bool], None],
    threads: int = 16,
) -> dict[str, float]:
    """A raw-SQL ceiling: ``write(conn, item, is_pg)`` for every item, each in its
    own transaction (SQLite: ``BEGIN IMMEDIATE``), from ``threads`` threads;
    throughput and latency like ``summary``."""
    from concurrent.futures import ThreadPoolExecutor

    from domain.db import make_sync_engine

    engine = make_sync_engine(url, pool_size=threads + 2)
    is_pg = engine.dialect.name == "postgresql"
    latencies: list[float] = []

    def one(item: Any) -> None:
        start = time.perf_counter()
        with engine.connect() as conn:
            conn = conn.execution_options(salesops_sqlite_immediate=True)
            with conn.begin():
                write(conn, item, is_pg)
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, items))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return summary(latencies, elapsed)


def moment(is_pg: bool) -> datetime:
    """Now, as a raw statement binds it (SQLite stores naive UTC)."""
    now = datetime.now(UTC)
    return now if is_pg else now.replace(tzinfo=None)


async def httpx_posts(
    base: str,
    headers: dict[str, str],
    bodies: list[dict[str, Any]],
    clients: int,
    expect: str,
) -> dict[str, float]:
    """POST every body once to ``base``/graphql from ``clients`` concurrent httpx
    clients, in order; each answer must contain ``expect``. ``summary``'s
    figures and ``count``."""
    latencies: list[float] = []
    queue = iter(bodies)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for body in queue:
            start = time.perf_counter()
            answer = await client.post("/graphql", json=body)
            latencies.append(time.perf_counter() - start)
            assert expect in answer.text, answer.text

    elapsed = await run_clients(base, headers, clients, client_loop)
    return {**summary(latencies, elapsed), "count": len(bodies)}


def timed_posts(
    base: str,
    token: str,
    bodies: list[dict[str, Any]],
    clients: int,
    load_generator: str,
    seconds: int = 10,
    expect: str = '"userErrors":[]',
) -> dict[str, Any]:
    """The bodies sent as ``token``'s by httpx (each once) or wrk (in order, for
    ``seconds``), with the server's CPU per answered request (``cpu_ms``)."""
    headers = {"Authorization": f"Bearer {token}"}
    cpu = server_cpu_seconds(base)
    if load_generator == "wrk":
        figures = wrk_posts(base, headers, bodies, clients, expect, seconds)
    else:
        figures = asyncio.run(httpx_posts(base, headers, bodies, clients, expect))
    figures["cpu_ms"] = (server_cpu_seconds(base) - cpu) / figures["count"] * 1000
    return figures


# What a ceiling benchmark does with a database: (the API's request bodies, a
# callable doing the same writes by hand and giving their ``summary``) for a
# run of ``count`` records labelled ``label``.
Work = Callable[
    [str, str, int], tuple[list[dict[str, Any]], Callable[[], dict[str, float]]]
]


def ceiling_table(
    description: str,
    unit: str,
    *,
    count_flag: str,
    count: int,
    clients: list[int],
    raw_threads: int,
    prepare: Callable[[str], Work],
) -> None:
    """The main of a benchmark that sets an API write next to its raw-SQL
    ceiling in the same run: its command line (``--db``, the count,
    ``--clients``, ``--workers``, ``--client``, ``--seconds``), and for each
    database a fresh, migrated one, ``prepare(url)`` (what the runs need in
    it: its ``Work``), the API served and warmed, then a table row per
    ``--clients`` value: the API through ``timed_posts``, then the raw writes.
    ``count_flag`` names the count of a run (``--moves``, ``--creates``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--db", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument(
        count_flag,
        dest="count",
        type=int,
        default=count,
        help=f"{unit}s a run (at most, with wrk)",
    )
    parser.add_argument("--clients", type=int, nargs="+", default=clients)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--client",
        choices=["httpx", "wrk"],
        default="httpx",
        help="the API's clients: httpx in this process, or wrk (apt-get install "
        "wrk) for --seconds",
    )
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    print(
        f"machine: {machine()}; clients: {args.client}; "
        f"load at start: {os.getloadavg()[0]:.2f}"
    )
    print(
        f"| database | clients | API {unit}s/s | API p50 ms | API p99 ms | "
        f"server CPU ms/{unit} | raw SQL {unit}s/s ({raw_threads} threads) | "
        "raw p50 / p99 ms | API / raw | connections per worker |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        url = fresh_database(kind)
        cli(url, "db", "upgrade")
        token = admin_token(url)
        work = prepare(url)
        with served(url, workers=args.workers) as base:
            # Warm both workers (rule tables, compiled statements), not timed.
            timed_posts(base, token, work(url, "warm", 40)[0], 4, "httpx")
            for run, clients_now in enumerate(args.clients):
                bodies, by_hand = work(url, f"r{run}", args.count)
                api = timed_posts(
                    base, token, bodies, clients_now, args.client, args.seconds
                )
                raw = by_hand()
                print(
                    f"| {kind} | {clients_now} | {api['per_second']:.0f} | "
                    f"{api['p50_ms']:.1f} | {api['p99_ms']:.1f} | {api['cpu_ms']:.1f} | "
                    f"{raw['per_second']:.0f} | {raw['p50_ms']:.1f} / "
                    f"{raw['p99_ms']:.1f} | {api['per_second'] / raw['per_second']:.2f} | "
                    f"{api.get('spread', '-')} |",
                    flush=True,
                )
    print(f"load at end: {os.getloadavg()[0]:.2f}")
