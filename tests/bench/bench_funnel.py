"""The funnel over HTTP, next to the same aggregate written by hand in SQL.

    .venv/bin/python tests/bench/bench_funnel.py --database-url URL --scale 500
        [--repeat 5] [--naive] [--only GROUPBY/FILTER ...]

It loads `salesops demo-data --scale N` into the database when it has no
leads yet (timing the load), serves it (`salesops serve`, one process), and
times `funnel` for every grouping (none, SEGMENT, REGION, OWNER,
INITIAL_SOURCE, SALES_QUALIFICATION_SOURCE, CAMPAIGN_CHANNEL) under every
usual filter (none; a 30-day cohort window; segment SMB; region EMEA) over
real HTTP (one warm-up, then ``--repeat`` requests each; the median is
reported). It then runs the same aggregate written by hand in SQL on a direct
connection, checks that it gives the API's counts and medians, and prints
both medians and their ratio. By hand, as the API's query is designed to run:
each figure's count per group read from its partial index in group order,
then each (group, milestone)'s median as an index walk to the middle row(s)
(a channel merges its campaigns' ordered walks); a cohort window's medians
rank the window's rows (ROW_NUMBER() over each group and milestone) after
reading them once from the cohort indexes.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.relay import encode_id
from api.users import UserNode
from domain.db import make_sync_engine
from domain.rules.funnel import MILESTONES
from tests.bench.harness import cli, machine, served

SECONDS = [f"seconds_to_{m.value.lower()}" for m in MILESTONES[1:]]
FUNNEL = """query($groupBy: FunnelDimension, $filter: FunnelFilter) {
  funnel(groupBy: $groupBy, filter: $filter) {
    milestones { milestone count conversionRate medianSecondsFromPrevious }
    groups { key milestones { milestone count medianSecondsFromPrevious } }
  }
}"""
GROUPINGS = {
    None: None,
    "SEGMENT": "sales_segment",
    "REGION": "region",
    "OWNER": "owner_id",
    "INITIAL_SOURCE": "initial_source",
    "SALES_QUALIFICATION_SOURCE": "sales_qualification_source",
    "CAMPAIGN_CHANNEL": "campaign_id",
}
# figure i: 0 the leads at RAW, 1..8 moved into milestone i, 9 direct at PENDING
COUNTED = [
    "raw_at IS NOT NULL",
    *(f"{c} IS NOT NULL" for c in SECONDS),
    "raw_at IS NULL AND pending_acceptance_at IS NOT NULL",
]
PENDING = 5


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


def over_http(
    base: str, token: str, group_by: str | None, filter: Any, repeat: int
) -> Any:
    """(median seconds of ``repeat`` requests after a warm-up, the answer)."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": FUNNEL, "variables": {"groupBy": group_by, "filter": filter}}
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        answer = client.post("/graphql", json=body).json()
        assert "errors" not in answer, answer
        for _ in range(repeat):
            start = time.perf_counter()
            client.post("/graphql", json=body).raise_for_status()
            times.append(time.perf_counter() - start)
    return statistics.median(times), answer["data"]["funnel"]


class Filter:
    """One usual filter: its GraphQL input and its SQL condition."""

    def __init__(self, name: str, graphql: Any, sql: str, window: bool) -> None:
        self.name, self.graphql, self.sql, self.window = name, graphql, sql, window


def filters(conn: Connection) -> list[Filter]:
    """None; the 30 days ending 90 days before the newest lead; SMB; EMEA."""
    newest = conn.execute(text("SELECT MAX(raw_at) FROM funnel_entries")).scalar()
    if isinstance(newest, str):  # SQLite's text
        newest = datetime.fromisoformat(newest).replace(tzinfo=UTC)
    end = (newest - timedelta(days=90)).replace(microsecond=0)
    start = end - timedelta(days=30)
    sqlite = conn.dialect.name == "sqlite"

    def stamp(moment: datetime) -> str:
        text_ = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"'{text_}'" if sqlite else f"TIMESTAMPTZ '{text_}+00'"

    inside = f">= {stamp(start)} AND {{c}} < {stamp(end)}"
    window = (
        f"((raw_at IS NOT NULL AND raw_at {inside.format(c='raw_at')}) OR "
        f"(raw_at IS NULL AND pending_acceptance_at "
        f"{inside.format(c='pending_acceptance_at')}))"
    )
    return [
        Filter("none", None, "TRUE", False),
        Filter(
            "30-day window",
            {"createdAfter": start.isoformat(), "createdBefore": end.isoformat()},
            window,
            True,
        ),
        Filter("segment SMB", {"segment": ["SMB"]}, "sales_segment = 'SMB'", False),
        Filter("region EMEA", {"region": ["EMEA"]}, "region = 'EMEA'", False),
    ]


def api_key(conn: Connection, group_by: str | None, value: Any) -> Any:
    """A group's key as the API says it (owner: global id; None: NONE)."""
    if group_by is None:
        return None
    if value is None:
        return "NONE"
    if group_by == "OWNER":
        return encode_id(UserNode, value)
    return str(value)


def by_hand(conn: Connection, group_by: str | None, where: Filter) -> dict[str, Any]:
    """The funnel's counts and medians in plain SQL (see the module docstring)."""
    column = GROUPINGS[group_by]
    key = column or "NULL"
    group = f" GROUP BY {column}" if column else ""
    channel_of: dict[Any, Any] = {}
    if group_by == "CAMPAIGN_CHANNEL":
        channel_of = dict(conn.execute(text("SELECT id, channel FROM campaigns")).all())
    figures: dict[Any, list[int]] = {}
    if where.window:  # the window's rows, read once from the cohort indexes
        pending = f"COUNT(pending_acceptance_at) - COUNT({SECONDS[PENDING - 1]})"
        counted = (
            f"SELECT {key}, COUNT(raw_at), "
            f"{', '.join(f'COUNT({c})' for c in SECONDS)}, {pending} "
            f"FROM funnel_entries WHERE {where.sql}{group}"
        )
        for value, *ns in conn.execute(text(counted)):
            group_key = channel_of.get(value) if channel_of else value
            into = figures.setdefault(group_key, [0] * len(COUNTED))
            for i, n in enumerate(ns):
                into[i] += n
    else:  # each figure's count from its partial index, in group order
        counted = " UNION ALL ".join(
            f"SELECT {i}, {key}, COUNT(*) FROM funnel_entries "
            f"WHERE {condition} AND {where.sql}{group}"
            for i, condition in enumerate(COUNTED)
        )
        for i, value, n in conn.execute(text(counted)):
            group_key = channel_of.get(value) if channel_of else value
            figures.setdefault(group_key, [0] * len(COUNTED))[i] += n
    figures = {k: f for k, f in figures.items() if any(f)}
    medians: dict[tuple[Any, int], float] = {}
    if where.window:
        medians = ranked(conn, column, where, channel_of)
    else:
        totals = [sum(c) for c in zip(*figures.values(), strict=True)]
        keyed = {**({"total": totals} if totals else {})}
        for value, counts in figures.items():
            if column:
                keyed[value] = counts
        terms = []
        for value, counts in keyed.items():
            if value == "total":
                arms = ["TRUE"]
            elif channel_of:
                arms = [
                    f"campaign_id = {c}" if c is not None else "campaign_id IS NULL"
                    for c, ch in {None: None, **channel_of}.items()
                    if ch == value
                ]
            else:
                quoted = str(value).replace("'", "''")
                arms = [
                    f"{column} = '{quoted}'" if value is not None
                    else f"{column} IS NULL"
                ]  # fmt: skip
            for m, seconds in enumerate(SECONDS):
                n = counts[m + 1]
                if n:
                    terms.append(((value, m), _middle(seconds, n, arms, where.sql)))
        for start in range(0, len(terms), 120):
            chunk = terms[start : start + 120]
            sql = " UNION ALL ".join(
                f"SELECT {i}, ({walk})" for i, (_k, walk) in enumerate(chunk)
            )
            for i, value in conn.execute(text(sql)):
                (group_key, m) = chunk[i][0]
                medians[(None if group_key == "total" else ("g", group_key), m)] = (
                    float(value)
                )
    reached: dict[Any, list[int]] = {}
    for value, counts in figures.items():
        row = counts[: len(MILESTONES)]
        row[PENDING] += counts[len(MILESTONES)]
        reached[api_key(conn, group_by, value)] = row
    total = [sum(c) for c in zip(*reached.values(), strict=True)] or [0] * 9
    return {
        "counts": {None: total, **(reached if column else {})},
        "medians": {
            (None if k is None else api_key(conn, group_by, k[1]), m): v
            for (k, m), v in medians.items()
        },
    }


def _middle(column: str, n: int, arms: list[str], where: str) -> str:
    """The walk to the middle value(s) of ``column`` (n values) over the arms."""
    limit = f"LIMIT {2 - n % 2} OFFSET {(n - 1) // 2}"
    selects = [
        f"SELECT {column} AS x FROM funnel_entries WHERE {column} IS NOT NULL "
        f"AND {arm} AND {where}"
        for arm in arms
    ]
    if len(selects) == 1:
        inner = f"{selects[0]} ORDER BY {column} {limit}"
    else:
        inner = (
            " UNION ALL ".join(
                f"SELECT x FROM ({s} ORDER BY {column}) AS arm{i}"
                for i, s in enumerate(selects)
            )
            + f" ORDER BY x {limit}"
        )
    return f"SELECT AVG(x) FROM ({inner}) AS middle"


def ranked(
    conn: Connection, column: str | None, where: Filter, channel_of: dict[Any, Any]
) -> dict[tuple[Any, int], float]:
    """Medians by ranking the filtered rows (read once), by group and in total."""
    cases = " ".join(f"WHEN {m} THEN {c}" for m, c in enumerate(SECONDS))
    numbers = " UNION ALL ".join(f"SELECT {m} AS m" for m in range(len(SECONDS)))
    key = column or "NULL"
    found: dict[tuple[Any, int], float] = {}
    for grouped in [True, False] if column and not channel_of else [False]:
        k = "k" if grouped else "NULL"
        sql = (
            f"WITH filtered AS MATERIALIZED (SELECT {key} AS k, "
            f"{', '.join(SECONDS)} FROM funnel_entries WHERE {where.sql}), "
            f"reached AS (SELECT {k} AS k, n.m, CASE n.m {cases} END AS x "
            f"FROM filtered CROSS JOIN ({numbers}) AS n), "
            "ranked AS (SELECT k, m, x, ROW_NUMBER() OVER w AS r, "
            "COUNT(*) OVER (PARTITION BY k, m) AS c FROM reached "
            "WHERE x IS NOT NULL WINDOW w AS (PARTITION BY k, m ORDER BY x)) "
            "SELECT k, m, AVG(x) FROM ranked WHERE 2 * r >= c AND 2 * r <= c + 2 "
            "GROUP BY k, m"
        )
        for value, m, median in conn.execute(text(sql)):
            if not grouped:
                found[(None, m)] = float(median)
            else:
                found[(("g", value), m)] = float(median)
    if channel_of:  # a channel's medians need its campaigns together
        return ranked_channels(conn, where, channel_of, found)
    return found


def ranked_channels(
    conn: Connection,
    where: Filter,
    channel_of: dict[Any, Any],
    found: dict[tuple[Any, int], float],
) -> dict[tuple[Any, int], float]:
    """By channel: rank with the campaign's channel as the key."""
    total = {k: v for k, v in found.items() if k[0] is None}
    joined = Filter(
        where.name, where.graphql, where.sql.replace("raw_at", "e.raw_at"), True
    )
    cases = " ".join(f"WHEN {m} THEN {c}" for m, c in enumerate(SECONDS))
    numbers = " UNION ALL ".join(f"SELECT {m} AS m" for m in range(len(SECONDS)))
    sql = (
        f"WITH filtered AS MATERIALIZED (SELECT c.channel AS k, "
        f"{', '.join('e.' + s for s in SECONDS)} FROM funnel_entries AS e "
        f"LEFT JOIN campaigns AS c ON c.id = e.campaign_id WHERE "
        f"{joined.sql.replace('pending_acceptance_at', 'e.pending_acceptance_at')}), "
        f"reached AS (SELECT k, n.m, CASE n.m {cases} END AS x "
        f"FROM filtered CROSS JOIN ({numbers}) AS n), "
        "ranked AS (SELECT k, m, x, ROW_NUMBER() OVER w AS r, "
        "COUNT(*) OVER (PARTITION BY k, m) AS c FROM reached "
        "WHERE x IS NOT NULL WINDOW w AS (PARTITION BY k, m ORDER BY x)) "
        "SELECT k, m, AVG(x) FROM ranked WHERE 2 * r >= c AND 2 * r <= c + 2 "
        "GROUP BY k, m"
    )
    for value, m, median in conn.execute(text(sql)):
        total[(("g", value), m)] = float(median)
    return total


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
    """The API's counts and medians are the hand-written SQL's."""

    def check(milestones: list[dict[str, Any]], key: str | None) -> None:
        counts = sql["counts"][key]
        assert [m["count"] for m in milestones] == counts, key
        for m, milestone in enumerate(milestones[1:]):
            expected = sql["medians"].get((key, m))
            assert milestone["medianSecondsFromPrevious"] == expected, (key, m)

    check(api["milestones"], None)
    assert len(api["groups"]) == len(sql["counts"]) - 1
    for group in api["groups"]:
        check(group["milestones"], group["key"])


def main() -> None:
    """Load if needed, serve, time, compare, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive", action="store_true")
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()
    url = args.database_url
    print(f"machine: {machine()}")
    loaded = load_if_empty(url, args.scale)
    if loaded is not None:
        print(f"demo-data --scale {args.scale:g}: {loaded:.1f} s")
    engine = make_sync_engine(url)
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT COUNT(*) FROM funnel_entries")).scalar_one()
        usual = filters(conn)
    print(f"database: {engine.dialect.name}, {entries:,} funnel entries")
    token = token_for(url)
    results = []
    with served(url) as base:
        for where in usual:
            for group_by in GROUPINGS:
                name = f"{group_by or '(none)'}/{where.name}"
                if args.only and name not in args.only:
                    continue
                api_s, answer = over_http(
                    base, token, group_by, where.graphql, args.repeat
                )
                with engine.connect() as conn:
                    sql_s, hand = timed(
                        lambda c=conn, g=group_by, w=where: by_hand(c, g, w),
                        args.repeat,
                    )
                same_answer(answer, hand)
                results.append((group_by or "(none)", where.name, api_s, sql_s))
                print(f"  {name}: {api_s * 1000:.0f} / {sql_s * 1000:.0f} ms",
                      flush=True)  # fmt: skip
    print("| groupBy | filter | API over HTTP, median ms | SQL by hand, median ms "
          "| API / SQL |")  # fmt: skip
    print("|---|---|---|---|---|")
    for group_by, where_name, api_s, sql_s in results:
        print(
            f"| {group_by} | {where_name} | {api_s * 1000:.0f} | "
            f"{sql_s * 1000:.0f} | {api_s / sql_s:.2f} |"
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
