"""Several pipelines on one mechanism (issue 14 item 2): a RENEWAL deal moves
through its own stages, `stateMachines` lists every pipeline, a deal changes
pipeline by a guarded move, and the pipeline report filters and groups by it."""

from __future__ import annotations

from typing import Any

import pytest

from domain.enums import OpportunityStage, Pipeline, Role
from domain.lifecycle.opportunity import OPPORTUNITY_MACHINE, machine_for
from domain.records import Opportunity
from domain.rules.pipelines import PIPELINES
from tests.api.ids import gid
from tests.api.test_opportunity_pipeline import (
    a_deal,
    events,
    move,
    negotiation_contacts,
    put,
    stored,
)

Stage = OpportunityStage
MACHINES = """
{ stateMachines {
    opportunity { name mermaid }
    opportunityPipelines { pipeline label stages
      machine { name initial mermaid states { state } transitions { from to } } }
} }"""
OPTIONS = """
query($id: ID!) { opportunity(id: $id) {
  pipeline stage availableTransitions { to allowed blockedBy { code } } } }"""
CREATE = """
mutation($input: CreateOpportunityInput!) {
  createOpportunity(input: $input) {
    opportunity { pipeline stage } userErrors { code field message } } }"""
CHANGE = """
mutation($input: ChangeOpportunityPipelineInput!) {
  changeOpportunityPipeline(input: $input) {
    opportunity { pipeline stage version }
    userErrors { code field message }
    dryRun { wouldEmit { type } } } }"""
REPORT = """
query($filter: PipelineFilter, $groupBy: PipelineDimension) {
  pipeline(filter: $filter, groupBy: $groupBy) {
    count groups { key count } stages { stage count } } }"""
RENEWAL_STAGES = [s.value for s in PIPELINES[Pipeline.RENEWAL].stages]


async def change(api: Any, opp: Opportunity, as_user: Any, **input: Any) -> Any:
    variables = {"input": {"id": gid("Opportunity", opp.id), **input}}
    result = await api(CHANGE, variables, as_user=as_user)
    return result.ok()["changeOpportunityPipeline"]


async def test_state_machines_list_every_pipeline_with_its_diagram(api, make):
    rep = await make.user(Role.AE)
    data = (await api(MACHINES, as_user=rep)).ok()["stateMachines"]
    listed = data["opportunityPipelines"]

    assert [p["pipeline"] for p in listed] == ["NEW_BUSINESS", "RENEWAL", "ADD_ON"]
    new_business, renewal, _add_on = listed
    assert new_business["machine"]["mermaid"] == data["opportunity"]["mermaid"]
    assert renewal["stages"] == RENEWAL_STAGES
    assert [s["state"] for s in renewal["machine"]["states"]] == RENEWAL_STAGES
    assert renewal["machine"]["mermaid"].startswith("stateDiagram-v2")
    assert "SCOPING" not in renewal["machine"]["mermaid"]
    moved_into = {t["to"] for t in renewal["machine"]["transitions"]}
    assert moved_into <= set(RENEWAL_STAGES)


def test_new_business_is_d3_and_every_pipeline_derives_from_the_same_rules():
    assert machine_for(Pipeline.NEW_BUSINESS) is OPPORTUNITY_MACHINE
    assert [s.state for s in OPPORTUNITY_MACHINE.states] == list(Stage)
    renewal = machine_for(Pipeline.RENEWAL)
    # From PENDING_ACCEPTANCE, D3 reaches the accepted stages and DUPLICATE;
    # a renewal has no SCOPING, TECHNICAL_EVALUATION or UNQUALIFIED, and its
    # override adds CLOSED_LOST (churn before acceptance), which D3 lacks.
    assert renewal.reachable(Stage.PENDING_ACCEPTANCE) == [
        Stage.DISCOVERY,
        Stage.PROPOSAL,
        Stage.NEGOTIATING,
        Stage.AWAITING_SIGNATURE,
        Stage.CLOSED_WON,
        Stage.CLOSED_LOST,
        Stage.DUPLICATE,
    ]
    assert Stage.CLOSED_LOST not in OPPORTUNITY_MACHINE.reachable(
        Stage.PENDING_ACCEPTANCE
    )
    [lost] = renewal.rule(Stage.PENDING_ACCEPTANCE, Stage.CLOSED_LOST).guards
    assert lost.name == "closed_lost_requirements_met"
    # A move passes over the pipeline's own stages only: DISCOVERY -> PROPOSAL
    # in a renewal asks PROPOSAL's requirements, not SCOPING's or the POC's.
    renewal_guards = renewal.rule(Stage.DISCOVERY, Stage.PROPOSAL).guards
    d3_guards = OPPORTUNITY_MACHINE.rule(Stage.DISCOVERY, Stage.PROPOSAL).guards
    assert len(renewal_guards) < len(d3_guards)
    assert set(renewal_guards) < set(d3_guards)


async def test_a_renewal_deal_moves_through_its_own_pipeline(api, make, sessions):
    am = await make.user(Role.AM)
    deal = await a_deal(make, am, type="RENEWAL", pipeline=Pipeline.RENEWAL)
    did = gid("Opportunity", deal.id)

    options = (await api(OPTIONS, {"id": did}, as_user=am)).ok()["opportunity"]
    assert options["pipeline"] == "RENEWAL"
    assert [o["to"] for o in options["availableTransitions"]] == [
        "DISCOVERY",
        "PROPOSAL",
        "NEGOTIATING",
        "AWAITING_SIGNATURE",
        "CLOSED_WON",
        "CLOSED_LOST",
        "DUPLICATE",
    ]
    assert (await move(api, deal, Stage.DISCOVERY, as_user=am))["userErrors"] == []
    scoping = await move(api, deal, Stage.SCOPING, as_user=am)
    assert [e["code"] for e in scoping["userErrors"]] == ["INVALID_TRANSITION"]
    assert scoping["userErrors"][0]["message"].startswith(
        "2-Scoping is not a state of the opportunity RENEWAL machine; from "
        "1-Discovery: 0-Pending Acceptance, 4-Proposal,"
    )

    quoted = await move(
        api,
        deal,
        Stage.PROPOSAL,
        as_user=am,
        fields={"technicalRequirementsConfirmed": True},
    )
    assert quoted["userErrors"] == []
    contacts = await negotiation_contacts(make, deal)
    steps = [
        (
            Stage.NEGOTIATING,
            {**contacts, "poWillBeIssued": False, "purchasingPlan": "Card renewal"},
        ),
        (
            Stage.AWAITING_SIGNATURE,
            {"businessTermsAgreed": True, "referenceableCustomer": "YES"},
        ),
    ]
    for to, fields in steps:
        moved = await move(api, deal, to, as_user=am, fields=fields)
        assert moved["userErrors"] == [], to
    await put(
        make,
        deal.id,
        signed_order_form_received=True,
        restricted_party_screening="CLEARED",
        finance_approved=True,
    )
    won = await move(api, deal, Stage.CLOSED_WON, as_user=am)
    assert won["userErrors"] == []
    assert [(h["from"], h["to"]) for h in won["opportunity"]["history"]] == [
        (None, "PENDING_ACCEPTANCE"),
        ("PENDING_ACCEPTANCE", "DISCOVERY"),
        ("DISCOVERY", "PROPOSAL"),
        ("PROPOSAL", "NEGOTIATING"),
        ("NEGOTIATING", "AWAITING_SIGNATURE"),
        ("AWAITING_SIGNATURE", "CLOSED_WON"),
    ]


async def test_a_deal_starts_only_in_a_start_stage_of_its_pipeline(api, make):
    am = await make.user(Role.AM)
    deal = await a_deal(make, am)
    base = {
        "name": "Renewal 2027",
        "accountId": gid("Account", deal.account_id),
        "type": "RENEWAL",
        "pipeline": "RENEWAL",
    }
    refused = (
        await api(CREATE, {"input": {**base, "stage": "PRE_OPPORTUNITY"}}, as_user=am)
    ).ok()["createOpportunity"]
    made = (await api(CREATE, {"input": base}, as_user=am)).ok()["createOpportunity"]

    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("NOT_IN_PIPELINE", ["stage"])
    ]
    assert made == {
        "opportunity": {"pipeline": "RENEWAL", "stage": "PENDING_ACCEPTANCE"},
        "userErrors": [],
    }


async def test_changing_pipeline_is_a_guarded_move(api, make, sessions):
    ae = await make.user(Role.AE)
    stranger = await make.user(Role.BDR)
    deal = await a_deal(make, ae, type="RENEWAL")
    await put(make, deal.id, stage=Stage.SCOPING)

    def errors(payload: Any) -> list[tuple[str, list[str]]]:
        return [(e["code"], e["field"]) for e in payload["userErrors"]]

    scoping = await change(api, deal, ae, pipeline="RENEWAL", reason="It renews")
    assert errors(scoping) == [("NOT_IN_PIPELINE", ["pipeline"])]
    assert (
        "2-Scoping is not a stage of the Renewal pipeline"
        in (scoping["userErrors"][0]["message"])
    )

    await put(make, deal.id, stage=Stage.DISCOVERY)
    assert errors(await change(api, deal, ae, pipeline="RENEWAL", reason=" ")) == [
        ("REASON_REQUIRED", ["reason"])
    ]
    assert errors(
        await change(api, deal, stranger, pipeline="RENEWAL", reason="Mine")
    ) == [("FORBIDDEN", None)]
    dry = await change(
        api, deal, ae, pipeline="RENEWAL", reason="It renews", dryRun=True
    )
    assert dry["dryRun"]["wouldEmit"] == [{"type": "OPPORTUNITY_PIPELINE_CHANGED"}]
    assert (await stored(sessions, deal.id)).pipeline is Pipeline.NEW_BUSINESS

    done = await change(api, deal, ae, pipeline="RENEWAL", reason="It renews")
    assert done["userErrors"] == []
    assert done["opportunity"]["pipeline"] == "RENEWAL"
    [event] = await events(sessions, "OPPORTUNITY_PIPELINE_CHANGED")
    assert (event.actor_id, event.payload) == (
        ae.id,
        {
            "from_state": "NEW_BUSINESS",
            "to_state": "RENEWAL",
            "stage": "DISCOVERY",
            "reason": "It renews",
        },
    )
    assert errors(await change(api, deal, ae, pipeline="RENEWAL", reason="x")) == [
        ("INVALID_TRANSITION", ["pipeline"])
    ]
    await put(make, deal.id, stage=Stage.CLOSED_WON)
    assert errors(await change(api, deal, ae, pipeline="ADD_ON", reason="x")) == [
        ("FINAL_STATE", ["pipeline"])
    ]


@pytest.mark.parametrize("group_by", ["PIPELINE"])
async def test_the_pipeline_report_filters_and_groups_by_pipeline(api, make, group_by):
    ae = await make.user(Role.AE)
    await a_deal(make, ae)
    await a_deal(make, ae, type="RENEWAL", pipeline=Pipeline.RENEWAL)
    await a_deal(make, ae, type="RENEWAL", pipeline=Pipeline.RENEWAL)
    ops = await make.user(Role.SALES_OPS)

    grouped = (await api(REPORT, {"groupBy": group_by}, as_user=ops)).ok()["pipeline"]
    renewals = (
        await api(REPORT, {"filter": {"pipeline": ["RENEWAL"]}}, as_user=ops)
    ).ok()["pipeline"]

    assert grouped["groups"] == [
        {"key": "RENEWAL", "count": 2},
        {"key": "NEW_BUSINESS", "count": 1},
    ]
    assert renewals["count"] == 2


# --- a pipeline's own requirements ------------------------------------------------

REQUIREMENTS = """
mutation($input: UpdateStageRequirementsInput!) {
  updateStageRequirements(input: $input) {
    stageRequirements { version pipelines { pipeline stages { stage requirements { field } } } }
    userErrors { code field message }
  }
}"""


def with_pipelines(*pipelines: dict[str, Any]) -> dict[str, Any]:
    """The seeded table as updateStageRequirements takes it, with pipelines."""
    from tests.api.test_stage_requirements import handbook_input

    return {"expectedVersion": 1, **handbook_input(), "pipelines": list(pipelines)}


async def test_a_pipeline_may_require_its_own_for_a_stage(api, make):
    ops, am = await make.user(Role.SALES_OPS), await make.user(Role.AM)
    renewal_proposal = {
        "pipeline": "RENEWAL",
        "stages": [
            {
                "stage": "PROPOSAL",
                "requirements": [
                    {
                        "field": "edition",
                        "check": "RECORDED",
                        "message": "Record the edition renewed before quoting.",
                    }
                ],
            }
        ],
    }
    edit = (
        await api(
            REQUIREMENTS, {"input": with_pipelines(renewal_proposal)}, as_user=ops
        )
    ).ok()["updateStageRequirements"]
    assert edit["userErrors"] == []
    assert edit["stageRequirements"]["pipelines"] == [
        {
            "pipeline": "RENEWAL",
            "stages": [{"stage": "PROPOSAL", "requirements": [{"field": "edition"}]}],
        }
    ]
    renewal = await a_deal(make, am, pipeline=Pipeline.RENEWAL)
    new_business = await a_deal(make, am)
    for deal in (renewal, new_business):
        await put(make, deal.id, stage=Stage.DISCOVERY, edition=None)

    quoted = await move(api, renewal, Stage.PROPOSAL, as_user=am)
    proposed = await move(api, new_business, Stage.PROPOSAL, as_user=am)

    # The renewal asks its own (the edition), not the technical confirmation.
    assert [(e["code"], e["message"]) for e in quoted["userErrors"]] == [
        (
            "MISSING_FIELD",
            "Record the edition renewed before quoting. (stage requirements v2)",
        )
    ]
    assert "REQUIREMENT_NOT_MET" in [e["code"] for e in proposed["userErrors"]]


async def test_a_pipeline_requirement_on_a_stage_it_lacks_is_refused(api, make):
    ops = await make.user(Role.SALES_OPS)
    bad = {
        "pipeline": "RENEWAL",
        "stages": [
            {"stage": "PROPOSAL", "requirements": []},
            {
                "stage": "SCOPING",
                "requirements": [
                    {"field": "edition", "check": "RECORDED", "message": "Edition."}
                ],
            },
        ],
    }
    refused = (
        await api(REQUIREMENTS, {"input": with_pipelines(bad)}, as_user=ops)
    ).ok()["updateStageRequirements"]
    twice = (
        await api(
            REQUIREMENTS,
            {
                "input": with_pipelines(
                    {"pipeline": "ADD_ON", "stages": []},
                    {"pipeline": "ADD_ON", "stages": []},
                )
            },
            as_user=ops,
        )
    ).ok()["updateStageRequirements"]

    assert refused["stageRequirements"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["pipelines", "0", "stages", "1"])
    ]
    assert (
        "SCOPING is not a stage of the Renewal pipeline"
        in (refused["userErrors"][0]["message"])
    )
    assert [(e["code"], e["field"]) for e in twice["userErrors"]] == [
        ("INVALID_INPUT", ["pipelines"])
    ]


async def test_a_renewal_may_be_lost_before_it_is_accepted(api, make, sessions):
    am = await make.user(Role.AM)
    renewal = await a_deal(make, am, pipeline=Pipeline.RENEWAL)
    new_business = await a_deal(make, am)
    fields = {
        "closedLostReasons": ["NO_BUDGET"],
        "closedLostDetail": "Moving to another vendor at term end.",
    }

    churned = await move(api, renewal, Stage.CLOSED_LOST, as_user=am, fields=fields)
    refused = await move(
        api, new_business, Stage.CLOSED_LOST, as_user=am, fields=fields
    )

    assert churned["userErrors"] == []
    assert churned["opportunity"]["lostFromStage"] == "PENDING_ACCEPTANCE"
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_TRANSITION"]


async def test_the_sao_report_filters_and_groups_by_pipeline(api, make):
    from tests.api.test_reports import counts

    am, ops = await make.user(Role.AM), await make.user(Role.SALES_OPS)
    renewal = await a_deal(make, am, pipeline=Pipeline.RENEWAL)
    new_business = await a_deal(make, am)
    for deal in (renewal, new_business):
        assert (await move(api, deal, Stage.DISCOVERY, as_user=am))["userErrors"] == []
    sao = """
    query($groupBy: SaoDimension, $filter: OpportunityReportFilter) {
      salesAcceptedOpportunities(after: "2026-01-01", before: "2028-01-01",
          period: QUARTER, groupBy: $groupBy, filter: $filter) {
        sao groups { key sao sqo sclau } } }"""

    grouped = (await api(sao, {"groupBy": "PIPELINE"}, as_user=ops)).ok()
    renewals = (await api(sao, {"filter": {"pipeline": ["RENEWAL"]}}, as_user=ops)).ok()

    report = grouped["salesAcceptedOpportunities"]
    assert counts(report["groups"]) == [("NEW_BUSINESS", 1, 0, 0), ("RENEWAL", 1, 0, 0)]
    assert renewals["salesAcceptedOpportunities"]["sao"] == 1
