"""The lead status machine (D2): every (from, to) pair, then each guard alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.enums import EngagementKind, ErrorCode, LeadStatus, Role
from domain.errors import RecordRef, Refusal
from domain.lifecycle.lead import (
    INQUIRY_ENGAGEMENT_KINDS,
    LEAD_MACHINE,
    MQL_SOURCES,
    AutomaticTrigger,
    LeadFacts,
    LeadTransitionRequest,
    automatic_sources,
    automatic_steps,
    converted_lead_refusals,
    names_who_may_act,
    path_for_automatic_mql,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STATUSES = list(LeadStatus)

# abbreviations of the grids below; "ok" means allowed, "+" joins codes
LEGEND = {
    "inv": ErrorCode.INVALID_TRANSITION,
    "fin": ErrorCode.FINAL_STATE,
    "nie": ErrorCode.NO_INBOUND_ENGAGEMENT,
    "sbt": ErrorCode.SCORE_BELOW_THRESHOLD,
    "own": ErrorCode.NO_OWNER,
    "not": ErrorCode.NOT_OWNER,
    "act": ErrorCode.NOT_ACTIVE,
    "2wa": ErrorCode.NO_TWO_WAY_ACTIVITY,
    "cnv": ErrorCode.CONVERSION_REQUIRED,
    "rsn": ErrorCode.REASON_REQUIRED,
    "pur": ErrorCode.PURCHASE_REFERENCE_REQUIRED,
    "new": ErrorCode.NO_NEW_ENGAGEMENT,
    "cdu": ErrorCode.CONTACT_DATA_UNCHANGED,
    "tmo": ErrorCode.NOT_TIMED_OUT,
}

# Every guard passes: what remains is reachability (D2's table).
#                    RAW  INQ  MQL  ACC  QFY  QFD  UNQ  NUR  BAD  WPP
HAPPY_GRID = """
RAW                  inv  ok   ok   inv  inv  inv  ok   ok   ok   ok
INQUIRY              inv  inv  ok   ok   inv  inv  ok   ok   ok   ok
MQL                  inv  inv  inv  ok   inv  inv  ok   ok   ok   ok
ACCEPTED             inv  ok   ok   inv  ok   ok   ok   ok   ok   ok
QUALIFYING           inv  inv  inv  inv  inv  ok   ok   ok   ok   ok
QUALIFIED            fin  fin  fin  fin  fin  fin  fin  fin  fin  fin
UNQUALIFIED          fin  fin  fin  fin  fin  fin  fin  fin  fin  fin
NURTURE              inv  ok   ok   inv  inv  inv  ok   inv  ok   ok
BAD_DATA             ok   inv  inv  inv  inv  inv  inv  inv  inv  inv
WEB_PORTAL_PURCHASE  fin  fin  fin  fin  fin  fin  fin  fin  fin  fin
"""

# Every guard fails: each reachable pair lists every one of its codes.
#                    RAW  INQ  MQL      ACC          QFY  QFD  UNQ  NUR  BAD  WPP
FAILING_GRID = """
RAW                  inv  nie  sbt      inv          inv  inv  rsn  rsn  rsn  pur
INQUIRY              inv  inv  sbt      own+not+act  inv  inv  rsn  rsn  rsn  pur
MQL                  inv  inv  inv      own+not+act  inv  inv  rsn  rsn  rsn  pur
ACCEPTED             inv  tmo  tmo+sbt  inv          2wa  cnv  rsn  rsn  rsn  pur
QUALIFYING           inv  inv  inv      inv          inv  cnv  rsn  rsn  rsn  pur
QUALIFIED            fin  fin  fin      fin          fin  fin  fin  fin  fin  fin
UNQUALIFIED          fin  fin  fin      fin          fin  fin  fin  fin  fin  fin
NURTURE              inv  new  sbt      inv          inv  inv  rsn  inv  rsn  pur
BAD_DATA             cdu  inv  inv      inv          inv  inv  inv  inv  inv  inv
WEB_PORTAL_PURCHASE  fin  fin  fin      fin          fin  fin  fin  fin  fin  fin
"""


def make_facts(**overrides: Any) -> LeadFacts:
    """A lead for which every guard passes, unless overridden."""
    values: dict[str, Any] = {
        "status": LeadStatus.RAW,
        "now": NOW,
        "owner_id": 7,
        "actor_id": 7,
        "actor_role": Role.BDR,
        "initial_source": "GitLab.com",
        "active_until": NOW + timedelta(days=10),
        "person_score": 95,
        "has_inbound_engagement": True,
        "has_engagement_since_status_change": True,
        "has_completed_two_way_activity": True,
        "contact_data_changed_since_bad_data": True,
        "timed_out": True,
    }
    values.update(overrides)
    return LeadFacts(**values)


def make_failing_facts(**overrides: Any) -> LeadFacts:
    """A lead for which every guard fails."""
    values: dict[str, Any] = {
        "owner_id": None,
        "actor_id": 3,
        "actor_role": Role.AE,
        "active_until": None,
        "person_score": 10,
        "has_inbound_engagement": False,
        "has_engagement_since_status_change": False,
        "has_completed_two_way_activity": False,
        "contact_data_changed_since_bad_data": False,
        "timed_out": False,
    }
    values.update(overrides)
    return make_facts(**values)


def make_request(to: LeadStatus, **overrides: Any) -> LeadTransitionRequest:
    """A request carrying everything any guard may ask for, unless overridden."""
    values: dict[str, Any] = {
        "reason": "Asked to be contacted next year",
        "purchase_reference": "WEB-1001",
        "via_conversion": True,
        "automatic": True,
    }
    values.update(overrides)
    return LeadTransitionRequest(to=to, **values)


def make_bare_request(to: LeadStatus) -> LeadTransitionRequest:
    """A request with nothing but its target."""
    return LeadTransitionRequest(to=to)


def expand(grid: str) -> list[Any]:
    """One pytest param per (from, to) cell of a grid."""
    cases = []
    for line in grid.strip().splitlines():
        current, *cells = line.split()
        for to, cell in zip(STATUSES, cells, strict=True):
            codes = [] if cell == "ok" else [LEGEND[a] for a in cell.split("+")]
            cases.append(
                pytest.param(LeadStatus(current), to, codes, id=f"{current}->{to}")
            )
    return cases


def codes(refusals: list[Refusal]) -> list[ErrorCode]:
    """The codes of a refusal list, in order."""
    return [r.code for r in refusals]


def check(
    current: LeadStatus, facts: LeadFacts, request: LeadTransitionRequest
) -> list[Refusal]:
    """Check a move with the request's own target."""
    return LEAD_MACHINE.check(current, request.to, facts, request)


def test_the_grids_cover_every_pair() -> None:
    assert len(expand(HAPPY_GRID)) == len(expand(FAILING_GRID)) == 10 * 10


@pytest.mark.parametrize(("current", "to", "expected"), expand(HAPPY_GRID))
def test_every_pair_when_every_guard_passes(
    current: LeadStatus, to: LeadStatus, expected: list[ErrorCode]
) -> None:
    refusals = check(current, make_facts(status=current), make_request(to))
    assert codes(refusals) == expected


@pytest.mark.parametrize(("current", "to", "expected"), expand(FAILING_GRID))
def test_every_pair_when_every_guard_fails(
    current: LeadStatus, to: LeadStatus, expected: list[ErrorCode]
) -> None:
    refusals = check(current, make_failing_facts(status=current), make_bare_request(to))
    assert codes(refusals) == expected


@pytest.mark.parametrize(
    ("facts_for", "request_for"),
    [(make_facts, make_request), (make_failing_facts, make_bare_request)],
    ids=["guards-pass", "guards-fail"],
)
def test_options_and_apply_agree_with_check_for_every_pair(
    facts_for: Any, request_for: Any
) -> None:
    for current in STATUSES:
        facts = facts_for(status=current)
        options = LEAD_MACHINE.options(current, facts, request_for)
        assert [o.to for o in options] == LEAD_MACHINE.reachable(current)
        for option in options:
            expected = check(current, facts, request_for(option.to))
            assert option.blocked_by == expected
            assert option.allowed is (not expected)
        for to in STATUSES:
            request = request_for(to)
            assert LEAD_MACHINE.apply(current, to, facts, request) == check(
                current, facts, request
            )


def test_raw_lead_without_inbound_engagement_stays_raw() -> None:
    facts = make_facts(has_inbound_engagement=False)
    refusals = check(LeadStatus.RAW, facts, make_request(LeadStatus.INQUIRY))
    assert refusals == [
        Refusal(
            code=ErrorCode.NO_INBOUND_ENGAGEMENT,
            message="No hand-raise (form, content offer, webcast or event, "
            "trade-show meeting, trial, Contact Us, web chat) is recorded on this "
            "lead.",
        )
    ]


def test_mql_refusal_shows_the_score_and_the_threshold() -> None:
    facts = make_facts(person_score=75)
    refusals = check(LeadStatus.INQUIRY, facts, make_request(LeadStatus.MQL))
    assert refusals == [
        Refusal(
            code=ErrorCode.SCORE_BELOW_THRESHOLD,
            message="Person score 75 is below the MQL threshold of 90.",
            field=("personScore",),
        )
    ]


def test_a_score_equal_to_the_threshold_makes_an_mql() -> None:
    facts = make_facts(person_score=90)
    assert check(LeadStatus.RAW, facts, make_request(LeadStatus.MQL)) == []


def test_the_mql_threshold_comes_from_the_facts() -> None:
    facts = make_facts(person_score=85, mql_threshold=80)
    assert check(LeadStatus.NURTURE, facts, make_request(LeadStatus.MQL)) == []


def test_accepting_an_unowned_inactive_gitlab_com_lead_lists_all_three_reasons() -> (
    None
):
    facts = make_failing_facts(status=LeadStatus.MQL)
    refusals = check(LeadStatus.MQL, facts, make_request(LeadStatus.ACCEPTED))
    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.NO_OWNER, ("ownerId",)),
        (ErrorCode.NOT_OWNER, ("ownerId",)),
        (ErrorCode.NOT_ACTIVE, ("activeUntil",)),
    ]


def test_another_rep_cannot_accept_the_owners_lead() -> None:
    facts = make_facts(owner_id=7, actor_id=8, actor_role=Role.BDR)
    refusals = check(LeadStatus.MQL, facts, make_request(LeadStatus.ACCEPTED))
    assert codes(refusals) == [ErrorCode.NOT_OWNER]


@pytest.mark.parametrize("role", [Role.SALES_OPS, Role.ADMIN])
def test_sales_ops_and_admin_may_accept_someone_elses_lead(role: Role) -> None:
    facts = make_facts(owner_id=7, actor_id=8, actor_role=role)
    assert check(LeadStatus.INQUIRY, facts, make_request(LeadStatus.ACCEPTED)) == []


def test_sales_ops_cannot_accept_a_lead_without_owner() -> None:
    facts = make_facts(owner_id=None, actor_id=8, actor_role=Role.SALES_OPS)
    refusals = check(LeadStatus.MQL, facts, make_request(LeadStatus.ACCEPTED))
    assert codes(refusals) == [ErrorCode.NO_OWNER]


def test_a_gitlab_com_lead_whose_activity_ends_now_is_not_active() -> None:
    facts = make_facts(initial_source="gitlab.com", active_until=NOW)
    refusals = check(LeadStatus.MQL, facts, make_request(LeadStatus.ACCEPTED))
    assert codes(refusals) == [ErrorCode.NOT_ACTIVE]


def test_a_lead_from_another_source_need_not_be_active() -> None:
    facts = make_facts(initial_source="Web Direct", active_until=None)
    assert check(LeadStatus.MQL, facts, make_request(LeadStatus.ACCEPTED)) == []


def test_qualifying_needs_a_completed_two_way_activity() -> None:
    facts = make_facts(has_completed_two_way_activity=False)
    refusals = check(LeadStatus.ACCEPTED, facts, make_request(LeadStatus.QUALIFYING))
    assert codes(refusals) == [ErrorCode.NO_TWO_WAY_ACTIVITY]


@pytest.mark.parametrize("current", [LeadStatus.ACCEPTED, LeadStatus.QUALIFYING])
def test_a_lead_becomes_qualified_only_through_conversion(
    current: LeadStatus,
) -> None:
    direct = make_request(LeadStatus.QUALIFIED, via_conversion=False)
    converting = make_request(LeadStatus.QUALIFIED, via_conversion=True)
    refusals = check(current, make_facts(), direct)
    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.CONVERSION_REQUIRED, ("to",))
    ]
    assert check(current, make_facts(), converting) == []


@pytest.mark.parametrize(
    "to", [LeadStatus.UNQUALIFIED, LeadStatus.NURTURE, LeadStatus.BAD_DATA]
)
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_leaving_the_funnel_needs_a_reason_that_is_not_blank(
    to: LeadStatus, reason: str | None
) -> None:
    refusals = check(LeadStatus.MQL, make_facts(), make_request(to, reason=reason))
    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.REASON_REQUIRED, ("reason",))
    ]


def test_a_web_portal_purchase_needs_the_purchase_reference() -> None:
    request = make_request(LeadStatus.WEB_PORTAL_PURCHASE, purchase_reference=None)
    refusals = check(LeadStatus.QUALIFYING, make_facts(), request)
    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.PURCHASE_REFERENCE_REQUIRED, ("purchaseReference",))
    ]


def test_a_nurtured_lead_returns_to_inquiry_only_with_a_new_engagement() -> None:
    facts = make_facts(has_engagement_since_status_change=False)
    refusals = check(LeadStatus.NURTURE, facts, make_request(LeadStatus.INQUIRY))
    assert codes(refusals) == [ErrorCode.NO_NEW_ENGAGEMENT]


def test_bad_data_returns_to_raw_only_after_email_or_phone_changed() -> None:
    facts = make_facts(contact_data_changed_since_bad_data=False)
    refusals = check(LeadStatus.BAD_DATA, facts, make_request(LeadStatus.RAW))
    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.CONTACT_DATA_UNCHANGED, ("email", "phone"))
    ]


def test_a_final_status_refusal_names_the_status() -> None:
    refusals = check(LeadStatus.QUALIFIED, make_facts(), make_request(LeadStatus.RAW))
    assert refusals == [
        Refusal(
            code=ErrorCode.FINAL_STATE,
            message="Qualified is final: it cannot change.",
            field=("to",),
        )
    ]


def test_an_invalid_transition_names_both_statuses_and_the_possible_ones() -> None:
    refusals = check(LeadStatus.BAD_DATA, make_facts(), make_request(LeadStatus.MQL))
    assert refusals == [
        Refusal(
            code=ErrorCode.INVALID_TRANSITION,
            message="Cannot move from Bad Data to MQL; from Bad Data: Raw.",
            field=("to",),
        )
    ]


def test_options_list_every_reachable_status_with_every_reason() -> None:
    facts = make_failing_facts(status=LeadStatus.INQUIRY)
    options = LEAD_MACHINE.options(
        LeadStatus.INQUIRY, facts, make_bare_request(LeadStatus.MQL)
    )
    assert [(o.to, o.allowed, codes(o.blocked_by)) for o in options] == [
        (LeadStatus.MQL, False, [ErrorCode.SCORE_BELOW_THRESHOLD]),
        (
            LeadStatus.ACCEPTED,
            False,
            [ErrorCode.NO_OWNER, ErrorCode.NOT_OWNER, ErrorCode.NOT_ACTIVE],
        ),
        (LeadStatus.UNQUALIFIED, False, [ErrorCode.REASON_REQUIRED]),
        (LeadStatus.NURTURE, False, [ErrorCode.REASON_REQUIRED]),
        (LeadStatus.BAD_DATA, False, [ErrorCode.REASON_REQUIRED]),
        (
            LeadStatus.WEB_PORTAL_PURCHASE,
            False,
            [ErrorCode.PURCHASE_REFERENCE_REQUIRED],
        ),
    ]


def test_a_final_status_has_no_options() -> None:
    facts = make_facts(status=LeadStatus.UNQUALIFIED)
    assert LEAD_MACHINE.options(LeadStatus.UNQUALIFIED, facts, make_request) == []


def test_a_check_for_another_target_than_the_request_is_a_bug() -> None:
    with pytest.raises(ValueError, match="request is for"):
        LEAD_MACHINE.check(
            LeadStatus.RAW, LeadStatus.MQL, make_facts(), make_request(LeadStatus.RAW)
        )


@pytest.mark.parametrize(
    ("current", "path"),
    [
        (LeadStatus.RAW, [LeadStatus.INQUIRY, LeadStatus.MQL]),
        (LeadStatus.INQUIRY, [LeadStatus.MQL]),
        (LeadStatus.NURTURE, [LeadStatus.MQL]),
        (LeadStatus.MQL, []),
        (LeadStatus.ACCEPTED, []),
        (LeadStatus.QUALIFIED, []),
    ],
)
def test_automatic_mql_passes_a_raw_lead_through_inquiry(
    current: LeadStatus, path: list[LeadStatus]
) -> None:
    assert path_for_automatic_mql(current) == path


def test_automatic_transitions_are_flagged_in_the_table() -> None:
    automatic = {
        (source, rule.dest)
        for rule in LEAD_MACHINE.rules
        if rule.automatic
        for source in rule.sources
    }
    assert automatic == {
        (LeadStatus.RAW, LeadStatus.INQUIRY),
        (LeadStatus.NURTURE, LeadStatus.INQUIRY),
        (LeadStatus.RAW, LeadStatus.MQL),
        (LeadStatus.INQUIRY, LeadStatus.MQL),
        (LeadStatus.NURTURE, LeadStatus.MQL),
        (LeadStatus.ACCEPTED, LeadStatus.MQL),
        (LeadStatus.ACCEPTED, LeadStatus.INQUIRY),
    }


def test_each_automatic_row_names_the_trigger_that_makes_it() -> None:
    triggers = {
        (source, rule.dest): rule.automatic
        for rule in LEAD_MACHINE.rules
        if rule.automatic
        for source in rule.sources
    }
    assert triggers == {
        (LeadStatus.RAW, LeadStatus.INQUIRY): AutomaticTrigger.ENGAGEMENT,
        (LeadStatus.NURTURE, LeadStatus.INQUIRY): AutomaticTrigger.ENGAGEMENT,
        (LeadStatus.RAW, LeadStatus.MQL): AutomaticTrigger.SCORE,
        (LeadStatus.INQUIRY, LeadStatus.MQL): AutomaticTrigger.SCORE,
        (LeadStatus.NURTURE, LeadStatus.MQL): AutomaticTrigger.SCORE,
        (LeadStatus.ACCEPTED, LeadStatus.MQL): AutomaticTrigger.TIMEOUT,
        (LeadStatus.ACCEPTED, LeadStatus.INQUIRY): AutomaticTrigger.TIMEOUT,
    }
    assert MQL_SOURCES == (LeadStatus.RAW, LeadStatus.INQUIRY, LeadStatus.NURTURE)
    assert automatic_sources(AutomaticTrigger.ENGAGEMENT) == (
        LeadStatus.RAW,
        LeadStatus.NURTURE,
    )
    # D2 round 2: hand-raises make an Inquiry; page visits and unsubscribes do not
    # (seed 002_91dd8e67a169a832.txt: "Form submission, meeting @ trade show,
    # content offer").
    assert frozenset(EngagementKind) - INQUIRY_ENGAGEMENT_KINDS == {
        EngagementKind.ENTERPRISE_TRIAL_PAGE_VISIT,
        EngagementKind.PRICING_PAGE_VISIT,
        EngagementKind.FEATURES_PAGE_VISIT,
        EngagementKind.INSTALLATION_PAGE_VISIT,
        EngagementKind.CAREERS_PAGE_VISIT,
        EngagementKind.EMAIL_UNSUBSCRIBE,
    }


@pytest.mark.parametrize(
    ("current", "trigger", "facts", "entered"),
    [
        (LeadStatus.RAW, AutomaticTrigger.ENGAGEMENT, {}, [LeadStatus.INQUIRY]),
        (
            LeadStatus.RAW,
            AutomaticTrigger.ENGAGEMENT,
            {"has_inbound_engagement": False},
            [],
        ),
        (LeadStatus.NURTURE, AutomaticTrigger.ENGAGEMENT, {}, [LeadStatus.INQUIRY]),
        (
            LeadStatus.NURTURE,
            AutomaticTrigger.ENGAGEMENT,
            {"has_engagement_since_status_change": False},
            [],
        ),
        (LeadStatus.INQUIRY, AutomaticTrigger.ENGAGEMENT, {}, []),
        (LeadStatus.MQL, AutomaticTrigger.ENGAGEMENT, {}, []),
        # RAW → MQL is recorded through INQUIRY, which then needs no engagement.
        (
            LeadStatus.RAW,
            AutomaticTrigger.SCORE,
            {"has_inbound_engagement": False},
            [LeadStatus.INQUIRY, LeadStatus.MQL],
        ),
        (LeadStatus.INQUIRY, AutomaticTrigger.SCORE, {}, [LeadStatus.MQL]),
        (LeadStatus.NURTURE, AutomaticTrigger.SCORE, {}, [LeadStatus.MQL]),
        # A path whose last step is refused is not started.
        (LeadStatus.RAW, AutomaticTrigger.SCORE, {"person_score": 89}, []),
        (LeadStatus.INQUIRY, AutomaticTrigger.SCORE, {"person_score": 89}, []),
        (LeadStatus.ACCEPTED, AutomaticTrigger.SCORE, {}, []),
        (LeadStatus.QUALIFIED, AutomaticTrigger.SCORE, {}, []),
    ],
)
def test_an_automatic_move_is_the_row_of_its_trigger_whose_guards_pass(
    current: LeadStatus,
    trigger: AutomaticTrigger,
    facts: dict[str, Any],
    entered: list[LeadStatus],
) -> None:
    steps = automatic_steps(current, trigger, make_facts(status=current, **facts), "r")
    assert [step.request.to for step in steps] == entered


def test_automatic_steps_are_flagged_automatic_and_carry_the_reason() -> None:
    steps = automatic_steps(
        LeadStatus.RAW, AutomaticTrigger.SCORE, make_facts(), "Score 95"
    )

    assert [(s.facts.status, s.request.to) for s in steps] == [
        (LeadStatus.RAW, LeadStatus.INQUIRY),
        (LeadStatus.INQUIRY, LeadStatus.MQL),
    ]
    assert all(s.request.automatic and s.request.reason == "Score 95" for s in steps)


def test_only_the_accept_row_says_itself_who_may_act() -> None:
    naming = {
        (source, to)
        for source in LeadStatus
        for to in LeadStatus
        if names_who_may_act(source, to)
    }
    assert naming == {
        (LeadStatus.INQUIRY, LeadStatus.ACCEPTED),
        (LeadStatus.MQL, LeadStatus.ACCEPTED),
    }


def test_a_converted_lead_is_read_only() -> None:
    assert converted_lead_refusals(4, None) == []
    [refusal] = converted_lead_refusals(4, NOW, "leadId")
    assert (refusal.code, refusal.field) == (ErrorCode.READ_ONLY_RECORD, ("leadId",))
    assert refusal.message == (
        f"Lead {RecordRef('Lead', 4)} was converted and is read-only; change its "
        "contact instead."
    )


@pytest.mark.parametrize(
    ("score", "back_to"), [(95, LeadStatus.MQL), (10, LeadStatus.INQUIRY)]
)
def test_a_timed_out_lead_goes_back_to_the_pool_as_mql_or_inquiry(
    score: int, back_to: LeadStatus
) -> None:
    facts = make_facts(status=LeadStatus.ACCEPTED, person_score=score)
    steps = automatic_steps(
        LeadStatus.ACCEPTED, AutomaticTrigger.TIMEOUT, facts, "TIMEOUT", "why"
    )
    assert [(s.request.to, s.request.reason, s.request.note) for s in steps] == [
        (back_to, "TIMEOUT", "why")
    ]


@pytest.mark.parametrize(
    ("timed_out", "automatic"), [(False, True), (True, False), (False, False)]
)
def test_only_the_clock_returns_an_accepted_lead_to_the_pool(
    timed_out: bool, automatic: bool
) -> None:
    facts = make_facts(status=LeadStatus.ACCEPTED, timed_out=timed_out)
    request = make_request(LeadStatus.INQUIRY, automatic=automatic)
    assert codes(check(LeadStatus.ACCEPTED, facts, request)) == [
        ErrorCode.NOT_TIMED_OUT
    ]
    assert (
        automatic_steps(LeadStatus.ACCEPTED, AutomaticTrigger.TIMEOUT, facts, "TIMEOUT")
        == []
    ) is (not timed_out)
