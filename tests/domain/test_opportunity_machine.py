"""The opportunity stage machine (D3): every (from, to) pair, guards, effects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.enums import (
    ClosedLostReason,
    ErrorCode,
    OpportunityStage,
    OpportunityType,
    ReferenceableCustomer,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.errors import Refusal
from domain.lifecycle.opportunity import (
    LOST_DEAL_ALERT,
    OPPORTUNITY_MACHINE,
    UNQUALIFIED_OPPORTUNITY_FEEDBACK,
    OpportunityFacts,
    StageMoveRequest,
    creation_refusals,
    stage_effects,
    stage_events,
    terms_modification_refusals,
)

Stage = OpportunityStage
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ACCEPTED_AT = NOW - timedelta(days=40)
STAGES = list(Stage)

LEGEND = {
    "inv": ErrorCode.INVALID_TRANSITION,
    "fin": ErrorCode.FINAL_STATE,
    "asa": ErrorCode.ALREADY_SALES_ACCEPTED,
    "ona": ErrorCode.OVERRIDE_NOT_ALLOWED,
    "rsn": ErrorCode.REASON_REQUIRED,
    "nso": ErrorCode.NOT_SALES_OWNER,
}

# Who acts and who owns: the AE who owns the opportunity acts, unless a
# scenario says otherwise (PARTIES).
OWNER_ID, OTHER_ID = 7, 8

# Every entry requirement is met and a reason is given: what remains is
# reachability, finality, sales acceptance and the override.
# CLOSED_LOST was lost from NEGOTIATING ten days ago.

# Never sales-accepted, no override (any role).
#          PRE  PEN  DIS  SCO  TEC  PRO  NEG  AWA  WON  LOST UNQ  DUP
BEFORE_ACCEPTANCE = """
PRE_OPPORTUNITY      inv  ok   inv  inv  inv  inv  inv  inv  inv  inv  ok   ok
PENDING_ACCEPTANCE   inv  inv  ok   ok   ok   ok   ok   ok   ok   inv  ok   ok
DISCOVERY            ok   ok   inv  ok   ok   ok   ok   ok   ok   ok   ok   ok
SCOPING              ok   ok   ok   inv  ok   ok   ok   ok   ok   ok   ok   ok
TECHNICAL_EVALUATION ok   ok   ok   ok   inv  ok   ok   ok   ok   ok   ok   ok
PROPOSAL             ok   ok   ok   ok   ok   inv  ok   ok   ok   ok   ok   ok
NEGOTIATING          ok   ok   ok   ok   ok   ok   inv  ok   ok   ok   ok   ok
AWAITING_SIGNATURE   ok   ok   ok   ok   ok   ok   ok   inv  ok   ok   ok   ok
CLOSED_WON           fin  fin  fin  fin  fin  fin  fin  fin  inv  fin  fin  fin
CLOSED_LOST          inv  inv  inv  inv  inv  inv  ok   inv  inv  inv  inv  inv
UNQUALIFIED          fin  fin  fin  fin  fin  fin  fin  fin  fin  fin  inv  fin
DUPLICATE            fin  fin  fin  fin  fin  fin  fin  fin  fin  fin  fin  inv
"""

# Sales-accepted, no override (AE or SALES_OPS alike).
#          PRE      PEN      DIS  SCO  TEC  PRO  NEG  AWA  WON  LOST UNQ      DUP
AFTER_ACCEPTANCE = """
PRE_OPPORTUNITY      inv      ok       inv  inv  inv  inv  inv  inv  inv  inv  asa      asa
PENDING_ACCEPTANCE   inv      inv      ok   ok   ok   ok   ok   ok   ok   inv  asa      asa
DISCOVERY            asa      asa      inv  ok   ok   ok   ok   ok   ok   ok   asa      asa
SCOPING              asa      asa      ok   inv  ok   ok   ok   ok   ok   ok   asa      asa
TECHNICAL_EVALUATION asa      asa      ok   ok   inv  ok   ok   ok   ok   ok   asa      asa
PROPOSAL             asa      asa      ok   ok   ok   inv  ok   ok   ok   ok   asa      asa
NEGOTIATING          asa      asa      ok   ok   ok   ok   inv  ok   ok   ok   asa      asa
AWAITING_SIGNATURE   asa      asa      ok   ok   ok   ok   ok   inv  ok   ok   asa      asa
CLOSED_WON           fin+asa  fin+asa  fin  fin  fin  fin  fin  fin  inv  fin  fin+asa  fin+asa
CLOSED_LOST          inv      inv      inv  inv  inv  inv  ok   inv  inv  inv  inv      inv
UNQUALIFIED          fin+asa  fin+asa  fin  fin  fin  fin  fin  fin  fin  fin  inv      fin+asa
DUPLICATE            fin+asa  fin+asa  fin  fin  fin  fin  fin  fin  fin  fin  fin+asa  inv
"""

# Sales-accepted, an AE asks for an override with a reason: refused, and the
# rule it tried to lift is still reported.
AFTER_ACCEPTANCE_AE_OVERRIDE = """
PRE_OPPORTUNITY      inv          ok           inv      inv      inv      inv      inv      inv      inv      inv      asa+ona      asa+ona
PENDING_ACCEPTANCE   inv          inv          ok       ok       ok       ok       ok       ok       ok       inv      asa+ona      asa+ona
DISCOVERY            asa+ona      asa+ona      inv      ok       ok       ok       ok       ok       ok       ok       asa+ona      asa+ona
SCOPING              asa+ona      asa+ona      ok       inv      ok       ok       ok       ok       ok       ok       asa+ona      asa+ona
TECHNICAL_EVALUATION asa+ona      asa+ona      ok       ok       inv      ok       ok       ok       ok       ok       asa+ona      asa+ona
PROPOSAL             asa+ona      asa+ona      ok       ok       ok       inv      ok       ok       ok       ok       asa+ona      asa+ona
NEGOTIATING          asa+ona      asa+ona      ok       ok       ok       ok       inv      ok       ok       ok       asa+ona      asa+ona
AWAITING_SIGNATURE   asa+ona      asa+ona      ok       ok       ok       ok       ok       inv      ok       ok       asa+ona      asa+ona
CLOSED_WON           fin+ona+asa  fin+ona+asa  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  inv      fin+ona  fin+ona+asa  fin+ona+asa
CLOSED_LOST          inv          inv          inv      inv      inv      inv      ok       inv      inv      inv      inv          inv
UNQUALIFIED          fin+ona+asa  fin+ona+asa  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  inv          fin+ona+asa
DUPLICATE            fin+ona+asa  fin+ona+asa  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona  fin+ona+asa  inv
"""

# SALES_OPS overrides with a reason (sales-accepted or not): every row of the
# table is open; reopening stays limited to the lost-from stage in 30 days.
SALES_OPS_OVERRIDE = """
PRE_OPPORTUNITY      inv  ok   inv  inv  inv  inv  inv  inv  inv  inv  ok   ok
PENDING_ACCEPTANCE   inv  inv  ok   ok   ok   ok   ok   ok   ok   inv  ok   ok
DISCOVERY            ok   ok   inv  ok   ok   ok   ok   ok   ok   ok   ok   ok
SCOPING              ok   ok   ok   inv  ok   ok   ok   ok   ok   ok   ok   ok
TECHNICAL_EVALUATION ok   ok   ok   ok   inv  ok   ok   ok   ok   ok   ok   ok
PROPOSAL             ok   ok   ok   ok   ok   inv  ok   ok   ok   ok   ok   ok
NEGOTIATING          ok   ok   ok   ok   ok   ok   inv  ok   ok   ok   ok   ok
AWAITING_SIGNATURE   ok   ok   ok   ok   ok   ok   ok   inv  ok   ok   ok   ok
CLOSED_WON           ok   ok   ok   ok   ok   ok   ok   ok   inv  ok   ok   ok
CLOSED_LOST          inv  inv  inv  inv  inv  inv  ok   inv  inv  inv  inv  inv
UNQUALIFIED          ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   inv  ok
DUPLICATE            ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   inv
"""

# Sales-accepted, SALES_OPS overrides without a reason: moving back and every
# override ask for it (once).
AFTER_ACCEPTANCE_SALES_OPS_OVERRIDE_NO_REASON = """
PRE_OPPORTUNITY      inv          ok           inv      inv      inv      inv      inv      inv      inv      inv      asa+rsn      asa+rsn
PENDING_ACCEPTANCE   inv          inv          ok       ok       ok       ok       ok       ok       ok       inv      asa+rsn      asa+rsn
DISCOVERY            asa+rsn      asa+rsn      inv      ok       ok       ok       ok       ok       ok       ok       asa+rsn      asa+rsn
SCOPING              asa+rsn      asa+rsn      rsn      inv      ok       ok       ok       ok       ok       ok       asa+rsn      asa+rsn
TECHNICAL_EVALUATION asa+rsn      asa+rsn      rsn      rsn      inv      ok       ok       ok       ok       ok       asa+rsn      asa+rsn
PROPOSAL             asa+rsn      asa+rsn      rsn      rsn      rsn      inv      ok       ok       ok       ok       asa+rsn      asa+rsn
NEGOTIATING          asa+rsn      asa+rsn      rsn      rsn      rsn      rsn      inv      ok       ok       ok       asa+rsn      asa+rsn
AWAITING_SIGNATURE   asa+rsn      asa+rsn      rsn      rsn      rsn      rsn      rsn      inv      ok       ok       asa+rsn      asa+rsn
CLOSED_WON           fin+rsn+asa  fin+rsn+asa  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  inv      fin+rsn  fin+rsn+asa  fin+rsn+asa
CLOSED_LOST          inv          inv          inv      inv      inv      inv      ok       inv      inv      inv      inv          inv
UNQUALIFIED          fin+rsn+asa  fin+rsn+asa  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  inv          fin+rsn+asa
DUPLICATE            fin+rsn+asa  fin+rsn+asa  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn  fin+rsn+asa  inv
"""

# Never sales-accepted, acted on by the BDR/SDR who sourced it — whether they
# still own it or the AE does (round 2, D3.3: "the SAL or AE should move the
# opportunity"): leaving PENDING_ACCEPTANCE for DISCOVERY … CLOSED_WON or
# UNQUALIFIED is NOT_SALES_OWNER; DUPLICATE is not acceptance.
#          PRE  PEN  DIS  SCO  TEC  PRO  NEG  AWA  WON  LOST UNQ  DUP
BEFORE_ACCEPTANCE_SOURCING_REP = """
PRE_OPPORTUNITY      inv  ok   inv  inv  inv  inv  inv  inv  inv  inv  ok   ok
PENDING_ACCEPTANCE   inv  inv  nso  nso  nso  nso  nso  nso  nso  inv  nso  ok
DISCOVERY            ok   ok   inv  ok   ok   ok   ok   ok   ok   ok   ok   ok
SCOPING              ok   ok   ok   inv  ok   ok   ok   ok   ok   ok   ok   ok
TECHNICAL_EVALUATION ok   ok   ok   ok   inv  ok   ok   ok   ok   ok   ok   ok
PROPOSAL             ok   ok   ok   ok   ok   inv  ok   ok   ok   ok   ok   ok
NEGOTIATING          ok   ok   ok   ok   ok   ok   inv  ok   ok   ok   ok   ok
AWAITING_SIGNATURE   ok   ok   ok   ok   ok   ok   ok   inv  ok   ok   ok   ok
CLOSED_WON           fin  fin  fin  fin  fin  fin  fin  fin  inv  fin  fin  fin
CLOSED_LOST          inv  inv  inv  inv  inv  inv  ok   inv  inv  inv  inv  inv
UNQUALIFIED          fin  fin  fin  fin  fin  fin  fin  fin  fin  fin  inv  fin
DUPLICATE            fin  fin  fin  fin  fin  fin  fin  fin  fin  fin  fin  inv
"""

# name: (grid, sales accepted?, actor role, override?, reason)
SCENARIOS: dict[str, tuple[str, bool, Role, bool, str | None]] = {
    "before-acceptance": (BEFORE_ACCEPTANCE, False, Role.AE, False, "why"),
    "after-acceptance-ae": (AFTER_ACCEPTANCE, True, Role.AE, False, "why"),
    "after-acceptance-sales-ops": (
        AFTER_ACCEPTANCE,
        True,
        Role.SALES_OPS,
        False,
        "why",
    ),
    "after-acceptance-ae-override": (
        AFTER_ACCEPTANCE_AE_OVERRIDE,
        True,
        Role.AE,
        True,
        "why",
    ),
    "before-acceptance-sales-ops-override": (
        SALES_OPS_OVERRIDE,
        False,
        Role.SALES_OPS,
        True,
        "why",
    ),
    "after-acceptance-sales-ops-override": (
        SALES_OPS_OVERRIDE,
        True,
        Role.SALES_OPS,
        True,
        "why",
    ),
    "after-acceptance-sales-ops-override-no-reason": (
        AFTER_ACCEPTANCE_SALES_OPS_OVERRIDE_NO_REASON,
        True,
        Role.SALES_OPS,
        True,
        None,
    ),
    "before-acceptance-sales-ops": (
        BEFORE_ACCEPTANCE,
        False,
        Role.SALES_OPS,
        False,
        "why",
    ),
    "before-acceptance-bdr-owner": (
        BEFORE_ACCEPTANCE_SOURCING_REP,
        False,
        Role.BDR,
        False,
        "why",
    ),
    "before-acceptance-sdr-for-ae": (
        BEFORE_ACCEPTANCE_SOURCING_REP,
        False,
        Role.SDR,
        False,
        "why",
    ),
    "before-acceptance-another-ae": (
        BEFORE_ACCEPTANCE_SOURCING_REP,
        False,
        Role.AE,
        False,
        "why",
    ),
}

# name: (actor id, owner's role) where it is not the AE owner acting.
PARTIES: dict[str, tuple[int, Role]] = {
    "before-acceptance-sales-ops": (OTHER_ID, Role.AE),
    "before-acceptance-sales-ops-override": (OTHER_ID, Role.AE),
    "after-acceptance-sales-ops": (OTHER_ID, Role.AE),
    "before-acceptance-bdr-owner": (OWNER_ID, Role.BDR),
    "before-acceptance-sdr-for-ae": (OTHER_ID, Role.AE),
    "before-acceptance-another-ae": (OTHER_ID, Role.AE),
}


def make_facts(**overrides: Any) -> OpportunityFacts:
    """An opportunity meeting every entry requirement, unless overridden."""
    values: dict[str, Any] = {
        "stage": Stage.PENDING_ACCEPTANCE,
        "now": NOW,
        "actor_role": Role.AE,
        "actor_id": OWNER_ID,
        "owner_id": OWNER_ID,
        "owner_role": Role.AE,
        "incremental_acv": Decimal("30000"),
        "account_segment": SalesSegment.MID_MARKET,
        "primary_contact_id": 11,
        "has_contact_roles": True,
        "business_problem": "Releases take weeks",
        "technical_requirements_confirmed": True,
        "poc_ran": True,
        "poc_notes": "Pipelines migrated in the POC",
        "poc_success_criteria": "Deploy daily",
        "bill_to_contact_id": 11,
        "sold_to_contact_id": 12,
        "po_will_be_issued": True,
        "purchasing_plan": "Signature by end of quarter",
        "business_terms_agreed": True,
        "referenceable_customer": ReferenceableCustomer.LATER,
        "signed_order_form_received": True,
        "po_received": True,
        "restricted_party_screening": RestrictedPartyScreening.CLEARED,
        "finance_approved": True,
        "closed_won_details": "Chosen for the CI speed",
        "closed_lost_reasons": (ClosedLostReason.PRICING,),
        "closed_lost_detail": "Budget went to another project",
        "duplicate_of_id": 99,
        "lost_from_stage": Stage.NEGOTIATING,
        "closed_at": NOW - timedelta(days=10),
    }
    values.update(overrides)
    return OpportunityFacts(**values)


def make_empty_facts(**overrides: Any) -> OpportunityFacts:
    """An opportunity with nothing recorded (its AE owner acts)."""
    values: dict[str, Any] = {
        "stage": Stage.PENDING_ACCEPTANCE,
        "now": NOW,
        "actor_role": Role.AE,
        "actor_id": OWNER_ID,
        "owner_id": OWNER_ID,
        "owner_role": Role.AE,
    }
    values.update(overrides)
    return OpportunityFacts(**values)


def move(
    facts: OpportunityFacts, to: Stage, **request: Any
) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    """Check facts.stage→to and answer (code, field) per refusal."""
    refusals = OPPORTUNITY_MACHINE.check(
        facts.stage, to, facts, StageMoveRequest(to=to, **request)
    )
    return [(r.code, r.field) for r in refusals]


def expand(name: str) -> list[Any]:
    """One pytest param per (from, to) cell of a scenario's grid."""
    grid, accepted, role, override, reason = SCENARIOS[name]
    actor_id, owner_role = PARTIES.get(name, (OWNER_ID, Role.AE))
    cases = []
    for line in grid.strip().splitlines():
        current, *cells = line.split()
        for to, cell in zip(STAGES, cells, strict=True):
            codes = [] if cell == "ok" else [LEGEND[a] for a in cell.split("+")]
            facts = make_facts(
                stage=Stage(current),
                actor_role=role,
                actor_id=actor_id,
                owner_role=owner_role,
                sales_accepted_date=ACCEPTED_AT if accepted else None,
            )
            request = StageMoveRequest(to=to, reason=reason, override=override)
            cases.append(
                pytest.param(facts, request, codes, id=f"{name}:{current}->{to}")
            )
    return cases


def every_case() -> list[Any]:
    """Every cell of every scenario."""
    return [case for name in SCENARIOS for case in expand(name)]


def test_each_grid_covers_every_pair() -> None:
    for name in SCENARIOS:
        pairs = {(p.values[0].stage, p.values[1].to) for p in expand(name)}
        assert len(pairs) == 12 * 12, name


@pytest.mark.parametrize(("facts", "request_", "expected"), every_case())
def test_every_pair_in_every_scenario(
    facts: OpportunityFacts, request_: StageMoveRequest, expected: list[ErrorCode]
) -> None:
    refusals = OPPORTUNITY_MACHINE.check(facts.stage, request_.to, facts, request_)
    assert [r.code for r in refusals] == expected


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_options_and_apply_agree_with_check_for_every_pair(name: str) -> None:
    cases = [p.values for p in expand(name)] + [
        (
            make_empty_facts(
                stage=p.values[0].stage,
                actor_role=p.values[0].actor_role,
                actor_id=p.values[0].actor_id,
                owner_role=p.values[0].owner_role,
            ),
            p.values[1],
            None,
        )
        for p in expand(name)
    ]
    for facts, request, _ in cases:
        current, to = facts.stage, request.to
        expected = OPPORTUNITY_MACHINE.check(current, to, facts, request)
        assert OPPORTUNITY_MACHINE.apply(current, to, facts, request) == expected
        options = {
            o.to: o for o in OPPORTUNITY_MACHINE.options(current, facts, request)
        }
        assert list(options) == OPPORTUNITY_MACHINE.reachable(current)
        if to in options:
            assert options[to].blocked_by == expected
            assert options[to].allowed is (not expected)


# ---- entry requirements ------------------------------------------------------


def test_sales_acceptance_needs_the_right_person_and_the_business_problem() -> None:
    facts = make_empty_facts(has_contact_roles=True)
    assert move(facts, Stage.DISCOVERY) == [
        (ErrorCode.MISSING_FIELD, ("primaryContactId",)),
        (ErrorCode.MISSING_FIELD, ("businessProblem",)),
    ]


def test_a_pre_opportunity_needs_a_contact_and_the_business_problem() -> None:
    empty = make_empty_facts(stage=Stage.PRE_OPPORTUNITY)
    with_role = make_empty_facts(
        stage=Stage.PRE_OPPORTUNITY, has_contact_roles=True, business_problem="Slow"
    )
    assert move(empty, Stage.PENDING_ACCEPTANCE) == [
        (ErrorCode.MISSING_FIELD, ("primaryContactId",)),
        (ErrorCode.MISSING_FIELD, ("businessProblem",)),
    ]
    assert move(with_role, Stage.PENDING_ACCEPTANCE) == []


def test_a_pre_opportunity_cannot_skip_pending_acceptance() -> None:
    refusals = OPPORTUNITY_MACHINE.check(
        Stage.PRE_OPPORTUNITY,
        Stage.DISCOVERY,
        make_facts(stage=Stage.PRE_OPPORTUNITY),
        StageMoveRequest(to=Stage.DISCOVERY),
    )
    assert refusals == [
        Refusal(
            code=ErrorCode.INVALID_TRANSITION,
            message="Cannot move from 00-Pre Opportunity to 1-Discovery; from "
            "00-Pre Opportunity: 0-Pending Acceptance, 9-Unqualified, 10-Duplicate.",
            field=("to",),
        )
    ]


def test_skipping_to_proposal_lists_the_requirements_of_the_stages_passed_over() -> (
    None
):
    facts = make_empty_facts(poc_ran=True)
    assert move(facts, Stage.PROPOSAL) == [
        (ErrorCode.MISSING_FIELD, ("primaryContactId",)),
        (ErrorCode.MISSING_FIELD, ("businessProblem",)),
        (ErrorCode.REQUIREMENT_NOT_MET, ("technicalRequirementsConfirmed",)),
        (ErrorCode.MISSING_FIELD, ("pocNotes",)),
        (ErrorCode.MISSING_FIELD, ("pocSuccessCriteria",)),
    ]


def test_closing_won_from_discovery_lists_every_requirement_passed_over() -> None:
    facts = make_empty_facts(stage=Stage.DISCOVERY, account_is_named=True)
    assert move(facts, Stage.CLOSED_WON) == [
        (ErrorCode.REQUIREMENT_NOT_MET, ("technicalRequirementsConfirmed",)),
        (ErrorCode.MISSING_FIELD, ("billToContactId",)),
        (ErrorCode.MISSING_FIELD, ("soldToContactId",)),
        (ErrorCode.MISSING_FIELD, ("poWillBeIssued",)),
        (ErrorCode.MISSING_FIELD, ("purchasingPlan",)),
        (ErrorCode.REQUIREMENT_NOT_MET, ("businessTermsAgreed",)),
        (ErrorCode.MISSING_FIELD, ("referenceableCustomer",)),
        (ErrorCode.REQUIREMENT_NOT_MET, ("signedOrderFormReceived",)),
        (ErrorCode.REQUIREMENT_NOT_MET, ("restrictedPartyScreening",)),
        (ErrorCode.REQUIREMENT_NOT_MET, ("financeApproved",)),
        (ErrorCode.MISSING_FIELD, ("closedWonDetails",)),
    ]


def test_moving_forward_one_stage_checks_only_that_stage() -> None:
    facts = make_empty_facts(stage=Stage.PROPOSAL)
    assert move(facts, Stage.NEGOTIATING) == [
        (ErrorCode.MISSING_FIELD, ("billToContactId",)),
        (ErrorCode.MISSING_FIELD, ("soldToContactId",)),
        (ErrorCode.MISSING_FIELD, ("poWillBeIssued",)),
        (ErrorCode.MISSING_FIELD, ("purchasingPlan",)),
    ]


def test_scoping_and_technical_evaluation_have_no_entry_requirement() -> None:
    facts = make_empty_facts(stage=Stage.DISCOVERY)
    assert move(facts, Stage.SCOPING) == []
    assert move(facts, Stage.TECHNICAL_EVALUATION) == []


@pytest.mark.parametrize(
    ("po_will_be_issued", "expected"),
    [(True, [(ErrorCode.REQUIREMENT_NOT_MET, ("poReceived",))]), (False, [])],
)
def test_closing_won_needs_the_po_only_when_one_will_be_issued(
    po_will_be_issued: bool, expected: list[Any]
) -> None:
    facts = make_facts(
        stage=Stage.AWAITING_SIGNATURE,
        po_will_be_issued=po_will_be_issued,
        po_received=False,
    )
    assert move(facts, Stage.CLOSED_WON) == expected


def test_closing_won_needs_a_cleared_restricted_party_screening() -> None:
    facts = make_facts(
        stage=Stage.AWAITING_SIGNATURE,
        restricted_party_screening=RestrictedPartyScreening.PENDING,
    )
    refusals = OPPORTUNITY_MACHINE.check(
        facts.stage, Stage.CLOSED_WON, facts, StageMoveRequest(to=Stage.CLOSED_WON)
    )
    assert [r.message for r in refusals] == [
        "Restricted-party screening is PENDING, not CLEARED. (stage requirements v1)"
    ]


@pytest.mark.parametrize(
    ("account", "needs_details"),
    [
        ({"account_is_named": True, "incremental_acv": Decimal("100")}, True),
        ({"account_segment": SalesSegment.LARGE, "incremental_acv": Decimal(1)}, True),
        ({"account_segment": SalesSegment.STRATEGIC}, True),
        ({"incremental_acv": Decimal("12000")}, True),
        ({"incremental_acv": Decimal("11999.99")}, False),
    ],
)
def test_closed_won_details_are_needed_for_named_large_or_big_deals(
    account: dict[str, Any], needs_details: bool
) -> None:
    values = {"incremental_acv": Decimal("500"), "account_segment": SalesSegment.SMB}
    values.update(account)
    facts = make_facts(
        stage=Stage.AWAITING_SIGNATURE, closed_won_details=None, **values
    )
    expected = [(ErrorCode.MISSING_FIELD, ("closedWonDetails",))]
    assert move(facts, Stage.CLOSED_WON) == (expected if needs_details else [])


def test_closing_lost_needs_reasons_a_detail_and_the_merged_into_opportunity() -> None:
    nothing = make_empty_facts(stage=Stage.SCOPING)
    merged = make_empty_facts(
        stage=Stage.SCOPING,
        closed_lost_reasons=(ClosedLostReason.MERGED_INTO_ANOTHER_OPPORTUNITY,),
        closed_lost_detail="Merged into the renewal",
    )
    assert move(nothing, Stage.CLOSED_LOST) == [
        (ErrorCode.MISSING_FIELD, ("closedLostReasons",)),
        (ErrorCode.MISSING_FIELD, ("closedLostDetail",)),
    ]
    assert move(merged, Stage.CLOSED_LOST) == [
        (ErrorCode.MISSING_FIELD, ("mergedIntoId",))
    ]


def test_a_duplicate_names_what_it_duplicates() -> None:
    facts = make_facts(stage=Stage.PENDING_ACCEPTANCE, duplicate_of_id=None)
    assert move(facts, Stage.DUPLICATE) == [
        (ErrorCode.MISSING_FIELD, ("duplicateOfId",))
    ]


def test_a_sales_accepted_opportunity_is_closed_lost_rather_than_duplicate() -> None:
    facts = make_facts(stage=Stage.SCOPING, sales_accepted_date=ACCEPTED_AT)
    refusals = OPPORTUNITY_MACHINE.check(
        facts.stage, Stage.DUPLICATE, facts, StageMoveRequest(to=Stage.DUPLICATE)
    )
    assert refusals == [
        Refusal(
            code=ErrorCode.ALREADY_SALES_ACCEPTED,
            message="This opportunity was sales-accepted on 2026-01-21; it cannot "
            "move to 10-Duplicate. Close it lost with reason "
            "MERGED_INTO_ANOTHER_OPPORTUNITY or CONSOLIDATING_ORDER instead.",
            field=("to",),
        )
    ]


@pytest.mark.parametrize("current", [Stage.PRE_OPPORTUNITY, Stage.PENDING_ACCEPTANCE])
def test_unqualifying_needs_a_reason(current: Stage) -> None:
    facts = make_facts(stage=current)
    assert move(facts, Stage.UNQUALIFIED, reason=" ") == [
        (ErrorCode.REASON_REQUIRED, ("reason",))
    ]


def test_moving_back_needs_a_reason() -> None:
    facts = make_facts(stage=Stage.NEGOTIATING)
    assert move(facts, Stage.TECHNICAL_EVALUATION) == [
        (ErrorCode.REASON_REQUIRED, ("reason",))
    ]
    assert move(facts, Stage.TECHNICAL_EVALUATION, reason="Security review") == []


def test_moving_back_does_not_recheck_the_earlier_stage() -> None:
    facts = make_empty_facts(stage=Stage.PROPOSAL)
    assert move(facts, Stage.DISCOVERY, reason="Wrong buyer") == []


# ---- overrides -------------------------------------------------------------------


def test_an_override_by_someone_else_than_sales_ops_is_refused_with_the_rule() -> None:
    facts = make_facts(
        stage=Stage.DISCOVERY, sales_accepted_date=ACCEPTED_AT, actor_role=Role.RD
    )
    assert move(facts, Stage.PENDING_ACCEPTANCE, override=True, reason="x") == [
        (ErrorCode.ALREADY_SALES_ACCEPTED, ("to",)),
        (ErrorCode.OVERRIDE_NOT_ALLOWED, ("override",)),
    ]


def test_an_override_without_a_reason_is_refused() -> None:
    facts = make_facts(stage=Stage.CLOSED_WON, actor_role=Role.SALES_OPS)
    assert move(facts, Stage.NEGOTIATING, override=True) == [
        (ErrorCode.FINAL_STATE, ("to",)),
        (ErrorCode.REASON_REQUIRED, ("reason",)),
    ]


def test_a_final_stage_refusal_names_the_stage() -> None:
    facts = make_facts(stage=Stage.UNQUALIFIED)
    refusals = OPPORTUNITY_MACHINE.check(
        facts.stage,
        Stage.PENDING_ACCEPTANCE,
        facts,
        StageMoveRequest(to=Stage.PENDING_ACCEPTANCE),
    )
    assert refusals == [
        Refusal(
            code=ErrorCode.FINAL_STATE,
            message="9-Unqualified is final; only a SALES_OPS override with a "
            "reason can change it.",
            field=("to",),
        )
    ]


def test_an_override_out_of_unqualified_rechecks_the_pipeline_from_the_start() -> None:
    facts = make_empty_facts(stage=Stage.UNQUALIFIED, actor_role=Role.SALES_OPS)
    assert move(facts, Stage.DISCOVERY, override=True, reason="Came back") == [
        (ErrorCode.MISSING_FIELD, ("primaryContactId",)),
        (ErrorCode.MISSING_FIELD, ("businessProblem",)),
    ]


# ---- reopening -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since_close", "expected"),
    [
        (timedelta(days=29), []),
        (timedelta(days=30), []),
        (timedelta(days=30, seconds=1), [(ErrorCode.REOPEN_WINDOW_PASSED, ("to",))]),
        (timedelta(days=31), [(ErrorCode.REOPEN_WINDOW_PASSED, ("to",))]),
    ],
    ids=["29-days", "30-days", "30-days-and-a-second", "31-days"],
)
def test_closed_lost_reopens_within_30_days_of_the_close(
    days_since_close: timedelta, expected: list[Any]
) -> None:
    facts = make_facts(
        stage=Stage.CLOSED_LOST,
        lost_from_stage=Stage.PROPOSAL,
        closed_at=NOW - days_since_close,
    )
    assert move(facts, Stage.PROPOSAL) == expected


def test_closed_lost_cannot_reopen_after_30_days_and_says_to_create_a_new_one() -> None:
    facts = make_facts(
        stage=Stage.CLOSED_LOST,
        lost_from_stage=Stage.PROPOSAL,
        closed_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        actor_role=Role.SALES_OPS,
    )
    refusals = OPPORTUNITY_MACHINE.check(
        facts.stage,
        Stage.PROPOSAL,
        facts,
        StageMoveRequest(to=Stage.PROPOSAL, override=True, reason="Customer is back"),
    )
    assert refusals == [
        Refusal(
            code=ErrorCode.REOPEN_WINDOW_PASSED,
            message="It was closed lost on 2026-01-15, more than 30 days ago: "
            "create a new opportunity instead.",
            field=("to",),
        )
    ]


def test_closed_lost_reopens_only_to_the_stage_it_was_lost_from() -> None:
    facts = make_facts(stage=Stage.CLOSED_LOST, lost_from_stage=Stage.PROPOSAL)
    refusals = OPPORTUNITY_MACHINE.check(
        facts.stage, Stage.DISCOVERY, facts, StageMoveRequest(to=Stage.DISCOVERY)
    )
    assert refusals == [
        Refusal(
            code=ErrorCode.INVALID_TRANSITION,
            message="A closed-lost opportunity reopens only to the stage it was "
            "lost from (4-Proposal).",
            field=("to",),
        )
    ]


def test_options_from_closed_lost_show_the_one_stage_it_may_reopen_to() -> None:
    facts = make_facts(stage=Stage.CLOSED_LOST, lost_from_stage=Stage.SCOPING)
    options = OPPORTUNITY_MACHINE.options(
        facts.stage, facts, lambda to: StageMoveRequest(to=to)
    )
    assert [o.to for o in options if o.allowed] == [Stage.SCOPING]
    assert [o.to for o in options] == [
        Stage.DISCOVERY,
        Stage.SCOPING,
        Stage.TECHNICAL_EVALUATION,
        Stage.PROPOSAL,
        Stage.NEGOTIATING,
        Stage.AWAITING_SIGNATURE,
    ]


# ---- effects and events ------------------------------------------------------------


def test_sales_acceptance_sets_the_sales_accepted_date() -> None:
    facts = make_facts(stage=Stage.PENDING_ACCEPTANCE)
    assert stage_effects(facts, Stage.DISCOVERY, NOW) == {"sales_accepted_date": NOW}


def test_a_sales_accepted_date_once_set_is_kept() -> None:
    facts = make_facts(
        stage=Stage.CLOSED_LOST,
        lost_from_stage=Stage.DISCOVERY,
        sales_accepted_date=ACCEPTED_AT,
    )
    assert stage_effects(facts, Stage.DISCOVERY, NOW) == {
        "closed_at": None,
        "lost_from_stage": None,
    }


def test_leaving_discovery_makes_a_sales_qualified_opportunity() -> None:
    facts = make_facts(
        stage=Stage.DISCOVERY,
        sales_accepted_date=ACCEPTED_AT,
        incremental_acv=Decimal("18000.00"),
    )
    assert stage_effects(facts, Stage.SCOPING, NOW) == {
        "sales_qualified": True,
        "sales_qualified_date": NOW,
        "initial_iacv": Decimal("18000.00"),
    }


def test_skipping_over_discovery_makes_it_both_sao_and_sqo() -> None:
    facts = make_facts(stage=Stage.PENDING_ACCEPTANCE, incremental_acv=Decimal("7"))
    assert stage_effects(facts, Stage.PROPOSAL, NOW) == {
        "sales_accepted_date": NOW,
        "sales_qualified": True,
        "sales_qualified_date": NOW,
        "initial_iacv": Decimal("7"),
    }


def test_initial_iacv_never_changes_after_qualification() -> None:
    facts = make_facts(
        stage=Stage.SCOPING,
        sales_accepted_date=ACCEPTED_AT,
        sales_qualified=True,
        incremental_acv=Decimal("99000"),
    )
    assert stage_effects(facts, Stage.PROPOSAL, NOW) == {}
    assert stage_effects(facts, Stage.DISCOVERY, NOW) == {}


def test_closing_won_from_discovery_qualifies_and_closes() -> None:
    facts = make_facts(stage=Stage.DISCOVERY, sales_accepted_date=ACCEPTED_AT)
    assert stage_effects(facts, Stage.CLOSED_WON, NOW) == {
        "sales_qualified": True,
        "sales_qualified_date": NOW,
        "initial_iacv": Decimal("30000"),
        "closed_at": NOW,
    }


def test_closing_lost_from_discovery_remembers_the_stage_and_does_not_qualify() -> None:
    facts = make_facts(stage=Stage.DISCOVERY, sales_accepted_date=ACCEPTED_AT)
    assert stage_effects(facts, Stage.CLOSED_LOST, NOW) == {
        "closed_at": NOW,
        "lost_from_stage": Stage.DISCOVERY,
    }


def test_unqualifying_closes_the_opportunity() -> None:
    facts = make_facts(stage=Stage.PENDING_ACCEPTANCE)
    assert stage_effects(facts, Stage.UNQUALIFIED, NOW) == {"closed_at": NOW}


@pytest.mark.parametrize(
    ("facts_overrides", "alert"),
    [
        ({"account_is_named": True, "incremental_acv": Decimal("10")}, True),
        ({"account_segment": SalesSegment.LARGE, "incremental_acv": Decimal(1)}, True),
        ({"incremental_acv": Decimal("12000")}, True),
        ({"incremental_acv": Decimal("11999")}, False),
        ({"incremental_acv": Decimal("50000"), "type": OpportunityType.ADD_ON}, False),
    ],
)
def test_losing_a_big_new_business_deal_raises_a_lost_deal_alert(
    facts_overrides: dict[str, Any], alert: bool
) -> None:
    values: dict[str, Any] = {"account_segment": SalesSegment.SMB}
    values.update(facts_overrides)
    facts = make_facts(stage=Stage.NEGOTIATING, **values)
    expected = [LOST_DEAL_ALERT] if alert else []
    assert stage_events(facts, Stage.CLOSED_LOST) == expected


def test_unqualifying_sends_feedback_to_the_sourcing_team_lead() -> None:
    facts = make_facts(stage=Stage.PENDING_ACCEPTANCE)
    assert stage_events(facts, Stage.UNQUALIFIED) == [UNQUALIFIED_OPPORTUNITY_FEEDBACK]
    assert stage_events(facts, Stage.DISCOVERY) == []


# ---- creation and terms ----------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "source", "expected"),
    [
        (Stage.PENDING_ACCEPTANCE, SalesQualificationSource.BDR_GENERATED, []),
        (Stage.PRE_OPPORTUNITY, None, []),
        (Stage.CLOSED_WON, SalesQualificationSource.WEB_DIRECT, []),
        (
            Stage.CLOSED_WON,
            SalesQualificationSource.AE_GENERATED,
            [ErrorCode.WEB_DIRECT_ONLY],
        ),
        (
            Stage.DISCOVERY,
            SalesQualificationSource.WEB_DIRECT,
            [ErrorCode.MUST_PASS_PENDING_ACCEPTANCE],
        ),
        (Stage.CLOSED_LOST, None, [ErrorCode.MUST_PASS_PENDING_ACCEPTANCE]),
    ],
)
def test_a_new_opportunity_starts_in_pending_acceptance_unless_web_direct_won(
    stage: Stage,
    source: SalesQualificationSource | None,
    expected: list[ErrorCode],
) -> None:
    refusals = creation_refusals(stage, source)
    assert [r.code for r in refusals] == expected
    assert all(r.field == ("stage",) for r in refusals)


@pytest.mark.parametrize(
    ("iacv", "edition", "fields"),
    [
        (Decimal("25000"), "Premium", []),
        (Decimal("24999.99"), "Premium", [("incrementalAcv",)]),
        (Decimal("80000"), "STARTER", [("edition",)]),
        (Decimal("100"), " starter ", [("incrementalAcv",), ("edition",)]),
        (Decimal("30000"), None, []),
    ],
)
def test_standard_terms_are_modifiable_only_for_big_non_starter_deals(
    iacv: Decimal, edition: str | None, fields: list[tuple[str, ...]]
) -> None:
    refusals = terms_modification_refusals(iacv, edition)
    assert [r.field for r in refusals] == fields
    assert all(r.code == ErrorCode.TERMS_NOT_MODIFIABLE for r in refusals)
