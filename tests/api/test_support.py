"""passTicketToSales, resolveSupportHandOff and escalatedHandOffs (D13)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import (
    EscalationReason,
    OpportunityStage,
    OpportunityType,
    RecordType,
    Role,
    SupportTicketKind,
)
from domain.records import (
    Account,
    Contact,
    Event,
    Lead,
    Opportunity,
    SupportHandOff,
    User,
)
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.opportunities import create_opportunity
from domain.services.routing import set_pool_members
from domain.services.support import pass_ticket_to_sales
from domain.sqltypes import utcnow
from tests.api.ids import gid, raw_id
from tests.api.payloads import codes
from tests.conftest import row_count

HAND_OFF = """
  id version requesterEmail kind reasons escalated ticketReference rule reason pool
  newSalesQuote leadCreated passedAt resolvedAt resolutionNote ageSeconds ageDays
  assignee { id } account { id } opportunity { id } passedBy { id } resolvedBy { id }
  lead { id email initialSource leadSource status personScore owner { id } }
"""
PASS = f"""
mutation($input: PassTicketToSalesInput!) {{
  passTicketToSales(input: $input) {{
    handOff {{ {HAND_OFF} }}
    userErrors {{ code field message }}
  }}
}}"""
RESOLVE = f"""
mutation($input: ResolveSupportHandOffInput!) {{
  resolveSupportHandOff(input: $input) {{
    handOff {{ {HAND_OFF} }}
    userErrors {{ code field message }}
  }}
}}"""
ESCALATED = """
query($assigneeId: ID, $asOf: DateTime, $first: Int, $after: String) {
  escalatedHandOffs(assigneeId: $assigneeId, asOf: $asOf, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id requesterEmail ageSeconds ageDays assignee { id } }
  }
}"""
NODE = """
query($id: ID!) {
  node(id: $id) { ... on SupportHandOff { requesterEmail rule escalated } }
  supportHandOff(id: $id) { id kind }
}"""


async def pass_ticket(
    api: Any,
    user: User,
    email: str,
    kind: str = "NEW_BUSINESS",
    **extra: Any,
) -> dict[str, Any]:
    """Call passTicketToSales; its payload."""
    variables = {"input": {"requesterEmail": email, "kind": kind, **extra}}
    return (await api(PASS, variables, as_user=user)).ok()["passTicketToSales"]


async def an_account(
    make: Any, owner: User | None, domains: list[str], **values: Any
) -> Account:
    """An account created through the service (segment and region derived)."""
    ops = await make.user(Role.SALES_OPS)
    values = {"name": "Acme", "owner_id": owner.id if owner else None, **values}
    return await make.run(
        lambda s: create_account(
            values, session=s, actor=Actor(ops.id, ops.role), domains=domains
        )
    )


async def a_renewal(
    make: Any,
    account: Account,
    owner: User,
    *,
    close_date: date | None = None,
    stage: OpportunityStage | None = None,
    type: OpportunityType = OpportunityType.RENEWAL,
) -> Opportunity:
    """An opportunity on the account (a renewal unless told), in ``stage``."""
    ops = await make.user(Role.SALES_OPS)
    values = {
        "name": f"{account.name} renewal",
        "account_id": account.id,
        "owner_id": owner.id,
        "type": type,
        "close_date": close_date,
    }
    opportunity = await make.run(
        lambda s: create_opportunity(values, session=s, actor=Actor(ops.id, ops.role))
    )
    if stage is not None:

        async def move(s):
            row = await s.get(Opportunity, opportunity.id)
            row.stage = stage

        await make.run(move)
    return opportunity


async def members(make: Any, pool: str, users: list[User]) -> None:
    """Set a routing pool's members (turn order)."""
    ops = await make.user(Role.SALES_OPS)
    await make.run(
        lambda s: set_pool_members(
            pool, [u.id for u in users], session=s, actor=Actor(ops.id, ops.role)
        )
    )


async def events_of(sessions: Any, kind: str) -> list[Event]:
    async with sessions() as s:
        return list(
            (
                await s.execute(
                    select(Event).where(Event.kind == kind).order_by(Event.id)
                )
            )
            .scalars()
            .all()
        )


# --- NEW_BUSINESS ------------------------------------------------------------------


async def test_new_business_from_an_owned_account_goes_to_its_owner_with_an_event(
    api, make, sessions
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    account = await an_account(make, ae, ["acme.example"])

    data = await pass_ticket(
        api, support, "  Jane@EU.Acme.example ", ticketReference="ZD-4711"
    )

    hand_off = data["handOff"]
    assert data["userErrors"] == []
    assert hand_off["rule"] == "ACCOUNT_OWNER"
    assert hand_off["reason"] == (
        "Prospect account 'Acme', found by the domain eu.acme.example, is owned "
        "by a sales rep, who takes the ticket."
    )
    assert hand_off["assignee"] == {"id": gid("User", ae.id)}
    assert hand_off["account"] == {"id": gid("Account", account.id)}
    assert (hand_off["requesterEmail"], hand_off["kind"]) == (
        "jane@eu.acme.example",
        "NEW_BUSINESS",
    )
    assert (hand_off["newSalesQuote"], hand_off["lead"], hand_off["leadCreated"]) == (
        False,
        None,
        False,
    )
    assert (hand_off["reasons"], hand_off["escalated"]) == ([], False)
    assert hand_off["ticketReference"] == "ZD-4711"
    assert (hand_off["pool"], hand_off["opportunity"]) == (None, None)
    assert hand_off["passedBy"] == {"id": gid("User", support.id)}
    assert (hand_off["resolvedAt"], hand_off["version"]) == (None, 1)
    [event] = await events_of(sessions, "TICKET_PASSED_TO_SALES")
    stored_id = raw_id(hand_off["id"])
    assert (event.record_type, event.record_id, event.actor_id) == (
        RecordType.SUPPORT_HAND_OFF,
        stored_id,
        support.id,
    )
    assert event.payload == {
        "ticket_kind": "NEW_BUSINESS",
        "rule": "ACCOUNT_OWNER",
        "assignee_id": ae.id,
        "pool": None,
        "account_id": account.id,
        "opportunity_id": None,
        "lead_id": None,
        "lead_created": False,
        "reasons": [],
        "escalated": False,
    }
    assert await row_count(sessions, Lead) == 0


async def test_a_sales_admin_owned_account_goes_round_robin_to_its_territory(api, make):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    placeholder = await make.user(Role.SALES_ADMIN)
    advocates = [await make.user(Role.CUSTOMER_ADVOCATE) for _ in range(2)]
    await members(make, "CUSTOMER_ADVOCATE_NCSA", advocates)
    await an_account(
        make,
        placeholder,
        ["smallco.example"],
        name="SmallCo",
        number_of_employees=20,
        billing_country="US",
        billing_state="NY",
    )

    turns = [
        (await pass_ticket(api, support, f"buyer{n}@smallco.example"))["handOff"]
        for n in range(3)
    ]

    assert [t["assignee"]["id"] for t in turns] == [
        gid("User", u.id) for u in (*advocates, advocates[0])
    ]
    assert {(t["rule"], t["pool"]) for t in turns} == {
        ("TERRITORY", "CUSTOMER_ADVOCATE_NCSA")
    }
    assert turns[0]["reason"] == (
        "Prospect account 'SmallCo', found by the domain smallco.example, is "
        "owned by the Sales Admin placeholder: its territory decides, SMB segment in "
        "US_EAST: the region's Customer Advocates."
    )


@pytest.mark.parametrize(
    ("owner_role", "owner_active", "account", "pool"),
    [
        (
            None,
            True,
            {"number_of_employees": 5000, "billing_country": "DE"},
            "BDR_EMEA",
        ),
        (
            Role.SALES_OPS,
            True,
            {"number_of_employees": 300, "billing_country": "JP"},
            "BDR_APAC",
        ),
        (Role.AE, False, {"is_named": True, "billing_country": "BR"}, "BDR_LATAM"),
        (
            None,
            True,
            {
                "number_of_employees": 50,
                "billing_country": "US",
                "is_public_sector": True,
            },
            "PUBLIC_SECTOR_SDR",
        ),
        (None, True, {"billing_country": "FR"}, "BDR_PREQUALIFICATION"),
        (None, True, {"number_of_employees": 10}, "BDR_PREQUALIFICATION"),
    ],
    ids=[
        "unowned-large-emea",
        "ops-owned-mid-market-apac",
        "inactive-owner-named-latam",
        "public-sector",
        "unknown-segment",
        "unknown-region",
    ],
)
async def test_an_account_without_a_sales_rep_owner_goes_to_its_territory_pool(
    api, make, owner_role, owner_active, account, pool
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    owner = await make.user(owner_role, active=owner_active) if owner_role else None
    taker = await make.user(Role.BDR)
    await members(make, pool, [taker])
    await an_account(make, owner, ["corp.example"], **account)

    hand_off = (await pass_ticket(api, support, "it@corp.example"))["handOff"]

    assert (hand_off["rule"], hand_off["pool"], hand_off["assignee"]) == (
        "TERRITORY",
        pool,
        {"id": gid("User", taker.id)},
    )


async def test_nobody_available_in_the_territory_leaves_the_ticket_unassigned(
    api, make
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    await an_account(
        make, None, ["corp.example"], number_of_employees=5000, billing_country="FR"
    )

    hand_off = (await pass_ticket(api, support, "it@corp.example"))["handOff"]

    assert (hand_off["rule"], hand_off["pool"], hand_off["assignee"]) == (
        "TERRITORY",
        "BDR_EMEA",
        None,
    )
    assert hand_off["reason"].endswith(
        "Nobody in BDR_EMEA is available: the ticket waits unassigned."
    )


async def test_no_account_answers_new_sales_quote_and_creates_a_support_lead(
    api, make, sessions
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    await an_account(make, await make.user(Role.AE), ["acme.example"])

    data = await pass_ticket(
        api, support, "Pat@NewCo.example", reasons=["PURCHASE_ORDER"]
    )

    hand_off = data["handOff"]
    [lead] = await _all(sessions, Lead)
    assert data["userErrors"] == []
    assert (hand_off["rule"], hand_off["newSalesQuote"], hand_off["leadCreated"]) == (
        "NEW_SALES_QUOTE",
        True,
        True,
    )
    assert hand_off["lead"] == {
        "id": gid("Lead", lead.id),
        "email": "pat@newco.example",
        "initialSource": "Support",
        "leadSource": "Support",
        "status": "RAW",
        "personScore": -5,
        "owner": None,
    }
    assert hand_off["reason"] == (
        "No account matches newco.example: answer with a new sales quote; a lead "
        "with lead source Support tracks the request. A lead was created for this "
        "email."
    )
    assert (hand_off["assignee"], hand_off["account"], hand_off["pool"]) == (
        None,
        None,
        None,
    )
    assert lead.created_by_id == support.id
    [event] = await events_of(sessions, "TICKET_PASSED_TO_SALES")
    assert (event.payload["lead_id"], event.payload["lead_created"]) == (lead.id, True)


async def test_a_new_sales_quote_reuses_the_lead_that_has_the_email(
    api, make, sessions
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    bdr = await make.user(Role.BDR)
    lead = await make.lead(email="pat@newco.example", owner_id=bdr.id)

    hand_off = (await pass_ticket(api, support, "pat@newco.example"))["handOff"]

    assert (hand_off["rule"], hand_off["leadCreated"]) == ("NEW_SALES_QUOTE", False)
    assert hand_off["lead"]["id"] == gid("Lead", lead.id)
    assert hand_off["assignee"] == {"id": gid("User", bdr.id)}
    assert hand_off["reason"].endswith(
        "The lead with this email is reused; its owner takes the ticket."
    )
    assert await row_count(sessions, Lead) == 1


async def test_a_free_mail_email_never_matches_an_account(api, make, sessions):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    await an_account(make, await make.user(Role.AE), ["gmail.com"], name="Google")

    hand_off = (await pass_ticket(api, support, "sam@gmail.com"))["handOff"]

    assert (hand_off["rule"], hand_off["account"], hand_off["leadCreated"]) == (
        "NEW_SALES_QUOTE",
        None,
        True,
    )
    assert hand_off["reason"].startswith(
        "gmail.com is a free-mail domain, so no account can match it: answer with a "
        "new sales quote"
    )
    assert hand_off["lead"]["email"] == "sam@gmail.com"


async def test_a_contact_with_the_exact_email_names_the_account(api, make):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    am = await make.user(Role.AM)
    account = await an_account(make, am, [], name="Initech")

    async def contact(s):
        s.add(
            Contact(
                last_name="Kim",
                email="kim@gmail.com",
                account_id=account.id,
                initial_source="Webcast",
            )
        )

    await make.run(contact)

    hand_off = (await pass_ticket(api, support, "Kim@gmail.com"))["handOff"]

    assert (hand_off["rule"], hand_off["assignee"]) == (
        "ACCOUNT_OWNER",
        {"id": gid("User", am.id)},
    )
    assert hand_off["reason"].startswith(
        "Prospect account 'Initech', found by a contact with this email, is owned"
    )


# --- RENEWAL -----------------------------------------------------------------------


async def test_a_renewal_goes_to_the_owner_of_the_upcoming_open_renewal(api, make):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae, later, sooner, won = [await make.user(Role.AM) for _ in range(4)]
    account = await an_account(make, ae, ["acme.example"])
    today = utcnow().date()
    await a_renewal(make, account, later, close_date=today + timedelta(days=60))
    upcoming = await a_renewal(make, account, sooner, close_date=today + timedelta(30))
    await a_renewal(make, account, ae, close_date=None)
    await a_renewal(
        make, account, won, close_date=today, stage=OpportunityStage.CLOSED_WON
    )
    await a_renewal(
        make, account, won, close_date=today, type=OpportunityType.NEW_BUSINESS
    )

    hand_off = (
        await pass_ticket(
            api,
            support,
            "ops@acme.example",
            "RENEWAL",
            reasons=["USER_COUNT_DOWNGRADE"],
        )
    )["handOff"]

    assert (hand_off["rule"], hand_off["kind"]) == ("RENEWAL_OWNER", "RENEWAL")
    assert hand_off["assignee"] == {"id": gid("User", sooner.id)}
    assert hand_off["opportunity"] == {"id": gid("Opportunity", upcoming.id)}
    assert hand_off["account"] == {"id": gid("Account", account.id)}
    assert hand_off["reason"] == (
        "Prospect account 'Acme', found by the domain acme.example, has the open "
        f"renewal opportunity {upcoming.name!r}; its owner takes the ticket."
    )


async def test_a_renewal_owned_by_the_sales_admin_goes_to_the_smb_territory(api, make):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    placeholder = await make.user(Role.SALES_ADMIN)
    advocate = await make.user(Role.CUSTOMER_ADVOCATE)
    await members(make, "CUSTOMER_ADVOCATE_EMEA", [advocate])
    account = await an_account(
        make,
        placeholder,
        ["bigco.example"],
        name="BigCo",
        number_of_employees=5000,
        billing_country="DE",
    )
    renewal = await a_renewal(make, account, placeholder)

    hand_off = (await pass_ticket(api, support, "it@bigco.example", "RENEWAL"))[
        "handOff"
    ]

    assert (hand_off["rule"], hand_off["pool"], hand_off["assignee"]) == (
        "SMB_TERRITORY",
        "CUSTOMER_ADVOCATE_EMEA",
        {"id": gid("User", advocate.id)},
    )
    assert hand_off["opportunity"] == {"id": gid("Opportunity", renewal.id)}
    assert hand_off["reason"] == (
        "Prospect account 'BigCo', found by the domain bigco.example, has the "
        f"open renewal opportunity {renewal.name!r}, which is owned by the Sales Admin "
        "placeholder: the SMB territory decides, SMB segment in EMEA: the region's "
        "Customer Advocates."
    )


async def test_a_renewal_without_an_open_renewal_goes_to_the_account_owner(api, make):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    am = await make.user(Role.AM)
    account = await an_account(make, am, ["acme.example"])
    await a_renewal(make, account, am, stage=OpportunityStage.CLOSED_LOST)

    hand_off = (await pass_ticket(api, support, "ops@acme.example", "RENEWAL"))[
        "handOff"
    ]

    assert (hand_off["rule"], hand_off["assignee"], hand_off["opportunity"]) == (
        "RENEWAL_ACCOUNT_OWNER",
        {"id": gid("User", am.id)},
        None,
    )
    assert hand_off["reason"] == (
        "Prospect account 'Acme', found by the domain acme.example, has no open "
        "renewal opportunity; the account owner takes the ticket."
    )


async def test_a_renewal_without_renewal_or_sales_rep_owner_goes_to_the_smb_territory(
    api, make
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    advocate = await make.user(Role.CUSTOMER_ADVOCATE)
    await members(make, "CUSTOMER_ADVOCATE_APAC", [advocate])
    await an_account(make, None, ["acme.example"], billing_country="AU")

    hand_off = (await pass_ticket(api, support, "ops@acme.example", "RENEWAL"))[
        "handOff"
    ]

    assert (hand_off["rule"], hand_off["pool"], hand_off["assignee"]) == (
        "SMB_TERRITORY",
        "CUSTOMER_ADVOCATE_APAC",
        {"id": gid("User", advocate.id)},
    )
    assert hand_off["reason"] == (
        "Prospect account 'Acme', found by the domain acme.example, has no open "
        "renewal opportunity, and the account has no owner: the SMB territory "
        "decides, SMB segment in APAC: the region's Customer Advocates."
    )


@pytest.mark.parametrize(
    ("email", "message"),
    [
        (
            "it@nowhere.example",
            "No account has the domain nowhere.example and no contact has this email: "
            "a renewal needs the customer's account. Find the account, or pass the "
            "ticket as NEW_BUSINESS.",
        ),
        (
            "it@gmail.com",
            "gmail.com is a free-mail domain and no contact has this email: a renewal "
            "needs the customer's account. Find the account, or pass the ticket as "
            "NEW_BUSINESS.",
        ),
    ],
)
async def test_a_renewal_without_an_account_is_refused_and_writes_nothing(
    api, make, sessions, email, message
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    await an_account(make, await make.user(Role.AE), ["gmail.com"])

    data = await pass_ticket(api, support, email, "RENEWAL", reasons=["CREDIT_REQUEST"])

    assert data["handOff"] is None
    assert data["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["requesterEmail"], "message": message}
    ]
    assert await row_count(sessions, SupportHandOff) == 0
    assert await row_count(sessions, Lead) == 0
    assert await row_count(sessions, Event) == 0


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"requesterEmail": "not-an-email"}, [("INVALID_INPUT", ["requesterEmail"])]),
        ({"requesterEmail": "pat@newco"}, [("INVALID_INPUT", ["requesterEmail"])]),
        (
            {"requesterEmail": "pat @newco.example"},
            [("INVALID_INPUT", ["requesterEmail"])],
        ),
        ({"requesterEmail": "  "}, [("MISSING_FIELD", ["requesterEmail"])]),
        ({"ticketReference": "Z" * 121}, [("INVALID_INPUT", ["ticketReference"])]),
    ],
    ids=["no-at", "no-tld", "space", "blank", "long-reference"],
)
async def test_bad_input_is_refused_and_writes_nothing(
    api, make, sessions, extra, expected
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    variables = {"requesterEmail": "pat@newco.example", "kind": "NEW_BUSINESS", **extra}

    data = (await api(PASS, {"input": variables}, as_user=support)).ok()[
        "passTicketToSales"
    ]

    assert data["handOff"] is None
    assert codes(data) == expected
    assert await row_count(sessions, SupportHandOff) == 0
    assert await row_count(sessions, Lead) == 0
    assert await row_count(sessions, Event) == 0


async def test_an_unknown_kind_or_reason_is_a_typed_input_error(api, make, sessions):
    support = await make.user(Role.CUSTOMER_SUCCESS)

    kind = await api(
        PASS,
        {"input": {"requesterEmail": "a@b.example", "kind": "ADD_ON"}},
        as_user=support,
    )
    reason = await api(
        PASS,
        {
            "input": {
                "requesterEmail": "a@b.example",
                "kind": "RENEWAL",
                "reasons": ["BORED"],
            }
        },
        as_user=support,
    )

    assert [e["code"] for e in kind.errors] == ["INVALID_INPUT"]
    assert [e["code"] for e in reason.errors] == ["INVALID_INPUT"]
    assert await row_count(sessions, SupportHandOff) == 0


# --- escalation and the daily list ---------------------------------------------------


async def test_escalation_reasons_are_recorded_once_each_in_a_stable_order(
    api, make, sessions
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    await an_account(make, ae, ["acme.example"])

    hand_off = (
        await pass_ticket(
            api,
            support,
            "buyer@acme.example",
            reasons=[
                "QUOTE_REQUIRED",
                "NON_CARD_PAYMENT_OVER_1000_USD",
                "QUOTE_REQUIRED",
            ],
        )
    )["handOff"]
    node = (await api(NODE, {"id": hand_off["id"]}, as_user=ae)).ok()

    assert (hand_off["reasons"], hand_off["escalated"]) == (
        ["NON_CARD_PAYMENT_OVER_1000_USD", "QUOTE_REQUIRED"],
        True,
    )
    assert node == {
        "node": {
            "requesterEmail": "buyer@acme.example",
            "rule": "ACCOUNT_OWNER",
            "escalated": True,
        },
        "supportHandOff": {"id": hand_off["id"], "kind": "NEW_BUSINESS"},
    }
    [event] = await events_of(sessions, "TICKET_PASSED_TO_SALES")
    assert (event.payload["reasons"], event.payload["escalated"]) == (
        ["NON_CARD_PAYMENT_OVER_1000_USD", "QUOTE_REQUIRED"],
        True,
    )


async def passed_days_ago(
    make: Any,
    by: User,
    email: str,
    days: float,
    reasons: list[EscalationReason],
    *,
    now: Any = None,
) -> SupportHandOff:
    """A hand-off passed ``days`` before ``now`` (default ``NOW``), on the service's
    clock."""
    return await make.run(
        lambda s: pass_ticket_to_sales(
            {
                "requester_email": email,
                "kind": SupportTicketKind.NEW_BUSINESS,
                "reasons": reasons,
            },
            session=s,
            actor=Actor(by.id, by.role),
            now=(now or NOW) - timedelta(days=days),
        )
    )


NOW = utcnow().replace(microsecond=0)


async def test_the_daily_list_has_open_escalated_hand_offs_oldest_first_with_ages(
    api, make
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae, am = await make.user(Role.AE), await make.user(Role.AM)
    await an_account(make, ae, ["acme.example"])
    await an_account(make, am, ["initech.example"], name="Initech")
    po = [EscalationReason.PURCHASE_ORDER]
    newest = await passed_days_ago(make, support, "a@acme.example", 0.5, po)
    oldest = await passed_days_ago(make, support, "b@initech.example", 3.25, po)
    middle = await passed_days_ago(make, support, "c@acme.example", 2, po)
    await passed_days_ago(make, support, "quiet@acme.example", 5, [])
    resolved = await passed_days_ago(make, support, "d@acme.example", 4, po)
    await make.run(lambda s: _resolve(s, resolved.id, support, NOW - timedelta(days=1)))

    everyone = (await api(ESCALATED, {"asOf": NOW.isoformat()}, as_user=support)).ok()[
        "escalatedHandOffs"
    ]
    of_ae = (
        await api(
            ESCALATED,
            {"asOf": NOW.isoformat(), "assigneeId": gid("User", ae.id)},
            as_user=support,
        )
    ).ok()["escalatedHandOffs"]
    two_days_back = (
        await api(
            ESCALATED,
            {"asOf": (NOW - timedelta(days=2)).isoformat()},
            as_user=support,
        )
    ).ok()["escalatedHandOffs"]

    assert [
        (n["requesterEmail"], n["ageSeconds"], n["ageDays"]) for n in everyone["nodes"]
    ] == [
        ("b@initech.example", 3 * 86400 + 6 * 3600, 3),
        ("c@acme.example", 2 * 86400, 2),
        ("a@acme.example", 12 * 3600, 0),
    ]
    assert everyone["totalCount"] == 3
    assert [n["id"] for n in everyone["nodes"]] == [
        gid("SupportHandOff", h.id) for h in (oldest, middle, newest)
    ]
    assert [n["requesterEmail"] for n in of_ae["nodes"]] == [
        "c@acme.example",
        "a@acme.example",
    ]
    assert {n["assignee"]["id"] for n in of_ae["nodes"]} == {gid("User", ae.id)}
    # A resolved hand-off's age stopped when it was resolved (4 days - 1 day).
    assert (
        await api(
            "query($id: ID!) { supportHandOff(id: $id) { ageSeconds ageDays } }",
            {"id": gid("SupportHandOff", resolved.id)},
            as_user=support,
        )
    ).ok()["supportHandOff"] == {"ageSeconds": 3 * 86400, "ageDays": 3}
    # Two days back, the resolved one was still open and the newest not yet passed.
    assert [(n["requesterEmail"], n["ageSeconds"]) for n in two_days_back["nodes"]] == [
        ("d@acme.example", 2 * 86400),
        ("b@initech.example", 1 * 86400 + 6 * 3600),
        ("c@acme.example", 0),
    ]


async def _resolve(s: Any, hand_off_id: int, by: User, at: Any) -> SupportHandOff:
    from domain.services.support import resolve_hand_off

    return await resolve_hand_off(
        hand_off_id, session=s, actor=Actor(by.id, by.role), note="done", now=at
    )


async def test_the_daily_list_pages_with_cursors(api, make):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    await an_account(make, await make.user(Role.AE), ["acme.example"])
    for n in range(5):
        await passed_days_ago(
            make,
            support,
            f"p{n}@acme.example",
            5 - n,
            [EscalationReason.CREDIT_REQUEST],
        )
    variables = {"asOf": NOW.isoformat(), "first": 2}

    first = (await api(ESCALATED, variables, as_user=support)).ok()["escalatedHandOffs"]
    after = first["pageInfo"]["endCursor"]
    second = (
        await api(ESCALATED, {**variables, "after": after}, as_user=support)
    ).ok()["escalatedHandOffs"]

    assert [n["ageDays"] for n in first["nodes"]] == [5, 4]
    assert [n["ageDays"] for n in second["nodes"]] == [3, 2]
    assert (first["pageInfo"]["hasNextPage"], second["pageInfo"]["hasNextPage"]) == (
        True,
        True,
    )


async def test_resolving_takes_a_hand_off_off_the_list_and_freezes_its_age(
    api, make, sessions
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    await an_account(make, ae, ["acme.example"])
    hand_off = await passed_days_ago(
        make,
        support,
        "a@acme.example",
        2,
        [EscalationReason.CANCELLATION_OR_REFUND],
        now=utcnow(),
    )
    hid = gid("SupportHandOff", hand_off.id)

    data = (
        await api(
            RESOLVE,
            {"input": {"id": hid, "note": "Refund agreed", "expectedVersion": 1}},
            as_user=ae,
        )
    ).ok()["resolveSupportHandOff"]
    listed = (await api(ESCALATED, {}, as_user=support)).ok()["escalatedHandOffs"]

    done = data["handOff"]
    assert data["userErrors"] == []
    assert (done["resolutionNote"], done["resolvedBy"], done["version"]) == (
        "Refund agreed",
        {"id": gid("User", ae.id)},
        2,
    )
    assert done["resolvedAt"] is not None
    assert 2 * 86400 <= done["ageSeconds"] < 2 * 86400 + 60
    assert listed["nodes"] == []
    assert listed["totalCount"] == 0
    [event] = await events_of(sessions, "SUPPORT_HAND_OFF_RESOLVED")
    assert (event.record_type, event.record_id, event.actor_id) == (
        RecordType.SUPPORT_HAND_OFF,
        hand_off.id,
        ae.id,
    )
    assert event.payload["escalated"] is True
    assert 2 * 86400 <= event.payload["age_seconds"] < 2 * 86400 + 60


async def test_resolving_is_refused_for_strangers_stale_versions_and_twice(
    api, make, sessions
):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    stranger = await make.user(Role.SDR)
    ops = await make.user(Role.SALES_OPS)
    await an_account(make, ae, ["acme.example"])
    hand_off = await passed_days_ago(
        make, support, "a@acme.example", 1, [EscalationReason.TIER_DOWNGRADE]
    )
    hid = gid("SupportHandOff", hand_off.id)

    async def resolve(user: User, **extra: Any) -> dict[str, Any]:
        variables = {"input": {"id": hid, **extra}}
        return (await api(RESOLVE, variables, as_user=user)).ok()[
            "resolveSupportHandOff"
        ]

    forbidden = await resolve(stranger)
    stale = await resolve(ops, expectedVersion=7)
    unchanged = await _stored(sessions, hand_off.id)
    by_passer = await resolve(support)
    twice = await resolve(ops)
    wrong_id = await resolve(ops, id=gid("Lead", hand_off.id))

    assert codes(forbidden) == [("FORBIDDEN", None)]
    assert codes(stale) == [("STALE_VERSION", ["expectedVersion"])]
    assert (unchanged.version, unchanged.resolved_at) == (1, None)
    assert by_passer["userErrors"] == []
    assert by_passer["handOff"]["resolvedBy"] == {"id": gid("User", support.id)}
    assert codes(twice) == [("FINAL_STATE", ["id"])]
    assert codes(wrong_id) == [("INVALID_INPUT", ["id"])]
    assert len(await events_of(sessions, "SUPPORT_HAND_OFF_RESOLVED")) == 1


async def _stored(sessions: Any, hand_off_id: int) -> SupportHandOff:
    async with sessions() as s:
        return await s.get(SupportHandOff, hand_off_id)


async def _all(sessions: Any, model: type) -> list[Any]:
    async with sessions() as s:
        return list((await s.execute(select(model))).scalars().all())


# --- idempotency ---------------------------------------------------------------------


async def test_a_repeated_ticket_with_the_same_key_is_passed_once(api, make, sessions):
    support = await make.user(Role.CUSTOMER_SUCCESS)
    advocates = [await make.user(Role.CUSTOMER_ADVOCATE) for _ in range(2)]
    await members(make, "CUSTOMER_ADVOCATE_NCSA", advocates)
    await an_account(
        make, None, ["smallco.example"], number_of_employees=5, billing_country="US"
    )
    ticket = {"idempotencyKey": "ZD-1", "reasons": ["PURCHASE_ORDER"]}

    first = await pass_ticket(api, support, "a@smallco.example", **ticket)
    again = await pass_ticket(api, support, "a@smallco.example", **ticket)
    other = await pass_ticket(api, support, "b@smallco.example", **ticket)

    assert again["handOff"]["id"] == first["handOff"]["id"]
    assert again["handOff"]["assignee"] == {"id": gid("User", advocates[0].id)}
    assert codes(other) == [("IDEMPOTENCY_KEY_REUSED", ["idempotencyKey"])]
    assert await row_count(sessions, SupportHandOff) == 1
    assert len(await events_of(sessions, "TICKET_PASSED_TO_SALES")) == 1


async def test_the_hand_off_reads_customer_or_prospect_from_the_won_deals(
    api, make, sessions
):
    """003_b3e2853270aa1037.txt: "Note the Type field in the SFDC account record
    (Customer vs. Prospect)" — a web-direct purchase (won NEW_BUSINESS) made the
    account a customer, and the hand-off says so."""
    support = await make.user(Role.CUSTOMER_SUCCESS)
    ae = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    account = await an_account(make, ae, ["acme.example"])
    await make.run(
        lambda s: create_opportunity(
            {
                "name": "Acme web store",
                "account_id": account.id,
                "stage": OpportunityStage.CLOSED_WON,
                "sales_qualification_source": "WEB_DIRECT",
            },
            session=s,
            actor=Actor(ops.id, ops.role),
        )
    )

    data = await pass_ticket(api, support, "kim@acme.example")

    assert data["handOff"]["reason"] == (
        "Customer account 'Acme', found by the domain acme.example, is "
        "owned by a sales rep, who takes the ticket."
    )
    async with sessions() as s:
        stored = await s.get(Account, account.id)
    assert stored.type == "CUSTOMER" and stored.customer_since is not None
