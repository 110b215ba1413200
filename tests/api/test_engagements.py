"""recordEngagement, scoreBreakdown and the automatic moves scoring causes (D6, D2)."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import LeadStatus, Role
from domain.records import Engagement, Lead
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.conftest import row_count

RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    lead { status personScore activeUntil history { from to } }
    engagement { id kind }
    userErrors { code field message }
  }
}"""
BREAKDOWN = """
query($id: ID!) { lead(id: $id) { personScore scoreBreakdown { rule points engagement { id } } } }"""


async def test_an_engagement_scores_the_lead_and_moves_it_to_inquiry(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title="Senior Developer", email="dev@acme.example")

    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", lead.id), "kind": "WEBCAST_REGISTRATION"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]

    assert data["userErrors"] == []
    # Senior +50, developer -10, company email +5, webcast registration +15
    assert data["lead"]["personScore"] == 60
    assert data["lead"]["status"] == "INQUIRY"
    assert data["lead"]["history"] == [{"from": "RAW", "to": "INQUIRY"}]


async def test_reaching_ninety_makes_a_raw_lead_an_mql_through_inquiry(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title="VP Engineering", email="vp@acme.example")

    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", lead.id), "kind": "CONTACT_US_REQUEST"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]

    assert data["lead"]["personScore"] == 155
    assert data["lead"]["status"] == "MQL"
    assert data["lead"]["history"] == [
        {"from": "RAW", "to": "INQUIRY"},
        {"from": "INQUIRY", "to": "MQL"},
    ]


async def test_the_breakdown_sums_to_the_score_and_names_each_engagement(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title=None, email="someone@gmail.com")
    lid = gid("Lead", lead.id)
    first = (
        await api(
            RECORD,
            {"input": {"leadId": lid, "kind": "PRICING_PAGE_VISIT"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["engagement"]
    await api(
        RECORD, {"input": {"leadId": lid, "kind": "PRICING_PAGE_VISIT"}}, as_user=ops
    )

    data = (await api(BREAKDOWN, {"id": lid}, as_user=ops)).ok()["lead"]

    # blank title -10, free mail -5, pricing page +10 once per day
    assert sorted(
        (line["rule"], line["points"]) for line in data["scoreBreakdown"]
    ) == [
        ("FREE_MAIL", -5),
        ("PRICING_PAGE_VISIT", 10),
        ("TITLE_BLANK_OR_TECHNICAL", -10),
    ]
    assert (
        sum(line["points"] for line in data["scoreBreakdown"])
        == data["personScore"]
        == -5
    )
    pricing = next(line for line in data["scoreBreakdown"] if line["points"] == 10)
    assert pricing["engagement"]["id"] == first["id"]


async def test_a_profile_change_recomputes_the_demographic_score(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title="Developer", email="a@acme.example")

    data = (
        await api(
            "mutation($i: UpdateLeadInput!) { updateLead(input: $i) { lead { personScore version } } }",
            {"i": {"id": gid("Lead", lead.id), "title": "Director of IT"}},
            as_user=ops,
        )
    ).ok()["updateLead"]["lead"]

    assert lead.person_score == -5
    assert data == {"personScore": 55, "version": 2}


async def test_a_trial_request_makes_the_lead_active_for_the_trial_plus_thirty_days(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    at = (utcnow() - timedelta(days=1)).replace(microsecond=0)

    data = (
        await api(
            RECORD,
            {
                "input": {
                    "leadId": gid("Lead", lead.id),
                    "kind": "TRIAL_REQUEST",
                    "occurredAt": at.isoformat(),
                }
            },
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    assert data["activeUntil"] == (at + timedelta(days=60)).isoformat()


async def test_a_nurtured_lead_returns_to_inquiry_on_a_new_engagement(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, email="n@acme.example")
    lid = gid("Lead", lead.id)
    await api(
        "mutation($i: TransitionLeadInput!) { transitionLead(input: $i) { userErrors { code } } }",
        {"i": {"id": lid, "to": "NURTURE", "reason": "not now"}},
        as_user=ops,
    )

    data = (
        await api(
            RECORD, {"input": {"leadId": lid, "kind": "NEWSLETTER_OPT_IN"}}, as_user=ops
        )
    ).ok()["recordEngagement"]["lead"]

    assert data["status"] == "INQUIRY"


async def test_bad_engagement_input_is_refused_and_records_nothing(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    stranger = await make.user(Role.AE)
    lead = await make.lead(by=ops)
    future = (utcnow() + timedelta(days=2)).isoformat()

    in_future = (
        await api(
            RECORD,
            {
                "input": {
                    "leadId": gid("Lead", lead.id),
                    "kind": "TRIAL_REQUEST",
                    "occurredAt": future,
                }
            },
            as_user=ops,
        )
    ).ok()["recordEngagement"]["userErrors"]
    missing = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", 999), "kind": "TRIAL_REQUEST"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["userErrors"]
    forbidden = (
        await api(
            RECORD,
            {"input": {"leadId": gid("Lead", lead.id), "kind": "TRIAL_REQUEST"}},
            as_user=stranger,
        )
    ).ok()["recordEngagement"]["userErrors"]

    assert [(e["code"], e["field"]) for e in in_future] == [
        ("INVALID_INPUT", ["occurredAt"])
    ]
    assert [(e["code"], e["field"]) for e in missing] == [("NOT_FOUND", ["leadId"])]
    assert [e["code"] for e in forbidden] == ["FORBIDDEN"]
    assert await row_count(sessions, Engagement) == 0
    async with sessions() as s:
        unchanged = await s.get(Lead, lead.id)
    assert (unchanged.status, unchanged.person_score, unchanged.version) == (
        LeadStatus.RAW,
        lead.person_score,
        1,
    )


async def test_a_repeated_engagement_with_the_same_key_is_recorded_once(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    payload = {
        "leadId": gid("Lead", lead.id),
        "kind": "GATED_ASSET_DOWNLOAD",
        "idempotencyKey": "mkto-1",
    }

    first = (await api(RECORD, {"input": payload}, as_user=ops)).ok()[
        "recordEngagement"
    ]
    again = (await api(RECORD, {"input": payload}, as_user=ops)).ok()[
        "recordEngagement"
    ]

    assert again["engagement"]["id"] == first["engagement"]["id"]
    assert await row_count(sessions, Engagement) == 1
