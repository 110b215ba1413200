"""Benchmark: the D11 reports on an existing database (run on demand).

Load a demo database first, then time each report through the real schema,
in process (no HTTP), as an authenticated user:

    DATABASE_URL=sqlite:////tmp/demo20.db salesops demo-data --scale 20
    DATABASE_URL=sqlite:////tmp/demo20.db python tests/bench/bench_reports.py

``--explain`` prints each report's query plan (SQLite EXPLAIN QUERY PLAN or
PostgreSQL EXPLAIN) instead of timing.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, select, text

from api.context import Context, Viewer
from api.schema import schema
from api.users import UserNode
from domain.db import database_url, make_async_engine
from domain.records import User
from domain.services.sessions import make_sessions
from tests.api.ids import gid
from tests.bench.harness import machine

REPORTS: dict[str, tuple[str, dict[str, Any]]] = {
    "pipeline": ("{ pipeline { count iacv stages { stage count iacv } } }", {}),
    "pipeline by owner": (
        "{ pipeline(groupBy: OWNER) { groups { key owner { name } count iacv } } }",
        {},
    ),
    "pipeline, one owner, close window": (
        """query($o: ID!) { pipeline(filter: {ownerId: $o, closeDateAfter: "2020-01-01",
        closeDateBefore: "2031-01-01"}) { count iacv } }""",
        {"o": "owner"},
    ),
    "SAO by month, all history, by source type": (
        """{ salesAcceptedOpportunities(after: "2015-01-01", before: "2031-01-01",
        period: QUARTER, groupBy: INITIAL_SOURCE_TYPE) { sao sqo sclau periods {
        label sao groups { key sao } } } }""",
        {},
    ),
    "SAO by month, last 90 days, by qualification source": (
        """query($from: Date!, $to: Date!) { salesAcceptedOpportunities(
        after: $from, before: $to, groupBy: SALES_QUALIFICATION_SOURCE) {
        sao sqo sclau } }""",
        {"from": "last90", "to": "today"},
    ),
    "stage velocity, closed in the last 90 days": (
        """query($from: Date!) { stageVelocity(closedAfter: $from) {
        wonCount lostCount stages { stage
        won { count averageSeconds medianSeconds }
        lost { count averageSeconds medianSeconds } } } }""",
        {"from": "last90"},
    ),
    "stage velocity, all history": (
        """{ stageVelocity { wonCount lostCount stages { stage
        won { count averageSeconds medianSeconds }
        lost { count averageSeconds medianSeconds } } } }""",
        {},
    ),
    "sales capacity from actuals": (
        """{ salesCapacity(input: {fromActuals: true}) { monthsOnAverage
        saosNeededPerMonth actuals { wonCount lostCount activeOpportunities } } }""",
        {},
    ),
}


async def main(rounds: int = 20, explain: bool = False) -> None:
    """Time (or explain) every report."""
    engine = make_async_engine()
    sessions = make_sessions(engine)
    async with sessions() as s:
        user = (await s.execute(select(User).order_by(User.id).limit(1))).scalar_one()
        counts = {
            t: (await s.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
            for t in ("opportunities", "transition_records", "accounts")
        }
    viewer = Viewer(id=user.id, name=user.name, email=user.email, role=user.role)
    owner_gid = gid(UserNode, user.id)
    today = date.today()
    last90 = today - timedelta(days=90)
    print(f"{database_url()}  {counts}  ({machine()})")

    statements: list[str] = []

    def remember(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))  # type: ignore[arg-type]

    for name, (query, variables) in REPORTS.items():
        values = {"owner": owner_gid, "today": str(today), "last90": str(last90)}
        variables = {k: values[v] for k, v in variables.items()}

        async def run(query: str = query, variables: dict[str, Any] = variables) -> Any:
            async with sessions() as session:
                context = Context(session=session, viewer=viewer, request_id="bench")
                result = await schema.execute(
                    query, variable_values=variables, context_value=context
                )
            assert not result.errors, result.errors
            return result

        if explain:
            statements.clear()
            event.listen(engine.sync_engine, "before_cursor_execute", remember)
            await run()
            event.remove(engine.sync_engine, "before_cursor_execute", remember)
            print(f"\n== {name}")
            await _explain(engine, statements)
            continue
        await run()  # warm caches (parse, validation, SQLite pages)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            await run()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(
            f"{name:45s} median {statistics.median(times):7.1f} ms   "
            f"max {times[-1]:7.1f} ms"
        )
    await engine.dispose()


async def _explain(engine: Any, statements: list[Any]) -> None:
    """The plan of every report statement (not BEGIN and the like)."""
    prefix = (
        "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    )
    async with engine.connect() as conn:
        for statement, params in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            raw = await conn.run_sync(
                lambda c, s=statement, p=params: c.exec_driver_sql(
                    prefix + s, p
                ).fetchall()
            )
            print(statement.split("\n")[0][:100], "...")
            for row in raw:
                print("   ", " ".join(str(v) for v in row))


if __name__ == "__main__":
    asyncio.run(main(explain="--explain" in sys.argv))
