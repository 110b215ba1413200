"""The funnel and pipe-to-spend reports (D11, A5, A7) on hand-built data sets.

``build_funnel_data(make)`` writes a small data set through the domain services
with fixed times, and returns what it wrote together with the stamps every
record must have: the known answers. It is reusable (a cross-database parity
check runs it on each database and compares the API's answers).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.enums import (
    ActivityChannel,
    ActivityKind,
    CampaignChannel,
    EngagementKind,
    FunnelDimension,
    LeadStatus,
    OpportunityStage,
    ReferenceableCustomer,
    Region,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.lifecycle.lead import LeadTransitionRequest
from domain.lifecycle.opportunity import StageMoveRequest
from domain.rules.funnel import MILESTONES
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.activities import log_activity
from domain.services.campaigns import create_campaign
from domain.services.contacts import create_contact
from domain.services.engagements import record_engagement
from domain.services.lead_lifecycle import convert_lead, transition_lead
from domain.services.leads import create_lead
from domain.services.opportunities import create_opportunity
from domain.services.opportunity_pipeline import move_opportunity_stage
from tests.api.ids import gid

T0 = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)

FUNNEL = """
query($filter: FunnelFilter, $groupBy: FunnelDimension) {
  funnel(filter: $filter, groupBy: $groupBy) {
    milestones { milestone count conversionRate medianSecondsFromPrevious }
    groups { key milestones { milestone count conversionRate medianSecondsFromPrevious } }
  }
}"""
PIPE = """
query($filter: PipeToSpendFilter) {
  pipeToSpend(filter: $filter) {
    channels { channel opportunities pipelineIacv campaigns spend ratio }
    pipelineIacv spend ratio unattributedOpportunities unattributedPipelineIacv
  }
}"""


# --- the data set ---------------------------------------------------------------


@dataclass
class Record:
    """A funnel record as built: its dimensions and the stamps it must have."""

    name: str
    hours: tuple[float | None, ...]  # stamp of each milestone, hours after T0
    segment: SalesSegment
    region: Region | None
    initial_source: str | None
    sales_qualification_source: SalesQualificationSource | None
    owner: str | None  # key of FunnelData.users
    channel: CampaignChannel | None

    @property
    def stamps(self) -> list[datetime | None]:
        return [T0 + h * H if h is not None else None for h in self.hours]

    @property
    def entered(self) -> float | None:
        """When it entered the funnel (hours): RAW, or PENDING_ACCEPTANCE for an
        opportunity created without a lead (None: not in the funnel yet)."""
        return next((h for h in self.hours if h is not None), None)

    @property
    def direct(self) -> bool:
        return self.name.startswith("O")


@dataclass
class FunnelData:
    """What ``build_funnel_data`` wrote: users, campaigns, ids, known answers."""

    users: dict[str, Any] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    leads: dict[str, int] = field(default_factory=dict)
    opportunities: dict[str, int] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)

    def value(self, record: Record, dimension: FunnelDimension) -> Any:
        """The record's value of a dimension, as the API's group key says it."""
        value = {
            FunnelDimension.SEGMENT: record.segment,
            FunnelDimension.REGION: record.region,
            FunnelDimension.INITIAL_SOURCE: record.initial_source,
            FunnelDimension.SALES_QUALIFICATION_SOURCE: (
                record.sales_qualification_source
            ),
            FunnelDimension.OWNER: record.owner
            and gid("User", self.users[record.owner].id),
            FunnelDimension.CAMPAIGN_CHANNEL: record.channel,
        }[dimension]
        if value is None:
            return "NONE"
        return getattr(value, "value", value)


# (milestone hours RAW … WON), as the builder below makes them
L1 = (0, 1, 3, 5, 9, 17, 33, 65, 129)
L2 = (2, 4, 4, 8, 12, 12, 20, None, None)
L3 = (4, 9, None, None, None, None, None, None, None)
L4 = (6, None, None, None, None, None, None, None, None)
L5 = (720, 722, 723, 725, None, None, None, None, None)
L6 = (8, 10, 11, 13, 20, None, None, None, None)
# created without a lead: they enter at PENDING_ACCEPTANCE (D11, round 2)
O7 = (None, None, None, None, None, 10, 16, 26, None)
O8 = (None,) * 5 + (12,) * 4
O9 = (None,) * 9

WON_FIELDS = {
    "technical_requirements_confirmed": True,
    "po_will_be_issued": False,
    "purchasing_plan": "Signed by the CFO",
    "business_terms_agreed": True,
    "referenceable_customer": ReferenceableCustomer.LATER,
    "signed_order_form_received": True,
    "restricted_party_screening": RestrictedPartyScreening.CLEARED,
    "finance_approved": True,
    "closed_won_details": "Won on release speed",
}


async def build_funnel_data(make: Any) -> FunnelData:
    """Six leads and three opportunities created without a lead, at fixed times.

    L1 walks RAW … WON (converted by a BDR), L2 jumps RAW→MQL on a Contact Us
    request and is converted from ACCEPTED by an SDR (QUALIFYING skipped), then
    lost; L3 comes back from nurture; L4 stays RAW (no segment, region, owner
    or campaign); L5 is created 30 days later; L6 is converted without an
    opportunity. O7 is accepted and qualified, O8 is created won (web direct),
    O9 stays 00-Pre Opportunity. Campaigns: two CPC (one started in 2024), one
    each of EMAIL, SOCIAL (no spend) and DISPLAY (no pipeline).
    """
    data = FunnelData()
    for key, role in (
        ("ops", Role.SALES_OPS),
        ("bdr", Role.BDR),
        ("sdr", Role.SDR),
        ("ae", Role.AE),
    ):
        data.users[key] = await make.user(role)
    actor = {key: Actor(u.id, u.role) for key, u in data.users.items()}
    ops = actor["ops"]

    async def run(use_case: Callable[[Any], Any]) -> Any:
        return await make.run(use_case)

    for key, channel, spend, start in (
        ("cpc", CampaignChannel.CPC, "1000.00", date(2025, 3, 3)),
        ("cpc_2024", CampaignChannel.CPC, "300.00", date(2024, 6, 1)),
        ("email", CampaignChannel.EMAIL, "500.00", date(2025, 3, 3)),
        ("social", CampaignChannel.SOCIAL, "0.00", date(2025, 3, 3)),
        ("display", CampaignChannel.DISPLAY, "200.00", date(2025, 3, 3)),
    ):
        values = {
            "name": key,
            "channel": channel,
            "spend": Decimal(spend),
            "start_date": start,
        }
        campaign = await run(
            lambda s, v=values: create_campaign(v, session=s, actor=ops)
        )
        data.campaigns[key] = campaign.id

    async def lead(name: str, hours: float, owner: str | None, **values: Any) -> int:
        row = await run(
            lambda s: create_lead(
                {
                    "last_name": name,
                    "owner_id": owner and data.users[owner].id,
                    **values,
                },
                session=s,
                actor=ops,
                now=T0 + hours * H,
            )
        )
        data.leads[name] = row.id
        return row.id

    async def engage(lead_id: int, kind: EngagementKind, hours: float) -> None:
        await run(
            lambda s: record_engagement(
                lead_id, kind, session=s, actor=ops, now=T0 + hours * H
            )
        )

    async def move(lead_id: int, to: LeadStatus, hours: float, **request: Any) -> None:
        await run(
            lambda s: transition_lead(
                lead_id,
                LeadTransitionRequest(to=to, **request),
                session=s,
                actor=ops,
                now=T0 + hours * H,
            )
        )

    async def talk(lead_id: int, hours: float) -> None:
        moment = T0 + hours * H
        await run(
            lambda s: log_activity(
                {
                    "kind": ActivityKind.EVENT,
                    "channel": ActivityChannel.CALL,
                    "subject": "Connected call",
                    "completed_at": moment,
                    "lead_id": lead_id,
                },
                session=s,
                actor=ops,
            )
        )

    async def convert(lead_id: int, by: str, hours: float, **options: Any) -> Any:
        return await run(
            lambda s: convert_lead(
                lead_id, session=s, actor=actor[by], now=T0 + hours * H, **options
            )
        )

    async def stage(opp_id: int, to: OpportunityStage, hours: float, **fields: Any):
        await run(
            lambda s: move_opportunity_stage(
                opp_id,
                StageMoveRequest(to=to),
                fields=fields,
                session=s,
                actor=ops,
                now=T0 + hours * H,
            )
        )

    germany = {"number_of_employees": 50, "country": "Germany"}
    new_york = {"number_of_employees": 500, "country": "United States", "state": "NY"}
    kinds = EngagementKind

    # (INQUIRY by a newsletter or webcast-email opt-in: a form, D2; a page visit
    # makes no Inquiry.)
    # L1: RAW 0, INQUIRY 1, MQL 3, ACCEPTED 5, QUALIFYING 9, converted 17 (BDR),
    # SAO 33, SQO 65, WON 129
    l1 = await lead(
        "L1", 0, "bdr", initial_source="Webcast", campaign_id=data.campaigns["cpc"],
        **germany,
    )  # fmt: skip
    await engage(l1, kinds.NEWSLETTER_OPT_IN, 1)
    await engage(l1, kinds.CONTACT_US_REQUEST, 3)
    await move(l1, LeadStatus.ACCEPTED, 5)
    await talk(l1, 8)
    await move(l1, LeadStatus.QUALIFYING, 9)
    # The BDR/SDR hands each new deal to the AE (D7, round 2: ASSIGNEE_REQUIRED).
    done = await convert(l1, "bdr", 17, owner_id=data.users["ae"].id)
    o1 = done.opportunity.id
    data.opportunities["O1"] = o1
    await stage(
        o1, OpportunityStage.DISCOVERY, 33,
        business_problem="Releases take weeks", incremental_acv=Decimal("24000.00"),
    )  # fmt: skip
    await stage(o1, OpportunityStage.SCOPING, 65)
    contact = done.contact.id
    await stage(
        o1, OpportunityStage.CLOSED_WON, 129,
        bill_to_contact_id=contact, sold_to_contact_id=contact, **WON_FIELDS,
    )  # fmt: skip

    # L2: RAW 2, INQUIRY = MQL 4, ACCEPTED 8, converted 12 from ACCEPTED (SDR),
    # SAO 20, lost 40
    l2 = await lead(
        "L2", 2, "sdr", initial_source="Trade Show", campaign_id=data.campaigns["email"],
        **new_york,
    )  # fmt: skip
    await engage(l2, kinds.CONTACT_US_REQUEST, 4)
    await move(l2, LeadStatus.ACCEPTED, 8)
    o2 = (await convert(l2, "sdr", 12, owner_id=data.users["ae"].id)).opportunity.id
    data.opportunities["O2"] = o2
    await stage(
        o2, OpportunityStage.DISCOVERY, 20,
        business_problem="Audit findings", incremental_acv=Decimal("6000.00"),
    )  # fmt: skip
    await stage(
        o2, OpportunityStage.CLOSED_LOST, 40,
        closed_lost_reasons=["PRICING"], closed_lost_detail="Too dear",
    )  # fmt: skip

    # L3: RAW 4, INQUIRY 9, nurture 10, INQUIRY again 11 (the first is kept)
    l3 = await lead(
        "L3", 4, "bdr", initial_source="Webcast", campaign_id=data.campaigns["cpc"],
        number_of_employees=5000, country="Japan",
    )  # fmt: skip
    await engage(l3, kinds.NEWSLETTER_OPT_IN, 9)
    await move(l3, LeadStatus.NURTURE, 10, reason="Next year")
    await engage(l3, kinds.WEBCAST_EMAIL_OPT_IN, 11)

    # L4: RAW 6 and nothing else, no dimension but the initial source
    await lead("L4", 6, None, initial_source="Outbound")

    # L5: a month later: RAW 720, INQUIRY 722, MQL 723, ACCEPTED 725
    l5 = await lead(
        "L5", 720, "sdr", initial_source="Webcast",
        campaign_id=data.campaigns["email"], **germany,
    )  # fmt: skip
    await engage(l5, kinds.NEWSLETTER_OPT_IN, 722)
    await engage(l5, kinds.CONTACT_US_REQUEST, 723)
    await move(l5, LeadStatus.ACCEPTED, 725)

    # L6: RAW 8, INQUIRY 10, MQL 11, ACCEPTED 13, QUALIFYING 20, converted
    # without an opportunity at 22
    l6 = await lead(
        "L6", 8, "bdr", initial_source="Trade Show",
        number_of_employees=3000, country="United States", state="CA",
    )  # fmt: skip
    await engage(l6, kinds.NEWSLETTER_OPT_IN, 10)
    await engage(l6, kinds.CONTACT_US_REQUEST, 11)
    await move(l6, LeadStatus.ACCEPTED, 13)
    await talk(l6, 19)
    await move(l6, LeadStatus.QUALIFYING, 20)
    await convert(l6, "bdr", 22, create_opportunity=False)

    # opportunities created without a lead, on accounts owned by the AE
    ae = data.users["ae"].id

    async def account(values: dict[str, Any]) -> tuple[int, int]:
        acct = await run(
            lambda s: create_account(
                {"name": f"Account {len(values)}{values.get('state')}",
                 "owner_id": ae, "number_of_employees": values["number_of_employees"],
                 "billing_country": values["country"],
                 "billing_state": values.get("state")},
                session=s, actor=ops,
            )
        )  # fmt: skip
        person = await run(
            lambda s: create_contact(
                {"last_name": "Buyer", "account_id": acct.id, "initial_source": "Webcast"},
                session=s, actor=ops,
            )
        )  # fmt: skip
        return acct.id, person.id

    smb, smb_contact = await account(germany)
    mid, _ = await account(new_york)

    async def deal(name: str, hours: float, values: dict[str, Any]) -> int:
        row = await run(
            lambda s: create_opportunity(
                {"name": name, "owner_id": ae, **values},
                session=s,
                actor=ops,
                now=T0 + hours * H,
            )
        )
        data.opportunities[name] = row.id
        return row.id

    o7 = await deal(
        "O7", 10,
        {"account_id": smb, "initial_source": "Partner",
         "sales_qualification_source": SalesQualificationSource.AE_GENERATED,
         "campaign_id": data.campaigns["social"], "primary_contact_id": smb_contact,
         "business_problem": "Slow releases", "incremental_acv": Decimal("10000.00")},
    )  # fmt: skip
    await stage(o7, OpportunityStage.DISCOVERY, 16)
    await stage(o7, OpportunityStage.SCOPING, 26)
    await deal(
        "O8", 12,
        {"account_id": mid, "initial_source": "Web Direct",
         "sales_qualification_source": SalesQualificationSource.WEB_DIRECT,
         "stage": OpportunityStage.CLOSED_WON, "incremental_acv": Decimal("3000.00")},
    )  # fmt: skip
    await deal(
        "O9", 14,
        {"account_id": smb, "initial_source": "Partner",
         "sales_qualification_source": SalesQualificationSource.AE_GENERATED,
         "stage": OpportunityStage.PRE_OPPORTUNITY,
         "campaign_id": data.campaigns["cpc"], "incremental_acv": Decimal("5000.00")},
    )  # fmt: skip

    seg, reg = SalesSegment, Region
    bdr_sqs = SalesQualificationSource.BDR_GENERATED
    sdr_sqs = SalesQualificationSource.SDR_GENERATED
    ae_sqs = SalesQualificationSource.AE_GENERATED
    ch = CampaignChannel
    data.records = [
        Record("L1", L1, seg.SMB, reg.EMEA, "Webcast", bdr_sqs, "bdr", ch.CPC),
        Record("L2", L2, seg.MID_MARKET, reg.US_EAST, "Trade Show", sdr_sqs, "sdr",
               ch.EMAIL),
        Record("L3", L3, seg.LARGE, reg.APAC, "Webcast", None, "bdr", ch.CPC),
        Record("L4", L4, seg.UNKNOWN, None, "Outbound", None, None, None),
        Record("L5", L5, seg.SMB, reg.EMEA, "Webcast", None, "sdr", ch.EMAIL),
        Record("L6", L6, seg.LARGE, reg.US_WEST, "Trade Show", None, "bdr", None),
        Record("O7", O7, seg.SMB, reg.EMEA, "Partner", ae_sqs, "ae", ch.SOCIAL),
        Record("O8", O8, seg.MID_MARKET, reg.US_EAST, "Web Direct",
               SalesQualificationSource.WEB_DIRECT, "ae", None),
        Record("O9", O9, seg.SMB, reg.EMEA, "Partner", ae_sqs, "ae", ch.CPC),
    ]  # fmt: skip
    return data


# --- the known answers -------------------------------------------------------------


def expected(records: list[Record]) -> list[dict[str, Any]]:
    """The funnel of these records, by definition: the count of those at each
    milestone; the share of those at the previous one that moved on to it; the
    median seconds of that move (statistics.median: the mean of the two middle
    values of an even count)."""
    figures = []
    for i, milestone in enumerate(MILESTONES):
        reached = [r for r in records if r.stamps[i] is not None]
        before = sum(1 for r in records if r.stamps[i - 1] is not None) if i else 0
        moved = [r for r in reached if i and r.stamps[i - 1] is not None]
        seconds = [(r.stamps[i] - r.stamps[i - 1]).total_seconds() for r in moved]
        figures.append(
            {
                "milestone": milestone.value,
                "count": len(reached),
                "conversionRate": len(moved) / before if before else None,
                "medianSecondsFromPrevious": float(statistics.median(seconds))
                if i and seconds
                else None,
            }
        )
    return figures


def row(count: int, rate: float | None, median: float | None) -> tuple[Any, ...]:
    return (count, rate, median)


def table(milestones: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (m["count"], m["conversionRate"], m["medianSecondsFromPrevious"])
        for m in milestones
    ]


async def funnel(api: Any, who: Any, filter: Any = None, group_by: Any = None) -> Any:
    result = await api(FUNNEL, {"filter": filter, "groupBy": group_by}, as_user=who)
    return result.ok()["funnel"]


@pytest.fixture
async def data(make: Any) -> FunnelData:
    return await build_funnel_data(make)


# --- the funnel ----------------------------------------------------------------------


async def test_every_milestone_with_its_count_rate_and_median(api, data):
    got = await funnel(api, data.users["ops"])

    assert [m["milestone"] for m in got["milestones"]] == [m.value for m in MILESTONES]
    assert table(got["milestones"]) == [
        row(6, None, None),  # the six leads: O7 … O9 have no RAW
        row(5, 5 / 6, 7200.0),  # 3600 7200 7200 7200 18000: odd
        row(4, 4 / 5, 3600.0),  # 0 3600 | 3600 7200: even
        row(4, 1.0, 7200.0),
        row(3, 3 / 4, 14400.0),  # 14400 14400 25200
        row(4, 2 / 3, 14400.0),  # L1, L2 moved; O7, O8 entered here
        row(4, 1.0, 25200.0),  # 0 21600 | 28800 57600
        row(3, 0.75, 36000.0),
        row(2, 2 / 3, 115200.0),  # 0 | 230400
    ]
    assert got["groups"] == []
    assert got["milestones"] == expected(data.records)


@pytest.mark.parametrize(
    ("criteria", "keep"),
    [
        ({"segment": ["SMB"]}, lambda d, r: r.segment is SalesSegment.SMB),
        (
            {"segment": ["LARGE", "MID_MARKET"]},
            lambda d, r: r.segment in (SalesSegment.LARGE, SalesSegment.MID_MARKET),
        ),
        ({"region": ["EMEA"]}, lambda d, r: r.region is Region.EMEA),
        ({"initialSource": ["Webcast"]}, lambda d, r: r.initial_source == "Webcast"),
        (
            {"salesQualificationSource": ["BDR_GENERATED", "AE_GENERATED"]},
            lambda d, r: (
                r.sales_qualification_source
                in (
                    SalesQualificationSource.BDR_GENERATED,
                    SalesQualificationSource.AE_GENERATED,
                )
            ),
        ),
        ({"campaignChannel": ["CPC"]}, lambda d, r: r.channel is CampaignChannel.CPC),
        (
            {
                "createdAfter": T0.isoformat(),
                "createdBefore": (T0 + 24 * H).isoformat(),
            },
            lambda d, r: r.entered is not None and r.entered < 24,
        ),
        (
            {
                "createdAfter": (T0 + 5 * H).isoformat(),
                "createdBefore": (T0 + 13 * H).isoformat(),
            },
            lambda d, r: r.entered is not None and 5 <= r.entered < 13,
        ),
        (
            {"createdAfter": (T0 + 6 * H).isoformat()},
            lambda d, r: r.entered is not None and r.entered >= 6,
        ),
        (
            {"segment": ["SMB"], "createdBefore": (T0 + 24 * H).isoformat()},
            lambda d, r: (
                r.segment is SalesSegment.SMB
                and r.entered is not None
                and r.entered < 24
            ),
        ),
    ],
)
async def test_each_filter_counts_only_its_records(api, data, criteria, keep):
    got = await funnel(api, data.users["ops"], criteria)

    chosen = [r for r in data.records if keep(data, r)]
    assert 0 < len(chosen) < len(data.records)
    assert got["milestones"] == expected(chosen)


SOURCED = """
query($source: FunnelSource!, $groupBy: FunnelDimension) {
  funnel(source: $source, groupBy: $groupBy) {
    milestones { milestone count conversionRate medianSecondsFromPrevious }
    groups { key milestones { milestone count conversionRate medianSecondsFromPrevious } }
  }
}"""


@pytest.mark.parametrize("group_by", [None, "OWNER", "SEGMENT"])
async def test_lead_sourced_and_direct_records_are_reported_separately(
    api, data, group_by
):
    """domain.md D11, Decision (round 2): "a direct opportunity (no lead) enters
    the funnel at PENDING_ACCEPTANCE and is never stamped with lead milestones;
    the funnel reports lead-sourced and direct records separately (`source:
    LEAD | DIRECT | ALL`), and medians between lead milestones come from leads
    only — a median of 0 s must mean records really moved at the same
    instant" (handbook, Customer Lifecycle: Raw … Qualifying are [Lead or
    Contact] stages; Pending Acceptance is the first [Opportunity] one)."""
    ops = data.users["ops"]

    def sourced(source: str) -> Any:
        return api(SOURCED, {"source": source, "groupBy": group_by}, as_user=ops)

    leads = (await sourced("LEAD")).ok()["funnel"]
    direct = (await sourced("DIRECT")).ok()["funnel"]
    both = (await sourced("ALL")).ok()["funnel"]

    assert leads["milestones"] == expected([r for r in data.records if not r.direct])
    assert direct["milestones"] == expected([r for r in data.records if r.direct])
    assert both == await funnel(api, ops, group_by=group_by)
    assert table(direct["milestones"]) == [row(0, None, None)] * 5 + [
        row(2, None, None),  # O7, O8 enter here; O9 is not an opportunity yet
        row(2, 1.0, 10800.0),  # 0 | 21600
        row(2, 1.0, 18000.0),  # 0 | 36000
        row(1, 0.5, 0.0),  # O8, won at its creation: really the same instant
    ]
    # every median up to PENDING_ACCEPTANCE is the leads' alone
    for i in range(1, 6):
        assert (
            both["milestones"][i]["medianSecondsFromPrevious"]
            == leads["milestones"][i]["medianSecondsFromPrevious"]
        )
        assert both["milestones"][i]["medianSecondsFromPrevious"] != 0.0
    for i, m in enumerate(both["milestones"]):
        assert m["count"] == (
            leads["milestones"][i]["count"] + direct["milestones"][i]["count"]
        )
    if group_by is not None:
        for answer, records in (
            (leads, [r for r in data.records if not r.direct]),
            (direct, [r for r in data.records if r.direct]),
        ):
            by_key: dict[str, list[Record]] = {}
            for record in records:
                if record.entered is not None:
                    key = data.value(record, FunnelDimension(group_by))
                    by_key.setdefault(key, []).append(record)
            assert {g["key"]: g["milestones"] for g in answer["groups"]} == {
                key: expected(chosen) for key, chosen in by_key.items()
            }


async def test_an_unknown_source_is_refused_naming_the_enum(api, make):
    ops = await make.user(Role.SALES_OPS)

    result = await api(SOURCED, {"source": "CONTACT"}, as_user=ops)

    assert result.data is None
    assert [e["code"] for e in result.errors] == ["INVALID_INPUT"]
    assert "FunnelSource" in result.errors[0]["message"]


async def test_the_owner_filter_counts_the_records_the_owner_brought(api, data):
    got = await funnel(
        api, data.users["ops"], {"ownerId": gid("User", data.users["bdr"].id)}
    )

    assert [r.name for r in data.records if r.owner == "bdr"] == ["L1", "L3", "L6"]
    assert got["milestones"] == expected([r for r in data.records if r.owner == "bdr"])
    assert table(got["milestones"])[4:] == [
        row(2, 1.0, 19800.0),  # L1 14400, L6 25200: even
        row(1, 0.5, 28800.0),
        row(1, 1.0, 57600.0),
        row(1, 1.0, 115200.0),
        row(1, 1.0, 230400.0),
    ]


async def test_an_owner_without_records_and_an_empty_window_give_zeros(api, data, make):
    nobody = await make.user(Role.AE)

    for criteria in (
        {"ownerId": gid("User", nobody.id)},
        {"createdAfter": T0.isoformat(), "createdBefore": T0.isoformat()},
        {"region": ["PUBLIC_SECTOR"]},
    ):
        got = await funnel(api, data.users["ops"], criteria)
        assert table(got["milestones"]) == [row(0, None, None)] * 9, criteria


@pytest.mark.parametrize("dimension", list(FunnelDimension))
async def test_each_grouping_sums_to_the_total(api, data, dimension):
    got = await funnel(api, data.users["ops"], group_by=dimension.value)

    assert got["milestones"] == expected(data.records)
    keys = [g["key"] for g in got["groups"]]
    by_key: dict[str, list[Record]] = {}
    for record in data.records:
        by_key.setdefault(data.value(record, dimension), []).append(record)
    assert sorted(keys) == sorted(by_key)
    for group in got["groups"]:
        assert group["milestones"] == expected(by_key[group["key"]]), group["key"]
    for i in range(len(MILESTONES)):
        assert (
            sum(g["milestones"][i]["count"] for g in got["groups"])
            == (got["milestones"][i]["count"])
        )


async def test_groups_come_in_the_order_of_their_values_with_none_last(api, data):
    ops = data.users["ops"]

    segments = await funnel(api, ops, group_by="SEGMENT")
    regions = await funnel(api, ops, group_by="REGION")
    sources = await funnel(api, ops, group_by="INITIAL_SOURCE")
    owners = await funnel(api, ops, group_by="OWNER")

    assert [g["key"] for g in segments["groups"]] == [
        "LARGE",
        "MID_MARKET",
        "SMB",
        "UNKNOWN",
    ]
    assert [g["key"] for g in regions["groups"]] == [
        "APAC",
        "EMEA",
        "US_EAST",
        "US_WEST",
        "NONE",
    ]
    assert [g["key"] for g in sources["groups"]] == [
        "Outbound",
        "Partner",
        "Trade Show",
        "Web Direct",
        "Webcast",
    ]
    users = data.users
    assert [g["key"] for g in owners["groups"]] == [
        gid("User", users[k].id) for k in ("bdr", "sdr", "ae")
    ] + ["NONE"]


async def test_grouping_a_filtered_funnel(api, data):
    got = await funnel(
        api,
        data.users["ops"],
        {"createdBefore": (T0 + 24 * H).isoformat(), "segment": ["SMB", "LARGE"]},
        "CAMPAIGN_CHANNEL",
    )

    chosen = [
        r
        for r in data.records
        if r.entered is not None
        and r.entered < 24
        and r.segment in (SalesSegment.SMB, SalesSegment.LARGE)
    ]
    assert got["milestones"] == expected(chosen)
    assert {g["key"]: g["milestones"] for g in got["groups"]} == {
        "CPC": expected([r for r in chosen if r.channel is CampaignChannel.CPC]),
        "SOCIAL": expected([r for r in chosen if r.channel is CampaignChannel.SOCIAL]),
        "NONE": expected([r for r in chosen if r.channel is None]),
    }


@pytest.mark.parametrize("group_by", [None, *(d.value for d in FunnelDimension)])
async def test_the_index_walk_and_the_ranking_give_the_same_medians(
    api, data, group_by
):
    """Unfiltered or by segment or region (index walks) and the same with a window
    holding everything (ranking) agree, under every grouping."""
    ops = data.users["ops"]
    everything = {"createdAfter": (T0 - 24 * H).isoformat()}

    for criteria in ({}, {"segment": ["SMB", "LARGE"]}, {"region": ["EMEA"]}):
        walked = await funnel(api, ops, criteria or None, group_by)
        ranked = await funnel(api, ops, {**criteria, **everything}, group_by)
        assert walked == ranked, criteria


async def test_an_empty_database_gives_zeros_and_no_groups(api, make):
    ops = await make.user(Role.SALES_OPS)

    plain = await funnel(api, ops)
    grouped = await funnel(api, ops, group_by="OWNER")
    filtered = await funnel(api, ops, {"region": ["EMEA"]}, "REGION")

    assert table(plain["milestones"]) == [row(0, None, None)] * 9
    assert grouped == plain
    assert filtered == plain


async def test_a_single_lead(api, make):
    ops = await make.user(Role.SALES_OPS)
    await make.run(
        lambda s: create_lead(
            {
                "last_name": "Only",
                "initial_source": "Webcast",
                "number_of_employees": 10,
            },
            session=s,
            actor=Actor(ops.id, ops.role),
            now=T0,
        )
    )

    got = await funnel(api, ops, group_by="SEGMENT")

    assert (
        table(got["milestones"])
        == [row(1, None, None), row(0, 0.0, None)] + [row(0, None, None)] * 7
    )
    assert [(g["key"], table(g["milestones"])) for g in got["groups"]] == [
        ("SMB", table(got["milestones"]))
    ]


# --- bad input -------------------------------------------------------------------------


async def test_a_window_ending_before_it_starts_is_refused(api, make):
    ops = await make.user(Role.SALES_OPS)

    result = await api(
        FUNNEL,
        {
            "filter": {
                "createdAfter": T0.isoformat(),
                "createdBefore": (T0 - H).isoformat(),
            }
        },
        as_user=ops,
    )

    assert result.data is None
    assert [(e["code"], e["field"]) for e in result.errors] == [
        ("INVALID_INPUT", ["filter", "createdBefore"])
    ]
    assert "before it starts" in result.errors[0]["message"]


async def test_an_unknown_dimension_is_refused_naming_the_enum(api, make):
    ops = await make.user(Role.SALES_OPS)

    result = await api(FUNNEL, {"groupBy": "COLOR"}, as_user=ops)

    assert result.data is None
    assert [e["code"] for e in result.errors] == ["INVALID_INPUT"]
    assert "FunnelDimension" in result.errors[0]["message"]
    assert "COLOR" in result.errors[0]["message"]


async def test_an_owner_that_does_not_exist_is_refused(api, make):
    ops = await make.user(Role.SALES_OPS)

    missing = await api(FUNNEL, {"filter": {"ownerId": gid("User", 999)}}, as_user=ops)
    not_a_user = await api(FUNNEL, {"filter": {"ownerId": gid("Lead", 1)}}, as_user=ops)

    assert [(e["code"], e["field"]) for e in missing.errors] == [
        ("NOT_FOUND", ["filter", "ownerId"])
    ]
    assert missing.errors[0]["message"] == f"No such record: {gid('User', 999)}."
    assert [(e["code"], e["field"]) for e in not_a_user.errors] == [
        ("INVALID_INPUT", ["filter", "ownerId"])
    ]


# --- pipe-to-spend ----------------------------------------------------------------------


def line(
    channel: str, opps: int, iacv: str, campaigns: int, spend: str, ratio: float | None
) -> dict[str, Any]:
    return {
        "channel": channel,
        "opportunities": opps,
        "pipelineIacv": iacv,
        "campaigns": campaigns,
        "spend": spend,
        "ratio": ratio,
    }


def idle(channel: str) -> dict[str, Any]:
    return line(channel, 0, "0.00", 0, "0.00", None)


async def test_pipe_to_spend_by_channel(api, data):
    got = (await api(PIPE, {}, as_user=data.users["ops"])).ok()["pipeToSpend"]

    assert got["channels"] == [
        line("CPC", 1, "24000.00", 2, "1300.00", 24000 / 1300),
        line("DISPLAY", 0, "0.00", 1, "200.00", 0.0),
        idle("PAID_SOCIAL"),
        idle("ORGANIC"),
        idle("OTHER"),
        idle("PARTNERS"),
        line("EMAIL", 1, "6000.00", 1, "500.00", 12.0),
        line("SOCIAL", 1, "10000.00", 1, "0.00", None),
        idle("SPONSORSHIP"),
        idle("WEB_DIRECT"),
        idle("WEB_REFERRAL"),
    ]
    # O9 is still 00-Pre Opportunity: not pipeline; O8 has no campaign
    assert (got["pipelineIacv"], got["spend"], got["ratio"]) == (
        "40000.00",
        "2000.00",
        20.0,
    )
    assert (got["unattributedOpportunities"], got["unattributedPipelineIacv"]) == (
        1,
        "3000.00",
    )


async def test_pipe_to_spend_in_a_window(api, data):
    ops = data.users["ops"]

    march = (
        await api(
            PIPE,
            {
                "filter": {
                    "createdAfter": "2025-03-01T00:00:00Z",
                    "createdBefore": "2025-04-01T00:00:00Z",
                }
            },
            as_user=ops,
        )
    ).ok()["pipeToSpend"]
    later = (
        await api(
            PIPE,
            {"filter": {"createdAfter": (T0 + 11 * H).isoformat()}},
            as_user=ops,
        )
    ).ok()["pipeToSpend"]

    cpc = march["channels"][0]
    assert cpc == line("CPC", 1, "24000.00", 1, "1000.00", 24.0)
    assert (march["pipelineIacv"], march["spend"]) == ("40000.00", "1700.00")
    # from 11:00 on the first day: O1 (17h) and O2 (12h) were created, O7 (10h)
    # was not; every campaign started earlier
    assert [
        (c["channel"], c["opportunities"])
        for c in later["channels"]
        if c["opportunities"]
    ] == [
        ("CPC", 1),
        ("EMAIL", 1),
    ]
    assert (later["spend"], later["ratio"]) == ("0.00", None)
    assert later["unattributedOpportunities"] == 1


async def test_pipe_to_spend_refuses_a_window_ending_before_it_starts(api, make):
    ops = await make.user(Role.SALES_OPS)

    result = await api(
        PIPE,
        {
            "filter": {
                "createdAfter": T0.isoformat(),
                "createdBefore": (T0 - H).isoformat(),
            }
        },
        as_user=ops,
    )

    assert [(e["code"], e["field"]) for e in result.errors] == [
        ("INVALID_INPUT", ["filter", "createdBefore"])
    ]


async def test_pipe_to_spend_on_an_empty_database(api, make):
    ops = await make.user(Role.SALES_OPS)

    got = (await api(PIPE, {}, as_user=ops)).ok()["pipeToSpend"]

    assert got["channels"] == [idle(c.value) for c in CampaignChannel]
    assert (got["pipelineIacv"], got["spend"], got["ratio"]) == ("0.00", "0.00", None)
    assert got["unattributedOpportunities"] == 0
