"""The lead status machine of domain.md D2, as a table of guarded rules."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.enums import EngagementKind, ErrorCode, LeadStatus, Role
from domain.errors import RecordRef, Refusal
from domain.lifecycle.machine import StateInfo, StateMachine, TransitionRule, guard
from domain.rules.permissions import LEAD_ACCEPTORS_FOR_OTHERS, role_names
from domain.rules.routing import is_active, must_be_active
from domain.rules.scoring import MQL_THRESHOLD

OPEN_STATUSES: tuple[LeadStatus, ...] = (
    LeadStatus.RAW,
    LeadStatus.INQUIRY,
    LeadStatus.MQL,
    LeadStatus.ACCEPTED,
    LeadStatus.QUALIFYING,
    LeadStatus.NURTURE,
)

# The hand-raises that make an Inquiry (D2 round 2; seed 002_91dd8e67a169a832.txt:
# "Inquiry | Form submission, meeting @ trade show, content offer"): forms
# (trial, Contact Us, Professional Services, newsletter and email opt-ins),
# content offers (gated assets, on-demand webcasts), webcast/event
# registration or attendance, trade-show booth meetings, web chat. Page
# visits and unsubscribes only score (D6). Decisions: an opt-in is a form
# submission; watching an on-demand webcast is attending one (it is gated
# content); a web chat is an inbound request (the handbook's hand-raising
# 'active' activity).
INQUIRY_ENGAGEMENT_KINDS: frozenset[EngagementKind] = frozenset(
    {
        EngagementKind.TRIAL_REQUEST,
        EngagementKind.CONTACT_US_REQUEST,
        EngagementKind.PROFESSIONAL_SERVICES_REQUEST,
        EngagementKind.HIGH_INTENT_LIVE_ATTENDED,
        EngagementKind.HIGH_INTENT_ON_DEMAND_WATCHED,
        EngagementKind.TRADESHOW_BOOTH_VISIT,
        EngagementKind.LIVE_EVENT_ATTENDED,
        EngagementKind.GATED_ASSET_DOWNLOAD,
        EngagementKind.WEBCAST_REGISTRATION,
        EngagementKind.LOW_INTENT_LIVE_ATTENDED,
        EngagementKind.LOW_INTENT_ON_DEMAND_WATCHED,
        EngagementKind.NEWSLETTER_OPT_IN,
        EngagementKind.SECURITY_NEWSLETTER_OPT_IN,
        EngagementKind.WEBCAST_EMAIL_OPT_IN,
        EngagementKind.LIVE_EVENT_EMAIL_OPT_IN,
        EngagementKind.WEB_CHAT,
    }
)


class AutomaticTrigger(StrEnum):
    """What makes an automatic row of the lead table move a lead by itself."""

    # An engagement was recorded on the lead.
    ENGAGEMENT = "ENGAGEMENT"
    # The lead's score was recomputed.
    SCORE = "SCORE"
    # The scheduler found the lead's timeout passed (``domain.rules.timeouts``).
    TIMEOUT = "TIMEOUT"


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadFacts:
    """What the guards may know about a lead, snapshotted by the service."""

    status: LeadStatus
    now: datetime
    owner_id: int | None = None
    actor_id: int | None = None
    actor_role: Role | None = None
    initial_source: str | None = None
    active_until: datetime | None = None
    person_score: int = 0
    mql_threshold: int = MQL_THRESHOLD
    has_inbound_engagement: bool = False
    has_engagement_since_status_change: bool = False
    has_completed_two_way_activity: bool = False
    contact_data_changed_since_bad_data: bool = False
    # An ACCEPTED lead's timeout (``Lead.timeout_at``) has passed.
    timed_out: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadTransitionRequest:
    """What the caller asked: the target status and what comes with it."""

    to: LeadStatus
    reason: str | None = None
    note: str | None = None
    purchase_reference: str | None = None
    via_conversion: bool = False
    automatic: bool = False


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


@guard(
    codes=(ErrorCode.NO_INBOUND_ENGAGEMENT,),
    description="A hand-raise is recorded: a form, content offer, webcast or "
    "event, trade-show meeting, trial, Contact Us or web chat (not a page visit "
    "or an unsubscribe).",
)
def inbound_engagement_recorded(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """RAW→INQUIRY needs a hand-raise (``INQUIRY_ENGAGEMENT_KINDS``)."""
    if facts.has_inbound_engagement:
        return []
    return [
        Refusal.on(
            None,
            ErrorCode.NO_INBOUND_ENGAGEMENT,
            "No hand-raise (form, content offer, webcast or event, trade-show "
            "meeting, trial, Contact Us, web chat) is recorded on this lead.",
        )
    ]


@guard(
    codes=(ErrorCode.SCORE_BELOW_THRESHOLD,),
    description="The person score is at least the MQL threshold (D6).",
)
def score_reaches_threshold(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """→MQL needs person_score ≥ the MQL threshold."""
    if facts.person_score >= facts.mql_threshold:
        return []
    return [
        Refusal.on(
            "personScore",
            ErrorCode.SCORE_BELOW_THRESHOLD,
            f"Person score {facts.person_score} is below the MQL threshold "
            f"of {facts.mql_threshold}.",
        )
    ]


@guard(codes=(ErrorCode.NO_OWNER,), description="The lead has an owner.")
def lead_has_owner(facts: LeadFacts, request: LeadTransitionRequest) -> list[Refusal]:
    """→ACCEPTED needs an owner."""
    if facts.owner_id is not None:
        return []
    return [
        Refusal.on("ownerId", ErrorCode.NO_OWNER, "The lead has no owner to accept it.")
    ]


@guard(
    codes=(ErrorCode.NOT_OWNER,),
    description="The actor is the lead's owner, or "
    f"{role_names(LEAD_ACCEPTORS_FOR_OTHERS)}.",
)
def actor_is_owner(facts: LeadFacts, request: LeadTransitionRequest) -> list[Refusal]:
    """→ACCEPTED is done by the owner (or SALES_OPS/ADMIN)."""
    if facts.actor_role in LEAD_ACCEPTORS_FOR_OTHERS:
        return []
    if facts.owner_id is not None and facts.actor_id == facts.owner_id:
        return []
    return [
        Refusal.on(
            "ownerId",
            ErrorCode.NOT_OWNER,
            "Only the lead's owner, "
            f"{role_names(LEAD_ACCEPTORS_FOR_OTHERS)} can accept this lead.",
        )
    ]


@guard(
    codes=(ErrorCode.NOT_ACTIVE,),
    description="A lead whose initial source is GitLab.com is Active (D8).",
)
def gitlab_com_lead_is_active(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """→ACCEPTED for a GitLab.com lead needs active_until > now.

    The same rule as routing's (``domain.rules.routing``): one list of passive
    initial sources, one notion of Active.
    """
    if not must_be_active(facts.initial_source) or is_active(
        facts.active_until, facts.now
    ):
        return []
    until = (
        f"its activity ended {facts.active_until:%Y-%m-%d %H:%M} UTC"
        if facts.active_until is not None
        else "it never raised its hand"
    )
    return [
        Refusal.on(
            "activeUntil",
            ErrorCode.NOT_ACTIVE,
            f"A lead from {facts.initial_source} can only be accepted while it is "
            f"Active (after a hand-raising activity: trial request, high-intent live "
            f"webcast or demo, web chat); {until}.",
        )
    ]


@guard(
    codes=(ErrorCode.NO_TWO_WAY_ACTIVITY,),
    description="A completed two-way activity (call, meeting, email reply, "
    "web chat) is logged on the lead.",
)
def two_way_activity_logged(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """ACCEPTED→QUALIFYING needs a completed two-way activity."""
    if facts.has_completed_two_way_activity:
        return []
    return [
        Refusal.on(
            None,
            ErrorCode.NO_TWO_WAY_ACTIVITY,
            "No completed two-way activity (call, meeting, email reply, web chat) "
            "is logged on this lead.",
        )
    ]


@guard(
    codes=(ErrorCode.CONVERSION_REQUIRED,),
    description="Only lead conversion (D7) makes a lead QUALIFIED.",
)
def through_conversion(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """→QUALIFIED only happens through conversion."""
    if request.via_conversion:
        return []
    return [
        Refusal.on(
            "to",
            ErrorCode.CONVERSION_REQUIRED,
            "A lead becomes Qualified only by converting it (convertLead).",
        )
    ]


@guard(codes=(ErrorCode.REASON_REQUIRED,), description="A reason is given.")
def reason_given(facts: LeadFacts, request: LeadTransitionRequest) -> list[Refusal]:
    """→UNQUALIFIED / NURTURE / BAD_DATA needs a reason."""
    if not _blank(request.reason):
        return []
    return [
        Refusal.on(
            "reason",
            ErrorCode.REASON_REQUIRED,
            f"A reason is required to move a lead to {STATUS_LABELS[request.to]}.",
        )
    ]


@guard(
    codes=(ErrorCode.PURCHASE_REFERENCE_REQUIRED,),
    description="A reference to the web-store purchasing record is given.",
)
def purchase_reference_given(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """→WEB_PORTAL_PURCHASE needs the purchasing record's reference."""
    if not _blank(request.purchase_reference):
        return []
    return [
        Refusal.on(
            "purchaseReference",
            ErrorCode.PURCHASE_REFERENCE_REQUIRED,
            "A reference to the web portal purchase is required.",
        )
    ]


@guard(
    codes=(ErrorCode.NO_NEW_ENGAGEMENT,),
    description="A new hand-raise is recorded since the lead entered NURTURE.",
)
def new_engagement_recorded(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """NURTURE→INQUIRY needs an engagement newer than the status change."""
    if facts.has_engagement_since_status_change:
        return []
    return [
        Refusal.on(
            None,
            ErrorCode.NO_NEW_ENGAGEMENT,
            "No new hand-raise is recorded since the lead was put in Nurture.",
        )
    ]


@guard(
    codes=(ErrorCode.CONTACT_DATA_UNCHANGED,),
    description="The contact data (email or phone) was corrected since the lead "
    "was marked BAD_DATA.",
)
def contact_data_corrected(
    facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """BAD_DATA→RAW needs a changed email or phone."""
    if facts.contact_data_changed_since_bad_data:
        return []
    return [
        Refusal(
            code=ErrorCode.CONTACT_DATA_UNCHANGED,
            message="Correct the email or phone before returning the lead to Raw.",
            field=("email", "phone"),
        )
    ]


@guard(
    codes=(ErrorCode.NOT_TIMED_OUT,),
    description="The scheduler found the lead's timeout passed: no completed "
    "activity for the timeouts table's business days since it was accepted.",
)
def timeout_passed(facts: LeadFacts, request: LeadTransitionRequest) -> list[Refusal]:
    """ACCEPTED→MQL/INQUIRY (back to the pool) happens by the clock only."""
    if facts.timed_out and request.automatic:
        return []
    return [
        Refusal.on(
            "timeoutAt",
            ErrorCode.NOT_TIMED_OUT,
            "An accepted lead goes back to the routing pool by itself, when its "
            "timeout passes without a completed activity (timeoutAt).",
        )
    ]


STATUS_LABELS: dict[LeadStatus, str] = {
    LeadStatus.RAW: "Raw",
    LeadStatus.INQUIRY: "Inquiry",
    LeadStatus.MQL: "MQL",
    LeadStatus.ACCEPTED: "Accepted",
    LeadStatus.QUALIFYING: "Qualifying",
    LeadStatus.QUALIFIED: "Qualified",
    LeadStatus.UNQUALIFIED: "Unqualified",
    LeadStatus.NURTURE: "Nurture",
    LeadStatus.BAD_DATA: "Bad Data",
    LeadStatus.WEB_PORTAL_PURCHASE: "Web Portal Purchase",
}

_MEANINGS: dict[LeadStatus, str] = {
    LeadStatus.RAW: "Untouched brand new lead.",
    LeadStatus.INQUIRY: "Form submission, meeting at a trade show, content offer.",
    LeadStatus.MQL: "Qualified through systematic means: the score reached the MQL "
    f"threshold (the scoring table's, {MQL_THRESHOLD} by default).",
    LeadStatus.ACCEPTED: "A rep is actively working to get in touch.",
    LeadStatus.QUALIFYING: "In two-way conversation.",
    LeadStatus.QUALIFIED: "Converted to an account, contact and opportunity; the "
    "lead is read-only.",
    LeadStatus.UNQUALIFIED: "Contact information not now or ever valid; spam.",
    LeadStatus.NURTURE: "Not ready to buy now, possibly later.",
    LeadStatus.BAD_DATA: "Incorrect data, to be researched.",
    LeadStatus.WEB_PORTAL_PURCHASE: "Bought through the self-serve web store while "
    "a duplicate record exists.",
}

FINAL_STATUSES = frozenset(
    {LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED, LeadStatus.WEB_PORTAL_PURCHASE}
)


def _open_except(status: LeadStatus) -> tuple[LeadStatus, ...]:
    return tuple(s for s in OPEN_STATUSES if s != status)


LeadRule = TransitionRule[LeadStatus, LeadFacts, LeadTransitionRequest]

LEAD_RULES: list[LeadRule] = [
    LeadRule(
        (LeadStatus.RAW,),
        LeadStatus.INQUIRY,
        (inbound_engagement_recorded,),
        "A hand-raise: form, content offer, event, trial, Contact Us (automatic).",
        automatic=AutomaticTrigger.ENGAGEMENT,
    ),
    LeadRule(
        (LeadStatus.NURTURE,),
        LeadStatus.INQUIRY,
        (new_engagement_recorded,),
        "A new hand-raise while nurtured (automatic).",
        automatic=AutomaticTrigger.ENGAGEMENT,
    ),
    LeadRule(
        (LeadStatus.RAW, LeadStatus.INQUIRY, LeadStatus.NURTURE),
        LeadStatus.MQL,
        (score_reaches_threshold,),
        "Score reaches the MQL threshold (automatic on scoring).",
        automatic=AutomaticTrigger.SCORE,
    ),
    LeadRule(
        (LeadStatus.INQUIRY, LeadStatus.MQL),
        LeadStatus.ACCEPTED,
        (lead_has_owner, actor_is_owner, gitlab_com_lead_is_active),
        "The owner accepts the lead and works to get in touch.",
    ),
    LeadRule(
        (LeadStatus.ACCEPTED,),
        LeadStatus.QUALIFYING,
        (two_way_activity_logged,),
        "A two-way conversation has started.",
    ),
    # Back to the routing pool when nobody works the lead (issue 14 item 4):
    # to MQL while the score still makes it one, else to INQUIRY; the
    # scheduler then routes it again. First row first.
    LeadRule(
        (LeadStatus.ACCEPTED,),
        LeadStatus.MQL,
        (timeout_passed, score_reaches_threshold),
        "Not worked in time: back to the routing pool as an MQL (automatic, "
        "timeouts table).",
        automatic=AutomaticTrigger.TIMEOUT,
    ),
    LeadRule(
        (LeadStatus.ACCEPTED,),
        LeadStatus.INQUIRY,
        (timeout_passed,),
        "Not worked in time, below the MQL threshold: back to the routing pool "
        "as an Inquiry (automatic, timeouts table).",
        automatic=AutomaticTrigger.TIMEOUT,
    ),
    LeadRule(
        (LeadStatus.ACCEPTED, LeadStatus.QUALIFYING),
        LeadStatus.QUALIFIED,
        (through_conversion,),
        "Converted into an account, contact and opportunity (D7).",
    ),
    LeadRule(
        OPEN_STATUSES,
        LeadStatus.UNQUALIFIED,
        (reason_given,),
        "Unqualified, with a reason.",
    ),
    LeadRule(
        _open_except(LeadStatus.NURTURE),
        LeadStatus.NURTURE,
        (reason_given,),
        "Put in nurture, with a reason.",
    ),
    LeadRule(
        OPEN_STATUSES,
        LeadStatus.BAD_DATA,
        (reason_given,),
        "Marked as bad data, with a reason.",
    ),
    LeadRule(
        OPEN_STATUSES,
        LeadStatus.WEB_PORTAL_PURCHASE,
        (purchase_reference_given,),
        "Bought through the web store, with the purchase reference.",
    ),
    LeadRule(
        (LeadStatus.BAD_DATA,),
        LeadStatus.RAW,
        (contact_data_corrected,),
        "Contact data corrected; research starts again.",
    ),
]

LEAD_MACHINE: StateMachine[LeadStatus, LeadFacts, LeadTransitionRequest] = StateMachine(
    name="lead",
    states=[
        StateInfo(
            state=status,
            label=STATUS_LABELS[status],
            final=status in FINAL_STATUSES,
            description=_MEANINGS[status],
        )
        for status in LeadStatus
    ],
    rules=LEAD_RULES,
    initial=LeadStatus.RAW,
)


# Automatic moves the ledger records through a status in between (a RAW lead
# that scores into MQL is recorded passing INQUIRY).
_RECORDED_VIA: dict[tuple[LeadStatus, LeadStatus], LeadStatus] = {
    (LeadStatus.RAW, LeadStatus.MQL): LeadStatus.INQUIRY,
}


def _recorded_path(current: LeadStatus, to: LeadStatus) -> list[LeadStatus]:
    via = _RECORDED_VIA.get((current, to))
    return [to] if via is None else [via, to]


def path_for_automatic_mql(current: LeadStatus) -> list[LeadStatus]:
    """Statuses to record when scoring makes the lead an MQL (RAW passes INQUIRY)."""
    if not LEAD_MACHINE.automatic_rules(current, AutomaticTrigger.SCORE):
        return []
    return _recorded_path(current, LeadStatus.MQL)


def automatic_sources(trigger: AutomaticTrigger) -> tuple[LeadStatus, ...]:
    """The statuses an automatic move on ``trigger`` starts from, in state order."""
    return tuple(s for s in LeadStatus if LEAD_MACHINE.automatic_rules(s, trigger))


# The statuses from which scoring makes a lead an MQL (D2), from the table.
MQL_SOURCES = automatic_sources(AutomaticTrigger.SCORE)


@dataclass(frozen=True, slots=True)
class AutomaticStep:
    """One move of an automatic path: the facts its guards see, the request."""

    facts: LeadFacts
    request: LeadTransitionRequest


def automatic_steps(
    current: LeadStatus,
    trigger: AutomaticTrigger,
    facts: LeadFacts,
    reason: str,
    note: str | None = None,
) -> list[AutomaticStep]:
    """The moves ``trigger`` makes by itself from ``current``: the first automatic
    row whose every step the guards allow, as the steps to apply in order (RAW →
    MQL is recorded through INQUIRY); none when no row applies. Automation never
    forces a status, and a path whose last step is refused is not started."""
    for rule in LEAD_MACHINE.automatic_rules(current, trigger):
        path = _recorded_path(current, rule.dest)
        # Passing through a status on the way needs none of its own conditions.
        base = facts if len(path) == 1 else replace(facts, has_inbound_engagement=True)
        steps: list[AutomaticStep] = []
        at = current
        for to in path:
            request = LeadTransitionRequest(
                to=to, reason=reason, note=note, automatic=True
            )
            step = AutomaticStep(
                base if base.status is at else replace(base, status=at), request
            )
            # Fired, not only checked: the steps returned are already decided by
            # the machine, and whoever applies them runs no guard again.
            if LEAD_MACHINE.apply(at, to, step.facts, request):
                break
            steps.append(step)
            at = to
        else:
            return steps
    return []


def names_who_may_act(current: LeadStatus, to: LeadStatus) -> bool:
    """Whether the table's row current→to itself says who may make the move
    (→ACCEPTED: the owner, else NOT_OWNER); the general permission to change the
    lead is then not asked again, so one cause gives one code."""
    rule = LEAD_MACHINE.rule(current, to)
    return rule is not None and actor_is_owner in rule.guards


def converted_lead_refusals(
    lead_id: int | None, converted_at: datetime | None, field: str | None = "id"
) -> list[Refusal]:
    """A converted lead is read-only (D7): its contact carries on."""
    if converted_at is None:
        return []
    which = f"Lead {RecordRef('Lead', lead_id)}" if lead_id else "The lead"
    return [
        Refusal.on(
            field,
            ErrorCode.READ_ONLY_RECORD,
            f"{which} was converted and is read-only; change its contact instead.",
        )
    ]
