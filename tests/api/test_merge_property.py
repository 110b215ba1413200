"""Merge then undo leaves the database as it was, record by record (issue 13:
the merge/undo property test). Hypothesis draws a handful of leads that look
alike (names, emails, phones, companies, sources, ages), their activities and
engagements, a survivor, duplicates and field choices; the merge and the undo
go through the GraphQL schema; every record table is compared row by row (the
ledger — record_merges, events, transition records — keeps both acts).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.db import make_async_engine, write_transaction
from domain.enums import Role
from domain.rules.permissions import Actor
from domain.services.sessions import make_sessions
from domain.services.users import create_user
from tests.api.ids import gid
from tests.api.merging import UNDO, add_lead, add_work, merge_mutation, picture
from tests.conftest import Api, empty_tables

ON_POSTGRES = "postgresql" in os.environ.get("DATABASE_URL", "")
# A few cases on PostgreSQL (each builds its engine), more on SQLite.
EXAMPLES = int(os.environ.get("MERGE_EXAMPLES", "8" if ON_POSTGRES else "30"))

FIELDS = ("first_name", "last_name", "email", "company", "title", "phone", "city")
PERSON = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from([None, "Jane", "Jan"]),
        "last_name": st.sampled_from(["Doe", "Roe"]),
        "email": st.sampled_from(
            ["jane@acme.com", "j.doe+x@acme.com", "jd@gmail.com", "ceo@roe.io"]
        ),
        "title": st.sampled_from([None, "Engineer", "VP Sales"]),
        "phone": st.sampled_from([None, "+1 415 555 0100", "020 7946 0958"]),
        "company": st.sampled_from([None, "Acme", "Acme Inc"]),
        "city": st.sampled_from([None, "Paris", "Lyon"]),
        "initial_source": st.sampled_from(["Web Direct", "Trade Show", "Webcast"]),
        "days_old": st.integers(0, 60),
        "activities": st.integers(0, 2),
        "engagements": st.integers(0, 2),
    }
)


def _plan(people: list[dict[str, Any]]) -> Any:
    n = len(people)
    return st.tuples(
        st.just(people),
        st.permutations(range(n)),
        st.integers(1, n - 1),
        st.lists(
            st.tuples(st.sampled_from(FIELDS), st.integers(0, n - 1)),
            unique_by=lambda choice: choice[0],
            max_size=4,
        ),
    )


PLANS = st.lists(PERSON, min_size=2, max_size=4).flatmap(_plan)


async def _merge_and_undo(
    url: str, seeded: dict[str, list[dict[str, Any]]], plan: Any
) -> None:
    people, order, how_many, choices = plan
    engine = make_async_engine(url)
    try:
        await empty_tables(engine, seeded)
        sessions = make_sessions(engine)
        api = Api(sessions)
        async with sessions() as s, write_transaction(s):
            ops = await create_user(
                {"name": "Ops", "email": "ops@example.com", "role": Role.MARKETING_OPS},
                session=s,
                actor=None,
            )
            actor = Actor(ops.id, ops.role)
            ids = []
            for person in people:
                values = dict(person)
                days_old = values.pop("days_old")
                activities = values.pop("activities")
                engagements = values.pop("engagements")
                lead = await add_lead(s, actor, days_old=days_old, **values)
                add_work(
                    s, activities=activities, engagements=engagements, lead_id=lead.id
                )
                ids.append(lead.id)
            await s.flush()
        merged = [ids[i] for i in order[: how_many + 1]]
        survivor, duplicates = merged[0], merged[1:]
        before = await picture(sessions)

        result = await api(
            merge_mutation("Leads"),
            {
                "input": {
                    "survivorId": gid("Lead", survivor),
                    "duplicateIds": [gid("Lead", d) for d in duplicates],
                    "fieldChoices": [
                        {
                            "field": "".join(
                                w.capitalize() if i else w
                                for i, w in enumerate(field.split("_"))
                            ),
                            "fromId": gid("Lead", merged[k % len(merged)]),
                        }
                        for field, k in choices
                    ],
                }
            },
            as_user=ops,
        )
        payload = result.ok()["mergeLeads"]
        assert payload["userErrors"] == []
        during = await picture(sessions)
        assert [r["id"] for r in during["leads"]] == sorted(set(ids) - set(duplicates))
        assert len(during["activities"]) == len(before["activities"])
        assert len(during["engagements"]) == len(before["engagements"])

        undone = (await api(UNDO, {"id": payload["merge"]["id"]}, as_user=ops)).ok()[
            "undoMerge"
        ]

        assert undone["userErrors"] == []
        assert await picture(sessions) == before
    finally:
        await engine.dispose()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=PLANS)
def test_merge_then_undo_leaves_every_record_as_it_was(
    database_url: str, seeded_rows: dict[str, list[dict[str, Any]]], plan: Any
) -> None:
    asyncio.run(_merge_and_undo(database_url, seeded_rows, plan))
