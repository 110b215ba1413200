"""logActivity / activities through the real schema."""

from __future__ import annotations

from typing import Any

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.leads import LeadNode
from api.opportunities import OpportunityNode
from api.users import UserNode
from domain.enums import ActivityChannel, ActivityKind, Role
from domain.records import Activity, User
from domain.rules.permissions import Actor
from domain.services.account_team import add_team_member
from domain.services.accounts import create_account
from domain.services.activities import log_activity
from domain.services.contacts import create_contact
from domain.services.opportunities import create_opportunity
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.conftest import row_count

LOG = """
mutation($input: LogActivityInput!) {
  logActivity(input: $input) {
    activity {
      id version kind channel direction subject dueAt completedAt disposition
      outcome sourceSystem
      owner { id } lead { id } contact { id } account { id } opportunity { id }
    }
    userErrors { code field message }
  }
}"""

LIST = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: ActivityFilter, $order: ActivityOrder) {
  activities(first: $first, after: $after, last: $last, before: $before,
             filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { subject } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def an_account(make: Any, by: User) -> Any:
    """An account owned by ``by``."""
    return await make.run(
        lambda s: create_account(
            {"name": "Acme", "owner_id": by.id}, session=s, actor=Actor(by.id, by.role)
        )
    )


async def an_activity(make: Any, by: User, subject: str, **values: Any) -> Activity:
    """An activity logged through the service (a call task by default)."""
    values = {
        "kind": ActivityKind.TASK,
        "channel": ActivityChannel.CALL,
        "subject": subject,
        **values,
    }
    return await make.run(
        lambda s: log_activity(values, session=s, actor=Actor(by.id, by.role))
    )


def subjects(page: dict[str, Any]) -> list[str]:
    """The subjects on a page of activities."""
    return [e["node"]["subject"] for e in page["edges"]]


async def test_log_activity_on_every_kind_of_record_reads_back_its_relations(
    api, make, sessions
):
    sdr = await make.user(Role.SDR)
    lead = await make.lead(owner_id=sdr.id)  # activities go on records one works
    account = await an_account(make, sdr)
    contact = await make.run(
        lambda s: create_contact(
            {"last_name": "Doe", "account_id": account.id, "initial_source": "Webcast"},
            session=s,
            actor=Actor(sdr.id, sdr.role),
        )
    )
    opp = await make.run(
        lambda s: create_opportunity(
            {"name": "Deal", "account_id": account.id},
            session=s,
            actor=Actor(sdr.id, sdr.role),
        )
    )

    data = (
        await api(
            LOG,
            {
                "input": {
                    "kind": "EVENT",
                    "channel": "EMAIL",
                    "direction": "INBOUND",
                    "subject": "Re: pricing",
                    "completedAt": "2030-01-02T03:04:05+00:00",
                    "disposition": "Replied",
                    "outcome": "Wants a demo",
                    "sourceSystem": "OUTREACH",
                    "leadId": gid(LeadNode, lead.id),
                    "contactId": gid(ContactNode, contact.id),
                    "accountId": gid(AccountNode, account.id),
                    "opportunityId": gid(OpportunityNode, opp.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["logActivity"]

    assert data["userErrors"] == []
    activity = data["activity"]
    assert {k: v for k, v in activity.items() if k != "id"} == {
        "version": 1,
        "kind": "EVENT",
        "channel": "EMAIL",
        "direction": "INBOUND",
        "subject": "Re: pricing",
        "dueAt": None,
        "completedAt": "2030-01-02T03:04:05+00:00",
        "disposition": "Replied",
        "outcome": "Wants a demo",
        "sourceSystem": "OUTREACH",
        "owner": {"id": gid(UserNode, sdr.id)},
        "lead": {"id": gid(LeadNode, lead.id)},
        "contact": {"id": gid(ContactNode, contact.id)},
        "account": {"id": gid(AccountNode, account.id)},
        "opportunity": {"id": gid(OpportunityNode, opp.id)},
    }
    assert await row_count(sessions, Activity) == 1


async def test_a_task_defaults_to_outbound_owned_by_the_caller(api, make):
    sdr = await make.user(Role.SDR)
    rep = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(owner_id=sdr.id)

    mine = (
        await api(
            LOG,
            {
                "input": {
                    "kind": "TASK",
                    "channel": "CALL",
                    "subject": "Call back",
                    "dueAt": "2030-05-01T09:00:00Z",
                    "leadId": gid(LeadNode, lead.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["logActivity"]["activity"]
    hand_over = {
        "input": {
            "kind": "TASK",
            "channel": "CALL",
            "subject": "Hand over",
            "ownerId": gid(UserNode, rep.id),
            "leadId": gid(LeadNode, lead.id),
        }
    }
    theirs = (await api(LOG, hand_over, as_user=ops)).ok()["logActivity"]["activity"]
    # Issue 17: a task owned by someone else is for SALES_OPS/ADMIN to log.
    refused = (await api(LOG, hand_over, as_user=sdr)).ok()["logActivity"]
    assert codes(refused) == [("FORBIDDEN", ["ownerId"])]

    assert mine["direction"] == "OUTBOUND"
    assert mine["dueAt"] == "2030-05-01T09:00:00+00:00"
    assert mine["completedAt"] is None
    assert mine["owner"] == {"id": gid(UserNode, sdr.id)}
    assert theirs["owner"] == {"id": gid(UserNode, rep.id)}


async def test_an_activity_about_nothing_is_refused(api, make, sessions):
    sdr = await make.user(Role.SDR)

    data = (
        await api(
            LOG,
            {"input": {"kind": "TASK", "channel": "CALL", "subject": "Orphan"}},
            as_user=sdr,
        )
    ).ok()["logActivity"]

    assert data["activity"] is None
    assert codes(data) == [("MISSING_FIELD", None)]
    assert await row_count(sessions, Activity) == 0


async def test_a_blank_subject_and_a_null_direction_are_refused(api, make, sessions):
    sdr = await make.user(Role.SDR)
    lead = await make.lead()

    data = (
        await api(
            LOG,
            {
                "input": {
                    "kind": "TASK",
                    "channel": "CALL",
                    "subject": "  ",
                    "direction": None,
                    "leadId": gid(LeadNode, lead.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["logActivity"]

    assert sorted(codes(data)) == [
        ("MISSING_FIELD", ["direction"]),
        ("MISSING_FIELD", ["subject"]),
    ]
    assert await row_count(sessions, Activity) == 0


async def test_a_missing_target_or_owner_is_not_found(api, make, sessions):
    sdr = await make.user(Role.SDR)
    lead = await make.lead()
    base = {"kind": "TASK", "channel": "CALL", "subject": "Call"}

    no_contact = (
        await api(
            LOG,
            {"input": {**base, "contactId": gid(ContactNode, 999)}},
            as_user=sdr,
        )
    ).ok()["logActivity"]
    no_owner = (
        await api(
            LOG,
            {
                "input": {
                    **base,
                    "leadId": gid(LeadNode, lead.id),
                    "ownerId": gid(UserNode, 999),
                }
            },
            as_user=sdr,
        )
    ).ok()["logActivity"]

    assert codes(no_contact) == [("NOT_FOUND", ["contactId"])]
    assert codes(no_owner) == [("NOT_FOUND", ["ownerId"])]
    assert await row_count(sessions, Activity) == 0


async def test_a_target_id_of_another_type_is_invalid_input(api, make, sessions):
    sdr = await make.user(Role.SDR)
    lead = await make.lead()

    data = (
        await api(
            LOG,
            {
                "input": {
                    "kind": "TASK",
                    "channel": "CALL",
                    "subject": "Call",
                    "accountId": gid(LeadNode, lead.id),
                }
            },
            as_user=sdr,
        )
    ).ok()["logActivity"]

    assert codes(data) == [("INVALID_INPUT", ["accountId"])]
    assert await row_count(sessions, Activity) == 0


async def test_activities_filter_by_record_owner_channel_and_completion(api, make):
    sdr = await make.user(Role.SDR)
    bdr = await make.user(Role.BDR)
    # Issue 17: each logs on records they own, or on an account whose team
    # they are on.
    lead = await make.lead(owner_id=sdr.id)
    other_lead = await make.lead(owner_id=bdr.id)
    account = await an_account(make, sdr)
    await make.run(
        lambda s: add_team_member(
            account.id, bdr.id, None, session=s, actor=Actor(sdr.id, sdr.role)
        )
    )
    await an_activity(make, sdr, "Open call", lead_id=lead.id)
    await an_activity(
        make,
        sdr,
        "Sent email",
        lead_id=lead.id,
        channel=ActivityChannel.EMAIL,
        completed_at=utcnow(),
    )
    await an_activity(make, bdr, "Other lead", lead_id=other_lead.id)
    await an_activity(
        make,
        bdr,
        "Account meeting",
        account_id=account.id,
        channel=ActivityChannel.MEETING,
    )

    async def listed(filter: dict[str, Any]) -> list[str]:
        page = (await api(LIST, {"filter": filter}, as_user=sdr)).ok()["activities"]
        assert page["totalCount"] == len(page["edges"])
        return subjects(page)

    assert await listed({"leadId": gid(LeadNode, lead.id)}) == [
        "Open call",
        "Sent email",
    ]
    assert await listed({"accountId": gid(AccountNode, account.id)}) == [
        "Account meeting"
    ]
    assert await listed({"ownerId": gid(UserNode, bdr.id)}) == [
        "Other lead",
        "Account meeting",
    ]
    assert await listed({"channel": ["EMAIL", "MEETING"]}) == [
        "Sent email",
        "Account meeting",
    ]
    assert await listed({"completed": True}) == ["Sent email"]
    assert await listed({"completed": False, "leadId": gid(LeadNode, lead.id)}) == [
        "Open call"
    ]


async def test_activities_are_keyset_paged_newest_first_through_every_page(api, make):
    sdr = await make.user(Role.SDR)
    lead = await make.lead(owner_id=sdr.id)
    for n in range(5):
        await an_activity(make, sdr, f"A{n}", lead_id=lead.id)
    order = {"field": "CREATED_AT", "direction": "DESC"}

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (
            await api(LIST, {"first": 2, "after": after, "order": order}, as_user=sdr)
        ).ok()["activities"]
        pages += 1
        seen += subjects(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    back = (
        await api(
            LIST,
            {"last": 2, "before": page["pageInfo"]["startCursor"], "order": order},
            as_user=sdr,
        )
    ).ok()["activities"]

    assert seen == ["A4", "A3", "A2", "A1", "A0"]
    assert pages == 3
    assert subjects(back) == ["A2", "A1"]
    assert page["totalCount"] == 5
