"""The same data through SQLite and PostgreSQL gives the same reports (D11, A5).

Runs when the suite runs on PostgreSQL (``DATABASE_URL``): the hand-built data
sets of the report tests are loaded once into the PostgreSQL test database and
once into a fresh, migrated SQLite file, through the same services, and every
report is asked the same questions on both. The answers must be equal value for
value — counts, exact money, medians, rates, the order of groups.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from domain.db import is_sqlite, make_async_engine, upgrade_to_head
from domain.enums import Role
from domain.services.sessions import make_sessions
from tests.api.test_funnel import FUNNEL, PIPE, build_funnel_data
from tests.api.test_reports import (
    CAPACITY,
    PIPELINE,
    SAO,
    VELOCITY,
    build_report_data,
)
from tests.conftest import Api, Builders, _test_database_url

pytestmark = pytest.mark.skipif(
    is_sqlite(_test_database_url()),
    reason="compares PostgreSQL with SQLite: runs in the PostgreSQL pass",
)

# (query, variables) pairs asked of both databases, after the data set is loaded.
REPORT_QUESTIONS: list[tuple[str, dict[str, Any]]] = [
    (PIPELINE, {}),
    *[(PIPELINE, {"groupBy": g}) for g in ("OWNER", "SEGMENT", "REGION", "TYPE")],
    (PIPELINE, {"filter": {"segment": "LARGE"}}),
    *[
        (
            SAO,
            {"after": "2023-10-01", "before": "2024-10-01", "period": p, "groupBy": d},
        )
        for p in ("MONTH", "QUARTER")
        for d in (None, "INITIAL_SOURCE_TYPE", "SALES_QUALIFICATION_SOURCE")
    ],
    (VELOCITY, {}),
    (VELOCITY, {"after": "2024-02-01", "before": "2025-01-01"}),
    (CAPACITY, {}),
    (CAPACITY, {"input": {"fromActuals": True}}),
    (CAPACITY, {"input": {"daysToClose": 90, "winRate": 0.25, "capacityGoal": 30}}),
]


FUNNEL_QUESTIONS: list[tuple[str, dict[str, Any]]] = [
    (FUNNEL, {}),
    *[
        (FUNNEL, {"groupBy": g})
        for g in (
            "SEGMENT",
            "REGION",
            "INITIAL_SOURCE",
            "SALES_QUALIFICATION_SOURCE",
            "OWNER",
            "CAMPAIGN_CHANNEL",
        )
    ],
    (FUNNEL, {"filter": {"createdAfter": "2025-03-03T03:00:00Z"}}),
    (FUNNEL, {"filter": {"segment": ["SMB", "LARGE"]}, "groupBy": "REGION"}),
    (PIPE, {}),
]


@pytest.fixture
async def sqlite_side() -> AsyncIterator[tuple[Api, Builders]]:
    """A fresh, migrated SQLite database with its own API caller and builders."""
    folder = tempfile.mkdtemp(prefix="salesops-parity-")
    url = f"sqlite:///{Path(folder) / 'parity.db'}"
    upgrade_to_head(url)
    engine = make_async_engine(url)
    sessions = make_sessions(engine)
    yield Api(sessions), Builders(sessions)
    await engine.dispose()


async def answers(
    api: Api,
    make: Builders,
    build: Callable[[Builders], Awaitable[Any]],
    questions: list[tuple[str, dict[str, Any]]],
) -> list[Any]:
    """Load the data set, then ask every question as a reader."""
    await build(make)
    reader = await make.user(Role.BDR, name="Parity reader")
    return [
        (await api(query, variables, as_user=reader)).ok()
        for query, variables in questions
    ]


@pytest.mark.parametrize(
    ("build", "questions"),
    [
        (build_report_data, REPORT_QUESTIONS),
        (build_funnel_data, FUNNEL_QUESTIONS),
    ],
    ids=["pipeline-sao-velocity-capacity", "funnel-pipe-to-spend"],
)
async def test_every_report_answers_the_same_on_postgresql_and_sqlite(
    api, make, sqlite_side, build, questions
):
    on_postgresql = await answers(api, make, build, questions)
    on_sqlite = await answers(*sqlite_side, build, questions)

    for question, pg, lite in zip(questions, on_postgresql, on_sqlite, strict=True):
        assert pg == lite, question
    # The answers are not trivially empty.
    first = next(iter(on_postgresql[0].values()))
    assert first != zeroed(first)


def zeroed(answer: Any) -> Any:
    """What an answer would be with every number zeroed (to show data was there)."""
    if isinstance(answer, dict):
        return {k: zeroed(v) for k, v in answer.items()}
    if isinstance(answer, list):
        return [zeroed(v) for v in answer]
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        return 0
    return answer
