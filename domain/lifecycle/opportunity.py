"""The opportunity stage machine of domain.md D3, with its pure effect helpers.

The table is generated from a few stated rules (``_pair_guards``) rather than
typed out pair by pair, because D3 defines it that way: reachability, entry
requirements per stage (applied to every stage entered or passed over), a
reason to move back, and the SALES_OPS overrides. The generated rows are the
machine; ``OPPORTUNITY_MACHINE.describe()`` shows them.

Decisions where D3 is silent:

* Leaving a final stage (CLOSED_WON, UNQUALIFIED, DUPLICATE) is in the table
  towards *every* other stage, guarded by FINAL_STATE unless a SALES_OPS
  override with a reason. The destination's own requirements still apply; from
  UNQUALIFIED/DUPLICATE (never past PENDING_ACCEPTANCE) the opportunity
  re-enters the pipeline from the start, so every stage up to the destination
  is checked; from CLOSED_WON a pipeline stage is a move back.
* Once sales-accepted (``sales_accepted_date`` set), moves to
  PRE_OPPORTUNITY / PENDING_ACCEPTANCE / UNQUALIFIED / DUPLICATE are refused
  with ALREADY_SALES_ACCEPTED unless a SALES_OPS override with a reason.
* An override that is not allowed (not SALES_OPS, or no reason) reports the
  rule it tried to lift *and* why the override failed.
* CLOSED_LOST reopens only to ``lost_from_stage`` and only while
  ``now - closed_at <= 30 days`` (day 30 included); this is not overridable.
* Entering any closed stage sets ``closed_at``; leaving one clears it.
* Sales acceptance (round 2, D3.3): leaving PENDING_ACCEPTANCE for
  DISCOVERY (or further) or UNQUALIFIED is done by the opportunity's owner
  when that owner is field sales (SAL, AE, AM, RD), or by SALES_OPS/ADMIN —
  the handbook: "the SAL or AE should move the opportunity to the next stage"
  and, when the criteria are not met, "the SAL or AE should move the
  opportunity to an 8-Unqualified stage". The BDR/SDR who sourced it gets
  NOT_SALES_OWNER, as does anyone else; an opportunity still owned by a
  BDR/SDR is handed to a field-sales owner first. The row itself names who
  may act, so the general permission to edit is not asked again (one cause,
  one code). PENDING_ACCEPTANCE → DUPLICATE is not acceptance (it is data
  hygiene): whoever may edit the opportunity may mark it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from types import MappingProxyType

from domain.enums import (
    STAGE_LABELS,
    ClosedLostReason,
    ErrorCode,
    OpportunityStage,
    OpportunityType,
    Pipeline,
    ReferenceableCustomer,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.errors import Refusal
from domain.lifecycle.machine import (
    Guard,
    StateInfo,
    StateMachine,
    TransitionRule,
    guard,
)
from domain.rules.permissions import (
    SALES_ACCEPTING_ROLES,
    SALES_ACCEPTORS_FOR_OTHERS,
    STAGE_OVERRIDE_ROLES,
    role_list,
    role_names,
)
from domain.rules.pipelines import PIPELINES, PipelineDefinition
from domain.rules.stage_requirements import (
    CUSTOM_PREFIX,
    HANDBOOK_REQUIREMENTS,
    StageRequirements,
)

Stage = OpportunityStage

LARGE_DEAL_IACV = Decimal("12000")
TERMS_MINIMUM_IACV = Decimal("25000")
REOPEN_WINDOW_DAYS = 30
STARTER_EDITION = "starter"

LOST_DEAL_ALERT = "LOST_DEAL_ALERT"
UNQUALIFIED_OPPORTUNITY_FEEDBACK = "UNQUALIFIED_OPPORTUNITY_FEEDBACK"

# D3's forward order (PRE_OPPORTUNITY … AWAITING_SIGNATURE, then CLOSED_WON,
# reached by passing them all): NEW_BUSINESS's, from the pipelines table.
PIPELINE: tuple[Stage, ...] = PIPELINES[Pipeline.NEW_BUSINESS].forward
_POSITION = {stage: index for index, stage in enumerate(PIPELINE)}

# --- the stage vocabulary: each group defined here once, imported everywhere ----
# Stages 1-6, DISCOVERY … AWAITING_SIGNATURE: accepted deals a rep is working.
ACTIVE_STAGES: tuple[Stage, ...] = PIPELINE[2:8]
# Open stages counted as pipeline: PENDING_ACCEPTANCE … AWAITING_SIGNATURE.
PIPELINE_STAGES: tuple[Stage, ...] = PIPELINE[1:8]
# The open stages before sales acceptance, where a new opportunity starts.
START_STAGES: tuple[Stage, ...] = PIPELINE[:2]
# Every stage a deal is still open in: PRE_OPPORTUNITY … AWAITING_SIGNATURE.
OPEN_STAGES: tuple[Stage, ...] = PIPELINE[:8]
# The two outcomes of a worked deal.
OUTCOME_STAGES: tuple[Stage, ...] = (Stage.CLOSED_WON, Stage.CLOSED_LOST)
SALES_ACCEPTED_STAGES: tuple[Stage, ...] = PIPELINE[2:]  # DISCOVERY … CLOSED_WON
SALES_QUALIFIED_STAGES: tuple[Stage, ...] = PIPELINE[3:]  # SCOPING … CLOSED_WON
FINAL_STAGES = frozenset({Stage.CLOSED_WON, Stage.UNQUALIFIED, Stage.DUPLICATE})
CLOSED_STAGES = frozenset(FINAL_STAGES | {Stage.CLOSED_LOST})
PRE_ACCEPTANCE_STAGES = frozenset(
    {
        Stage.PRE_OPPORTUNITY,
        Stage.PENDING_ACCEPTANCE,
        Stage.UNQUALIFIED,
        Stage.DUPLICATE,
    }
)
# Never pipeline (pipe-to-spend, D11): not yet an opportunity, or ruled out
# before it was worked (00-Pre Opportunity, 9-Unqualified, 10-Duplicate).
NOT_PIPELINE_STAGES = frozenset(
    {Stage.PRE_OPPORTUNITY, Stage.UNQUALIFIED, Stage.DUPLICATE}
)
LARGE_SEGMENTS = frozenset({SalesSegment.LARGE, SalesSegment.STRATEGIC})


@dataclass(frozen=True, slots=True, kw_only=True)
class OpportunityFacts:
    """What the guards may know about an opportunity (with the caller's fields)."""

    stage: Stage
    now: datetime
    type: OpportunityType = OpportunityType.NEW_BUSINESS
    pipeline: Pipeline = Pipeline.NEW_BUSINESS
    actor_role: Role | None = None
    actor_id: int | None = None
    owner_id: int | None = None
    owner_role: Role | None = None
    account_owner_id: int | None = None
    sales_accepted_date: datetime | None = None
    sales_qualified: bool = False
    lost_from_stage: Stage | None = None
    closed_at: datetime | None = None
    incremental_acv: Decimal = Decimal("0")
    account_is_named: bool = False
    account_segment: SalesSegment = SalesSegment.UNKNOWN
    edition: str | None = None
    sales_qualification_source: SalesQualificationSource | None = None
    primary_contact_id: int | None = None
    has_contact_roles: bool = False
    business_problem: str | None = None
    technical_requirements_confirmed: bool = False
    poc_ran: bool = False
    poc_notes: str | None = None
    poc_success_criteria: str | None = None
    bill_to_contact_id: int | None = None
    sold_to_contact_id: int | None = None
    po_will_be_issued: bool | None = None
    purchasing_plan: str | None = None
    business_terms_agreed: bool = False
    referenceable_customer: ReferenceableCustomer | None = None
    signed_order_form_received: bool = False
    po_received: bool = False
    restricted_party_screening: RestrictedPartyScreening = (
        RestrictedPartyScreening.NOT_STARTED
    )
    finance_approved: bool = False
    closed_won_details: str | None = None
    closed_lost_reasons: tuple[ClosedLostReason, ...] = ()
    closed_lost_detail: str | None = None
    merged_into_id: int | None = None
    duplicate_of_id: int | None = None
    # thresholds are data (D intro): the service passes the configured values
    large_deal_iacv: Decimal = LARGE_DEAL_IACV
    # the stage entry requirements in force (the service passes the version
    # its transaction reads; the handbook's is the seeded one)
    stage_requirements: StageRequirements = HANDBOOK_REQUIREMENTS
    reopen_window_days: int = REOPEN_WINDOW_DAYS
    # Its custom field values as stored (issue 14 item 3), for requirements
    # naming ``custom.<key>``.
    custom_fields: Mapping[str, object] = field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StageMoveRequest:
    """What the caller asked: the target stage, a reason/note, an override."""

    to: Stage
    reason: str | None = None
    note: str | None = None
    override: bool = False


OpportunityGuard = Guard[OpportunityFacts, StageMoveRequest]


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _missing(field: str, message: str) -> Refusal:
    return Refusal.on(field, ErrorCode.MISSING_FIELD, message)


def _unmet(field: str, message: str) -> Refusal:
    return Refusal.on(field, ErrorCode.REQUIREMENT_NOT_MET, message)


def is_large_deal(facts: OpportunityFacts) -> bool:
    """Named or LARGE/STRATEGIC account, or IACV ≥ the large-deal threshold (D3)."""
    return (
        facts.account_is_named
        or facts.account_segment in LARGE_SEGMENTS
        or facts.incremental_acv >= facts.large_deal_iacv
    )


# ---- who accepts (D3 rule 3, round 2) -----------------------------------------

# Where sales acceptance leads: DISCOVERY (or further) to accept, UNQUALIFIED to
# turn the opportunity down.
ACCEPTANCE_DECISIONS = frozenset({*SALES_ACCEPTED_STAGES, Stage.UNQUALIFIED})


@guard(
    codes=(ErrorCode.NOT_SALES_OWNER,),
    description="The actor is the opportunity's owner and field sales "
    f"({role_list(SALES_ACCEPTING_ROLES)}), or "
    f"{role_names(SALES_ACCEPTORS_FOR_OTHERS)}.",
)
def sales_owner_decides(
    facts: OpportunityFacts, request: StageMoveRequest
) -> list[Refusal]:
    """Leaving 0-Pending Acceptance is the field-sales owner's call (D3.3)."""
    if facts.actor_role in SALES_ACCEPTORS_FOR_OTHERS:
        return []
    owner_sells = facts.owner_role in SALES_ACCEPTING_ROLES
    if owner_sells and facts.owner_id is not None and facts.actor_id == facts.owner_id:
        return []
    others = role_names(SALES_ACCEPTORS_FOR_OTHERS)
    if owner_sells:
        who = f"only its owner or {others} can move it"
    else:
        who = (
            f"its owner is not field sales ({role_list(SALES_ACCEPTING_ROLES)}): "
            f"hand it to one first; until then only {others} can move it"
        )
    return [
        Refusal.on(
            "ownerId",
            ErrorCode.NOT_SALES_OWNER,
            "Sales acceptance (leaving 0-Pending Acceptance) is the sales owner's "
            f"decision, not the sourcing BDR/SDR's: {who}.",
        )
    ]


# ---- entry requirements, one guard per stage (D3 rules 2, 3, 5) ------------
# The requirements are data (``domain.rules.stage_requirements``): each stage's
# guard evaluates the table in force that the facts carry (the seeded version
# is the handbook's). The guards keep their names; their descriptions say what
# the seeded version asks.


@cache
def _fact_attribute(name: str) -> str:
    """The ``OpportunityFacts`` attribute of a catalogue field (camel to snake)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def requirement_value(facts: OpportunityFacts, name: str) -> object:
    """The value of catalogue field ``name`` for these facts."""
    if name == "contact":
        if facts.primary_contact_id is not None:
            return facts.primary_contact_id
        return True if facts.has_contact_roles else None
    if name == "largeDeal":
        return is_large_deal(facts)
    if name.startswith(CUSTOM_PREFIX):
        return facts.custom_fields.get(name.removeprefix(CUSTOM_PREFIX))
    return getattr(facts, _fact_attribute(name))


def _entry_guard(stage: Stage, name: str, seeded: str) -> OpportunityGuard:
    """The guard of entering ``stage``: the table in force's requirements."""

    def check(facts: OpportunityFacts, request: StageMoveRequest) -> list[Refusal]:
        return facts.stage_requirements.refusals(
            stage,
            lambda field: requirement_value(facts, field),
            facts.large_deal_iacv,
            facts.pipeline,
        )

    check.__name__ = name
    return guard(
        codes=(ErrorCode.MISSING_FIELD, ErrorCode.REQUIREMENT_NOT_MET),
        description=f"The entry requirements of {STAGE_LABELS[stage]} in the "
        f"stage-requirements table in force (seeded: {seeded})",
    )(check)


opportunity_criteria_met = _entry_guard(
    Stage.PENDING_ACCEPTANCE,
    "opportunity_criteria_met",
    "opportunity criteria, a contact and the business problem are recorded).",
)
sao_criteria_confirmed = _entry_guard(
    Stage.DISCOVERY,
    "sao_criteria_confirmed",
    "SAO criteria, the right person (primary contact) and the business problem "
    "are recorded).",
)
scoping_requirements_met = _entry_guard(
    Stage.SCOPING, "scoping_requirements_met", "none)."
)
technical_evaluation_requirements_met = _entry_guard(
    Stage.TECHNICAL_EVALUATION, "technical_evaluation_requirements_met", "none)."
)
proposal_requirements_met = _entry_guard(
    Stage.PROPOSAL,
    "proposal_requirements_met",
    "technical requirements confirmed; when a POC ran, its notes and success "
    "criteria are recorded).",
)
negotiation_requirements_met = _entry_guard(
    Stage.NEGOTIATING,
    "negotiation_requirements_met",
    "bill-to contact, sold-to contact, whether a PO will be issued and the "
    "purchasing (close) plan are recorded).",
)
signature_requirements_met = _entry_guard(
    Stage.AWAITING_SIGNATURE,
    "signature_requirements_met",
    "business terms agreed; the referenceable-customer answer is recorded).",
)
closed_won_requirements_met = _entry_guard(
    Stage.CLOSED_WON,
    "closed_won_requirements_met",
    "signed order form; PO received when one will be issued; restricted-party "
    "screening CLEARED; finance approval; closed-won details for a named/Large "
    f"account or IACV ≥ {LARGE_DEAL_IACV:,} USD).",
)
closed_lost_requirements_met = _entry_guard(
    Stage.CLOSED_LOST,
    "closed_lost_requirements_met",
    "at least one closed-lost reason and a detail text; the merged-into "
    "opportunity when merged into another one).",
)
unqualified_requirements_met = _entry_guard(
    Stage.UNQUALIFIED, "unqualified_requirements_met", "none)."
)
duplicate_of_given = _entry_guard(
    Stage.DUPLICATE,
    "duplicate_of_given",
    "the opportunity this one duplicates is given).",
)


@guard(codes=(ErrorCode.REASON_REQUIRED,), description="A reason is given.")
def reason_given(facts: OpportunityFacts, request: StageMoveRequest) -> list[Refusal]:
    """Moving back and unqualifying need a reason."""
    if not _blank(request.reason):
        return []
    return [
        Refusal.on(
            "reason",
            ErrorCode.REASON_REQUIRED,
            f"A reason is required to move to {STAGE_LABELS[request.to]}.",
        )
    ]


# ---- the two rules a SALES_OPS override may lift (D3 rules 6, 7) ------------


def _unless_override(
    facts: OpportunityFacts, request: StageMoveRequest, blocked: Refusal
) -> list[Refusal]:
    if not request.override:
        return [blocked]
    failed: list[Refusal] = []
    if facts.actor_role not in STAGE_OVERRIDE_ROLES:
        failed.append(
            Refusal.on(
                "override",
                ErrorCode.OVERRIDE_NOT_ALLOWED,
                f"Only {role_names(STAGE_OVERRIDE_ROLES)} can override this rule.",
            )
        )
    if _blank(request.reason):
        failed.append(
            Refusal.on(
                "reason", ErrorCode.REASON_REQUIRED, "An override needs a reason."
            )
        )
    # a failed override leaves the rule in force: say both
    return [blocked, *failed] if failed else []


_OVERRIDE_CODES = (ErrorCode.OVERRIDE_NOT_ALLOWED, ErrorCode.REASON_REQUIRED)
# How the rows and guards name an override: "SALES_OPS override".
_OVERRIDE = f"{role_names(STAGE_OVERRIDE_ROLES)} override"


@guard(
    codes=(ErrorCode.FINAL_STATE, *_OVERRIDE_CODES),
    description=f"A final stage is left only by a {_OVERRIDE} with a reason.",
)
def final_unless_override(
    facts: OpportunityFacts, request: StageMoveRequest
) -> list[Refusal]:
    """CLOSED_WON, UNQUALIFIED and DUPLICATE are final except for SALES_OPS."""
    label = STAGE_LABELS[facts.stage]
    blocked = Refusal.on(
        "to",
        ErrorCode.FINAL_STATE,
        f"{label} is final; only a {_OVERRIDE} with a reason can change it.",
    )
    return _unless_override(facts, request, blocked)


@guard(
    codes=(ErrorCode.ALREADY_SALES_ACCEPTED, *_OVERRIDE_CODES),
    description="Never sales-accepted (sales accepted date unset), unless a "
    f"{_OVERRIDE} with a reason.",
)
def not_sales_accepted(
    facts: OpportunityFacts, request: StageMoveRequest
) -> list[Refusal]:
    """Once sales-accepted, no return before acceptance and no DUPLICATE."""
    if facts.sales_accepted_date is None:
        return []
    message = (
        "This opportunity was sales-accepted on "
        f"{facts.sales_accepted_date.date().isoformat()}; it cannot move to "
        f"{STAGE_LABELS[request.to]}."
    )
    if request.to == Stage.DUPLICATE:
        message += (
            " Close it lost with reason MERGED_INTO_ANOTHER_OPPORTUNITY or "
            "CONSOLIDATING_ORDER instead."
        )
    blocked = Refusal.on("to", ErrorCode.ALREADY_SALES_ACCEPTED, message)
    return _unless_override(facts, request, blocked)


@guard(
    codes=(ErrorCode.INVALID_TRANSITION, ErrorCode.REOPEN_WINDOW_PASSED),
    description="Reopens only to the stage it was lost from, within "
    f"{REOPEN_WINDOW_DAYS} days of the close.",
)
def reopen_allowed(facts: OpportunityFacts, request: StageMoveRequest) -> list[Refusal]:
    """CLOSED_LOST returns to lost_from_stage while the reopen window is open."""
    refusals: list[Refusal] = []
    if facts.lost_from_stage != request.to:
        lost_from = (
            STAGE_LABELS[facts.lost_from_stage] if facts.lost_from_stage else "unknown"
        )
        refusals.append(
            Refusal.on(
                "to",
                ErrorCode.INVALID_TRANSITION,
                "A closed-lost opportunity reopens only to the stage it was lost "
                f"from ({lost_from}).",
            )
        )
    if facts.closed_at is not None and not reopen_window_open(facts):
        refusals.append(
            Refusal.on(
                "to",
                ErrorCode.REOPEN_WINDOW_PASSED,
                f"It was closed lost on {facts.closed_at.date().isoformat()}, more "
                f"than {facts.reopen_window_days} days ago: create a new "
                "opportunity instead.",
            )
        )
    return refusals


def reopen_window_open(facts: OpportunityFacts) -> bool:
    """Whether now is within the reopen window (day 30 included) of closed_at."""
    if facts.closed_at is None:
        return True  # nothing to measure from: do not block on missing history
    return facts.now - facts.closed_at <= timedelta(days=facts.reopen_window_days)


ENTRY_REQUIREMENTS: dict[Stage, tuple[OpportunityGuard, ...]] = {
    Stage.PRE_OPPORTUNITY: (),
    Stage.PENDING_ACCEPTANCE: (opportunity_criteria_met,),
    Stage.DISCOVERY: (sao_criteria_confirmed,),
    Stage.SCOPING: (scoping_requirements_met,),
    Stage.TECHNICAL_EVALUATION: (technical_evaluation_requirements_met,),
    Stage.PROPOSAL: (proposal_requirements_met,),
    Stage.NEGOTIATING: (negotiation_requirements_met,),
    Stage.AWAITING_SIGNATURE: (signature_requirements_met,),
    Stage.CLOSED_WON: (closed_won_requirements_met,),
    Stage.CLOSED_LOST: (closed_lost_requirements_met,),
    Stage.UNQUALIFIED: (reason_given, unqualified_requirements_met),
    Stage.DUPLICATE: (duplicate_of_given,),
}


# ---- the table ---------------------------------------------------------------


def _reachable(source: Stage, dest: Stage, stages: tuple[Stage, ...]) -> bool:
    """D3 "Reachability, in short", plus the overrides, within a pipeline's
    stages."""
    if source == dest or source not in stages or dest not in stages:
        return False
    if source in FINAL_STAGES:
        return True  # SALES_OPS override only (guarded)
    if source == Stage.CLOSED_LOST:
        return dest in ACTIVE_STAGES  # it was lost from one of them
    if source == Stage.PRE_OPPORTUNITY:
        return dest in (Stage.PENDING_ACCEPTANCE, Stage.UNQUALIFIED, Stage.DUPLICATE)
    if source == Stage.PENDING_ACCEPTANCE:
        return dest in SALES_ACCEPTED_STAGES or dest in (
            Stage.UNQUALIFIED,
            Stage.DUPLICATE,
        )
    return True  # DISCOVERY … AWAITING_SIGNATURE: anywhere (guards decide)


def _pair_guards(
    source: Stage, dest: Stage, forward: tuple[Stage, ...]
) -> tuple[OpportunityGuard, ...]:
    """Every guard of source→dest, in the order their refusals are listed;
    ``forward``: the pipeline's forward order (the stages a move passes over)."""
    if source == Stage.CLOSED_LOST:
        return (reopen_allowed,)
    guards: list[OpportunityGuard] = []
    if source == Stage.PENDING_ACCEPTANCE and dest in ACCEPTANCE_DECISIONS:
        guards.append(sales_owner_decides)
    if source in FINAL_STAGES:
        guards.append(final_unless_override)
    if dest in PRE_ACCEPTANCE_STAGES and not (
        source == Stage.PRE_OPPORTUNITY and dest == Stage.PENDING_ACCEPTANCE
    ):
        guards.append(not_sales_accepted)
    if dest in forward:
        # UNQUALIFIED/DUPLICATE never got past PENDING_ACCEPTANCE: start over
        position = {stage: index for index, stage in enumerate(forward)}
        start, end = position.get(source, -1), position[dest]
        if end > start:
            for passed in forward[start + 1 : end + 1]:
                guards.extend(ENTRY_REQUIREMENTS[passed])
        elif dest in ACTIVE_STAGES:
            guards.append(reason_given)  # moving back
    else:
        guards.extend(ENTRY_REQUIREMENTS[dest])
    return tuple(guards)


def _pair_description(source: Stage, dest: Stage) -> str:
    """What a row means, in words (shared by the rows of one kind)."""
    if source in FINAL_STAGES:
        return f"Leave a final stage: {_OVERRIDE} with a reason."
    if source == Stage.CLOSED_LOST:
        return (
            f"Reopen to the stage it was lost from, within {REOPEN_WINDOW_DAYS} days."
        )
    if dest == Stage.UNQUALIFIED:
        if source == Stage.PENDING_ACCEPTANCE:
            return (
                "Unqualify, with a reason: the field-sales owner turns it down at "
                "acceptance."
            )
        return "Unqualify, with a reason (before sales acceptance)."
    if dest == Stage.DUPLICATE:
        return "Mark as a duplicate of another opportunity (never sales-accepted)."
    if dest in START_STAGES:
        if source == Stage.PRE_OPPORTUNITY:
            return "Opportunity criteria met."
        return f"Return before sales acceptance: {_OVERRIDE} with a reason."
    if dest == Stage.CLOSED_LOST:
        return "Close lost."
    if dest == Stage.CLOSED_WON:
        return "Close won: every requirement of the stages passed over applies."
    if source == Stage.PENDING_ACCEPTANCE:
        return (
            "Sales acceptance (SAO) by the field-sales owner, with every stage "
            "passed over."
        )
    if _POSITION[dest] < _POSITION[source]:
        return "Move back, with a reason."
    return "Move forward: entry requirements of every stage passed over."


def _build_rules(
    definition: PipelineDefinition,
) -> list[TransitionRule[Stage, OpportunityFacts, StageMoveRequest]]:
    """Group a pipeline's reachable pairs into rows: same dest, guards, meaning."""
    rows: dict[tuple[Stage, tuple[OpportunityGuard, ...], str], list[Stage]] = {}
    for dest in definition.stages:
        for source in definition.stages:
            allowed = definition.overrides.get(
                (source, dest), _reachable(source, dest, definition.stages)
            )
            if allowed:
                key = (
                    dest,
                    _pair_guards(source, dest, definition.forward),
                    _pair_description(source, dest),
                )
                rows.setdefault(key, []).append(source)
    return [
        TransitionRule(tuple(sources), dest, guards, description)
        for (dest, guards, description), sources in rows.items()
    ]


_MEANINGS: dict[Stage, str] = {
    Stage.PRE_OPPORTUNITY: "Not yet an opportunity: the contact is still being "
    "qualified.",
    Stage.PENDING_ACCEPTANCE: "Created, waiting for sales acceptance.",
    Stage.DISCOVERY: "Sales-accepted (SAO): discovering the business problem.",
    Stage.SCOPING: "Sales-qualified (SQO): scoping the solution.",
    Stage.TECHNICAL_EVALUATION: "Technical evaluation, possibly a POC.",
    Stage.PROPOSAL: "A proposal is made.",
    Stage.NEGOTIATING: "Negotiating terms and the purchasing plan.",
    Stage.AWAITING_SIGNATURE: "Terms agreed, awaiting the signed order form.",
    Stage.CLOSED_WON: "Won.",
    Stage.CLOSED_LOST: "Lost; may reopen to the stage it was lost from within "
    f"{REOPEN_WINDOW_DAYS} days.",
    Stage.UNQUALIFIED: "There is no opportunity.",
    Stage.DUPLICATE: "Duplicate of another opportunity.",
}


def _machine(
    definition: PipelineDefinition,
) -> StateMachine[Stage, OpportunityFacts, StageMoveRequest]:
    """A pipeline's machine: its stages and the rows derived from them."""
    return StateMachine(
        name="opportunity"
        if definition.pipeline is Pipeline.NEW_BUSINESS
        else f"opportunity {definition.pipeline.value}",
        states=[
            StateInfo(
                state=stage,
                label=STAGE_LABELS[stage],
                final=stage in FINAL_STAGES,
                description=_MEANINGS[stage],
            )
            for stage in definition.stages
        ],
        rules=_build_rules(definition),
        initial=Stage.PENDING_ACCEPTANCE,
        catalogue_labels=STAGE_LABELS,
    )


OPPORTUNITY_MACHINES: dict[
    Pipeline, StateMachine[Stage, OpportunityFacts, StageMoveRequest]
] = {pipeline: _machine(definition) for pipeline, definition in PIPELINES.items()}
# The D3 machine: NEW_BUSINESS, every stage.
OPPORTUNITY_MACHINE = OPPORTUNITY_MACHINES[Pipeline.NEW_BUSINESS]
OPPORTUNITY_RULES = OPPORTUNITY_MACHINE.rules


def machine_for(
    pipeline: Pipeline,
) -> StateMachine[Stage, OpportunityFacts, StageMoveRequest]:
    """The machine of a pipeline."""
    return OPPORTUNITY_MACHINES[pipeline]


# ---- pure helpers for the service ---------------------------------------------


def names_who_may_act(
    current: Stage, to: Stage, pipeline: Pipeline = Pipeline.NEW_BUSINESS
) -> bool:
    """Whether the row current→to itself says who may make the move (sales
    acceptance: NOT_SALES_OWNER); the permission to edit is then not asked."""
    rule = machine_for(pipeline).rule(current, to)
    return rule is not None and sales_owner_decides in rule.guards


def stage_effects(
    facts: OpportunityFacts, to: Stage, now: datetime
) -> dict[str, object]:
    """Record fields to set when moving facts.stage→to (D3 rules 3, 4, 7)."""
    effects: dict[str, object] = {}
    if to in SALES_ACCEPTED_STAGES and facts.sales_accepted_date is None:
        effects["sales_accepted_date"] = now
    if to in SALES_QUALIFIED_STAGES and not facts.sales_qualified:
        effects["sales_qualified"] = True
        effects["sales_qualified_date"] = now
        effects["initial_iacv"] = facts.incremental_acv
    if to in CLOSED_STAGES:
        effects["closed_at"] = now
    elif facts.stage in CLOSED_STAGES:
        effects["closed_at"] = None
    if to == Stage.CLOSED_LOST:
        effects["lost_from_stage"] = facts.stage
    elif facts.stage == Stage.CLOSED_LOST:
        effects["lost_from_stage"] = None
    return effects


def stage_events(facts: OpportunityFacts, to: Stage) -> list[str]:
    """Event kinds raised by moving to ``to`` (D3 rules 3 and 8, D10)."""
    events: list[str] = []
    if (
        to == Stage.CLOSED_LOST
        and facts.type == OpportunityType.NEW_BUSINESS
        and is_large_deal(facts)
    ):
        events.append(LOST_DEAL_ALERT)
    if to == Stage.UNQUALIFIED:
        events.append(UNQUALIFIED_OPPORTUNITY_FEEDBACK)
    return events


def creation_refusals(
    stage: Stage,
    sales_qualification_source: SalesQualificationSource | None,
    pipeline: Pipeline = Pipeline.NEW_BUSINESS,
) -> list[Refusal]:
    """Why a new opportunity may not start in ``stage`` (D3 rule 1) in its
    pipeline."""
    definition = PIPELINES[pipeline]
    if stage not in definition.stages:
        return [not_in_pipeline(stage, pipeline, "stage")]
    if stage in definition.start_stages:
        return []
    if stage == Stage.CLOSED_WON:
        if sales_qualification_source == SalesQualificationSource.WEB_DIRECT:
            return []
        return [
            Refusal.on(
                "stage",
                ErrorCode.WEB_DIRECT_ONLY,
                "Only a WEB_DIRECT opportunity may be created in 7-Closed Won.",
            )
        ]
    return [
        Refusal.on(
            "stage",
            ErrorCode.MUST_PASS_PENDING_ACCEPTANCE,
            f"A new opportunity cannot start in {STAGE_LABELS[stage]}: it starts "
            "in 0-Pending Acceptance (or 00-Pre Opportunity).",
        )
    ]


def not_in_pipeline(stage: Stage, pipeline: Pipeline, field: str) -> Refusal:
    """NOT_IN_PIPELINE: the stage is not one of the pipeline's."""
    definition = PIPELINES[pipeline]
    return Refusal.on(
        field,
        ErrorCode.NOT_IN_PIPELINE,
        f"{STAGE_LABELS[stage]} is not a stage of the {definition.label} pipeline "
        f"({', '.join(STAGE_LABELS[s] for s in definition.stages)}).",
    )


def pipeline_change_refusals(
    stage: Stage, current: Pipeline, to: Pipeline, reason: str | None
) -> list[Refusal]:
    """Why an opportunity may not change pipeline: not into the one it is
    in, not once closed, only into a pipeline that has its stage, with a
    reason (issue 14 item 2)."""
    if to is current:
        return [
            Refusal.on(
                "pipeline",
                ErrorCode.INVALID_TRANSITION,
                f"Already in the {PIPELINES[to].label} pipeline.",
            )
        ]
    found: list[Refusal] = []
    if stage in CLOSED_STAGES:
        found.append(
            Refusal.on(
                "pipeline",
                ErrorCode.FINAL_STATE,
                f"{STAGE_LABELS[stage]} is closed: its pipeline cannot change.",
            )
        )
    elif stage not in PIPELINES[to].stages:
        found.append(not_in_pipeline(stage, to, "pipeline"))
    if _blank(reason):
        found.append(
            Refusal.on(
                "reason",
                ErrorCode.REASON_REQUIRED,
                "A reason is required to change an opportunity's pipeline.",
            )
        )
    return found


def terms_modification_refusals(
    incremental_acv: Decimal,
    edition: str | None,
    *,
    minimum_iacv: Decimal = TERMS_MINIMUM_IACV,
) -> list[Refusal]:
    """Why the standard terms may not be modified (D3 rule 9)."""
    refusals: list[Refusal] = []
    if incremental_acv < minimum_iacv:
        refusals.append(
            Refusal.on(
                "incrementalAcv",
                ErrorCode.TERMS_NOT_MODIFIABLE,
                f"Terms can be modified only from an IACV of {minimum_iacv} USD.",
            )
        )
    if (edition or "").strip().casefold() == STARTER_EDITION:
        refusals.append(
            Refusal.on(
                "edition",
                ErrorCode.TERMS_NOT_MODIFIABLE,
                "Terms of the Starter edition cannot be modified.",
            )
        )
    return refusals
