"""Events (D10): routing notifications to the account team, and the `events` list."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from api.accounts import AccountNode
from api.leads import LeadNode
from api.users import UserNode
from domain.enums import LeadStatus, OpportunityStage, Role
from domain.records import Account, Event, Lead, Opportunity, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.opportunities import create_opportunity
from domain.sqltypes import utcnow
from tests.api.ids import gid

RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) { lead { owner { id } } userErrors { code } }
}"""
ADD_TEAM = """
mutation($input: AddAccountTeamMemberInput!) {
  addAccountTeamMember(input: $input) { userErrors { code field } }
}"""
EVENTS = """
query($filter: EventFilter, $order: EventOrder, $first: Int, $after: String) {
  events(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id type recordType recordId payload actor { id }
      recipients { capacity user { id } }
      record { ... on Lead { id email } }
    }
  }
}"""


def uid(user: User) -> str:
    return gid(UserNode, user.id)


async def an_account(
    make: Any, ops: User, owner: User, *, is_named: bool = False
) -> Account:
    return await make.run(
        lambda s: create_account(
            {"name": "Initech", "owner_id": owner.id, "is_named": is_named},
            session=s,
            actor=Actor(ops.id, ops.role),
            domains=["initech.example"],
        )
    )


async def join(api: Any, ops: User, account: Account, user: User, role: str) -> None:
    data = (
        await api(
            ADD_TEAM,
            {
                "input": {
                    "accountId": gid(AccountNode, account.id),
                    "userId": uid(user),
                    "role": role,
                }
            },
            as_user=ops,
        )
    ).ok()["addAccountTeamMember"]
    assert data["userErrors"] == []


async def engage(api: Any, ops: User, lead: Any, kind: str) -> None:
    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid(LeadNode, lead.id), "kind": kind}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]
    assert data["userErrors"] == []


async def events(api: Any, as_user: User, **variables: Any) -> dict[str, Any]:
    return (await api(EVENTS, variables, as_user=as_user)).ok()["events"]


def summary(nodes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(type, recipients as (capacity, user id)) of each event."""
    return [
        (n["type"], [(r["capacity"], r["user"]["id"]) for r in n["recipients"]])
        for n in nodes
    ]


async def test_a_strategic_inbound_lead_notifies_the_accounts_sals(api, make):
    ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    second_sal = await make.user(Role.SAL)
    retired_sal = await make.user(Role.SAL, active=False)
    sdr = await make.user(Role.SDR)
    account = await an_account(make, ops, sal, is_named=True)
    for user, role in ((second_sal, "SAL"), (retired_sal, "SAL"), (sdr, "SDR")):
        await join(api, ops, account, user, role)
    lead = await make.lead(by=ops, email="bill@initech.example")

    await engage(api, ops, lead, "CONTACT_US_REQUEST")
    found = await events(api, ops, filter={"type": ["STRATEGIC_ACCOUNT_INBOUND"]})

    assert found["nodes"] == [
        {
            "id": found["nodes"][0]["id"],
            "type": "STRATEGIC_ACCOUNT_INBOUND",
            "recordType": "LEAD",
            "recordId": gid(LeadNode, lead.id),
            "payload": {
                "account_id": account.id,
                "account_owner_id": sal.id,
                "rule": "NAMED_ACCOUNT",
                "assignee_id": sal.id,
            },
            "actor": {"id": uid(ops)},
            "recipients": [
                {"capacity": "SAL", "user": {"id": uid(sal)}},
                {"capacity": "SAL", "user": {"id": uid(second_sal)}},
            ],
            "record": {"id": gid(LeadNode, lead.id), "email": "bill@initech.example"},
        }
    ]


async def test_a_professional_services_request_notifies_the_sal_the_sdr_and_the_csm(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    sdr = await make.user(Role.SDR)
    csm = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    account = await an_account(make, ops, sal)
    for user, role in ((csm, "CUSTOMER_SUCCESS"), (ae, "AE"), (sdr, "SDR")):
        await join(api, ops, account, user, role)
    lead = await make.lead(by=ops, email="milton@initech.example")

    await engage(api, ops, lead, "PROFESSIONAL_SERVICES_REQUEST")
    about_lead = await events(api, ops, filter={"recordId": gid(LeadNode, lead.id)})

    # In writing order: the score, RAW -> INQUIRY -> MQL, the routing, the
    # notification (the AE on the team is not told).
    assert summary(about_lead["nodes"]) == [
        ("LEAD_SCORE_CHANGED", []),
        ("LEAD_STATUS_CHANGED", []),
        ("LEAD_STATUS_CHANGED", []),
        ("LEAD_ROUTED", []),
        (
            "PROFESSIONAL_SERVICES_REQUEST",
            [
                ("SAL", uid(sal)),
                ("SDR", uid(sdr)),
                ("CUSTOMER_SUCCESS", uid(csm)),
            ],
        ),
    ]
    notification = about_lead["nodes"][4]
    assert notification["payload"] == {
        "account_id": account.id,
        "account_owner_id": sal.id,
        "rule": "PROFESSIONAL_SERVICES",
        "assignee_id": sal.id,
    }


async def test_a_named_accounts_professional_services_request_raises_both(api, make):
    ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    csm = await make.user(Role.CUSTOMER_SUCCESS)
    account = await an_account(make, ops, sal, is_named=True)
    await join(api, ops, account, csm, "CUSTOMER_SUCCESS")
    lead = await make.lead(by=ops, email="joanna@initech.example")

    await engage(api, ops, lead, "PROFESSIONAL_SERVICES_REQUEST")
    found = await events(
        api,
        ops,
        filter={"type": ["STRATEGIC_ACCOUNT_INBOUND", "PROFESSIONAL_SERVICES_REQUEST"]},
    )

    assert summary(found["nodes"]) == [
        ("STRATEGIC_ACCOUNT_INBOUND", [("SAL", uid(sal))]),
        (
            "PROFESSIONAL_SERVICES_REQUEST",
            [("SAL", uid(sal)), ("CUSTOMER_SUCCESS", uid(csm))],
        ),
    ]


async def test_a_professional_services_request_without_an_account_tells_nobody(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(by=ops, email="solo@nowhere.example", company="Solo")

    await engage(api, ops, lead, "PROFESSIONAL_SERVICES_REQUEST")
    found = await events(api, ops, filter={"type": ["PROFESSIONAL_SERVICES_REQUEST"]})

    assert summary(found["nodes"]) == [("PROFESSIONAL_SERVICES_REQUEST", [])]
    assert found["nodes"][0]["payload"] == {
        "account_id": None,
        "account_owner_id": None,
        "rule": "PROFESSIONAL_SERVICES",
        "assignee_id": None,
    }


async def test_a_users_notifications_are_the_events_addressed_to_them(api, make):
    ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    other_sal = await make.user(Role.SAL)
    mine = await an_account(make, ops, sal, is_named=True)
    await make.run(
        lambda s: create_account(
            {"name": "Umbrella", "owner_id": other_sal.id, "is_named": True},
            session=s,
            actor=Actor(ops.id, ops.role),
            domains=["umbrella.example"],
        )
    )
    for n in range(3):
        await engage(
            api,
            ops,
            await make.lead(by=ops, email=f"a{n}@initech.example"),
            "CONTACT_US_REQUEST",
        )
        await engage(
            api,
            ops,
            await make.lead(by=ops, email=f"b{n}@umbrella.example"),
            "CONTACT_US_REQUEST",
        )

    def leads_of(nodes):
        return [n["record"]["email"] for n in nodes]

    first_page = await events(
        api,
        sal,
        filter={"recipientId": uid(sal)},
        order={"field": "ID", "direction": "DESC"},
        first=2,
    )
    second_page = await events(
        api,
        sal,
        filter={"recipientId": uid(sal)},
        order={"field": "ID", "direction": "DESC"},
        first=2,
        after=first_page["pageInfo"]["endCursor"],
    )

    assert first_page["totalCount"] == 3
    assert leads_of(first_page["nodes"]) == [
        "a2@initech.example",
        "a1@initech.example",
    ]
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert leads_of(second_page["nodes"]) == ["a0@initech.example"]
    assert second_page["pageInfo"]["hasNextPage"] is False
    assert all(
        n["payload"]["account_id"] == mine.id
        for n in first_page["nodes"] + second_page["nodes"]
    )


async def test_events_filter_by_actor_and_time_window(api, make, sessions):
    ops = await make.user(Role.SALES_OPS)
    marketing = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    start = utcnow()
    await engage(api, marketing, lead, "WEBCAST_REGISTRATION")
    end = utcnow()

    by_marketing = await events(api, ops, filter={"actorId": uid(marketing)})
    inside = await events(
        api,
        ops,
        filter={"occurredAfter": start.isoformat(), "occurredBefore": end.isoformat()},
    )
    before = await events(
        api, ops, filter={"occurredBefore": (start - timedelta(hours=1)).isoformat()}
    )

    assert [n["type"] for n in by_marketing["nodes"]] == [
        "LEAD_SCORE_CHANGED",
        "LEAD_STATUS_CHANGED",
    ]
    assert inside["nodes"] == by_marketing["nodes"]
    assert before["nodes"] == []
    async with sessions() as s:
        total = (await s.execute(select(func.count()).select_from(Event))).scalar_one()
    assert (await events(api, ops))["totalCount"] == total


async def test_an_events_filter_with_an_id_of_another_kind_is_invalid_input(api, make):
    ops = await make.user(Role.SALES_OPS)

    bad_record = await api(EVENTS, {"filter": {"recordId": "bm9wZTox"}}, as_user=ops)
    bad_user = await api(
        EVENTS, {"filter": {"recipientId": gid(LeadNode, 1)}}, as_user=ops
    )

    assert [(e["code"], e["field"]) for e in bad_record.errors] == [
        ("INVALID_INPUT", ["recordId"])
    ]
    assert [(e["code"], e["field"]) for e in bad_user.errors] == [
        ("INVALID_INPUT", ["recipientId"])
    ]


PAGE = """
query($first: Int!) {
  events(first: $first) {
    nodes {
      type actor { name } recipients { capacity user { name } }
      record { ... on Lead { lastName } ... on Account { name } }
    }
  }
}"""


async def test_a_page_of_200_events_costs_as_many_statements_as_a_page_of_10(
    api, make, count_statements
):
    ops = await make.user(Role.SALES_OPS)
    owners = [await make.user(Role.BDR) for _ in range(5)]
    for n in range(100):
        await make.run(
            lambda s, n=n: create_account(
                {"name": f"A{n}", "owner_id": owners[n % 5].id},
                session=s,
                actor=Actor(ops.id, ops.role),
            )
        )
    for n in range(100):
        # Each lead created with an owner writes LEAD_ASSIGNED to that owner, each
        # account handed on ACCOUNT_ASSIGNED to both owners: the types alternate.
        await make.lead(by=ops, owner_id=owners[n % 5].id, last_name=f"L{n}")
        await api(
            """mutation($input: UpdateAccountInput!) {
                 updateAccount(input: $input) { userErrors { code } } }""",
            {
                "input": {
                    "id": gid(AccountNode, n + 1),
                    "ownerId": uid(owners[(n + 1) % 5]),
                }
            },
            as_user=ops,
        )

    with count_statements() as small:
        ten = (await api(PAGE, {"first": 10}, as_user=ops)).ok()["events"]["nodes"]
    with count_statements() as large:
        two_hundred = (await api(PAGE, {"first": 200}, as_user=ops)).ok()["events"][
            "nodes"
        ]

    assert len(ten) == 10 and len(two_hundred) == 200
    assert two_hundred[14] == {
        "type": "LEAD_ASSIGNED",
        "actor": {"name": ops.name},
        "recipients": [{"capacity": "NEW_OWNER", "user": {"name": owners[2].name}}],
        "record": {"lastName": "L7"},
    }
    assert two_hundred[15] == {
        "type": "ACCOUNT_ASSIGNED",
        "actor": {"name": ops.name},
        "recipients": [
            {"capacity": "NEW_OWNER", "user": {"name": owners[3].name}},
            {"capacity": "PREVIOUS_OWNER", "user": {"name": owners[2].name}},
        ],
        "record": {"name": "A7"},
    }
    assert small.count == large.count


# --- round 2: every event names its recipients; every record resolves ------------------

PASS = """
mutation($input: PassTicketToSalesInput!) {
  passTicketToSales(input: $input) { handOff { id } userErrors { code } }
}"""
CONVERT = """
mutation($input: ConvertLeadInput!) {
  convertLead(input: $input) { opportunity { id } userErrors { code field } }
}"""
MOVE = """
mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) { opportunity { stage } userErrors { code } }
}"""


def told(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(capacity, user id) of each recipient of an event node."""
    return [(r["capacity"], r["user"]["id"]) for r in event["recipients"]]


async def events_of_type(api: Any, ops: User, kind: str) -> list[dict[str, Any]]:
    page = (await api(EVENTS, {"filter": {"type": [kind]}}, as_user=ops)).ok()
    return page["events"]["nodes"]


def test_every_kind_of_record_an_event_is_about_has_a_node():
    """D10: "the record an event is about resolves for every record type"."""
    from api.events import NODE_OF
    from domain.enums import RecordType

    assert set(NODE_OF) == set(RecordType)


async def test_a_support_hand_off_event_resolves_its_record_and_filters_by_it(
    api, make
):
    """D10: "the record an event is about resolves for every record type" — a
    TICKET_PASSED_TO_SALES event answered INTERNAL_ERROR for its recordId."""
    ops = await make.user(Role.SALES_OPS)
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    await an_account(make, ops, ae)
    passed = (
        await api(
            PASS,
            {"input": {"requesterEmail": "jo@initech.example", "kind": "NEW_BUSINESS"}},
            as_user=support,
        )
    ).ok()["passTicketToSales"]
    hand_off = passed["handOff"]["id"]

    result = await api(EVENTS, {"filter": {"recordId": hand_off}}, as_user=ops)

    [event] = result.ok()["events"]["nodes"]
    assert (event["type"], event["recordType"], event["recordId"]) == (
        "TICKET_PASSED_TO_SALES",
        "SUPPORT_HAND_OFF",
        hand_off,
    )


@pytest.mark.parametrize("escalated", [False, True])
async def test_a_ticket_passed_to_sales_is_addressed_to_the_rep_and_when_escalated_the_manager(
    api, make, escalated
):
    """003_b3e2853270aa1037.txt: "pass the ticket to the Account Owner listed using
    the Pass to Sales ZD macro" and, for escalated tickets, "Copy the manager" (the
    rep's manager: the region's RD)."""
    ops = await make.user(Role.SALES_OPS)
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE, region="EMEA")
    rd = await make.user(Role.RD, region="EMEA")
    await make.user(Role.RD, region="APAC")
    await an_account(make, ops, ae)
    reasons = ["PURCHASE_ORDER"] if escalated else []

    await api(
        PASS,
        {
            "input": {
                "requesterEmail": "jo@initech.example",
                "kind": "NEW_BUSINESS",
                "reasons": reasons,
            }
        },
        as_user=support,
    )

    [event] = await events_of_type(api, ops, "TICKET_PASSED_TO_SALES")
    expected = [("ASSIGNEE", uid(ae))] + ([("MANAGER", uid(rd))] if escalated else [])
    assert told(event) == expected


async def test_attaching_a_lead_to_an_opportunity_notifies_every_owner_on_the_account(
    api, make
):
    """002_91dd8e67a169a832.txt: "BDR will convert the LEAD record to a CONTACT and
    relate it to the existing `Opportunity` ... the BDR will notify all Account
    Owners to maintain open and transparent communication between all parties"."""
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    sal = await make.user(Role.SAL)
    ae = await make.user(Role.AE)
    sdr = await make.user(Role.SDR)
    account = await an_account(make, ops, sal)
    await join(api, ops, account, sdr, "SDR")
    await join(api, ops, account, bdr, "SDR")  # the converting BDR is not told
    deal = await make.run(
        lambda s: create_opportunity(
            {"name": "Initech expansion", "account_id": account.id, "owner_id": ae.id},
            session=s,
            actor=Actor(ops.id, ops.role),
        )
    )
    lead = await make.lead(by=ops, owner_id=bdr.id, email="kim@initech.example")

    async def qualifying(s):
        (await s.get(Lead, lead.id)).status = LeadStatus.QUALIFYING

    await make.run(qualifying)

    data = (
        await api(
            CONVERT,
            {
                "input": {
                    "id": gid(LeadNode, lead.id),
                    "opportunityId": gid("Opportunity", deal.id),
                }
            },
            as_user=bdr,
        )
    ).ok()["convertLead"]

    assert data["userErrors"] == []
    [event] = await events_of_type(api, ops, "LEAD_CONVERTED")
    assert told(event) == [
        ("ACCOUNT_OWNER", uid(sal)),
        ("OPPORTUNITY_OWNER", uid(ae)),
        ("ACCOUNT_TEAM", uid(sdr)),
    ]


async def test_a_lost_deal_alert_goes_to_the_owner_and_their_manager(api, make):
    """002_91dd8e67a169a832.txt, 8-Closed Lost: "for new business deals where the
    opportunity is with a Large/Strategic account OR the Incremental Annual
    Contract Value (IACV) is equal or greater than USD 12,000, then a notification
    will be sent to the #lost-deals Slack channel"."""
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE, region="US_EAST")
    rd = await make.user(Role.RD, region="US_EAST")
    account = await an_account(make, ops, ae)
    deal = await make.run(
        lambda s: create_opportunity(
            {
                "name": "Initech - 900 seats",
                "account_id": account.id,
                "owner_id": ae.id,
                "incremental_acv": Decimal("50000"),
            },
            session=s,
            actor=Actor(ops.id, ops.role),
        )
    )

    async def in_discovery(s):
        row = await s.get(Opportunity, deal.id)
        row.stage = OpportunityStage.DISCOVERY
        row.sales_accepted_date = utcnow()

    await make.run(in_discovery)

    data = (
        await api(
            MOVE,
            {
                "input": {
                    "id": gid("Opportunity", deal.id),
                    "to": "CLOSED_LOST",
                    "fields": {
                        "closedLostReasons": ["PRICING"],
                        "closedLostDetail": "Went with the incumbent",
                    },
                }
            },
            as_user=ae,
        )
    ).ok()["moveOpportunityStage"]

    assert data["userErrors"] == []
    [event] = await events_of_type(api, ops, "LOST_DEAL_ALERT")
    assert told(event) == [("OWNER", uid(ae)), ("MANAGER", uid(rd))]


async def test_unqualified_feedback_goes_to_the_team_lead_the_owner_and_the_sourcer(
    api, make
):
    """002_91dd8e67a169a832.txt, 9-Unqualified: "A notification will be sent to BDR
    or SDR Team Lead and a feedback session should be scheduled between AE and
    Team Lead" (no team lead is recorded: SALES_OPS stands in)."""
    ops = await make.user(Role.SALES_OPS)
    other_ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    ae = await make.user(Role.AE)
    account = await an_account(make, ops, ae)
    deal = await make.run(
        lambda s: create_opportunity(
            {
                "name": "Initech",
                "account_id": account.id,
                "owner_id": ae.id,
                "business_problem": "None really",
            },
            session=s,
            actor=Actor(bdr.id, bdr.role),
        )
    )

    data = (
        await api(
            MOVE,
            {
                "input": {
                    "id": gid("Opportunity", deal.id),
                    "to": "UNQUALIFIED",
                    "reason": "No project",
                }
            },
            as_user=ae,
        )
    ).ok()["moveOpportunityStage"]

    assert data["userErrors"] == []
    [event] = await events_of_type(api, ops, "UNQUALIFIED_OPPORTUNITY_FEEDBACK")
    assert told(event) == [
        ("TEAM_LEAD", uid(ops)),
        ("TEAM_LEAD", uid(other_ops)),
        ("OWNER", uid(ae)),
        ("SOURCING_REP", uid(bdr)),
    ]
