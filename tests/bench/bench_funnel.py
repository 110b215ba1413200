"""The funnel over HTTP, next to the same aggregate written by hand in SQL.

    .venv/bin/python tests/bench/bench_funnel.py --database-url URL --scale 500
        [--repeat 7] [--naive]

It loads `salesops demo-data --scale N` into the database when it has no
leads yet (timing the load), serves it (`salesops serve`, one process), and
times `funnel` unfiltered and `funnel(groupBy: SEGMENT)` over real HTTP
(one warm-up, then ``--repeat`` requests each; the median is reported). It
then runs the same aggregates written by hand in SQL on a direct connection
(each milestone's count read from its index, then each median as an index
walk to the middle row(s): the plan the API's query is designed to get),
checks that they give the API's numbers, and prints both medians and their
ratio.
``--naive`` also times the textbook SQL once (medians by
``percentile_cont`` on PostgreSQL, by ``ROW_NUMBER()`` on SQLite): what the
index walks save.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from domain.db import make_sync_engine
from domain.rules.funnel import MILESTONES
from tests.bench.harness import cli, machine, served

SECONDS = [f"seconds_to_{m.value.lower()}" for m in MILESTONES[1:]]
FUNNEL = """query($groupBy: FunnelDimension) {
  funnel(groupBy: $groupBy) {
    milestones { milestone count conversionRate medianSecondsFromPrevious }
    groups { key milestones { milestone count medianSecondsFromPrevious } }
  }
}"""


def load_if_empty(url: str, scale: float) -> float | None:
    """Migrate; load the demo data set when there are no leads. Seconds taken."""
    cli(url, "db", "upgrade")
    engine = make_sync_engine(url)
    with engine.connect() as conn:
        leads = conn.execute(text("SELECT COUNT(*) FROM leads")).scalar_one()
    engine.dispose()
    if leads:
        return None
    start = time.perf_counter()
    cli(url, "demo-data", "--scale", str(scale))
    return time.perf_counter() - start


def token_for(url: str) -> str:
    """A new ADMIN's API token (a fresh email, so the bench can run again)."""
    email = f"bench-{uuid.uuid4().hex[:8]}@bench.example"
    out = cli(url, "users", "create", "--email", email, "--name", "Bench",
              "--role", "ADMIN")  # fmt: skip
    return out.strip().splitlines()[-1]


def over_http(base: str, token: str, group_by: str | None, repeat: int) -> Any:
    """(median seconds of ``repeat`` requests after a warm-up, the answer)."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": FUNNEL, "variables": {"groupBy": group_by}}
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        answer = client.post("/graphql", json=body).json()
        assert "errors" not in answer, answer
        for _ in range(repeat):
            start = time.perf_counter()
            client.post("/graphql", json=body).raise_for_status()
            times.append(time.perf_counter() - start)
    return statistics.median(times), answer["data"]["funnel"]


def _middle(column: str, n: int, where: str = "") -> str:
    """The index walk to the middle value(s) of ``column`` (n values)."""
    return (
        f"SELECT AVG(x) FROM (SELECT {column} AS x FROM funnel_entries "
        f"WHERE {column} IS NOT NULL {where} ORDER BY {column} "
        f"LIMIT {2 - n % 2} OFFSET {(n - 1) // 2}) AS middle"
    )


def by_hand(conn: Connection, by_segment: bool) -> dict[str, Any]:
    """The funnel's counts and medians in plain SQL, two round trips: each
    milestone's count (by segment) from its index, then the index walks."""
    segment = "sales_segment" if by_segment else "NULL"
    group = " GROUP BY sales_segment" if by_segment else ""
    reached = ["TRUE"] + [f"{column} IS NOT NULL" for column in SECONDS]
    counted = " UNION ALL ".join(
        f"SELECT {m}, {segment}, COUNT(*) FROM funnel_entries WHERE {where}{group}"
        for m, where in enumerate(reached)
    )
    counts: dict[Any, list[int]] = {}
    for m, key, n in conn.execute(text(counted)):
        counts.setdefault(key, [0] * len(MILESTONES))[m] = n
    if by_segment:
        counts[None] = [sum(c) for c in zip(*counts.values(), strict=True)]
    terms = []
    for key, column_counts in counts.items():
        where = f"AND sales_segment = '{key}'" if key else ""
        for m, column in enumerate(SECONDS):
            n = column_counts[m + 1]
            if n:
                terms.append(
                    f"SELECT '{key or ''}', {m}, ({_middle(column, n, where)})"
                )
    medians = {
        (key or None, m): float(value)
        for key, m, value in conn.execute(text(" UNION ALL ".join(terms)))
    }
    return {"counts": counts, "medians": medians}


def naive(conn: Connection) -> None:
    """The textbook unfiltered funnel: every median sorts its rows."""
    counted = ", ".join(["COUNT(*)"] + [f"COUNT({c})" for c in SECONDS])
    conn.execute(text(f"SELECT {counted} FROM funnel_entries")).one()
    for column in SECONDS:
        if conn.dialect.name == "postgresql":
            sql = (
                f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) "
                f"FROM funnel_entries WHERE {column} IS NOT NULL"
            )
        else:
            sql = (
                "SELECT AVG(x) FROM (SELECT x, ROW_NUMBER() OVER (ORDER BY x) AS r, "
                f"COUNT(*) OVER () AS n FROM (SELECT {column} AS x FROM "
                f"funnel_entries WHERE {column} IS NOT NULL)) WHERE 2 * r BETWEEN n "
                "AND n + 2"
            )
        conn.execute(text(sql)).all()


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    """(median seconds of ``repeat`` runs after a warm-up, the last result)."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def same_answer(api: dict[str, Any], sql: dict[str, Any]) -> None:
    """The API's figures are the hand-written SQL's."""

    def check(milestones: list[dict[str, Any]], key: str | None) -> None:
        counts = sql["counts"][key]
        assert [m["count"] for m in milestones] == counts, key
        for m, milestone in enumerate(milestones[1:]):
            expected = sql["medians"].get((key, m))
            assert milestone["medianSecondsFromPrevious"] == expected, (key, m)

    check(api["milestones"], None)
    for group in api["groups"]:
        check(group["milestones"], group["key"])


def main() -> None:
    """Load if needed, serve, time, compare, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    url = args.database_url
    print(f"machine: {machine()}")
    loaded = load_if_empty(url, args.scale)
    if loaded is not None:
        print(f"demo-data --scale {args.scale:g}: {loaded:.1f} s")
    engine = make_sync_engine(url)
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT COUNT(*) FROM funnel_entries")).scalar_one()
    print(f"database: {engine.dialect.name}, {entries:,} funnel entries")
    token = token_for(url)
    results = []
    with served(url) as base:
        for group_by in (None, "SEGMENT"):
            api_s, answer = over_http(base, token, group_by, args.repeat)
            with engine.connect() as conn:
                grouped = group_by is not None
                sql_s, hand = timed(
                    lambda c=conn, g=grouped: by_hand(c, g), args.repeat
                )
            same_answer(answer, hand)
            results.append((group_by or "(none)", api_s, sql_s))
    print("| groupBy | API over HTTP, median ms | SQL by hand, median ms | API / SQL |")
    print("|---|---|---|---|")
    for group_by, api_s, sql_s in results:
        print(
            f"| {group_by} | {api_s * 1000:.0f} | {sql_s * 1000:.0f} | "
            f"{api_s / sql_s:.2f} |"
        )
    if args.naive:
        with engine.connect() as conn:
            start = time.perf_counter()
            naive(conn)
            print(f"textbook SQL (medians by sorting), unfiltered: "
                  f"{(time.perf_counter() - start) * 1000:.0f} ms")  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
