"""Reports (D11, A5): pipeline, salesAcceptedOpportunities, stageVelocity,
salesCapacity, initialSourceTypes — on hand-built data with known answers.

``build_report_data`` is the book of deals every report test reads (the
lead's cross-database parity test reuses it): fifteen opportunities at four
accounts, created and moved through the real services at fixed instants, so
the ledger, the SAO/SQO dates and the close dates are exactly as written
below. Durations are whole days (``DAY`` seconds).

| deal | owner | account (segment, region) | source / qualification | path (2024 unless said) |
|---|---|---|---|---|
| W1 | ae1 | acme (LARGE, US_EAST) | Web Direct / BDR | created 2023-12-22, DISC 01-01 00:00, SCOPING 01-21, WON 03-31 |
| W2 | ae2 | globex (STRATEGIC, EMEA) | Trade Show / SDR | created 01-12, DISC 02-01 00:00, SCOPING 02-11, WON 03-22 |
| W3 | ae1 | initech (SMB, APAC) | Paid Search / AE | created 2023-12-02, DISC 01-31, SCOPING 02-10, back to DISC 03-01, WON 03-31 |
| L1 | ae1 | initech | Carrier Pigeon / BDR | created 01-01, DISC 01-11, LOST 01-21 |
| L2 | ae1 | acme | Outbound / SDR | created 01-01, DISC 01-21, LOST 02-10 |
| L3 | ae2 | umbrella (MID_MARKET, no region) | Referral / AE | created 01-01, DISC 02-10, LOST 03-11 |
| L4 | ae2 | globex | Webcast / BDR | created 01-01, DISC 03-31, SCOPING 05-30, LOST 06-09 |
| WD | ae2 | umbrella | Web Direct / WEB_DIRECT | created won 02-15 |
| P1 | ae1 | acme | Outbound / SDR | PENDING_ACCEPTANCE since 03-01; 12,345.67; closes 06-30 |
| P2 | ae1 | initech | Paid Search / AE | DISC 03-31 23:59:59; ADD_ON 5,000.00; closes 07-15 |
| P3 | ae2 | globex | Referral / BDR | DISC 04-01 00:00, NEGOTIATING 04-10; 50,000.00; closes 09-30 |
| P4 | ae2 | umbrella | (none) / (none) | DISC 02-29 12:00, SCOPING 03-01 00:00; RENEWAL 7,500.50; closes 06-30 |
| P6 | ae1 | acme | Web Direct / - | PRE_OPPORTUNITY; 3,000.00 |
| P7 | ae1 | initech | "  web DIRECT " / SDR | created 01-02, DISC 01-31 23:59:59, PROPOSAL 02-01 00:00; 8,000.00; closes 05-31 |
| P8 | ae2 | globex | Trade Show / - | created 01-05, UNQUALIFIED 01-06 |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from domain.enums import (
    ClosedLostReason,
    OpportunityStage,
    OpportunityType,
    ReferenceableCustomer,
    Region,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.lifecycle.opportunity import StageMoveRequest
from domain.records import Account, Contact, Opportunity, User
from domain.reports.sales_accepted import (
    ReportPeriod,
    SalesAcceptedQuery,
    sales_accepted_opportunities,
)
from domain.rules.initial_source_types import INITIAL_SOURCE_TYPES, initial_source_type
from domain.rules.permissions import Actor
from domain.services.opportunities import create_opportunity
from domain.services.opportunity_pipeline import move_opportunity_stage
from tests.api.ids import gid

Stage = OpportunityStage
S = OpportunityStage
Q = SalesQualificationSource
NB = OpportunityType.NEW_BUSINESS
DAY = 86_400


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- the book of deals ----------------------------------------------------------


@dataclass
class ReportData:
    """The users, accounts and opportunity ids of ``build_report_data``."""

    ae1: User
    ae2: User
    viewer: User
    accounts: dict[str, int] = field(default_factory=dict)
    deals: dict[str, int] = field(default_factory=dict)


async def an_account(
    make: Any,
    name: str,
    owner: User,
    segment: SalesSegment,
    region: Region | None,
) -> tuple[int, int]:
    """An account (segment and region as given) and one contact there."""

    async def use_case(s):
        account = Account(
            name=name,
            normalized_name=name.lower(),
            owner_id=owner.id,
            sales_segment=segment,
            region=region,
            is_named=segment == SalesSegment.STRATEGIC,
        )
        s.add(account)
        await s.flush()
        contact = Contact(
            last_name=f"Buyer at {name}", account_id=account.id, initial_source="Web"
        )
        s.add(contact)
        await s.flush()
        return account.id, contact.id

    return await make.run(use_case)


def every_requirement(contact_id: int) -> dict[str, Any]:
    """Every stage's entry requirement recorded, so any move is allowed."""
    return {
        "primary_contact_id": contact_id,
        "business_problem": "Releases take weeks",
        "technical_requirements_confirmed": True,
        "bill_to_contact_id": contact_id,
        "sold_to_contact_id": contact_id,
        "po_will_be_issued": False,
        "purchasing_plan": "Signature by end of quarter",
        "business_terms_agreed": True,
        "referenceable_customer": ReferenceableCustomer.YES,
        "signed_order_form_received": True,
        "restricted_party_screening": RestrictedPartyScreening.CLEARED,
        "finance_approved": True,
        "closed_won_details": "Chosen for CI speed",
        "closed_lost_reasons": [ClosedLostReason.PRICING.value],
        "closed_lost_detail": "Budget went elsewhere",
    }


async def a_deal(
    make: Any,
    owner: User,
    account: tuple[int, int],
    *,
    created: datetime,
    path: Sequence[tuple[Stage, datetime]] = (),
    iacv: str = "1000.00",
    source: str | None = None,
    qualification: SalesQualificationSource | None = None,
    type: OpportunityType = NB,
    close_date: date | None = None,
    stage: Stage = Stage.PENDING_ACCEPTANCE,
) -> int:
    """An opportunity created at ``created`` (in ``stage``), then moved along
    ``path`` through the real service, each move at its instant."""
    account_id, contact_id = account
    actor = Actor(owner.id, owner.role)
    values = {
        "name": f"Deal {created:%Y%m%d%H%M%S}",
        "account_id": account_id,
        "owner_id": owner.id,
        "type": type,
        "stage": stage,
        "incremental_acv": Decimal(iacv),
        "initial_source": source,
        "sales_qualification_source": qualification,
        "close_date": close_date,
        **every_requirement(contact_id),
    }
    # A purchase created won comes from the web store's integration, which
    # writes with a SALES_OPS user's token (issue 17: never a field role).
    creator = actor
    if stage == Stage.CLOSED_WON:
        ops = await make.user(Role.SALES_OPS)
        creator = Actor(ops.id, ops.role)
    opp = await make.run(
        lambda s: create_opportunity(values, session=s, actor=creator, now=created)
    )
    for to, when in path:
        request = StageMoveRequest(to=to, reason="The deal moved")
        await make.run(
            lambda s, r=request, w=when: move_opportunity_stage(
                opp.id, r, fields={}, session=s, actor=actor, now=w
            )
        )
    return opp.id


async def build_report_data(make: Any) -> ReportData:
    """The book of deals of the module docstring, with known report answers."""
    ae1 = await make.user(Role.AE, name="Alice")
    ae2 = await make.user(Role.AE, name="Bob")
    viewer = await make.user(Role.BDR, name="Any reader")
    data = ReportData(ae1=ae1, ae2=ae2, viewer=viewer)
    acme = await an_account(make, "Acme", ae1, SalesSegment.LARGE, Region.US_EAST)
    globex = await an_account(make, "Globex", ae2, SalesSegment.STRATEGIC, Region.EMEA)
    initech = await an_account(make, "Initech", ae1, SalesSegment.SMB, Region.APAC)
    umbrella = await an_account(make, "Umbrella", ae2, SalesSegment.MID_MARKET, None)
    data.accounts = {
        "acme": acme[0],
        "globex": globex[0],
        "initech": initech[0],
        "umbrella": umbrella[0],
    }
    deals = data.deals
    deals["W1"] = await a_deal(
        make, ae1, acme, created=at(2023, 12, 22), iacv="10000.00",
        source="Web Direct", qualification=Q.BDR_GENERATED,
        path=[(S.DISCOVERY, at(2024, 1, 1)), (S.SCOPING, at(2024, 1, 21)),
              (S.CLOSED_WON, at(2024, 3, 31))],
    )  # fmt: skip
    deals["W2"] = await a_deal(
        make, ae2, globex, created=at(2024, 1, 12), iacv="20000.00",
        source="Trade Show", qualification=Q.SDR_GENERATED,
        path=[(S.DISCOVERY, at(2024, 2, 1)), (S.SCOPING, at(2024, 2, 11)),
              (S.CLOSED_WON, at(2024, 3, 22))],
    )  # fmt: skip
    deals["W3"] = await a_deal(
        make, ae1, initech, created=at(2023, 12, 2), iacv="5000.00",
        source="Paid Search", qualification=Q.AE_GENERATED,
        path=[(S.DISCOVERY, at(2024, 1, 31)), (S.SCOPING, at(2024, 2, 10)),
              (S.DISCOVERY, at(2024, 3, 1)), (S.CLOSED_WON, at(2024, 3, 31))],
    )  # fmt: skip
    deals["L1"] = await a_deal(
        make, ae1, initech, created=at(2024, 1, 1), source="Carrier Pigeon",
        qualification=Q.BDR_GENERATED,
        path=[(S.DISCOVERY, at(2024, 1, 11)), (S.CLOSED_LOST, at(2024, 1, 21))],
    )  # fmt: skip
    deals["L2"] = await a_deal(
        make, ae1, acme, created=at(2024, 1, 1), source="Outbound",
        qualification=Q.SDR_GENERATED,
        path=[(S.DISCOVERY, at(2024, 1, 21)), (S.CLOSED_LOST, at(2024, 2, 10))],
    )  # fmt: skip
    deals["L3"] = await a_deal(
        make, ae2, umbrella, created=at(2024, 1, 1), source="Referral",
        qualification=Q.AE_GENERATED,
        path=[(S.DISCOVERY, at(2024, 2, 10)), (S.CLOSED_LOST, at(2024, 3, 11))],
    )  # fmt: skip
    deals["L4"] = await a_deal(
        make, ae2, globex, created=at(2024, 1, 1), source="Webcast",
        qualification=Q.BDR_GENERATED,
        path=[(S.DISCOVERY, at(2024, 3, 31)), (S.SCOPING, at(2024, 5, 30)),
              (S.CLOSED_LOST, at(2024, 6, 9))],
    )  # fmt: skip
    deals["WD"] = await a_deal(
        make, ae2, umbrella, created=at(2024, 2, 15), stage=S.CLOSED_WON,
        source="Web Direct", qualification=Q.WEB_DIRECT,
    )  # fmt: skip
    deals["P1"] = await a_deal(
        make, ae1, acme, created=at(2024, 3, 1), iacv="12345.67",
        source="Outbound", qualification=Q.SDR_GENERATED,
        close_date=date(2024, 6, 30),
    )  # fmt: skip
    deals["P2"] = await a_deal(
        make, ae1, initech, created=at(2024, 3, 1), iacv="5000.00",
        type=OpportunityType.ADD_ON, source="Paid Search",
        qualification=Q.AE_GENERATED, close_date=date(2024, 7, 15),
        path=[(S.DISCOVERY, at(2024, 3, 31, 23, 59, 59))],
    )  # fmt: skip
    deals["P3"] = await a_deal(
        make, ae2, globex, created=at(2024, 3, 1), iacv="50000.00",
        source="Referral", qualification=Q.BDR_GENERATED,
        close_date=date(2024, 9, 30),
        path=[(S.DISCOVERY, at(2024, 4, 1)), (S.NEGOTIATING, at(2024, 4, 10))],
    )  # fmt: skip
    deals["P4"] = await a_deal(
        make, ae2, umbrella, created=at(2024, 2, 1), iacv="7500.50",
        type=OpportunityType.RENEWAL, close_date=date(2024, 6, 30),
        path=[(S.DISCOVERY, at(2024, 2, 29, 12)), (S.SCOPING, at(2024, 3, 1))],
    )  # fmt: skip
    deals["P6"] = await a_deal(
        make, ae1, acme, created=at(2024, 3, 15), iacv="3000.00",
        stage=S.PRE_OPPORTUNITY, source="Web Direct",
    )  # fmt: skip
    deals["P7"] = await a_deal(
        make, ae1, initech, created=at(2024, 1, 2), iacv="8000.00",
        source="  web DIRECT ", qualification=Q.SDR_GENERATED,
        close_date=date(2024, 5, 31),
        path=[(S.DISCOVERY, at(2024, 1, 31, 23, 59, 59)),
              (S.PROPOSAL, at(2024, 2, 1))],
    )  # fmt: skip
    deals["P8"] = await a_deal(
        make, ae2, globex, created=at(2024, 1, 5), source="Trade Show",
        path=[(S.UNQUALIFIED, at(2024, 1, 6))],
    )  # fmt: skip
    return data


@pytest.fixture
async def book(make: Any) -> ReportData:
    """The book of deals, loaded."""
    return await build_report_data(make)


def failure(result: Any) -> tuple[str, list[str]]:
    """The (code, field) of the one top-level error."""
    assert result.data is None, result.data
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    return error["code"], error.get("field")


# --- pipeline -------------------------------------------------------------------------

PIPELINE = """
query($filter: PipelineFilter, $groupBy: PipelineDimension) {
  pipeline(filter: $filter, groupBy: $groupBy) {
    count iacv
    stages { stage label count iacv }
    groups { key count iacv owner { id } stages { stage count iacv } }
  }
}"""

PIPELINE_STAGES = [
    "PENDING_ACCEPTANCE",
    "DISCOVERY",
    "SCOPING",
    "TECHNICAL_EVALUATION",
    "PROPOSAL",
    "NEGOTIATING",
    "AWAITING_SIGNATURE",
]


def by_stage(stages: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:
    return {s["stage"]: (s["count"], s["iacv"]) for s in stages}


async def pipeline_of(api: Any, user: User, **variables: Any) -> dict[str, Any]:
    return (await api(PIPELINE, variables, as_user=user)).ok()["pipeline"]


async def test_the_pipeline_counts_open_deals_by_stage_with_their_exact_iacv(api, book):
    report = await pipeline_of(api, book.viewer)

    assert report["stages"] == [
        {"stage": "PENDING_ACCEPTANCE", "label": "0-Pending Acceptance",
         "count": 1, "iacv": "12345.67"},
        {"stage": "DISCOVERY", "label": "1-Discovery", "count": 1, "iacv": "5000.00"},
        {"stage": "SCOPING", "label": "2-Scoping", "count": 1, "iacv": "7500.50"},
        {"stage": "TECHNICAL_EVALUATION", "label": "3-Technical Evaluation",
         "count": 0, "iacv": "0.00"},
        {"stage": "PROPOSAL", "label": "4-Proposal", "count": 1, "iacv": "8000.00"},
        {"stage": "NEGOTIATING", "label": "5-Negotiating", "count": 1,
         "iacv": "50000.00"},
        {"stage": "AWAITING_SIGNATURE", "label": "6-Awaiting Signature",
         "count": 0, "iacv": "0.00"},
    ]  # fmt: skip
    assert (report["count"], report["iacv"]) == (5, "82846.17")
    assert report["groups"] == []


async def test_pipeline_groups_by_owner_largest_first_and_sum_to_the_totals(api, book):
    report = await pipeline_of(api, book.viewer, groupBy="OWNER")

    bob, alice = report["groups"]
    assert (bob["key"], bob["owner"], bob["count"], bob["iacv"]) == (
        gid("User", book.ae2.id),
        {"id": gid("User", book.ae2.id)},
        2,
        "57500.50",
    )
    assert (alice["key"], alice["count"], alice["iacv"]) == (
        gid("User", book.ae1.id),
        3,
        "25345.67",
    )
    assert [s["stage"] for s in alice["stages"]] == PIPELINE_STAGES
    assert {k: v for k, v in by_stage(alice["stages"]).items() if v[0]} == {
        "PENDING_ACCEPTANCE": (1, "12345.67"),
        "DISCOVERY": (1, "5000.00"),
        "PROPOSAL": (1, "8000.00"),
    }
    for stage in PIPELINE_STAGES:
        counts = [by_stage(g["stages"])[stage][0] for g in report["groups"]]
        amounts = [Decimal(by_stage(g["stages"])[stage][1]) for g in report["groups"]]
        assert (sum(counts), sum(amounts)) == (
            by_stage(report["stages"])[stage][0],
            Decimal(by_stage(report["stages"])[stage][1]),
        )
    assert (report["count"], report["iacv"]) == (5, "82846.17")


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (
            "SEGMENT",
            [("STRATEGIC", 1, "50000.00"), ("SMB", 2, "13000.00"),
             ("LARGE", 1, "12345.67"), ("MID_MARKET", 1, "7500.50")],
        ),
        (
            "REGION",
            [("EMEA", 1, "50000.00"), ("APAC", 2, "13000.00"),
             ("US_EAST", 1, "12345.67"), ("NONE", 1, "7500.50")],
        ),
        (
            "TYPE",
            [("NEW_BUSINESS", 3, "70345.67"), ("RENEWAL", 1, "7500.50"),
             ("ADD_ON", 1, "5000.00")],
        ),
    ],
)  # fmt: skip
async def test_pipeline_groups_by_segment_region_and_type(
    api, book, group_by, expected
):
    report = await pipeline_of(api, book.viewer, groupBy=group_by)

    assert [(g["key"], g["count"], g["iacv"]) for g in report["groups"]] == expected
    assert all(g["owner"] is None for g in report["groups"])


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"segment": ["SMB"]}, {"DISCOVERY": 1, "PROPOSAL": 1}),
        ({"region": ["EMEA", "US_EAST"]}, {"PENDING_ACCEPTANCE": 1, "NEGOTIATING": 1}),
        ({"type": ["RENEWAL", "ADD_ON"]}, {"DISCOVERY": 1, "SCOPING": 1}),
        ({"salesQualificationSource": ["SDR_GENERATED"]},
         {"PENDING_ACCEPTANCE": 1, "PROPOSAL": 1}),
        ({"closeDateAfter": "2024-06-30", "closeDateBefore": "2024-07-01"},
         {"PENDING_ACCEPTANCE": 1, "SCOPING": 1}),
        ({"closeDateBefore": "2024-07-01"},
         {"PENDING_ACCEPTANCE": 1, "SCOPING": 1, "PROPOSAL": 1}),
        ({"closeDateAfter": "2024-07-01"}, {"DISCOVERY": 1, "NEGOTIATING": 1}),
        ({"stage": ["PROPOSAL", "DISCOVERY"]}, {"DISCOVERY": 1, "PROPOSAL": 1}),
        ({"segment": ["LARGE"], "type": ["ADD_ON"]}, {}),
    ],
)  # fmt: skip
async def test_pipeline_criteria_narrow_the_deals_counted(
    api, book, criteria, expected
):
    report = await pipeline_of(api, book.viewer, filter=criteria)

    assert {s["stage"]: s["count"] for s in report["stages"] if s["count"]} == expected
    assert report["count"] == sum(expected.values())


async def test_pipeline_of_one_owner(api, book):
    report = await pipeline_of(
        api, book.viewer, filter={"ownerId": gid("User", book.ae2.id)}
    )

    assert (report["count"], report["iacv"]) == (2, "57500.50")


async def test_the_stage_criterion_lists_only_those_stages_in_stage_order(api, book):
    report = await pipeline_of(
        api, book.viewer, filter={"stage": ["NEGOTIATING", "PRE_OPPORTUNITY"]}
    )

    assert [(s["stage"], s["count"], s["iacv"]) for s in report["stages"]] == [
        ("PRE_OPPORTUNITY", 1, "3000.00"),
        ("NEGOTIATING", 1, "50000.00"),
    ]
    assert (report["count"], report["iacv"]) == (2, "53000.00")


async def test_an_empty_pipeline_lists_every_stage_with_zeros(api, make):
    reader = await make.user(Role.SDR)

    report = await pipeline_of(api, reader, groupBy="OWNER")

    assert [(s["stage"], s["count"], s["iacv"]) for s in report["stages"]] == [
        (stage, 0, "0.00") for stage in PIPELINE_STAGES
    ]
    assert (report["count"], report["iacv"], report["groups"]) == (0, "0.00", [])


async def test_a_single_unowned_deal_is_the_group_none(api, make):
    reader = await make.user(Role.SDR)
    owner = await make.user(Role.AE)
    account = await an_account(make, "Solo", owner, SalesSegment.SMB, Region.LATAM)
    deal = await a_deal(make, owner, account, created=at(2024, 1, 1), iacv="0.01")

    async def unown(s):
        (await s.get(Opportunity, deal)).owner_id = None

    await make.run(unown)

    report = await pipeline_of(api, reader, groupBy="OWNER")

    assert report["groups"] == [
        {
            "key": "NONE",
            "count": 1,
            "iacv": "0.01",
            "owner": None,
            "stages": [
                {"stage": s, "count": int(s == "PENDING_ACCEPTANCE"),
                 "iacv": "0.01" if s == "PENDING_ACCEPTANCE" else "0.00"}
                for s in PIPELINE_STAGES
            ],
        }
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("criteria", "code", "field"),
    [
        ({"stage": ["DISCOVERY", "CLOSED_WON"]}, "INVALID_INPUT", ["stage"]),
        ({"closeDateAfter": "2024-06-02", "closeDateBefore": "2024-06-02"},
         "INVALID_INPUT", ["closeDateBefore"]),
        ({"ownerId": gid("User", 999)}, "NOT_FOUND", ["ownerId"]),
        ({"ownerId": gid("Lead", 1)}, "INVALID_INPUT", ["ownerId"]),
        ({"segment": ["HUGE"]}, "INVALID_INPUT", None),
    ],
)  # fmt: skip
async def test_nonsense_pipeline_criteria_are_refused_with_a_typed_error(
    api, make, criteria, code, field
):
    reader = await make.user(Role.SDR)

    result = await api(PIPELINE, {"filter": criteria}, as_user=reader)

    assert failure(result)[0] == code
    if field is not None:  # (a bad enum value is refused before the resolver)
        assert failure(result)[1] == field


async def test_a_closed_stage_in_the_criteria_is_named_in_the_message(api, make):
    reader = await make.user(Role.SDR)

    result = await api(PIPELINE, {"filter": {"stage": ["CLOSED_LOST"]}}, as_user=reader)

    assert "CLOSED_LOST is closed" in result.errors[0]["message"]


# --- SAO / SQO / SCLAU --------------------------------------------------------------

SAO = """
query($after: Date!, $before: Date!, $period: ReportPeriod!, $groupBy: SaoDimension,
      $filter: OpportunityReportFilter) {
  salesAcceptedOpportunities(after: $after, before: $before, period: $period,
                             groupBy: $groupBy, filter: $filter) {
    sao sqo sclau
    groups { key sao sqo sclau }
    periods { label start end sao sqo sclau groups { key sao sqo sclau } }
  }
}"""


async def sao_of(
    api: Any,
    user: User,
    after: str = "2024-01-01",
    before: str = "2024-07-01",
    period: str = "MONTH",
    **variables: Any,
) -> dict[str, Any]:
    result = await api(
        SAO,
        {"after": after, "before": before, "period": period, **variables},
        as_user=user,
    )
    return result.ok()["salesAcceptedOpportunities"]


def counts(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r.get("label") or r["key"], r["sao"], r["sqo"], r["sclau"]) for r in rows]


async def test_sao_sqo_and_sclau_per_month_every_month_listed(api, book):
    report = await sao_of(api, book.viewer)

    assert counts(report["periods"]) == [
        ("2024-01", 5, 1, 2),
        ("2024-02", 3, 3, 1),
        ("2024-03", 2, 1, 1),
        ("2024-04", 1, 1, 1),
        ("2024-05", 0, 1, 0),
        ("2024-06", 0, 0, 0),
    ]
    assert [(p["start"], p["end"]) for p in report["periods"][:2]] == [
        ("2024-01-01", "2024-01-31"),
        ("2024-02-01", "2024-02-29"),
    ]
    assert (report["sao"], report["sqo"], report["sclau"]) == (11, 7, 5)
    assert report["groups"] == []
    assert all(p["groups"] == [] for p in report["periods"])


async def test_sao_per_quarter(api, book):
    report = await sao_of(api, book.viewer, period="QUARTER")

    assert counts(report["periods"]) == [("2024-Q1", 10, 5, 4), ("2024-Q2", 1, 2, 1)]
    assert [(p["start"], p["end"]) for p in report["periods"]] == [
        ("2024-01-01", "2024-03-31"),
        ("2024-04-01", "2024-06-30"),
    ]


async def test_sao_by_initial_source_type_per_month(api, book):
    report = await sao_of(api, book.viewer, groupBy="INITIAL_SOURCE_TYPE")

    assert [counts(p["groups"]) for p in report["periods"]] == [
        [("INBOUND", 2, 1, 1), ("OTHER", 1, 0, 0), ("OUTBOUND", 1, 0, 1),
         ("PAID", 1, 0, 0)],
        [("EVENT", 1, 1, 1), ("INBOUND", 0, 1, 0), ("PAID", 0, 1, 0),
         ("REFERRAL", 1, 0, 0), ("UNKNOWN", 1, 0, 0)],
        [("INBOUND", 1, 0, 1), ("PAID", 1, 0, 0), ("UNKNOWN", 0, 1, 0)],
        [("REFERRAL", 1, 1, 1)],
        [("INBOUND", 0, 1, 0)],
        [],
    ]  # fmt: skip
    assert counts(report["groups"]) == [
        ("EVENT", 1, 1, 1),
        ("INBOUND", 3, 3, 2),
        ("OTHER", 1, 0, 0),
        ("OUTBOUND", 1, 0, 1),
        ("PAID", 2, 1, 0),
        ("REFERRAL", 2, 1, 1),
        ("UNKNOWN", 1, 1, 0),
    ]
    for p in report["periods"]:
        for name in ("sao", "sqo", "sclau"):
            assert sum(g[name] for g in p["groups"]) == p[name]
    for name in ("sao", "sqo", "sclau"):
        assert sum(g[name] for g in report["groups"]) == report[name]


async def test_sao_by_sales_qualification_source_per_quarter(api, book):
    report = await sao_of(
        api, book.viewer, period="QUARTER", groupBy="SALES_QUALIFICATION_SOURCE"
    )

    assert [counts(p["groups"]) for p in report["periods"]] == [
        [
            ("AE_GENERATED", 3, 1, 0),
            ("BDR_GENERATED", 3, 1, 2),
            ("NONE", 1, 1, 0),
            ("SDR_GENERATED", 3, 2, 2),
        ],
        [("BDR_GENERATED", 1, 2, 1)],
    ]


async def test_the_window_is_whole_periods(api, book):
    # January 15 to February 2 (before February 3) by month: all of January and February
    report = await sao_of(api, book.viewer, "2024-01-15", "2024-02-03")

    assert counts(report["periods"]) == [("2024-01", 5, 1, 2), ("2024-02", 3, 3, 1)]


async def test_the_last_second_of_a_period_and_the_first_of_the_next(api, book):
    # P7 accepted 01-31 23:59:59 (January), qualified 02-01 00:00 (February);
    # P2 accepted 03-31 23:59:59 (Q1); P3 accepted 04-01 00:00 (Q2).
    criteria = {"ownerId": gid("User", book.ae1.id), "type": ["NEW_BUSINESS"]}
    january = await sao_of(
        api, book.viewer, "2024-01-01", "2024-03-01", filter=criteria
    )
    quarters = await sao_of(
        api, book.viewer, period="QUARTER", filter={"type": ["ADD_ON"]}
    )
    globex = await sao_of(
        api, book.viewer, period="QUARTER", filter={"region": ["EMEA"]}
    )

    # ae1's new business accepted in January: W1 (01-01 00:00), W3, L1, L2 and
    # P7; qualified: W1 in January, P7 (02-01 00:00) and W3 in February
    assert counts(january["periods"]) == [("2024-01", 5, 1, 2), ("2024-02", 0, 2, 0)]
    assert counts(quarters["periods"]) == [("2024-Q1", 1, 0, 0), ("2024-Q2", 0, 0, 0)]
    # globex (EMEA): W2 02-01, L4 03-31 in Q1; P3 04-01 00:00 in Q2
    assert counts(globex["periods"]) == [("2024-Q1", 2, 1, 2), ("2024-Q2", 1, 2, 1)]


async def test_periods_are_utc_whatever_the_database_session_time_zone(book, sessions):
    query = SalesAcceptedQuery(
        after=date(2024, 1, 1), before=date(2024, 7, 1), unit=ReportPeriod.MONTH
    )
    async with sessions() as session:
        if session.bind.dialect.name == "postgresql":
            await session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))
        report = await sales_accepted_opportunities(query, session=session)

    assert [(p.period.label, p.counts.sao, p.counts.sqo) for p in report.periods] == [
        ("2024-01", 5, 1),
        ("2024-02", 3, 3),
        ("2024-03", 2, 1),
        ("2024-04", 1, 1),
        ("2024-05", 0, 1),
        ("2024-06", 0, 0),
    ]


async def test_an_empty_window_lists_its_periods_with_zeros(api, book):
    report = await sao_of(
        api, book.viewer, "2023-01-01", "2024-01-01", "QUARTER",
        groupBy="INITIAL_SOURCE_TYPE",
    )  # fmt: skip

    assert counts(report["periods"]) == [
        ("2023-Q1", 0, 0, 0),
        ("2023-Q2", 0, 0, 0),
        ("2023-Q3", 0, 0, 0),
        ("2023-Q4", 0, 0, 0),
    ]
    assert (report["sao"], report["sqo"], report["sclau"], report["groups"]) == (
        0,
        0,
        0,
        [],
    )


async def test_one_sao_in_a_one_day_window(api, make):
    owner = await make.user(Role.AE)
    account = await an_account(make, "One", owner, SalesSegment.LARGE, Region.APAC)
    await a_deal(
        make, owner, account, created=at(2024, 12, 1), source="Conference",
        path=[(Stage.DISCOVERY, at(2024, 12, 31, 23, 59, 59))],
    )  # fmt: skip

    report = await sao_of(
        api, owner, "2024-12-31", "2025-01-01", groupBy="INITIAL_SOURCE_TYPE"
    )

    assert counts(report["periods"]) == [("2024-12", 1, 0, 1)]
    assert counts(report["groups"]) == [("EVENT", 1, 0, 1)]


@pytest.mark.parametrize(
    "source",
    ["Web Direct", "WEB DIRECT", " web direct ", "Trade Show", "Partner", "CPC",
     "Unknown", "unknown", "", "   ", None, "Pigeon", "SDR Generated"],
)  # fmt: skip
async def test_the_database_groups_initial_sources_as_the_rule_does(api, make, source):
    owner = await make.user(Role.AE)
    account = await an_account(make, "Src", owner, SalesSegment.SMB, Region.APAC)
    await a_deal(
        make, owner, account, created=at(2024, 5, 1), source=source,
        path=[(Stage.DISCOVERY, at(2024, 5, 2))],
    )  # fmt: skip

    report = await sao_of(
        api, owner, "2024-05-01", "2024-06-01", groupBy="INITIAL_SOURCE_TYPE"
    )

    assert counts(report["groups"]) == [(initial_source_type(source).value, 1, 0, 0)]


async def test_initial_source_types_is_the_mapping_table(api, make):
    reader = await make.user(Role.SDR)

    rows = (
        await api("{ initialSourceTypes { initialSource type } }", as_user=reader)
    ).ok()["initialSourceTypes"]

    assert {r["initialSource"]: r["type"] for r in rows} == {
        name: kind.value for name, kind in INITIAL_SOURCE_TYPES.items()
    }
    assert {"initialSource": "Trade Show", "type": "EVENT"} in rows


@pytest.mark.parametrize(
    ("first", "last", "period", "field"),
    [
        ("2024-02-01", "2024-01-31", "MONTH", ["before"]),
        ("2024-02-01", "2024-02-01", "MONTH", ["before"]),  # empty
        ("2014-01-01", "2024-01-02", "MONTH", ["before"]),  # 121 months
        ("1990-01-01", "2025-01-01", "QUARTER", ["before"]),  # 140 quarters
    ],
)
async def test_a_backwards_or_too_long_window_is_refused(
    api, make, first, last, period, field
):
    reader = await make.user(Role.SDR)

    result = await api(
        SAO, {"after": first, "before": last, "period": period}, as_user=reader
    )

    assert failure(result) == ("INVALID_INPUT", field)


async def test_ten_years_of_months_is_the_longest_window(api, make):
    reader = await make.user(Role.SDR)

    report = await sao_of(api, reader, "2015-01-01", "2025-01-01")

    assert len(report["periods"]) == 120


async def test_sao_for_an_owner_that_does_not_exist_is_refused(api, make):
    reader = await make.user(Role.SDR)

    result = await api(
        SAO,
        {
            "after": "2024-01-01",
            "before": "2024-02-01",
            "period": "MONTH",
            "filter": {"ownerId": gid("User", 4242)},
        },
        as_user=reader,
    )

    assert failure(result) == ("NOT_FOUND", ["ownerId"])


# --- stage velocity -------------------------------------------------------------

VELOCITY = """
query($after: Date, $before: Date, $filter: OpportunityReportFilter) {
  stageVelocity(closedAfter: $after, closedBefore: $before, filter: $filter) {
    wonCount lostCount
    stages {
      stage label
      won { count averageSeconds medianSeconds }
      lost { count averageSeconds medianSeconds }
    }
  }
}"""

OPEN_STAGES = ["PRE_OPPORTUNITY", *PIPELINE_STAGES]
NOTHING = {"count": 0, "averageSeconds": None, "medianSeconds": None}


def spent(count: int, average: float, median: float) -> dict[str, Any]:
    return {"count": count, "averageSeconds": average, "medianSeconds": median}


async def velocity_of(api: Any, user: User, **variables: Any) -> dict[str, Any]:
    return (await api(VELOCITY, variables, as_user=user)).ok()["stageVelocity"]


async def test_time_in_stage_for_won_versus_lost_deals(api, book):
    report = await velocity_of(api, book.viewer)

    assert (report["wonCount"], report["lostCount"]) == (4, 4)
    assert [s["stage"] for s in report["stages"]] == OPEN_STAGES
    rows = {s["stage"]: (s["won"], s["lost"]) for s in report["stages"]}
    # won: pending 10, 20, 60 days (odd: the middle one); lost: 10, 20, 40, 90
    # (even: the mean of the two middle ones, 30, while the mean of all is 40)
    assert rows["PENDING_ACCEPTANCE"] == (
        spent(3, 30 * DAY, 20 * DAY),
        spent(4, 40 * DAY, 30 * DAY),
    )
    # W3 spent 10 + 30 days in discovery (it went back): won 20, 10, 40 days
    assert rows["DISCOVERY"] == (
        spent(3, 70 * DAY / 3, 20 * DAY),
        spent(4, 30 * DAY, 25 * DAY),
    )
    # won 70, 40, 20 days; lost: L4 alone, 10 days
    assert rows["SCOPING"] == (
        spent(3, 130 * DAY / 3, 40 * DAY),
        spent(1, 10 * DAY, 10 * DAY),
    )
    for stage in ("PRE_OPPORTUNITY", "TECHNICAL_EVALUATION", "PROPOSAL",
                  "NEGOTIATING", "AWAITING_SIGNATURE"):  # fmt: skip
        assert rows[stage] == (NOTHING, NOTHING)


async def test_velocity_of_deals_closed_in_a_window_of_days(api, book):
    # W2 closed 03-22, W1 and W3 03-31; L3 closed 03-11 is outside
    report = await velocity_of(
        api, book.viewer, after="2024-03-22", before="2024-04-01"
    )

    assert (report["wonCount"], report["lostCount"]) == (3, 0)
    rows = {s["stage"]: (s["won"], s["lost"]) for s in report["stages"]}
    assert rows["PENDING_ACCEPTANCE"] == (spent(3, 30 * DAY, 20 * DAY), NOTHING)


async def test_velocity_of_one_owners_deals(api, book):
    report = await velocity_of(
        api, book.viewer, filter={"ownerId": gid("User", book.ae1.id)}
    )

    # ae1: W1, W3 won; L1, L2 lost
    assert (report["wonCount"], report["lostCount"]) == (2, 2)
    rows = {s["stage"]: (s["won"], s["lost"]) for s in report["stages"]}
    assert rows["PENDING_ACCEPTANCE"] == (
        spent(2, 35 * DAY, 35 * DAY),
        spent(2, 15 * DAY, 15 * DAY),
    )
    assert rows["DISCOVERY"] == (
        spent(2, 30 * DAY, 30 * DAY),
        spent(2, 15 * DAY, 15 * DAY),
    )


async def test_time_spent_closed_lost_before_a_reopen_is_not_selling_time(api, make):
    owner = await make.user(Role.AE)
    account = await an_account(make, "Re", owner, SalesSegment.SMB, Region.APAC)
    await a_deal(
        make, owner, account, created=at(2024, 1, 1),
        path=[(Stage.DISCOVERY, at(2024, 1, 2)), (Stage.CLOSED_LOST, at(2024, 1, 4)),
              (Stage.DISCOVERY, at(2024, 1, 14)), (Stage.CLOSED_LOST, at(2024, 1, 15))],
    )  # fmt: skip

    report = await velocity_of(api, owner)

    assert (report["wonCount"], report["lostCount"]) == (0, 1)
    rows = {s["stage"]: s["lost"] for s in report["stages"]}
    assert rows["PENDING_ACCEPTANCE"] == spent(1, DAY, DAY)
    assert rows["DISCOVERY"] == spent(1, 3 * DAY, 3 * DAY)  # 2 days + 1 day
    assert "CLOSED_LOST" not in rows


async def test_velocity_with_no_closed_deal_is_all_zero(api, make):
    reader = await make.user(Role.SDR)

    report = await velocity_of(api, reader)

    assert (report["wonCount"], report["lostCount"]) == (0, 0)
    assert [(s["stage"], s["won"], s["lost"]) for s in report["stages"]] == [
        (stage, NOTHING, NOTHING) for stage in OPEN_STAGES
    ]


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        (
            {"after": "2024-03-02", "before": "2024-03-01"},
            "INVALID_INPUT",
            ["closedBefore"],
        ),
        ({"filter": {"ownerId": gid("User", 77)}}, "NOT_FOUND", ["ownerId"]),
    ],
)
async def test_nonsense_velocity_arguments_are_refused(
    api, make, variables, code, field
):
    reader = await make.user(Role.SDR)

    result = await api(VELOCITY, variables, as_user=reader)

    assert failure(result) == (code, field)


# --- sales capacity -------------------------------------------------------------

CAPACITY = """
query($input: SalesCapacityInput) {
  salesCapacity(input: $input) {
    fromActuals daysToClose winRate monthsToClose monthsToLose capacityGoal
    monthsOnAverage saosNeededPerMonth
    actuals { wonCount lostCount activeOpportunities }
  }
}"""


async def capacity_of(api: Any, user: User, **input: Any) -> dict[str, Any]:
    variables = {"input": input} if input else {}
    return (await api(CAPACITY, variables, as_user=user)).ok()["salesCapacity"]


async def test_the_handbook_defaults_give_4_months_and_10_saos(api, make):
    """002_91dd8e67a169a832.txt, SAL Sales Capacity: "Months on average - 4 (33.3%
    times 6 and 66.7% of 3)" and "per month - 10 (40 opportunities / 4 months)"."""
    reader = await make.user(Role.SDR)

    assert await capacity_of(api, reader) == {
        "fromActuals": False,
        "daysToClose": "180.00",
        "winRate": "0.3333",
        "monthsToClose": "6.00",
        "monthsToLose": "3.00",
        "capacityGoal": 40,
        "monthsOnAverage": "4.00",
        "saosNeededPerMonth": "10.00",
        "actuals": None,
    }


async def test_given_planning_figures_replace_the_defaults(api, make):
    reader = await make.user(Role.SDR)

    report = await capacity_of(
        api, reader, daysToClose=90, winRate="0.5", monthsToLose="2", capacityGoal=30
    )

    assert (
        report["monthsToClose"],
        report["monthsToLose"],
        report["monthsOnAverage"],
        report["saosNeededPerMonth"],
    ) == ("3.00", "2.00", "2.50", "12.00")


async def test_capacity_from_the_actual_closed_deals(api, book):
    report = await capacity_of(api, book.viewer, fromActuals=True)

    # won (accepted to closed): 90, 50, 60 days; lost: 10, 20, 30, 70 days.
    # WD was never accepted and is not measured.
    # win rate 3/7; months 200/90 and 32.5/30; average 11/7; SAOs 280/11
    assert report == {
        "fromActuals": True,
        "daysToClose": "66.67",
        "winRate": "0.4286",
        "monthsToClose": "2.22",
        "monthsToLose": "1.08",
        "capacityGoal": 40,
        "monthsOnAverage": "1.57",
        "saosNeededPerMonth": "25.45",
        "actuals": {"wonCount": 3, "lostCount": 4, "activeOpportunities": 4},
    }


async def test_capacity_from_one_owners_actuals_with_a_goal(api, book):
    report = await capacity_of(
        api,
        book.viewer,
        fromActuals=True,
        capacityGoal=30,
        filter={"ownerId": gid("User", book.ae1.id)},
    )

    # ae1: won 90 and 60 days, lost 10 and 20; active P2, P7
    assert report == {
        "fromActuals": True,
        "daysToClose": "75.00",
        "winRate": "0.5000",
        "monthsToClose": "2.50",
        "monthsToLose": "0.50",
        "capacityGoal": 30,
        "monthsOnAverage": "1.50",
        "saosNeededPerMonth": "20.00",
        "actuals": {"wonCount": 2, "lostCount": 2, "activeOpportunities": 2},
    }


async def test_capacity_from_deals_closed_in_a_window(api, book):
    # closed 03-11 to 03-22: W2 (50 days) won, L3 (30 days) lost
    report = await capacity_of(
        api, book.viewer, fromActuals=True, closedAfter="2024-03-11",
        closedBefore="2024-03-23",
    )  # fmt: skip

    assert (report["daysToClose"], report["winRate"], report["monthsToLose"]) == (
        "50.00",
        "0.5000",
        "1.00",
    )
    assert report["actuals"] == {
        "wonCount": 1,
        "lostCount": 1,
        "activeOpportunities": 4,
    }


async def test_only_won_deals_lose_nothing_and_take_half_of_close_to_lose(api, book):
    # 03-31 closes: W1 (90 days) and W3 (60 days)
    report = await capacity_of(
        api, book.viewer, fromActuals=True, closedAfter="2024-03-31",
        closedBefore="2024-04-01",
    )  # fmt: skip

    assert (
        report["winRate"],
        report["daysToClose"],
        report["monthsToLose"],
        report["monthsOnAverage"],
        report["saosNeededPerMonth"],
    ) == ("1.0000", "75.00", "1.25", "2.50", "16.00")


@pytest.mark.parametrize(
    ("first", "last"), [(None, None), ("2024-06-01", "2024-07-01")]
)
async def test_capacity_from_actuals_without_a_won_deal_is_refused(
    api, make, book, first, last
):
    reader = await make.user(Role.SDR)
    if first is None:  # nothing closed at all for this owner
        owner = {"ownerId": gid("User", reader.id)}
        result = await api(
            CAPACITY, {"input": {"fromActuals": True, "filter": owner}}, as_user=reader
        )
    else:  # only L4, lost 06-09
        result = await api(
            CAPACITY,
            {
                "input": {
                    "fromActuals": True,
                    "closedAfter": first,
                    "closedBefore": last,
                }
            },
            as_user=reader,
        )

    assert failure(result) == ("INVALID_INPUT", ["fromActuals"])
    assert "No won deal" in result.errors[0]["message"]


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"winRate": "1.5"}, ["winRate"]),
        ({"winRate": "0"}, ["winRate"]),
        ({"winRate": "-0.1"}, ["winRate"]),
        ({"daysToClose": 0}, ["daysToClose"]),
        ({"daysToClose": -30}, ["daysToClose"]),
        ({"monthsToLose": "0"}, ["monthsToLose"]),
        ({"capacityGoal": 0}, ["capacityGoal"]),
        ({"fromActuals": True, "winRate": "0.4"}, ["winRate"]),
        ({"fromActuals": True, "daysToClose": 100}, ["daysToClose"]),
        ({"closedAfter": "2024-01-01"}, ["closedAfter"]),
        ({"filter": {"segment": ["SMB"]}}, ["filter"]),
        ({"fromActuals": True, "closedAfter": "2024-02-01", "closedBefore": "2024-01-01"},
         ["closedBefore"]),
        ({"fromActuals": True, "filter": {"ownerId": gid("User", 999)}},
         ["ownerId"]),
    ],
)  # fmt: skip
async def test_nonsense_capacity_inputs_are_refused_on_their_field(
    api, make, input, field
):
    reader = await make.user(Role.SDR)

    result = await api(CAPACITY, {"input": input}, as_user=reader)

    code = "NOT_FOUND" if field == ["ownerId"] else "INVALID_INPUT"
    assert failure(result) == (code, field)


async def test_every_nonsense_capacity_input_is_named_at_once(api, make):
    reader = await make.user(Role.SDR)

    result = await api(
        CAPACITY,
        {"input": {"daysToClose": 0, "winRate": "2", "capacityGoal": -1}},
        as_user=reader,
    )

    assert failure(result) == ("INVALID_INPUT", ["daysToClose"])
    message = result.errors[0]["message"]
    assert "Days to close" in message
    assert "win rate" in message
    assert "capacity goal" in message


async def test_a_win_rate_that_is_not_a_number_is_invalid_input(api, make):
    reader = await make.user(Role.SDR)

    result = await api(CAPACITY, {"input": {"winRate": "a third"}}, as_user=reader)

    assert result.errors[0]["code"] == "INVALID_INPUT"


# --- every report: cost, and it changes nothing ----------------------------------


async def test_each_report_costs_the_same_statements_on_any_amount_of_data(
    api, make, count_statements
):
    reader = await make.user(Role.SDR)
    calls = [
        (PIPELINE, {"groupBy": "OWNER"}),
        (SAO, {"after": "2024-01-01", "before": "2025-01-01", "period": "MONTH",
               "groupBy": "INITIAL_SOURCE_TYPE"}),
        (VELOCITY, {}),
        (CAPACITY, {"input": {"fromActuals": True}}),
    ]  # fmt: skip

    async def statements() -> list[int]:
        found = []
        for query, variables in calls:
            with count_statements() as counter:
                await api(query, variables, as_user=reader)
            found.append(counter.count)
        return found

    empty = await statements()
    book = await build_report_data(make)
    full = await statements()

    # with data, the owners of the pipeline groups cost one batched lookup
    assert full == [empty[0] + 1, *empty[1:]], (empty, full)
    assert book.deals
