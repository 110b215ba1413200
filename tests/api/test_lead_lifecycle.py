"""transitionLead, availableTransitions, history and stateMachines (D2, A4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.enums import ActivityChannel, EngagementKind, LeadStatus, Role
from domain.records import Activity, Engagement, Event, Lead, TransitionRecord
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.conftest import row_count

MOVE = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) {
    lead { status version history { from to reason secondsInFrom actor { id } } }
    userErrors { code field message }
  }
}"""
OPTIONS = """
query($id: ID!) {
  lead(id: $id) { status availableTransitions { to label allowed blockedBy { code field } } }
}"""


async def set_status(make, lead_id: int, status: LeadStatus) -> None:
    async def use_case(s):
        lead = await s.get(Lead, lead_id)
        lead.status = status

    await make.run(use_case)


async def set_score(make, lead_id: int, score: int) -> None:
    async def use_case(s):
        (await s.get(Lead, lead_id)).person_score = score

    await make.run(use_case)


async def add(make, row) -> None:
    async def use_case(s):
        s.add(row)

    await make.run(use_case)


async def test_a_lead_walks_from_raw_to_qualifying_with_a_ledger_entry_per_move(
    api, make, sessions
):
    rep = await make.user(Role.SDR)
    lead = await make.lead(owner_id=rep.id, initial_source="Webcast")
    lid = gid("Lead", lead.id)
    await add(
        make, Engagement(lead_id=lead.id, kind=EngagementKind.WEBCAST_REGISTRATION)
    )

    steps = []
    for to in ("INQUIRY", "ACCEPTED"):
        steps.append(
            (await api(MOVE, {"input": {"id": lid, "to": to}}, as_user=rep)).ok()
        )
    await add(
        make,
        Activity(
            kind="TASK",
            channel=ActivityChannel.CALL,
            subject="Intro call",
            lead_id=lead.id,
            completed_at=utcnow(),
        ),
    )
    last = (
        await api(MOVE, {"input": {"id": lid, "to": "QUALIFYING"}}, as_user=rep)
    ).ok()

    assert [s["transitionLead"]["userErrors"] for s in steps] == [[], []]
    moved = last["transitionLead"]["lead"]
    assert moved["status"] == "QUALIFYING"
    assert moved["version"] == 4
    assert [(h["from"], h["to"]) for h in moved["history"]] == [
        ("RAW", "INQUIRY"),
        ("INQUIRY", "ACCEPTED"),
        ("ACCEPTED", "QUALIFYING"),
    ]
    assert all(h["secondsInFrom"] >= 0 for h in moved["history"])
    assert moved["history"][0]["actor"]["id"] == gid("User", rep.id)
    async with sessions() as s:
        kinds = (await s.execute(select(Event.kind).order_by(Event.id))).scalars().all()
    assert kinds.count("LEAD_STATUS_CHANGED") == 3


async def test_a_refused_move_lists_every_reason_and_changes_nothing(
    api, make, sessions
):
    owner = await make.user(Role.SDR)
    other = await make.user(Role.BDR)
    lead = await make.lead(owner_id=None, initial_source="GitLab.com")
    await set_status(make, lead.id, LeadStatus.MQL)
    await make.run(lambda s: _give_owner(s, lead.id, owner.id))

    data = (
        await api(
            MOVE,
            {"input": {"id": gid("Lead", lead.id), "to": "ACCEPTED"}},
            as_user=other,
        )
    ).ok()["transitionLead"]

    assert data["lead"] is None
    # One cause, one code: NOT_OWNER says who may accept (no FORBIDDEN besides).
    assert sorted(e["code"] for e in data["userErrors"]) == [
        "NOT_ACTIVE",
        "NOT_OWNER",
    ]
    async with sessions() as s:
        unchanged = await s.get(Lead, lead.id)
    assert (unchanged.status, unchanged.version) == (LeadStatus.MQL, 3)
    assert await row_count(sessions, TransitionRecord) == 0


async def _give_owner(s, lead_id, owner_id):
    (await s.get(Lead, lead_id)).owner_id = owner_id


async def test_reasons_are_required_to_unqualify_nurture_or_mark_bad_data(api, make):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()

    results = {
        to: (
            await api(
                MOVE, {"input": {"id": gid("Lead", lead.id), "to": to}}, as_user=ops
            )
        ).ok()["transitionLead"]["userErrors"]
        for to in ("UNQUALIFIED", "NURTURE", "BAD_DATA")
    }
    wpp = (
        await api(
            MOVE,
            {"input": {"id": gid("Lead", lead.id), "to": "WEB_PORTAL_PURCHASE"}},
            as_user=ops,
        )
    ).ok()["transitionLead"]["userErrors"]

    assert {
        to: [(e["code"], e["field"]) for e in errs] for to, errs in results.items()
    } == {
        "UNQUALIFIED": [("REASON_REQUIRED", ["reason"])],
        "NURTURE": [("REASON_REQUIRED", ["reason"])],
        "BAD_DATA": [("REASON_REQUIRED", ["reason"])],
    }
    assert [e["code"] for e in wpp] == ["PURCHASE_REFERENCE_REQUIRED"]


async def test_qualified_is_reached_only_through_conversion(api, make):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    await set_status(make, lead.id, LeadStatus.QUALIFYING)

    data = (
        await api(
            MOVE,
            {"input": {"id": gid("Lead", lead.id), "to": "QUALIFIED"}},
            as_user=ops,
        )
    ).ok()["transitionLead"]

    assert [e["code"] for e in data["userErrors"]] == ["CONVERSION_REQUIRED"]


async def test_bad_data_returns_to_raw_only_after_the_contact_data_is_corrected(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(email="wrong@acme.example")
    lid = gid("Lead", lead.id)
    await api(
        MOVE, {"input": {"id": lid, "to": "BAD_DATA", "reason": "bounced"}}, as_user=ops
    )

    before = (await api(MOVE, {"input": {"id": lid, "to": "RAW"}}, as_user=ops)).ok()
    await api(
        "mutation($i: UpdateLeadInput!) { updateLead(input: $i) { userErrors { code } } }",
        {"i": {"id": lid, "email": "right@acme.example"}},
        as_user=ops,
    )
    after = (await api(MOVE, {"input": {"id": lid, "to": "RAW"}}, as_user=ops)).ok()

    assert [e["code"] for e in before["transitionLead"]["userErrors"]] == [
        "CONTACT_DATA_UNCHANGED"
    ]
    assert after["transitionLead"]["lead"]["status"] == "RAW"


async def test_a_stale_expected_version_is_refused(api, make):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()

    data = (
        await api(
            MOVE,
            {
                "input": {
                    "id": gid("Lead", lead.id),
                    "to": "NURTURE",
                    "reason": "later",
                    "expectedVersion": 7,
                }
            },
            as_user=ops,
        )
    ).ok()["transitionLead"]

    assert [e["code"] for e in data["userErrors"]] == ["STALE_VERSION"]


async def test_final_statuses_refuse_every_move(api, make):
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    await set_status(make, lead.id, LeadStatus.UNQUALIFIED)

    options = (await api(OPTIONS, {"id": gid("Lead", lead.id)}, as_user=ops)).ok()
    data = (
        await api(
            MOVE, {"input": {"id": gid("Lead", lead.id), "to": "RAW"}}, as_user=ops
        )
    ).ok()["transitionLead"]

    assert options["lead"]["availableTransitions"] == []
    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("FINAL_STATE", ["to"])
    ]


# --- one source of truth: "may I?" and "do it" agree for every pair ----------------

PROFILES = {
    # who acts, and what the lead has on record
    "owner-with-everything": dict(
        role=Role.SDR, owns=True, engaged=True, talked=True, score=95
    ),
    "stranger-with-nothing": dict(
        role=Role.BDR, owns=False, engaged=False, talked=False, score=0
    ),
    "sales-ops-unowned": dict(
        role=Role.SALES_OPS, owns=None, engaged=True, talked=False, score=40
    ),
}


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("status", list(LeadStatus))
async def test_available_transitions_and_transition_lead_agree(
    api, make, profile, status
):
    p = PROFILES[profile]
    actor = await make.user(p["role"])
    owner_id = (
        actor.id
        if p["owns"]
        else (None if p["owns"] is None else (await make.user()).id)
    )
    leads = {}
    for to in LeadStatus:
        lead = await make.lead(owner_id=owner_id)
        await set_score(make, lead.id, p["score"])
        await set_status(make, lead.id, status)
        if p["engaged"]:
            await add(
                make,
                Engagement(
                    lead_id=lead.id,
                    kind=EngagementKind.TRIAL_REQUEST,
                    created_at=utcnow() + timedelta(seconds=5),
                ),
            )
        if p["talked"]:
            await add(
                make,
                Activity(
                    kind="EVENT",
                    channel=ActivityChannel.MEETING,
                    subject="Demo",
                    lead_id=lead.id,
                    completed_at=utcnow(),
                ),
            )
        leads[to] = lead

    for to, lead in leads.items():
        lid = gid("Lead", lead.id)
        options = (await api(OPTIONS, {"id": lid}, as_user=actor)).ok()["lead"]
        option = next(
            (o for o in options["availableTransitions"] if o["to"] == to.value), None
        )
        result = (
            await api(MOVE, {"input": {"id": lid, "to": to.value}}, as_user=actor)
        ).ok()
        errors = result["transitionLead"]["userErrors"]
        if option is None:
            # Unreachable: the machine says so (and a stranger is also not allowed).
            assert {e["code"] for e in errors} - {"FORBIDDEN"} in (
                {"INVALID_TRANSITION"},
                {"FINAL_STATE"},
            ), (status, to, errors)
        else:
            assert option["allowed"] == (errors == []), (status, to, option, errors)
            assert sorted(e["code"] for e in option["blockedBy"]) == sorted(
                e["code"] for e in errors
            ), (status, to)


# --- stateMachines ------------------------------------------------------------------


async def test_state_machines_describe_both_tables_with_a_mermaid_diagram(api, make):
    user = await make.user()

    data = (
        await api(
            """{ stateMachines {
                 lead { initial states { state label final } transitions { from to guards { codes } }
                        mermaid }
                 opportunity { states { state label } mermaid } } }""",
            as_user=user,
        )
    ).ok()["stateMachines"]

    assert data["lead"]["initial"] == "RAW"
    assert {s["state"] for s in data["lead"]["states"] if s["final"]} == {
        "QUALIFIED",
        "UNQUALIFIED",
        "WEB_PORTAL_PURCHASE",
    }
    accept = next(t for t in data["lead"]["transitions"] if t["to"] == "ACCEPTED")
    assert sorted(accept["from"]) == ["INQUIRY", "MQL"]
    assert sorted(c for g in accept["guards"] for c in g["codes"]) == [
        "NOT_ACTIVE",
        "NOT_OWNER",
        "NO_OWNER",
    ]
    assert data["lead"]["mermaid"].startswith("stateDiagram-v2")
    assert {"state": "PENDING_ACCEPTANCE", "label": "0-Pending Acceptance"} in data[
        "opportunity"
    ]["states"]


async def test_history_of_a_page_of_leads_is_batched(api, make, count_statements):
    ops = await make.user(Role.SALES_OPS)
    for _ in range(3):
        lead = await make.lead()
        await api(
            MOVE,
            {"input": {"id": gid("Lead", lead.id), "to": "NURTURE", "reason": "x"}},
            as_user=ops,
        )
    query = "{ leads(first: 50) { nodes { history { to } } } }"

    with count_statements() as small:
        (await api(query, as_user=ops)).ok()
    for _ in range(10):
        lead = await make.lead()
        await api(
            MOVE,
            {"input": {"id": gid("Lead", lead.id), "to": "NURTURE", "reason": "x"}},
            as_user=ops,
        )
    with count_statements() as large:
        data = (await api(query, as_user=ops)).ok()

    assert len(data["leads"]["nodes"]) == 13
    assert small.count == large.count
    assert await row_count(make.sessions, TransitionRecord) == 13
    async with make.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Event)) == 13


# --- automatic moves (the service other features call) -----------------------------


async def test_an_automatic_jump_from_raw_to_mql_is_recorded_through_inquiry(api, make):
    from domain.lifecycle.lead import AutomaticTrigger
    from domain.services.lead_lifecycle import advance_automatically

    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead()
    await set_score(make, lead.id, 95)

    async def score_crossed(s):
        row = await s.get(Lead, lead.id)
        return await advance_automatically(
            s, row, AutomaticTrigger.SCORE, actor=None, reason="Score reached 90"
        )

    entered = await make.run(score_crossed)
    data = (
        await api(
            "query($id: ID!) { lead(id: $id) { status history { from to reason actor { id } } } }",
            {"id": gid("Lead", lead.id)},
            as_user=ops,
        )
    ).ok()["lead"]

    assert entered == [LeadStatus.INQUIRY, LeadStatus.MQL]
    assert data["status"] == "MQL"
    assert [(h["from"], h["to"], h["actor"]) for h in data["history"]] == [
        ("RAW", "INQUIRY", None),
        ("INQUIRY", "MQL", None),
    ]


async def test_an_automatic_move_the_guards_refuse_is_not_made(make, sessions):
    from domain.lifecycle.lead import AutomaticTrigger
    from domain.services.lead_lifecycle import advance_automatically

    lead = await make.lead()
    await set_score(make, lead.id, 40)

    async def score_not_there(s):
        row = await s.get(Lead, lead.id)
        return await advance_automatically(
            s, row, AutomaticTrigger.SCORE, actor=None, reason="x"
        )

    entered = await make.run(score_not_there)

    assert entered == []
    async with sessions() as s:
        assert (await s.get(Lead, lead.id)).status == LeadStatus.RAW
    assert await row_count(sessions, TransitionRecord) == 0
