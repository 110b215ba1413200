"""The walk a newcomer takes in GraphiQL: a lead from RAW to a won deal, API only."""

from __future__ import annotations

from domain.enums import Role
from domain.sqltypes import utcnow
from tests.api.ids import gid


async def test_a_lead_walks_from_raw_to_a_won_deal_through_the_api(api, make):
    marketing = await make.user(Role.MARKETING_OPS)
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)

    async def call(query, variables, who=sdr):
        data = (await api(query, variables, as_user=who)).ok()
        payload = next(iter(data.values()))
        assert payload.get("userErrors", []) == [], payload
        return payload

    lead = (
        await call(
            """mutation($i: CreateLeadInput!) { createLead(input: $i) { lead { id status } userErrors { code } } }""",
            {
                "i": {
                    "firstName": "Grace",
                    "lastName": "Hopper",
                    "email": "grace@navy.example",
                    "company": "Navy Labs",
                    "title": "VP Engineering",
                    "initialSource": "Contact Us",
                    "numberOfEmployees": 3000,
                    "country": "US",
                    "state": "VA",
                }
            },
            marketing,
        )
    )["lead"]
    lid = lead["id"]
    assert lead["status"] == "RAW"

    scored = await call(
        """mutation($i: RecordEngagementInput!) { recordEngagement(input: $i) { lead { status personScore } userErrors { code } } }""",
        {"i": {"leadId": lid, "kind": "CONTACT_US_REQUEST"}},
        marketing,
    )
    assert scored["lead"]["status"] == "MQL"

    await call(
        """mutation($i: UpdateLeadInput!) { updateLead(input: $i) { lead { id } userErrors { code } } }""",
        {"i": {"id": lid, "ownerId": gid("User", sdr.id)}},
        marketing,
    )
    await call(
        """mutation($i: TransitionLeadInput!) { transitionLead(input: $i) { lead { status } userErrors { code } } }""",
        {"i": {"id": lid, "to": "ACCEPTED"}},
    )
    await call(
        """mutation($i: LogActivityInput!) { logActivity(input: $i) { activity { id } userErrors { code } } }""",
        {
            "i": {
                "kind": "EVENT",
                "channel": "CALL",
                "subject": "Discovery call",
                "leadId": lid,
                "completedAt": utcnow().isoformat(),
            }
        },
    )
    await call(
        """mutation($i: TransitionLeadInput!) { transitionLead(input: $i) { lead { status } userErrors { code } } }""",
        {"i": {"id": lid, "to": "QUALIFYING"}},
    )
    converted = await call(
        """mutation($i: ConvertLeadInput!) { convertLead(input: $i) {
             contact { id } opportunity { id stage } lead { status } userErrors { code } } }""",
        # The SDR hands the opportunity to a sales rep (D7), who accepts it (D3.3).
        {
            "i": {
                "id": lid,
                "opportunityName": "Navy Labs - Premium",
                "ownerId": gid("User", ae.id),
            }
        },
    )
    assert converted["lead"]["status"] == "QUALIFIED"
    opp = converted["opportunity"]["id"]
    contact = converted["contact"]["id"]

    won = await call(
        """mutation($i: MoveOpportunityStageInput!) { moveOpportunityStage(input: $i) {
             opportunity { stage salesAcceptedDate salesQualified initialIacv
                           history { from to } }
             userErrors { code field message } } }""",
        {
            "i": {
                "id": opp,
                "to": "CLOSED_WON",
                "fields": {
                    "businessProblem": "Release cycle too slow",
                    "primaryContactId": contact,
                    "incrementalAcv": "30000.00",
                    "technicalRequirementsConfirmed": True,
                    "billToContactId": contact,
                    "soldToContactId": contact,
                    "poWillBeIssued": False,
                    "purchasingPlan": "Signed by the CFO in Q4",
                    "businessTermsAgreed": True,
                    "referenceableCustomer": "LATER",
                    "signedOrderFormReceived": True,
                    "restrictedPartyScreening": "CLEARED",
                    "financeApproved": True,
                    "closedWonDetails": "Won on release speed",
                },
            }
        },
        ae,
    )

    deal = won["opportunity"]
    assert deal["stage"] == "CLOSED_WON"
    assert deal["salesQualified"] is True
    assert deal["initialIacv"] == "30000.00"
    assert deal["salesAcceptedDate"] is not None
    assert [(h["from"], h["to"]) for h in deal["history"]] == [
        (None, "PENDING_ACCEPTANCE"),
        ("PENDING_ACCEPTANCE", "CLOSED_WON"),
    ]
