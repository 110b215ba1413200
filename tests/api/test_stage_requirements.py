"""Stage requirements as data through the API: stageRequirements (seeded: the
handbook's), updateStageRequirements, and every path obeying the version in
force from the next move (issue 14 item 1)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.enums import OpportunityStage, Role
from domain.rules.stage_requirements import HANDBOOK_REQUIREMENTS, to_document
from tests.api.ids import gid
from tests.api.test_opportunity_pipeline import MOVE, OPTIONS, a_deal, move, put, stored

Stage = OpportunityStage
TABLE = """
query($version: Int) {
  stageRequirements(version: $version) {
    version note changedBy { id }
    stages { stage requirements { field check value message
                                  when { field test values condition } } }
    conditions { name anyOf { field test values condition } }
  }
}"""
UPDATE = """
mutation($input: UpdateStageRequirementsInput!) {
  updateStageRequirements(input: $input) {
    stageRequirements { version note stages { stage requirements { field } } }
    userErrors { code field message }
  }
}"""
UPDATE_DEAL = """
mutation($input: UpdateOpportunityInput!) {
  updateOpportunity(input: $input) { userErrors { code field message } }
}"""


def handbook_input() -> dict[str, Any]:
    """The seeded table as updateStageRequirements takes it."""
    document = to_document(HANDBOOK_REQUIREMENTS)
    return {
        "stages": [
            {
                "stage": s["stage"],
                "requirements": [
                    {k: v for k, v in r.items() if v is not None}
                    for r in s["requirements"]
                ],
            }
            for s in document["stages"]
        ],
        "conditions": document["conditions"],
    }


def with_proposal_edition(table: dict[str, Any]) -> dict[str, Any]:
    """The table with "edition recorded" added to PROPOSAL."""
    for stage in table["stages"]:
        if stage["stage"] == "PROPOSAL":
            stage["requirements"].append(
                {
                    "field": "edition",
                    "check": "RECORDED",
                    "message": "Record the edition before the proposal.",
                }
            )
    return table


async def before_the_proposal(make: Any, owner: Any) -> Any:
    """A deal of ``owner`` in TECHNICAL_EVALUATION that the seeded table lets
    into PROPOSAL, with no edition recorded."""
    deal = await a_deal(make, owner)
    await put(
        make,
        deal.id,
        stage=Stage.TECHNICAL_EVALUATION,
        technical_requirements_confirmed=True,
        edition=None,
    )
    return deal


async def update(api: Any, user: Any, **fields: Any) -> dict[str, Any]:
    fields.setdefault("expectedVersion", 1)
    return (await api(UPDATE, {"input": fields}, as_user=user)).ok()[
        "updateStageRequirements"
    ]


async def test_the_seeded_version_is_the_handbooks(api, make):
    ops = await make.user(Role.SALES_OPS)
    table = (await api(TABLE, {}, as_user=ops)).ok()["stageRequirements"]
    assert table["version"] == 1 and table["changedBy"] is None
    proposal = next(s for s in table["stages"] if s["stage"] == "PROPOSAL")
    assert [r["field"] for r in proposal["requirements"]] == [
        "technicalRequirementsConfirmed",
        "pocNotes",
        "pocSuccessCriteria",
    ]
    assert proposal["requirements"][1]["when"] == {
        "field": "pocRan",
        "test": "TRUE",
        "values": [],
        "condition": None,
    }


async def test_an_added_requirement_binds_the_next_move_and_the_options_alike(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    deal = await before_the_proposal(make, ae)
    before = await options(api, deal, ae)
    assert before["PROPOSAL"] == []

    done = await update(
        api,
        ops,
        note="Editions drive pricing",
        **with_proposal_edition(handbook_input()),
    )
    assert done["userErrors"] == []
    assert done["stageRequirements"]["version"] == 2

    refusal = {
        "code": "MISSING_FIELD",
        "field": ["edition"],
        "message": "Record the edition before the proposal. (stage requirements v2)",
    }
    after = await options(api, deal, ae)
    assert after["PROPOSAL"] == [{"code": "MISSING_FIELD", "field": ["edition"]}]
    rehearsed = await move(api, deal, Stage.PROPOSAL, as_user=ae, dryRun=True)
    assert rehearsed["userErrors"] == [refusal]
    refused = await move(api, deal, Stage.PROPOSAL, as_user=ae)
    assert refused["userErrors"] == [refusal]
    assert (await stored(sessions, deal.id)).stage == Stage.TECHNICAL_EVALUATION

    # recorded on the deal (updateOpportunity), the move goes through
    recorded = (
        await api(
            UPDATE_DEAL,
            {"input": {"id": gid("Opportunity", deal.id), "edition": "premium"}},
            as_user=ae,
        )
    ).ok()["updateOpportunity"]
    assert recorded["userErrors"] == []
    moved = await move(api, deal, Stage.PROPOSAL, as_user=ae)
    assert moved["userErrors"] == []
    # the history keeps every version; the old one still reads as it was
    old = (await api(TABLE, {"version": 1}, as_user=ops)).ok()["stageRequirements"]
    assert old["version"] == 1


async def options(api: Any, deal: Any, user: Any) -> dict[str, list[Any]]:
    nodes = (
        await api(
            OPTIONS,
            {"ids": [gid("Opportunity", deal.id)], "reason": None, "override": False},
            as_user=user,
        )
    ).ok()["nodes"]
    return {o["to"]: o["blockedBy"] for o in nodes[0]["availableTransitions"]}


async def test_an_invalid_table_is_refused_naming_the_entry_and_changes_nothing(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    table = handbook_input()
    table["stages"][0]["requirements"].append(
        {"field": "shoeSize", "check": "RECORDED", "message": "Record it."}
    )
    table["conditions"] = [
        {"name": "a", "anyOf": [{"condition": "b"}]},
        {"name": "b", "anyOf": [{"condition": "a"}]},
    ]
    table["stages"].append(
        {
            "stage": "PRE_OPPORTUNITY",
            "requirements": [
                {"field": "edition", "check": "RECORDED", "message": "Never."}
            ],
        }
    )
    refused = await update(api, ops, **table)
    assert refused["stageRequirements"] is None
    assert {e["code"] for e in refused["userErrors"]} == {"INVALID_INPUT"}
    fields = [e["field"] for e in refused["userErrors"]]
    # positions in the input: the cycle's first condition, the third
    # requirement of the first stage given, the stage appended last
    assert ["conditions", "0"] in fields
    assert ["stages", "0", "requirements", "2", "field"] in fields
    assert ["stages", str(len(table["stages"]) - 1)] in fields
    current = (await api(TABLE, {}, as_user=ops)).ok()["stageRequirements"]
    assert current["version"] == 1


@pytest.mark.parametrize("role", [Role.AE, Role.BDR])
async def test_only_sales_ops_and_admin_edit_the_requirements(api, make, role):
    user = await make.user(role)
    refused = await update(api, user, **handbook_input())
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]


async def test_an_edit_on_an_old_version_is_stale(api, make):
    ops = await make.user(Role.SALES_OPS)
    assert (await update(api, ops, **handbook_input()))["userErrors"] == []
    stale = await update(api, ops, **handbook_input())
    assert [e["code"] for e in stale["userErrors"]] == ["STALE_VERSION"]


async def test_a_process_obeys_another_ones_edit_at_its_next_move(two_servers, make):
    """Each served process caches the table by version and reads the head with
    the opportunity's lock: an edit made through one process binds the next
    move through the other."""
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    deal = await before_the_proposal(make, ae)
    tokens = {ops.id: await make.token(ops), ae.id: await make.token(ae)}

    async def post(base: str, user: Any, query: str, variables: dict) -> dict:
        async with httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {tokens[user.id]}"},
            timeout=60,
        ) as client:
            answer = await client.post(
                "/graphql", json={"query": query, "variables": variables}
            )
        return answer.json()["data"]  # type: ignore[no-any-return]

    one, two = two_servers
    ids = {"ids": [gid("Opportunity", deal.id)], "reason": None, "override": False}
    warm = await post(two, ae, OPTIONS, ids)
    [proposal] = [
        o for o in warm["nodes"][0]["availableTransitions"] if o["to"] == "PROPOSAL"
    ]
    assert proposal["allowed"] is True  # version 1, now in two's cache

    edited = await post(
        one,
        ops,
        UPDATE,
        {"input": {"expectedVersion": 1, **with_proposal_edition(handbook_input())}},
    )
    assert edited["updateStageRequirements"]["userErrors"] == []

    moved = await post(
        two,
        ae,
        MOVE,
        {"input": {"id": gid("Opportunity", deal.id), "to": "PROPOSAL"}},
    )
    assert moved["moveOpportunityStage"]["userErrors"] == [
        {
            "code": "MISSING_FIELD",
            "field": ["edition"],
            "message": "Record the edition before the proposal. (stage requirements v2)",
        }
    ]
