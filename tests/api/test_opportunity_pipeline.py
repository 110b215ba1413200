"""moveOpportunityStage, availableTransitions, history, requestTermsModification (D3, A4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from domain.enums import (
    ClosedLostReason,
    OpportunityStage,
    OpportunityType,
    RecordType,
    ReferenceableCustomer,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.errors import Refused
from domain.lifecycle.opportunity import StageMoveRequest
from domain.records import (
    Account,
    Contact,
    Event,
    Opportunity,
    TransitionRecord,
    User,
)
from domain.rules.permissions import Actor
from domain.services.opportunities import create_opportunity
from domain.services.opportunity_pipeline import move_opportunity_stage
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.conftest import row_count
from tests.domain.test_opportunity_machine import (
    LEGEND,
    OWNER_ID,
    PARTIES,
    SCENARIOS,
)

# The grids whose actor may edit the deal (its owner, or SALES_OPS): through the
# API a non-owner's other moves are FORBIDDEN as well (tested on their own).
EDITING_SCENARIOS = [
    name
    for name in SCENARIOS
    if PARTIES.get(name, (OWNER_ID, Role.AE))[0] == OWNER_ID
    or SCENARIOS[name][2] == Role.SALES_OPS
]

Stage = OpportunityStage

FIELDS = """
  id version stage salesAcceptedDate salesQualified salesQualifiedDate initialIacv
  incrementalAcv closedAt lostFromStage businessProblem purchasingPlan
  poWillBeIssued billToContact { id } soldToContact { id }
  history { from to reason note override secondsInFrom actor { id } }
"""
MOVE = f"""
mutation($input: MoveOpportunityStageInput!) {{
  moveOpportunityStage(input: $input) {{
    opportunity {{ {FIELDS} }}
    userErrors {{ code field message }}
  }}
}}"""
READ = f"query($id: ID!) {{ opportunity(id: $id) {{ {FIELDS} }} }}"
OPTIONS = """
query($ids: [ID!]!, $reason: String, $override: Boolean!) {
  nodes(ids: $ids) {
    ... on Opportunity {
      stage
      availableTransitions(reason: $reason, override: $override) {
        to label allowed blockedBy { code field }
      }
    }
  }
}"""
TERMS = """
mutation($input: RequestTermsModificationInput!) {
  requestTermsModification(input: $input) {
    opportunity { id }
    userErrors { code field message }
  }
}"""


async def an_account(make: Any, owner: User, **values: Any) -> Account:
    """An account owned by ``owner``."""

    async def use_case(s):
        account = Account(
            name="Acme", normalized_name="acme", owner_id=owner.id, **values
        )
        s.add(account)
        await s.flush()
        return account

    return await make.run(use_case)


async def a_contact(make: Any, account_id: int, last_name: str = "Buyer") -> Contact:
    """A contact at the account."""

    async def use_case(s):
        contact = Contact(
            last_name=last_name, account_id=account_id, initial_source="Webcast"
        )
        s.add(contact)
        await s.flush()
        return contact

    return await make.run(use_case)


async def a_deal(
    make: Any,
    owner: User,
    *,
    by: User | None = None,
    account: dict[str, Any] | None = None,
    **values: Any,
) -> Opportunity:
    """A PENDING_ACCEPTANCE opportunity owned by ``owner``, created (by ``by``)
    through the service, with a primary contact and the business problem."""
    by = by or owner
    acct = await an_account(make, owner, **(account or {}))
    contact = await a_contact(make, acct.id)
    values = {
        "name": "Acme - 500 seats",
        "account_id": acct.id,
        "owner_id": owner.id,
        "primary_contact_id": contact.id,
        "business_problem": "Releases take weeks",
        "incremental_acv": Decimal("8000.00"),
        **values,
    }
    return await make.run(
        lambda s: create_opportunity(values, session=s, actor=Actor(by.id, by.role))
    )


async def put(make: Any, opportunity_id: int, **values: Any) -> None:
    """Set fields directly (test setup: a state reached some other way)."""

    async def use_case(s):
        row = await s.get(Opportunity, opportunity_id)
        for name, value in values.items():
            setattr(row, name, value)

    await make.run(use_case)


async def stored(sessions: Any, opportunity_id: int) -> Opportunity:
    """The opportunity as the database has it now."""
    async with sessions() as s:
        return await s.get(Opportunity, opportunity_id)


async def events(sessions: Any, kind: str) -> list[Event]:
    """The events of one kind, oldest first."""
    async with sessions() as s:
        return list(
            (
                await s.execute(
                    select(Event).where(Event.kind == kind).order_by(Event.id)
                )
            )
            .scalars()
            .all()
        )


async def move(
    api: Any, opp: Opportunity, to: Stage, *, as_user: User, **input: Any
) -> dict[str, Any]:
    """moveOpportunityStage; the payload."""
    variables = {"input": {"id": gid("Opportunity", opp.id), "to": to.value, **input}}
    return (await api(MOVE, variables, as_user=as_user)).ok()["moveOpportunityStage"]


ACCEPTED_FIELDS = {
    "technicalRequirementsConfirmed": True,
    "pocRan": False,
    "poWillBeIssued": False,
    "purchasingPlan": "Signature by end of quarter",
    "businessTermsAgreed": True,
    "referenceableCustomer": "YES",
}


async def negotiation_contacts(make: Any, opp: Opportunity) -> dict[str, str]:
    """A bill-to and a sold-to contact at the deal's account, as stage fields."""
    bill = await a_contact(make, opp.account_id, "Biller")
    sold = await a_contact(make, opp.account_id, "Seller")
    return {
        "billToContactId": gid("Contact", bill.id),
        "soldToContactId": gid("Contact", sold.id),
    }


# --- one source of truth: the D3 grid, "may I?" and "do it" agree for every pair -----


def everything_recorded(
    contacts: tuple[int, int, int], duplicate_of: int
) -> dict[str, Any]:
    """Every entry requirement met (the domain grid's facts, as record values).

    Lost from NEGOTIATING ten days ago, for the CLOSED_LOST row.
    """
    primary, bill, sold = contacts
    return {
        "primary_contact_id": primary,
        "business_problem": "Releases take weeks",
        "incremental_acv": Decimal("30000.00"),
        "technical_requirements_confirmed": True,
        "poc_ran": True,
        "poc_notes": "Pipelines migrated in the POC",
        "poc_success_criteria": "Deploy daily",
        "bill_to_contact_id": bill,
        "sold_to_contact_id": sold,
        "po_will_be_issued": True,
        "purchasing_plan": "Signature by end of quarter",
        "business_terms_agreed": True,
        "referenceable_customer": ReferenceableCustomer.LATER,
        "signed_order_form_received": True,
        "po_received": True,
        "restricted_party_screening": RestrictedPartyScreening.CLEARED,
        "finance_approved": True,
        "closed_won_details": "Chosen for the CI speed",
        "closed_lost_reasons": [ClosedLostReason.PRICING.value],
        "closed_lost_detail": "Budget went to another project",
        "duplicate_of_id": duplicate_of,
        "lost_from_stage": Stage.NEGOTIATING,
        "closed_at": utcnow() - timedelta(days=10),
    }


def expected_codes(grid: str, current: Stage) -> dict[Stage, list[str]]:
    """One row of a domain grid: the codes of current→to, per target."""
    for line in grid.strip().splitlines():
        name, *cells = line.split()
        if name == current.value:
            return {
                to: [] if cell == "ok" else [LEGEND[c].value for c in cell.split("+")]
                for to, cell in zip(Stage, cells, strict=True)
            }
    raise KeyError(current)


@pytest.mark.parametrize("current", list(Stage))
@pytest.mark.parametrize("scenario", EDITING_SCENARIOS)
async def test_available_transitions_and_the_move_agree_with_the_d3_grid(
    api, make, scenario, current
):
    grid, accepted, role, override, reason = SCENARIOS[scenario]
    actor_id, owner_role = PARTIES.get(scenario, (OWNER_ID, Role.AE))
    actor = await make.user(role)
    owner = actor if actor_id == OWNER_ID else await make.user(owner_role)
    account = await an_account(make, owner, sales_segment=SalesSegment.MID_MARKET)
    contacts = [(await a_contact(make, account.id, n)).id for n in "ABC"]

    async def twelve_deals(s):
        original = Opportunity(name="Original", account_id=account.id)
        s.add(original)
        await s.flush()
        values = everything_recorded(tuple(contacts), original.id)
        deals = {
            to: Opportunity(
                name=f"Deal to {to}",
                account_id=account.id,
                owner_id=owner.id,
                stage=current,
                sales_accepted_date=utcnow() - timedelta(days=40) if accepted else None,
                sales_qualified=accepted,
                **values,
            )
            for to in Stage
        }
        s.add_all(deals.values())
        await s.flush()
        return {to: d.id for to, d in deals.items()}

    deals = await make.run(twelve_deals)
    expected = expected_codes(grid, current)
    nodes = (
        await api(
            OPTIONS,
            {
                "ids": [gid("Opportunity", i) for i in deals.values()],
                "reason": reason,
                "override": override,
            },
            as_user=actor,
        )
    ).ok()["nodes"]

    for (to, deal_id), node in zip(deals.items(), nodes, strict=True):
        option = next(
            (o for o in node["availableTransitions"] if o["to"] == to.value), None
        )
        result = (
            await api(
                MOVE,
                {
                    "input": {
                        "id": gid("Opportunity", deal_id),
                        "to": to.value,
                        "reason": reason,
                        "override": override,
                    }
                },
                as_user=actor,
            )
        ).ok()["moveOpportunityStage"]
        errors = [(e["code"], e["field"]) for e in result["userErrors"]]
        assert [code for code, _ in errors] == expected[to], (current, to, errors)
        if option is None:
            assert expected[to] == ["INVALID_TRANSITION"], (current, to)
        else:
            blocked = [(e["code"], e["field"]) for e in option["blockedBy"]]
            assert blocked == errors, (current, to)
            assert option["allowed"] is (errors == [])
        if not errors:
            assert result["opportunity"]["stage"] == to.value


async def test_someone_else_s_deal_is_forbidden_before_and_during_the_move(
    api, make, sessions
):
    owner = await make.user(Role.AE)
    stranger = await make.user(Role.AE)
    deal = await a_deal(make, owner)

    options = (
        await api(
            OPTIONS,
            {"ids": [gid("Opportunity", deal.id)], "override": False},
            as_user=stranger,
        )
    ).ok()["nodes"][0]["availableTransitions"]
    data = await move(api, deal, Stage.DISCOVERY, as_user=stranger)

    # Sales acceptance names who may act itself (round 2, D3.3): one cause, one
    # code, NOT_SALES_OWNER; other moves ask the permission to edit.
    discovery = next(o for o in options if o["to"] == "DISCOVERY")
    duplicate = next(o for o in options if o["to"] == "DUPLICATE")
    assert discovery["blockedBy"] == [{"code": "NOT_SALES_OWNER", "field": ["ownerId"]}]
    assert duplicate["blockedBy"] == [
        {"code": "FORBIDDEN", "field": None},
        {"code": "MISSING_FIELD", "field": ["fields", "duplicateOfId"]},
    ]
    assert codes(data) == [("NOT_SALES_OWNER", ["ownerId"])]
    assert (await stored(sessions, deal.id)).stage == Stage.PENDING_ACCEPTANCE


# --- who accepts (round 2, D3.3) ----------------------------------------------------


async def options_of(api: Any, deal: Opportunity, user: User) -> dict[str, Any]:
    """availableTransitions of a deal as ``user`` sees them, by target stage."""
    nodes = (
        await api(
            OPTIONS,
            {"ids": [gid("Opportunity", deal.id)], "override": False, "reason": "x"},
            as_user=user,
        )
    ).ok()["nodes"]
    return {o["to"]: o for o in nodes[0]["availableTransitions"]}


@pytest.mark.parametrize("to", [Stage.DISCOVERY, Stage.UNQUALIFIED])
@pytest.mark.parametrize("sourcer_role", [Role.BDR, Role.SDR])
async def test_the_sourcing_bdr_or_sdr_cannot_move_out_of_pending_acceptance(
    api, make, sessions, sourcer_role, to
):
    """002_91dd8e67a169a832.txt, 0-Pending Acceptance: "the SAL or AE should move
    the opportunity to the next stage" / "the SAL or AE should move the
    opportunity to an 8-Unqualified stage" — not the BDR or SDR who sourced it,
    even when they still own it."""
    sourcer = await make.user(sourcer_role)
    for owner in (sourcer, await make.user(Role.AE)):
        deal = await a_deal(make, owner, by=sourcer)

        option = (await options_of(api, deal, sourcer))[to.value]
        data = await move(api, deal, to, as_user=sourcer, reason="No project")

        assert option["allowed"] is False
        assert option["blockedBy"] == [
            {"code": "NOT_SALES_OWNER", "field": ["ownerId"]}
        ]
        assert codes(data) == [("NOT_SALES_OWNER", ["ownerId"])]
        kept = await stored(sessions, deal.id)
        assert (kept.stage, kept.sales_accepted_date, kept.version) == (
            Stage.PENDING_ACCEPTANCE,
            None,
            deal.version,
        )


@pytest.mark.parametrize("role", [Role.SAL, Role.AE, Role.AM, Role.RD])
async def test_the_field_sales_owner_accepts_what_the_bdr_sourced(api, make, role):
    """002_91dd8e67a169a832.txt: "Once it is confirmed that the opportunity meets
    our Sales Accepted Opportunity criteria, the SAL or AE should move the
    opportunity to the next stage." """
    bdr = await make.user(Role.BDR)
    owner = await make.user(role)
    deal = await a_deal(make, owner, by=bdr)

    assert (await options_of(api, deal, owner))["DISCOVERY"]["allowed"] is True
    data = await move(api, deal, Stage.DISCOVERY, as_user=owner)

    assert data["userErrors"] == []
    assert data["opportunity"]["stage"] == "DISCOVERY"
    assert data["opportunity"]["salesAcceptedDate"] is not None


@pytest.mark.parametrize("role", [Role.SALES_OPS, Role.ADMIN])
async def test_sales_ops_accepts_for_the_owner_even_a_bdr_owned_deal(api, make, role):
    """002_91dd8e67a169a832.txt, 0-Pending Acceptance (D3.3 round 2: SALES_OPS or
    ADMIN act for the owner, e.g. to unblock a deal the BDR still holds)."""
    bdr = await make.user(Role.BDR)
    ops = await make.user(role)
    deal = await a_deal(make, bdr)

    data = await move(api, deal, Stage.UNQUALIFIED, as_user=ops, reason="No budget")

    assert data["userErrors"] == []
    assert data["opportunity"]["stage"] == "UNQUALIFIED"


# --- effects ------------------------------------------------------------------------


async def test_a_new_opportunity_s_history_starts_with_its_creation(api, make):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, by=sdr)

    read = (await api(READ, {"id": gid("Opportunity", deal.id)}, as_user=ae)).ok()

    assert [
        (h["from"], h["to"], h["actor"], h["secondsInFrom"])
        for h in read["opportunity"]["history"]
    ] == [(None, "PENDING_ACCEPTANCE", {"id": gid("User", sdr.id)}, None)]


async def test_entering_discovery_sets_the_sales_accepted_date(api, make, sessions):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)

    data = await move(api, deal, Stage.DISCOVERY, as_user=ae, note="Good call")

    opp = data["opportunity"]
    assert data["userErrors"] == []
    assert opp["stage"] == "DISCOVERY"
    assert opp["version"] == 2
    assert opp["salesAcceptedDate"] is not None
    assert (opp["salesQualified"], opp["salesQualifiedDate"]) == (False, None)
    assert opp["initialIacv"] is None
    assert [(h["from"], h["to"], h["note"], h["override"]) for h in opp["history"]] == [
        (None, "PENDING_ACCEPTANCE", None, False),
        ("PENDING_ACCEPTANCE", "DISCOVERY", "Good call", False),
    ]
    assert opp["history"][1]["secondsInFrom"] >= 0
    changed = await events(sessions, "OPPORTUNITY_STAGE_CHANGED")
    assert [(e.payload["from_state"], e.payload["to_state"]) for e in changed] == [
        ("PENDING_ACCEPTANCE", "DISCOVERY")
    ]


async def test_leaving_discovery_snapshots_the_initial_iacv_which_never_changes(
    api, make
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, incremental_acv=Decimal("18000.00"))
    accepted = await move(api, deal, Stage.DISCOVERY, as_user=ae)

    qualified = await move(api, deal, Stage.SCOPING, as_user=ae)
    await api(
        "mutation($i: UpdateOpportunityInput!) { updateOpportunity(input: $i) { "
        "userErrors { code } } }",
        {"i": {"id": gid("Opportunity", deal.id), "incrementalAcv": "99000.00"}},
        as_user=ae,
    )
    back = await move(api, deal, Stage.DISCOVERY, as_user=ae, reason="New buyer")
    again = await move(api, deal, Stage.TECHNICAL_EVALUATION, as_user=ae)

    sqo = qualified["opportunity"]
    assert sqo["salesQualified"] is True
    assert sqo["salesQualifiedDate"] is not None
    assert sqo["initialIacv"] == "18000.00"
    assert sqo["salesAcceptedDate"] == accepted["opportunity"]["salesAcceptedDate"]
    for later in (back, again):
        assert later["userErrors"] == []
        assert later["opportunity"]["initialIacv"] == "18000.00"
        assert later["opportunity"]["incrementalAcv"] == "99000.00"
        assert later["opportunity"]["salesQualifiedDate"] == sqo["salesQualifiedDate"]


async def test_the_iacv_given_with_the_qualifying_move_is_the_one_snapshotted(
    api, make
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, incremental_acv=Decimal("1000.00"))

    data = await move(
        api, deal, Stage.SCOPING, as_user=ae, fields={"incrementalAcv": "42000.00"}
    )

    opp = data["opportunity"]
    assert (opp["stage"], opp["incrementalAcv"], opp["initialIacv"]) == (
        "SCOPING",
        "42000.00",
        "42000.00",
    )
    assert opp["salesAcceptedDate"] == opp["salesQualifiedDate"]


# --- skipping forward and fields in one call ----------------------------------------------


async def test_skipping_forward_lists_the_requirements_of_every_stage_passed_over(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, business_problem=None)

    data = await move(api, deal, Stage.CLOSED_WON, as_user=ae)

    assert data["opportunity"] is None
    assert codes(data) == [
        ("MISSING_FIELD", ["fields", "businessProblem"]),  # 1-Discovery
        (
            "REQUIREMENT_NOT_MET",
            ["fields", "technicalRequirementsConfirmed"],
        ),  # 4-Proposal
        ("MISSING_FIELD", ["fields", "billToContactId"]),  # 5-Negotiating
        ("MISSING_FIELD", ["fields", "soldToContactId"]),
        ("MISSING_FIELD", ["fields", "poWillBeIssued"]),
        ("MISSING_FIELD", ["fields", "purchasingPlan"]),
        (
            "REQUIREMENT_NOT_MET",
            ["fields", "businessTermsAgreed"],
        ),  # 6-Awaiting Signature
        ("MISSING_FIELD", ["fields", "referenceableCustomer"]),
        ("REQUIREMENT_NOT_MET", ["fields", "signedOrderFormReceived"]),  # 7-Closed Won
        ("REQUIREMENT_NOT_MET", ["fields", "restrictedPartyScreening"]),
        ("REQUIREMENT_NOT_MET", ["fields", "financeApproved"]),
    ]
    assert await row_count(sessions, TransitionRecord) == 1  # the creation


async def test_fields_and_the_move_are_applied_in_one_call(api, make, sessions):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    contacts = await negotiation_contacts(make, deal)

    data = await move(
        api,
        deal,
        Stage.AWAITING_SIGNATURE,
        as_user=ae,
        fields={**ACCEPTED_FIELDS, **contacts},
    )

    opp = data["opportunity"]
    assert data["userErrors"] == []
    assert opp["stage"] == "AWAITING_SIGNATURE"
    assert opp["version"] == 2
    assert opp["purchasingPlan"] == "Signature by end of quarter"
    assert opp["poWillBeIssued"] is False
    assert opp["billToContact"] == {"id": contacts["billToContactId"]}
    assert opp["soldToContact"] == {"id": contacts["soldToContactId"]}
    assert opp["salesAcceptedDate"] is not None
    assert opp["salesQualified"] is True
    assert [(h["from"], h["to"]) for h in opp["history"]][1:] == [
        ("PENDING_ACCEPTANCE", "AWAITING_SIGNATURE")
    ]


async def test_a_refused_move_leaves_the_supplied_fields_unapplied(api, make, sessions):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    contacts = await negotiation_contacts(make, deal)
    events_before = await row_count(sessions, Event)

    data = await move(
        api,
        deal,
        Stage.AWAITING_SIGNATURE,
        as_user=ae,
        fields={**ACCEPTED_FIELDS, **contacts, "referenceableCustomer": None},
    )

    assert data["opportunity"] is None
    assert codes(data) == [("MISSING_FIELD", ["fields", "referenceableCustomer"])]
    after = await stored(sessions, deal.id)
    assert (after.stage, after.version) == (Stage.PENDING_ACCEPTANCE, 1)
    assert (after.purchasing_plan, after.bill_to_contact_id) == (None, None)
    assert after.technical_requirements_confirmed is False
    assert after.sales_accepted_date is None
    assert await row_count(sessions, TransitionRecord) == 1
    assert await row_count(sessions, Event) == events_before


async def test_supplied_fields_are_checked_and_named_by_their_input_path(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)

    data = await move(
        api,
        deal,
        Stage.CLOSED_LOST,
        as_user=ae,
        fields={
            "incrementalAcv": "-5.00",
            "technicalRequirementsConfirmed": None,
            "billToContactId": gid("Contact", 999),
            "mergedIntoId": gid("Opportunity", deal.id),
            "duplicateOfId": gid("Opportunity", 999),
        },
    )
    wrong_type = await move(
        api,
        deal,
        Stage.DISCOVERY,
        as_user=ae,
        fields={"primaryContactId": gid("Account", deal.account_id)},
    )

    assert sorted(codes(data)) == [
        ("INVALID_INPUT", ["fields", "incrementalAcv"]),
        ("INVALID_INPUT", ["fields", "mergedIntoId"]),
        ("MISSING_FIELD", ["fields", "technicalRequirementsConfirmed"]),
        ("NOT_FOUND", ["fields", "billToContactId"]),
        ("NOT_FOUND", ["fields", "duplicateOfId"]),
    ]
    assert codes(wrong_type) == [("INVALID_INPUT", ["fields", "primaryContactId"])]
    assert (await stored(sessions, deal.id)).version == 1


# --- moving back, overrides, unqualifying ---------------------------------------------


async def test_moving_back_needs_a_reason(api, make):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    await move(api, deal, Stage.TECHNICAL_EVALUATION, as_user=ae)

    refused = await move(api, deal, Stage.SCOPING, as_user=ae)
    moved = await move(
        api, deal, Stage.SCOPING, as_user=ae, reason="Scope changed", note="Call"
    )

    assert codes(refused) == [("REASON_REQUIRED", ["reason"])]
    assert moved["opportunity"]["history"][-1] == {
        **moved["opportunity"]["history"][-1],
        "from": "TECHNICAL_EVALUATION",
        "to": "SCOPING",
        "reason": "Scope changed",
        "note": "Call",
        "override": False,
    }


async def test_a_sales_ops_override_is_recorded_on_the_history(api, make, sessions):
    ae = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    deal = await a_deal(make, ae)
    await move(api, deal, Stage.SCOPING, as_user=ae)

    by_ae = await move(
        api, deal, Stage.PENDING_ACCEPTANCE, as_user=ae, override=True, reason="Oops"
    )
    without_reason = await move(
        api, deal, Stage.PENDING_ACCEPTANCE, as_user=ops, override=True
    )
    by_ops = await move(
        api,
        deal,
        Stage.PENDING_ACCEPTANCE,
        as_user=ops,
        override=True,
        reason="Accepted by mistake",
    )

    assert codes(by_ae) == [
        ("ALREADY_SALES_ACCEPTED", ["to"]),
        ("OVERRIDE_NOT_ALLOWED", ["override"]),
    ]
    assert codes(without_reason) == [
        ("ALREADY_SALES_ACCEPTED", ["to"]),
        ("REASON_REQUIRED", ["reason"]),
    ]
    last = by_ops["opportunity"]["history"][-1]
    assert (last["from"], last["to"], last["reason"], last["override"]) == (
        "SCOPING",
        "PENDING_ACCEPTANCE",
        "Accepted by mistake",
        True,
    )
    assert last["actor"] == {"id": gid("User", ops.id)}
    # the acceptance date stays: the SAO happened (D11 counts it)
    assert by_ops["opportunity"]["salesAcceptedDate"] is not None
    changed = await events(sessions, "OPPORTUNITY_STAGE_CHANGED")
    assert changed[-1].payload["override"] is True


async def test_an_override_flag_on_a_move_that_needs_none_is_not_recorded_as_one(
    api, make
):
    ae = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    deal = await a_deal(make, ae)

    data = await move(
        api, deal, Stage.DISCOVERY, as_user=ops, override=True, reason="Checked"
    )

    assert data["userErrors"] == []
    assert data["opportunity"]["history"][-1]["override"] is False


async def test_unqualifying_needs_a_reason_and_sends_feedback_to_the_sourcing_rep(
    api, make, sessions
):
    sdr = await make.user(Role.SDR)
    ae = await make.user(Role.AE)
    deal = await a_deal(
        make,
        ae,
        by=sdr,
        sales_qualification_source=SalesQualificationSource.SDR_GENERATED,
    )

    refused = await move(api, deal, Stage.UNQUALIFIED, as_user=ae)
    feedback_before = await events(sessions, "UNQUALIFIED_OPPORTUNITY_FEEDBACK")
    moved = await move(api, deal, Stage.UNQUALIFIED, as_user=ae, reason="No budget")

    assert codes(refused) == [("REASON_REQUIRED", ["reason"])]
    assert feedback_before == []
    assert moved["opportunity"]["stage"] == "UNQUALIFIED"
    assert moved["opportunity"]["closedAt"] is not None
    [feedback] = await events(sessions, "UNQUALIFIED_OPPORTUNITY_FEEDBACK")
    assert feedback.record_type == RecordType.OPPORTUNITY
    assert feedback.record_id == deal.id
    assert feedback.actor_id == ae.id
    assert feedback.payload == {
        "owner_id": ae.id,
        "account_id": deal.account_id,
        "sales_qualification_source": "SDR_GENERATED",
        "incremental_acv": "8000.00",
        "from_stage": "PENDING_ACCEPTANCE",
        "reason": "No budget",
        "sourced_by_id": sdr.id,
        "notify_ids": [sdr.id, ae.id],
    }


async def test_feedback_on_a_deal_the_owner_created_notifies_the_owner_only(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, stage=Stage.PRE_OPPORTUNITY)

    moved = await move(api, deal, Stage.UNQUALIFIED, as_user=ae, reason="No project")

    assert moved["userErrors"] == []
    [feedback] = await events(sessions, "UNQUALIFIED_OPPORTUNITY_FEEDBACK")
    assert (feedback.payload["sourced_by_id"], feedback.payload["notify_ids"]) == (
        None,
        [ae.id],
    )


async def test_a_sales_accepted_deal_cannot_be_unqualified_or_marked_duplicate(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    other = await a_deal(make, ae)
    await move(api, deal, Stage.DISCOVERY, as_user=ae)

    unqualified = await move(api, deal, Stage.UNQUALIFIED, as_user=ae, reason="x")
    duplicate = await move(
        api,
        deal,
        Stage.DUPLICATE,
        as_user=ae,
        fields={"duplicateOfId": gid("Opportunity", other.id)},
    )

    assert codes(unqualified) == [("ALREADY_SALES_ACCEPTED", ["to"])]
    assert codes(duplicate) == [("ALREADY_SALES_ACCEPTED", ["to"])]
    assert "MERGED_INTO_ANOTHER_OPPORTUNITY" in duplicate["userErrors"][0]["message"]
    assert await events(sessions, "UNQUALIFIED_OPPORTUNITY_FEEDBACK") == []


# --- closing ---------------------------------------------------------------------------


async def test_closing_won_needs_the_paperwork_and_details_for_a_big_deal(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, incremental_acv=Decimal("12000.00"))
    contacts = await negotiation_contacts(make, deal)
    await move(
        api,
        deal,
        Stage.AWAITING_SIGNATURE,
        as_user=ae,
        fields={**ACCEPTED_FIELDS, **contacts, "poWillBeIssued": True},
    )

    refused = await move(api, deal, Stage.CLOSED_WON, as_user=ae)
    won = await move(
        api,
        deal,
        Stage.CLOSED_WON,
        as_user=ae,
        fields={
            "signedOrderFormReceived": True,
            "poReceived": True,
            "restrictedPartyScreening": "CLEARED",
            "financeApproved": True,
            "closedWonDetails": "Chosen for the CI speed",
        },
    )

    assert codes(refused) == [
        ("REQUIREMENT_NOT_MET", ["fields", "signedOrderFormReceived"]),
        ("REQUIREMENT_NOT_MET", ["fields", "poReceived"]),
        ("REQUIREMENT_NOT_MET", ["fields", "restrictedPartyScreening"]),
        ("REQUIREMENT_NOT_MET", ["fields", "financeApproved"]),
        ("MISSING_FIELD", ["fields", "closedWonDetails"]),
    ]
    assert won["userErrors"] == []
    assert won["opportunity"]["stage"] == "CLOSED_WON"
    assert won["opportunity"]["closedAt"] is not None


async def test_closing_lost_needs_reasons_a_detail_and_the_merged_into_deal(api, make):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    survivor = await a_deal(make, ae)
    await move(api, deal, Stage.DISCOVERY, as_user=ae)

    nothing = await move(api, deal, Stage.CLOSED_LOST, as_user=ae)
    merged = await move(
        api,
        deal,
        Stage.CLOSED_LOST,
        as_user=ae,
        fields={
            "closedLostReasons": ["MERGED_INTO_ANOTHER_OPPORTUNITY"],
            "closedLostDetail": "Merged into the bigger deal",
        },
    )
    lost = await move(
        api,
        deal,
        Stage.CLOSED_LOST,
        as_user=ae,
        fields={
            "closedLostReasons": ["MERGED_INTO_ANOTHER_OPPORTUNITY"],
            "closedLostDetail": "Merged into the bigger deal",
            "mergedIntoId": gid("Opportunity", survivor.id),
        },
    )

    assert codes(nothing) == [
        ("MISSING_FIELD", ["fields", "closedLostReasons"]),
        ("MISSING_FIELD", ["fields", "closedLostDetail"]),
    ]
    assert codes(merged) == [("MISSING_FIELD", ["fields", "mergedIntoId"])]
    assert lost["userErrors"] == []
    assert lost["opportunity"]["stage"] == "CLOSED_LOST"
    assert lost["opportunity"]["lostFromStage"] == "DISCOVERY"


LOST = {"closedLostReasons": ["LOST_TO_COMPETITOR"], "closedLostDetail": "Went with X"}


@pytest.mark.parametrize(
    ("deal_values", "account", "alert"),
    [
        ({"incremental_acv": Decimal("12000.00")}, {}, True),
        ({}, {"is_named": True}, True),
        ({}, {"sales_segment": SalesSegment.LARGE}, True),
        ({"incremental_acv": Decimal("11999.99")}, {}, False),
        (
            {"incremental_acv": Decimal("50000.00"), "type": OpportunityType.RENEWAL},
            {},
            False,
        ),
    ],
    ids=["iacv-12000", "named", "large", "iacv-11999.99", "renewal"],
)
async def test_losing_a_big_new_business_deal_raises_a_lost_deal_alert(
    api, make, sessions, deal_values, account, alert
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, account=account, **deal_values)
    await move(api, deal, Stage.SCOPING, as_user=ae)

    data = await move(api, deal, Stage.CLOSED_LOST, as_user=ae, fields=LOST)

    assert data["userErrors"] == []
    alerts = await events(sessions, "LOST_DEAL_ALERT")
    if not alert:
        assert alerts == []
        return
    [event] = alerts
    assert event.record_id == deal.id
    assert event.payload["owner_id"] == ae.id
    assert event.payload["closed_lost_reasons"] == ["LOST_TO_COMPETITOR"]
    assert event.payload["from_stage"] == "SCOPING"
    assert event.payload["notify_ids"] == [ae.id]
    assert "sales_qualification_source" in event.payload


# --- reopening: the 30-day window on a controllable clock -------------------------------


async def lost_some_days_ago(make: Any, owner: User, days: int) -> Opportunity:
    """A deal closed lost from PROPOSAL ``days`` ago (the service's clock)."""
    deal = await a_deal(make, owner)
    closed_at = utcnow() - timedelta(days=days)
    await put(
        make,
        deal.id,
        stage=Stage.PROPOSAL,
        stage_changed_at=closed_at - timedelta(days=5),
        sales_accepted_date=closed_at - timedelta(days=20),
        sales_qualified=True,
    )
    request = StageMoveRequest(to=Stage.CLOSED_LOST)
    fields = {"closed_lost_reasons": ["TIMING"], "closed_lost_detail": "Next year"}
    await make.run(
        lambda s: move_opportunity_stage(
            deal.id,
            request,
            fields=fields,
            session=s,
            actor=Actor(owner.id, owner.role),
            now=closed_at,
        )
    )
    return deal


async def test_a_lost_deal_reopens_to_its_stage_within_30_days(api, make):
    ae = await make.user(Role.AE)
    deal = await lost_some_days_ago(make, ae, days=29)

    elsewhere = await move(api, deal, Stage.NEGOTIATING, as_user=ae)
    reopened = await move(api, deal, Stage.PROPOSAL, as_user=ae)

    assert codes(elsewhere) == [("INVALID_TRANSITION", ["to"])]
    opp = reopened["opportunity"]
    assert (opp["stage"], opp["closedAt"], opp["lostFromStage"]) == (
        "PROPOSAL",
        None,
        None,
    )
    closing, reopening = opp["history"][-2:]
    assert (closing["from"], closing["to"], closing["secondsInFrom"]) == (
        "PROPOSAL",
        "CLOSED_LOST",
        5 * 86400,
    )
    assert (reopening["from"], reopening["to"]) == ("CLOSED_LOST", "PROPOSAL")
    assert 29 * 86400 <= reopening["secondsInFrom"] < 29 * 86400 + 60


async def test_a_lost_deal_cannot_reopen_after_31_days(api, make, sessions):
    ae = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    deal = await lost_some_days_ago(make, ae, days=31)

    options = (
        await api(
            OPTIONS,
            {"ids": [gid("Opportunity", deal.id)], "override": False},
            as_user=ae,
        )
    ).ok()["nodes"][0]["availableTransitions"]
    refused = await move(api, deal, Stage.PROPOSAL, as_user=ae)
    overridden = await move(
        api, deal, Stage.PROPOSAL, as_user=ops, override=True, reason="Back"
    )

    assert [o["to"] for o in options if o["allowed"]] == []
    proposal = next(o for o in options if o["to"] == "PROPOSAL")
    assert proposal["blockedBy"] == [{"code": "REOPEN_WINDOW_PASSED", "field": ["to"]}]
    assert codes(refused) == [("REOPEN_WINDOW_PASSED", ["to"])]
    assert "create a new opportunity" in refused["userErrors"][0]["message"]
    assert codes(overridden) == [("REOPEN_WINDOW_PASSED", ["to"])]
    assert (await stored(sessions, deal.id)).stage == Stage.CLOSED_LOST


async def test_the_service_clock_decides_the_window_at_29_and_31_days(make, sessions):
    ae = await make.user(Role.AE)
    deal = await lost_some_days_ago(make, ae, days=0)
    closed_at = (await stored(sessions, deal.id)).closed_at

    def reopen_at(days: int):
        return lambda s: move_opportunity_stage(
            deal.id,
            StageMoveRequest(to=Stage.PROPOSAL),
            fields={},
            session=s,
            actor=Actor(ae.id, ae.role),
            now=closed_at + timedelta(days=days),
        )

    with pytest.raises(Refused) as late:
        await make.run(reopen_at(31))
    reopened = await make.run(reopen_at(29))

    assert [r.code.value for r in late.value.refusals] == ["REOPEN_WINDOW_PASSED"]
    assert reopened.stage == Stage.PROPOSAL
    assert reopened.stage_changed_at == closed_at + timedelta(days=29)


# --- final stages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "final", [Stage.CLOSED_WON, Stage.UNQUALIFIED, Stage.DUPLICATE]
)
async def test_final_stages_refuse_every_move_without_an_override(
    api, make, sessions, final
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)
    await put(make, deal.id, stage=final)

    options = (
        await api(
            OPTIONS,
            {"ids": [gid("Opportunity", deal.id)], "override": False},
            as_user=ae,
        )
    ).ok()["nodes"][0]["availableTransitions"]
    refused = await move(api, deal, Stage.DISCOVERY, as_user=ae, reason="Back")

    assert len(options) == 11
    assert not any(o["allowed"] for o in options)
    assert all(o["blockedBy"][0]["code"] == "FINAL_STATE" for o in options)
    assert codes(refused) == [("FINAL_STATE", ["to"])]
    assert (await stored(sessions, deal.id)).stage == final


# --- creation (rule 1) ----------------------------------------------------------------------

CREATE = """
mutation($input: CreateOpportunityInput!) {
  createOpportunity(input: $input) {
    opportunity { stage closedAt history { from to } }
    userErrors { code field }
  }
}"""


@pytest.mark.parametrize(
    ("role", "stage", "source", "expected"),
    [
        (Role.AE, "PENDING_ACCEPTANCE", "BDR_GENERATED", None),
        (Role.AE, "PRE_OPPORTUNITY", "AE_GENERATED", None),
        # Issue 17: a won purchase comes from SALES_OPS/ADMIN (integrations
        # write with such a user's token), never from a field role.
        (Role.SALES_OPS, "CLOSED_WON", "WEB_DIRECT", None),
        (Role.ADMIN, "CLOSED_WON", "WEB_DIRECT", None),
        (Role.AE, "CLOSED_WON", "WEB_DIRECT", ("FORBIDDEN", None)),
        (Role.AE, "CLOSED_WON", "AE_GENERATED", ("WEB_DIRECT_ONLY", ["stage"])),
        (Role.SALES_OPS, "CLOSED_WON", "AE_GENERATED", ("WEB_DIRECT_ONLY", ["stage"])),
        (
            Role.AE,
            "DISCOVERY",
            "WEB_DIRECT",
            ("MUST_PASS_PENDING_ACCEPTANCE", ["stage"]),
        ),
        (
            Role.ADMIN,
            "DISCOVERY",
            "WEB_DIRECT",
            ("MUST_PASS_PENDING_ACCEPTANCE", ["stage"]),
        ),
    ],
)
async def test_only_web_direct_deals_may_be_created_closed_won(
    api, make, sessions, role, stage, source, expected
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    creator = ae if role is Role.AE else await make.user(role)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Deal",
                    "accountId": gid("Account", account.id),
                    "stage": stage,
                    "salesQualificationSource": source,
                }
            },
            as_user=creator,
        )
    ).ok()["createOpportunity"]

    if expected is None:
        assert data["userErrors"] == []
        assert data["opportunity"]["history"] == [{"from": None, "to": stage}]
        assert (data["opportunity"]["closedAt"] is not None) == (stage == "CLOSED_WON")
    else:
        assert codes(data) == [expected]
        assert await row_count(sessions, Opportunity) == 0
        assert await row_count(sessions, TransitionRecord) == 0
        assert await row_count(sessions, Event) == 0


# --- terms (rule 9) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iacv", "edition", "expected"),
    [
        ("25000.00", "Premium", []),
        ("24999.99", "Premium", [("TERMS_NOT_MODIFIABLE", ["incrementalAcv"])]),
        ("80000.00", "Starter", [("TERMS_NOT_MODIFIABLE", ["edition"])]),
        (
            "100.00",
            "starter",
            [
                ("TERMS_NOT_MODIFIABLE", ["incrementalAcv"]),
                ("TERMS_NOT_MODIFIABLE", ["edition"]),
            ],
        ),
    ],
)
async def test_terms_may_be_modified_only_from_25000_and_never_for_starter(
    api, make, sessions, iacv, edition, expected
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae, incremental_acv=Decimal(iacv), edition=edition)

    data = (
        await api(TERMS, {"input": {"id": gid("Opportunity", deal.id)}}, as_user=ae)
    ).ok()["requestTermsModification"]

    requested = await events(sessions, "TERMS_MODIFICATION_REQUESTED")
    assert codes(data) == expected
    if expected:
        assert data["opportunity"] is None
        assert requested == []
    else:
        assert data["opportunity"] == {"id": gid("Opportunity", deal.id)}
        assert [(e.record_id, e.actor_id, e.payload) for e in requested] == [
            (
                deal.id,
                ae.id,
                {
                    "owner_id": ae.id,
                    "incremental_acv": "25000.00",
                    "edition": "Premium",
                    "stage": "PENDING_ACCEPTANCE",
                },
            )
        ]


async def test_someone_else_may_not_request_a_terms_modification(api, make, sessions):
    ae = await make.user(Role.AE)
    stranger = await make.user(Role.AE)
    deal = await a_deal(make, ae, incremental_acv=Decimal("90000.00"))

    data = (
        await api(
            TERMS, {"input": {"id": gid("Opportunity", deal.id)}}, as_user=stranger
        )
    ).ok()["requestTermsModification"]

    assert codes(data) == [("FORBIDDEN", None)]
    assert await events(sessions, "TERMS_MODIFICATION_REQUESTED") == []


# --- versions and concurrency --------------------------------------------------------------


async def test_a_stale_expected_version_is_refused_and_changes_nothing(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    deal = await a_deal(make, ae)

    stale = await move(
        api,
        deal,
        Stage.DISCOVERY,
        as_user=ae,
        expectedVersion=7,
        fields={"businessProblem": "Changed"},
    )
    fresh = await move(api, deal, Stage.DISCOVERY, as_user=ae, expectedVersion=1)

    assert codes(stale) == [("STALE_VERSION", ["expectedVersion"])]
    assert fresh["opportunity"]["version"] == 2
    assert fresh["opportunity"]["businessProblem"] == "Releases take weeks"


async def test_a_missing_opportunity_is_not_found(api, make):
    ae = await make.user(Role.AE)

    data = (
        await api(
            MOVE,
            {"input": {"id": gid("Opportunity", 999), "to": "DISCOVERY"}},
            as_user=ae,
        )
    ).ok()["moveOpportunityStage"]

    assert codes(data) == [("NOT_FOUND", ["id"])]


SERVED_MOVE = """mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) { opportunity { stage } userErrors { code } } }"""


async def test_sixteen_simultaneous_moves_of_one_opportunity_apply_exactly_once(
    server,
    make,
    sessions,
):
    ae = await make.user(Role.AE)
    token = await make.token(ae)
    deal = await a_deal(make, ae)
    body = {
        "query": SERVED_MOVE,
        "variables": {"input": {"id": gid("Opportunity", deal.id), "to": "DISCOVERY"}},
    }

    async with httpx.AsyncClient(
        base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        responses = await asyncio.gather(
            *(client.post("/graphql", json=body) for _ in range(16))
        )

    assert [r.status_code for r in responses] == [200] * 16
    results = [r.json()["data"]["moveOpportunityStage"] for r in responses]
    applied = [r for r in results if r["userErrors"] == []]
    refused = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert len(applied) == 1
    assert refused == ["INVALID_TRANSITION"] * 15
    async with sessions() as s:
        row = await s.get(Opportunity, deal.id)
        assert (row.stage, row.version) == (Stage.DISCOVERY, 2)
        moves = await s.scalar(
            select(func.count())
            .select_from(TransitionRecord)
            .where(TransitionRecord.from_state.is_not(None))
        )
        assert moves == 1


# --- customers (D1, D10 round 2) ---------------------------------------------------------

ACCOUNT = "query($id: ID!) { account(id: $id) { type customerSince } }"
WON = {
    "signedOrderFormReceived": True,
    "restrictedPartyScreening": "CLEARED",
    "financeApproved": True,
}


async def account_of(api: Any, deal: Opportunity, user: User) -> dict[str, Any]:
    variables = {"id": gid("Account", deal.account_id)}
    return (await api(ACCOUNT, variables, as_user=user)).ok()["account"]


async def a_won_deal(
    api: Any, make: Any, ae: User, **values: Any
) -> tuple[Opportunity, dict[str, Any]]:
    """A deal moved to AWAITING_SIGNATURE, then won through the API."""
    deal = await a_deal(make, ae, **values)
    contacts = await negotiation_contacts(make, deal)
    fields = {**ACCEPTED_FIELDS, **contacts}
    await move(api, deal, Stage.AWAITING_SIGNATURE, as_user=ae, fields=fields)
    won = await move(api, deal, Stage.CLOSED_WON, as_user=ae, fields=WON)
    assert won["userErrors"] == []
    return deal, won


async def test_winning_new_business_makes_the_account_a_customer_since_the_win(
    api, make
):
    """002_91dd8e67a169a832.txt, Customer Lifecycle: "Customer | [Opportunity] |
    6-Closed Won" — the won deal's account is a customer from that moment."""
    ae = await make.user(Role.AE)
    before = utcnow()

    deal, won = await a_won_deal(api, make, ae)

    account = await account_of(api, deal, ae)
    assert account["type"] == "CUSTOMER"
    assert account["customerSince"] == won["opportunity"]["closedAt"]
    assert account["customerSince"] >= before.isoformat()


@pytest.mark.parametrize("kind", [OpportunityType.ADD_ON, OpportunityType.RENEWAL])
async def test_winning_an_add_on_or_renewal_leaves_the_account_type(api, make, kind):
    """Only new business turns a prospect into a customer (D1 round 2)."""
    ae = await make.user(Role.AE)

    deal, _ = await a_won_deal(api, make, ae, type=kind)

    assert await account_of(api, deal, ae) == {
        "type": "PROSPECT",
        "customerSince": None,
    }


async def test_reopening_the_win_within_30_days_makes_it_a_prospect_again(api, make):
    """002_91dd8e67a169a832.txt: "Customer | [Opportunity] | 6-Closed Won"; D10
    round 2: reopening it within the window reverts the type (no other win)."""
    ae = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    deal, _ = await a_won_deal(api, make, ae)

    reopened = await move(
        api,
        deal,
        Stage.AWAITING_SIGNATURE,
        as_user=ops,
        override=True,
        reason="Order form was for another entity",
    )

    assert reopened["userErrors"] == []
    assert await account_of(api, deal, ae) == {
        "type": "PROSPECT",
        "customerSince": None,
    }


async def test_reopening_keeps_the_customer_when_another_deal_is_won_or_time_passed(
    api, make
):
    """D10 round 2: reverting needs the window open and no other won deal."""
    ae = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    deal, _ = await a_won_deal(api, make, ae)
    other = await a_deal(make, ae)
    await put(make, other.id, account_id=deal.account_id, stage=Stage.CLOSED_WON)
    late, _ = await a_won_deal(api, make, ae)
    await put(make, late.id, closed_at=utcnow() - timedelta(days=31))

    for reopened in (deal, late):
        data = await move(
            api,
            reopened,
            Stage.AWAITING_SIGNATURE,
            as_user=ops,
            override=True,
            reason="Paperwork redone",
        )
        assert data["userErrors"] == []
        assert (await account_of(api, reopened, ae))["type"] == "CUSTOMER"
