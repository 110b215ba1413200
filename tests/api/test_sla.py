"""The follow-up SLA (D8): due times, follow-ups, slaMet / slaBreached and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strawberry.relay import GlobalID

from api.activities import ActivityNode
from api.leads import LeadNode
from domain.enums import Role
from domain.records import Activity, Lead, User
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.conftest import row_count

RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) { userErrors { code field message } }
}"""
LOG = """
mutation($input: LogActivityInput!) {
  logActivity(input: $input) { activity { id } userErrors { code field message } }
}"""
COMPLETE = """
mutation($input: CompleteActivityInput!) {
  completeActivity(input: $input) {
    activity { id version completedAt outcome disposition lead { slaMet slaMetAt } }
    userErrors { code field message }
  }
}"""
SLA = """
query($id: ID!) {
  lead(id: $id) { slaStartedAt slaDueAt slaMetAt slaMet slaBreached }
}"""
LIST = """
query($filter: LeadFilter) { leads(filter: $filter) { nodes { id slaBreached slaMet } } }
"""

# 2024-03-01 is a Friday.
FRIDAY = datetime(2024, 3, 1, 15, 30, tzinfo=UTC)
MONDAY = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def requested(
    api: Any,
    make: Any,
    monkeypatch: Any,
    ops: User,
    at: datetime | None = None,
    kind: str = "CONTACT_US_REQUEST",
    **lead: Any,
) -> Any:
    """A lead whose form was recorded through the API at ``at`` (service clock)."""
    if at is not None:
        monkeypatch.setattr("domain.services.engagements.utcnow", lambda: at)
    row = await make.lead(by=ops, number_of_employees=5000, country="DE", **lead)
    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid(LeadNode, row.id), "kind": kind}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]
    assert data["userErrors"] == []
    monkeypatch.undo()
    return row


async def owned_by(make: Any, lead: Any, user: User) -> None:
    """The lead's owner is ``user`` (issue 17: follow-ups are logged by whoever
    works the lead — its owner, its account's owner or team, or ops)."""

    async def own(s: Any) -> None:
        (await s.get(Lead, lead.id)).owner_id = user.id

    await make.run(own)


async def sla(api: Any, lead: Any, as_user: User) -> dict[str, Any]:
    return (await api(SLA, {"id": gid(LeadNode, lead.id)}, as_user=as_user)).ok()[
        "lead"
    ]


async def log(
    api: Any, lead: Any, as_user: User, completed_at: datetime | None, **values: Any
) -> dict[str, Any]:
    activity = {
        "kind": "TASK",
        "channel": "CALL",
        "subject": "Follow-up",
        "leadId": gid(LeadNode, lead.id),
        **values,
    }
    if completed_at is not None:
        activity["completedAt"] = completed_at.isoformat()
    return (await api(LOG, {"input": activity}, as_user=as_user)).ok()["logActivity"]


@pytest.mark.parametrize(
    ("routed", "due"),
    [
        (FRIDAY, MONDAY),  # Friday -> Monday, same time
        (
            datetime(2024, 3, 2, 10, 0, tzinfo=UTC),
            datetime(2024, 3, 4, 10, 0, tzinfo=UTC),
        ),
        (
            datetime(2024, 3, 3, 23, 0, tzinfo=UTC),
            datetime(2024, 3, 4, 23, 0, tzinfo=UTC),
        ),
        (
            datetime(2024, 2, 29, 9, 0, tzinfo=UTC),
            datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
        ),
        (
            datetime(2024, 3, 4, 9, 0, tzinfo=UTC),
            datetime(2024, 3, 5, 9, 0, tzinfo=UTC),
        ),
    ],
    ids=[
        "friday-monday",
        "saturday-monday",
        "sunday-monday",
        "thursday-friday",
        "monday-tuesday",
    ],
)
async def test_a_contact_us_request_is_due_the_next_business_day_at_the_same_time(
    api, make, monkeypatch, routed, due
):
    ops = await make.user(Role.SALES_OPS)
    lead = await requested(api, make, monkeypatch, ops, routed)

    data = await sla(api, lead, ops)

    assert data == {
        "slaStartedAt": iso(routed),
        "slaDueAt": iso(due),
        "slaMetAt": None,
        "slaMet": False,
        "slaBreached": True,  # the due time is long past, without a follow-up
    }


async def test_a_follow_up_at_the_due_time_meets_the_sla_and_a_minute_later_breaches(
    api, make, monkeypatch
):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    on_time = await requested(api, make, monkeypatch, ops, FRIDAY)
    late = await requested(api, make, monkeypatch, ops, FRIDAY)
    await owned_by(make, on_time, bdr)
    await owned_by(make, late, bdr)

    logged = [
        await log(api, on_time, bdr, MONDAY),
        await log(api, late, bdr, MONDAY + timedelta(minutes=1), channel="EMAIL"),
    ]

    assert [x["userErrors"] for x in logged] == [[], []]
    assert await sla(api, on_time, ops) == {
        "slaStartedAt": iso(FRIDAY),
        "slaDueAt": iso(MONDAY),
        "slaMetAt": iso(MONDAY),
        "slaMet": True,
        "slaBreached": False,
    }
    assert await sla(api, late, ops) == {
        "slaStartedAt": iso(FRIDAY),
        "slaDueAt": iso(MONDAY),
        "slaMetAt": iso(MONDAY + timedelta(minutes=1)),
        "slaMet": False,
        "slaBreached": True,
    }


async def test_the_sla_filters_agree_with_the_fields_and_skip_leads_without_an_sla(
    api, make, monkeypatch
):
    ops = await make.user(Role.SALES_OPS)
    met = await requested(api, make, monkeypatch, ops, FRIDAY)
    late = await requested(api, make, monkeypatch, ops, FRIDAY)
    overdue = await requested(api, make, monkeypatch, ops, FRIDAY)
    within_time = await requested(api, make, monkeypatch, ops)  # routed now
    trial = await requested(api, make, monkeypatch, ops, kind="TRIAL_REQUEST")
    await make.lead(by=ops)  # never routed
    await log(api, met, ops, MONDAY - timedelta(hours=2))
    await log(api, late, ops, MONDAY + timedelta(hours=2))

    async def ids(**criteria: bool) -> list[str]:
        nodes = (await api(LIST, {"filter": criteria}, as_user=ops)).ok()["leads"][
            "nodes"
        ]
        return [n["id"] for n in nodes]

    def lead_ids(*leads: Any) -> list[str]:
        return [gid(LeadNode, x.id) for x in leads]

    assert await ids(slaBreached=True) == lead_ids(late, overdue)
    assert await ids(slaBreached=False) == lead_ids(met, within_time)
    assert await ids(slaMet=True) == lead_ids(met)
    assert await ids(slaMet=False) == lead_ids(late, overdue, within_time)
    assert await ids(slaMet=False, slaBreached=False) == lead_ids(within_time)
    everyone = (await api(LIST, {}, as_user=ops)).ok()["leads"]["nodes"]
    assert [(n["slaMet"], n["slaBreached"]) for n in everyone] == [
        (True, False),
        (False, True),
        (False, True),
        (False, False),
        (None, None),
        (None, None),
    ]
    assert (await sla(api, trial, ops))["slaDueAt"] is None


@pytest.mark.parametrize(
    ("channel", "direction", "counts"),
    [
        ("CALL", "OUTBOUND", True),
        ("CALL", "INBOUND", True),
        ("MEETING", "OUTBOUND", True),
        ("WEB_CHAT", "INBOUND", True),
        ("EMAIL", "OUTBOUND", True),
        ("EMAIL", "INBOUND", False),
        ("OTHER", "OUTBOUND", False),
    ],
)
async def test_calls_meetings_web_chats_and_emails_we_send_are_follow_ups(
    api, make, monkeypatch, channel, direction, counts
):
    ops = await make.user(Role.SALES_OPS)
    lead = await requested(api, make, monkeypatch, ops)
    done = utcnow()

    await log(api, lead, ops, done, channel=channel, direction=direction)

    data = await sla(api, lead, ops)
    assert (data["slaMetAt"] is not None, data["slaMet"]) == (counts, counts)
    assert data["slaBreached"] is False


async def test_an_open_task_an_earlier_activity_and_a_future_one_do_not_meet_it(
    api, make, monkeypatch, sessions
):
    ops = await make.user(Role.SALES_OPS)
    lead = await requested(api, make, monkeypatch, ops, FRIDAY)

    await log(api, lead, ops, None, dueAt=MONDAY.isoformat())
    await log(api, lead, ops, FRIDAY - timedelta(minutes=1))
    await log(api, lead, ops, utcnow() + timedelta(days=1))

    assert await row_count(sessions, Activity) == 3
    data = await sla(api, lead, ops)
    assert (data["slaMetAt"], data["slaMet"], data["slaBreached"]) == (
        None,
        False,
        True,
    )


async def test_the_first_follow_up_counts_even_when_logged_after_a_later_one(
    api, make, monkeypatch
):
    ops = await make.user(Role.SALES_OPS)
    lead = await requested(api, make, monkeypatch, ops, FRIDAY)

    await log(api, lead, ops, MONDAY + timedelta(hours=3))
    await log(api, lead, ops, FRIDAY + timedelta(hours=1))
    await log(api, lead, ops, FRIDAY + timedelta(hours=2))

    data = await sla(api, lead, ops)
    assert (data["slaMetAt"], data["slaMet"], data["slaBreached"]) == (
        iso(FRIDAY + timedelta(hours=1)),
        True,
        False,
    )


async def test_a_professional_services_request_gets_the_same_sla(
    api, make, monkeypatch
):
    ops = await make.user(Role.SALES_OPS)
    lead = await requested(
        api, make, monkeypatch, ops, FRIDAY, kind="PROFESSIONAL_SERVICES_REQUEST"
    )

    data = await sla(api, lead, ops)

    assert (data["slaStartedAt"], data["slaDueAt"]) == (iso(FRIDAY), iso(MONDAY))


async def test_completing_an_open_task_in_time_meets_the_sla(api, make, monkeypatch):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    lead = await requested(api, make, monkeypatch, ops)
    await owned_by(make, lead, bdr)
    task = (await log(api, lead, bdr, None))["activity"]

    before = await sla(api, lead, ops)
    done = (
        await api(
            COMPLETE,
            {
                "input": {
                    "id": task["id"],
                    "outcome": "Booked a demo",
                    "disposition": "Connected",
                    "expectedVersion": 1,
                }
            },
            as_user=bdr,
        )
    ).ok()["completeActivity"]

    assert (before["slaMet"], before["slaMetAt"]) == (False, None)
    assert done["userErrors"] == []
    activity = done["activity"]
    assert (activity["version"], activity["outcome"], activity["disposition"]) == (
        2,
        "Booked a demo",
        "Connected",
    )
    assert activity["lead"] == {"slaMet": True, "slaMetAt": activity["completedAt"]}


async def test_completing_twice_someone_elses_task_or_a_stale_one_is_refused(
    api, make, monkeypatch, sessions
):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    other = await make.user(Role.BDR)
    lead = await requested(api, make, monkeypatch, ops)
    await owned_by(make, lead, bdr)
    task = (await log(api, lead, bdr, None))["activity"]
    done = (await log(api, lead, bdr, utcnow()))["activity"]

    async def complete(activity_id: str, as_user: User, **extra: Any) -> Any:
        return (
            await api(
                COMPLETE, {"input": {"id": activity_id, **extra}}, as_user=as_user
            )
        ).ok()["completeActivity"]

    answers = [
        await complete(task["id"], other),
        await complete(task["id"], bdr, expectedVersion=7),
        await complete(done["id"], bdr),
        await complete(gid(ActivityNode, 999), bdr),
        await complete(task["id"], bdr, disposition="x" * 121),
    ]

    assert [[e["code"] for e in a["userErrors"]] for a in answers] == [
        ["FORBIDDEN"],
        ["STALE_VERSION"],
        ["INVALID_INPUT"],
        ["NOT_FOUND"],
        ["INVALID_INPUT"],
    ]
    assert all(a["activity"] is None for a in answers)
    async with sessions() as s:
        still_open = await s.get(Activity, int(GlobalID.from_id(task["id"]).node_id))
        stored = await s.get(Lead, lead.id)
    assert (still_open.completed_at, still_open.version) == (None, 1)
    # Only the activity logged completed met the SLA.
    assert stored.sla_met_at is not None


async def test_a_follow_up_on_a_converted_lead_leaves_it_untouched(
    api, make, monkeypatch, sessions
):
    ops = await make.user(Role.SALES_OPS)
    lead = await requested(api, make, monkeypatch, ops, FRIDAY)

    async def convert(s):
        (await s.get(Lead, lead.id)).converted_at = utcnow()

    await make.run(convert)
    async with sessions() as s:
        version = (await s.get(Lead, lead.id)).version
    logged = await log(api, lead, ops, MONDAY)

    assert logged["userErrors"] == []
    async with sessions() as s:
        row = await s.get(Lead, lead.id)
    assert (row.sla_met_at, row.version) == (None, version)
