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


RECORD_WHOLE_LEAD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    lead { ...Whole }
    userErrors { code }
  }
}
fragment Whole on Lead {
  id status personScore version updatedAt statusChangedAt activeUntil
  owner { id } scoreBreakdown { rule points }
}"""
READ_WHOLE_LEAD = """
query($id: ID!) { lead(id: $id) { ...Whole } }
fragment Whole on Lead {
  id status personScore version updatedAt statusChangedAt activeUntil
  owner { id } scoreBreakdown { rule points }
}"""


async def test_the_payload_lead_is_the_lead_as_committed_first_time_and_on_replay(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    payload = {
        "leadId": gid("Lead", lead.id),
        "kind": "GATED_ASSET_DOWNLOAD",
        "idempotencyKey": "mkto-2",
    }

    first = (await api(RECORD_WHOLE_LEAD, {"input": payload}, as_user=ops)).ok()
    read = (await api(READ_WHOLE_LEAD, {"id": gid("Lead", lead.id)}, as_user=ops)).ok()
    again = (await api(RECORD_WHOLE_LEAD, {"input": payload}, as_user=ops)).ok()

    # The first answer is the lead the service held, never read again; the
    # replay's is read: both are what a later read sees.
    assert first["recordEngagement"]["userErrors"] == []
    assert first["recordEngagement"]["lead"] == read["lead"]
    assert again["recordEngagement"]["lead"] == read["lead"]
    assert read["lead"]["status"] == "INQUIRY"
    assert read["lead"]["version"] == 2


async def test_page_visits_and_unsubscribes_score_but_do_not_make_an_inquiry(api, make):
    """D2 round 2: seed 002_91dd8e67a169a832.txt defines "Inquiry | Form
    submission, meeting @ trade show, content offer" — a page visit or an
    unsubscribe is no hand-raise; a gated-asset download (a content offer) is."""
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title="Analyst", email="a@acme.example")
    lid = gid("Lead", lead.id)

    async def record(kind: str) -> dict:
        return (
            await api(RECORD, {"input": {"leadId": lid, "kind": kind}}, as_user=ops)
        ).ok()["recordEngagement"]

    visits = [
        await record(kind)
        for kind in (
            "PRICING_PAGE_VISIT",
            "FEATURES_PAGE_VISIT",
            "INSTALLATION_PAGE_VISIT",
            "CAREERS_PAGE_VISIT",
            "ENTERPRISE_TRIAL_PAGE_VISIT",
            "EMAIL_UNSUBSCRIBE",
        )
    ]
    content = await record("GATED_ASSET_DOWNLOAD")

    assert [v["userErrors"] for v in visits] == [[]] * 6
    # +5 company email, +10 +10 +2 +0 +50 -25: scored, still RAW.
    assert [(v["lead"]["status"], v["lead"]["personScore"]) for v in visits] == [
        ("RAW", 15),
        ("RAW", 25),
        ("RAW", 27),
        ("RAW", 27),
        ("RAW", 77),
        ("RAW", 52),
    ]
    assert visits[-1]["lead"]["history"] == []
    assert content["lead"]["status"] == "INQUIRY"
    assert content["lead"]["history"] == [{"from": "RAW", "to": "INQUIRY"}]


async def test_a_page_visit_does_not_bring_a_nurtured_lead_back_to_inquiry(api, make):
    """D2 round 2 (seed 002_91dd8e67a169a832.txt, "Inquiry | Form submission,
    meeting @ trade show, content offer"): NURTURE → INQUIRY on a hand-raise only."""
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, email="n@acme.example")
    lid = gid("Lead", lead.id)
    await api(
        "mutation($i: TransitionLeadInput!) { transitionLead(input: $i) { userErrors { code } } }",
        {"i": {"id": lid, "to": "NURTURE", "reason": "not now"}},
        as_user=ops,
    )

    visit = (
        await api(
            RECORD,
            {"input": {"leadId": lid, "kind": "PRICING_PAGE_VISIT"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]
    booth = (
        await api(
            RECORD,
            {"input": {"leadId": lid, "kind": "TRADESHOW_BOOTH_VISIT"}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]["lead"]

    assert visit["status"] == "NURTURE"
    assert booth["status"] == "INQUIRY"


async def test_two_careers_visits_on_the_same_day_cost_25(api, make):
    """D6 round 2: seed 002_91dd8e67a169a832.txt, "-25 pts … Multiple career page
    visits in 7 days" — two visits on one day are multiple visits within 7 days
    (once a day is for positive page-visit points only)."""
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, title="Analyst", email="a@acme.example")
    lid = gid("Lead", lead.id)
    morning = (utcnow() - timedelta(days=1)).replace(hour=9, minute=0, microsecond=0)
    ids = []
    for at in (morning, morning + timedelta(hours=3)):
        data = (
            await api(
                RECORD,
                {
                    "input": {
                        "leadId": lid,
                        "kind": "CAREERS_PAGE_VISIT",
                        "occurredAt": at.isoformat(),
                    }
                },
                as_user=ops,
            )
        ).ok()["recordEngagement"]
        assert data["userErrors"] == []
        ids.append(data["engagement"]["id"])

    found = (await api(BREAKDOWN, {"id": lid}, as_user=ops)).ok()["lead"]

    assert found["personScore"] == 5 - 25
    assert found["scoreBreakdown"] == [
        {"rule": "COMPANY_EMAIL", "points": 5, "engagement": None},
        {"rule": "CAREERS_PAGE_VISITS", "points": -25, "engagement": {"id": ids[1]}},
    ]
