"""Dry runs (issue 12 item 4): transitionLead, moveOpportunityStage, convertLead,
routeLead and recordEngagement with ``dryRun: true`` decide and compute
everything, write nothing, and say what they would emit — the same as the real
call then emits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from domain.enums import Role
from domain.records import Event, Lead, Opportunity
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.api.test_convert_lead import handed_to, qualifying_lead
from tests.api.test_opportunity_pipeline import a_deal
from tests.api.test_routing import pool

DRY = "dryRun { wouldEmit { type recordType recordId payload recipients { capacity user { id } } } }"


async def every_table(sessions: Any) -> dict[str, int]:
    """The row count of every table, and the largest event id."""
    async with sessions() as s:
        counts = {
            t.name: await s.scalar(select(func.count()).select_from(t))
            for t in SQLModel.metadata.sorted_tables
        }
        counts["max event id"] = await s.scalar(select(func.max(Event.id)))
    return counts


async def written_events(sessions: Any, after: int | None) -> list[dict[str, Any]]:
    """The events written after id ``after``, as a dry run lists them."""
    from api.events import NODE_OF
    from api.relay import encode_id
    from domain.records import EventRecipient

    async with sessions() as s:
        events = (
            (
                await s.execute(
                    select(Event).where(Event.id > (after or 0)).order_by(Event.id)
                )
            )
            .scalars()
            .all()
        )
        found = []
        for e in events:
            recipients = (
                (
                    await s.execute(
                        select(EventRecipient)
                        .where(EventRecipient.event_id == e.id)
                        .order_by(EventRecipient.id)
                    )
                )
                .scalars()
                .all()
            )
            found.append(
                {
                    "type": e.kind,
                    "recordType": e.record_type.value,
                    "recordId": encode_id(NODE_OF[e.record_type], e.record_id),
                    "payload": e.payload,
                    "recipients": [
                        {"capacity": r.capacity, "user": {"id": gid("User", r.user_id)}}
                        for r in recipients
                    ],
                }
            )
    return found


def comparable(
    events: list[dict[str, Any]], new_records: bool = False
) -> list[dict[str, Any]]:
    """Events without the moments in their payloads (they differ by run); with
    ``new_records``, without record ids either: the records a dry run creates
    take ids a real call does not reuse (PostgreSQL sequences never go back)."""

    def kept(key: str) -> bool:
        if key.endswith("_at") or key in {"at", "due"}:
            return False
        return not (new_records and key.endswith("_id"))

    return [
        {
            **{k: v for k, v in e.items() if not (new_records and k == "recordId")},
            "payload": {k: v for k, v in e["payload"].items() if kept(k)},
        }
        for e in events
    ]


async def rehearse_then_do(
    api: Any,
    sessions: Any,
    query: str,
    body: dict[str, Any],
    name: str,
    user: Any,
    *,
    new_records: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dry run (asserting it wrote nothing), then the real call (asserting it
    emitted what the dry run said): both payloads."""
    before = await every_table(sessions)
    dry = (await api(query, {"input": {**body, "dryRun": True}}, as_user=user)).ok()[
        name
    ]
    assert await every_table(sessions) == before
    real = (await api(query, {"input": body}, as_user=user)).ok()[name]
    assert real["dryRun"] is None
    assert comparable(dry["dryRun"]["wouldEmit"], new_records) == comparable(
        await written_events(sessions, before["max event id"]), new_records
    )
    return dry, real


TRANSITION = f"""
mutation($input: TransitionLeadInput!) {{
  transitionLead(input: $input) {{
    lead {{ id status version }} userErrors {{ code field }} {DRY} }} }}"""


async def test_a_dry_run_transition_shows_the_moved_lead_and_writes_nothing(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    body = {"id": gid("Lead", lead.id), "to": "NURTURE", "reason": "Later"}

    dry, real = await rehearse_then_do(
        api, sessions, TRANSITION, body, "transitionLead", ops
    )

    assert dry["userErrors"] == []
    assert dry["lead"] == real["lead"]
    assert dry["lead"]["status"] == "NURTURE"
    assert [e["type"] for e in dry["dryRun"]["wouldEmit"]] == ["LEAD_STATUS_CHANGED"]


async def test_a_refused_dry_run_lists_every_reason_and_no_event(api, make, sessions):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    before = await every_table(sessions)

    dry = (
        await api(
            TRANSITION,
            {"input": {"id": gid("Lead", lead.id), "to": "NURTURE", "dryRun": True}},
            as_user=ops,
        )
    ).ok()["transitionLead"]

    assert codes(dry) == [("REASON_REQUIRED", ["reason"])]
    assert dry["lead"] is None
    assert dry["dryRun"] == {"wouldEmit": []}
    assert await every_table(sessions) == before


async def test_a_dry_run_ignores_the_idempotency_key(api, make, sessions):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    body = {
        "id": gid("Lead", lead.id),
        "to": "NURTURE",
        "reason": "Later",
        "idempotencyKey": "k",
    }
    before = await every_table(sessions)

    await api(TRANSITION, {"input": {**body, "dryRun": True}}, as_user=ops)
    real = (await api(TRANSITION, {"input": body}, as_user=ops)).ok()

    assert before["idempotency_keys"] == 0
    assert real["transitionLead"]["lead"]["status"] == "NURTURE"
    assert (await every_table(sessions))["idempotency_keys"] == 1


MOVE = f"""
mutation($input: MoveOpportunityStageInput!) {{
  moveOpportunityStage(input: $input) {{
    opportunity {{ id stage version salesAcceptedDate }} userErrors {{ code }} {DRY} }} }}"""


async def test_a_dry_run_stage_move_shows_the_accepted_deal_and_writes_nothing(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    body = {"id": gid("Opportunity", deal.id), "to": "DISCOVERY"}

    dry, real = await rehearse_then_do(
        api, sessions, MOVE, body, "moveOpportunityStage", ae
    )

    assert dry["userErrors"] == []
    assert dry["opportunity"]["stage"] == "DISCOVERY"
    assert dry["opportunity"]["version"] == real["opportunity"]["version"]
    assert dry["opportunity"]["salesAcceptedDate"] is not None
    assert "OPPORTUNITY_STAGE_CHANGED" in [
        e["type"] for e in dry["dryRun"]["wouldEmit"]
    ]


CONVERT = f"""
mutation($input: ConvertLeadInput!) {{
  convertLead(input: $input) {{
    lead {{ status }} account {{ name }} contact {{ lastName }}
    opportunity {{ name stage }} userErrors {{ code }} {DRY} }} }}"""


async def test_a_dry_run_conversion_shows_what_it_would_create_and_creates_nothing(
    api, make, sessions
):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    lead = await qualifying_lead(make, sdr, company="Globex", email="h@globex.example")

    dry, real = await rehearse_then_do(
        api,
        sessions,
        CONVERT,
        handed_to(ae, lead)["input"],
        "convertLead",
        sdr,
        new_records=True,
    )

    assert dry["userErrors"] == []
    assert {k: v for k, v in dry.items() if k != "dryRun"} == {
        k: v for k, v in real.items() if k != "dryRun"
    }
    assert dry["account"]["name"] == "Globex"
    assert dry["lead"]["status"] == "QUALIFIED"
    assert len(dry["dryRun"]["wouldEmit"]) >= 2


RECORD = """
mutation($input: RecordEngagementInput!) {
  recordEngagement(input: $input) {
    lead { status personScore } engagement { id kind }
    userErrors { code }
    dryRun { wouldEmit { type recordType recordId payload recipients { capacity user { id } } }
              scoreBreakdown { rule points } } } }"""
ROUTE = f"""
mutation($input: RouteLeadInput!) {{
  routeLead(input: $input) {{
    lead {{ owner {{ id }} routing {{ rule pool reason assignee {{ id }} }} }}
    userErrors {{ code }} {DRY} }} }}"""


async def test_a_dry_run_routing_shows_the_decision_and_moves_no_pool(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    bdrs = [await make.user(Role.BDR) for _ in range(2)]
    await pool(api, ops, "BDR_EMEA", bdrs)
    lead = await make.lead(by=ops, number_of_employees=5000, country="DE")
    contact_us = {"leadId": gid("Lead", lead.id), "kind": "CONTACT_US_REQUEST"}
    await api(RECORD, {"input": contact_us}, as_user=ops)  # routed to bdrs[0]

    dry, real = await rehearse_then_do(
        api, sessions, ROUTE, {"id": gid("Lead", lead.id)}, "routeLead", ops
    )

    assert dry["userErrors"] == []
    assert dry["lead"]["routing"]["pool"] == "BDR_EMEA"
    # The pool's turn did not move: the real call hands the lead to the same BDR.
    assert dry["lead"] == real["lead"]
    assert dry["lead"]["owner"] == {"id": gid("User", bdrs[1].id)}
    assert [e["type"] for e in dry["dryRun"]["wouldEmit"]][:1] == ["LEAD_ROUTED"]


SCORE = (
    "query($id: ID!) { lead(id: $id) { personScore scoreBreakdown { rule points } } }"
)


async def test_a_dry_run_engagement_shows_the_new_score_and_records_nothing(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(by=ops, title="VP Engineering")
    body = {"leadId": gid("Lead", lead.id), "kind": "WEBCAST_REGISTRATION"}

    dry, real = await rehearse_then_do(
        api, sessions, RECORD, body, "recordEngagement", ops, new_records=True
    )

    after = (await api(SCORE, {"id": gid("Lead", lead.id)}, as_user=ops)).ok()["lead"]
    assert dry["userErrors"] == []
    assert dry["lead"] == real["lead"]
    assert dry["dryRun"]["scoreBreakdown"] == after["scoreBreakdown"]
    assert (
        sum(line["points"] for line in dry["dryRun"]["scoreBreakdown"])
        == (dry["lead"]["personScore"])
    )
    assert dry["engagement"]["kind"] == "WEBCAST_REGISTRATION"


async def test_a_dry_run_leaves_the_version_unchanged(api, make, sessions):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)

    dry = (
        await api(
            MOVE,
            {
                "input": {
                    "id": gid("Opportunity", deal.id),
                    "to": "DISCOVERY",
                    "dryRun": True,
                }
            },
            as_user=ae,
        )
    ).ok()["moveOpportunityStage"]

    async with sessions() as s:
        stored = await s.get(Opportunity, deal.id)
        lead_rows = await s.scalar(select(func.count()).select_from(Lead))
    assert dry["opportunity"]["version"] == deal.version + 1
    assert (stored.version, stored.stage) == (deal.version, deal.stage)
    assert lead_rows == 0
