"""The funnel's milestone rules (D11): which move reaches what, and the stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import FunnelMilestone, LeadStatus, OpportunityStage
from domain.rules.funnel import (
    LEAD_MILESTONES,
    MILESTONES,
    entry_milestone,
    lead_stamps,
    milestone_of_stage,
    milestone_of_status,
    opportunity_stamps,
    previous,
    reach,
    replay,
    seconds_between,
)

M = FunnelMilestone
S = OpportunityStage
L = LeadStatus
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


STATUS_TABLE = {
    L.RAW: None,
    L.INQUIRY: M.INQUIRY,
    L.MQL: M.MQL,
    L.ACCEPTED: M.ACCEPTED,
    L.QUALIFYING: M.QUALIFYING,
    L.QUALIFIED: M.QUALIFYING,
    L.UNQUALIFIED: None,
    L.NURTURE: None,
    L.BAD_DATA: None,
    L.WEB_PORTAL_PURCHASE: None,
}
STAGE_TABLE = {
    S.PRE_OPPORTUNITY: None,
    S.PENDING_ACCEPTANCE: M.PENDING_ACCEPTANCE,
    S.DISCOVERY: M.SAO,
    S.SCOPING: M.SQO,
    S.TECHNICAL_EVALUATION: M.SQO,
    S.PROPOSAL: M.SQO,
    S.NEGOTIATING: M.SQO,
    S.AWAITING_SIGNATURE: M.SQO,
    S.CLOSED_WON: M.WON,
    S.CLOSED_LOST: None,
    S.UNQUALIFIED: None,
    S.DUPLICATE: None,
}


@pytest.mark.parametrize(("status", "milestone"), STATUS_TABLE.items())
def test_each_lead_status_reaches_its_milestone(status, milestone):
    assert milestone_of_status(status) == milestone


@pytest.mark.parametrize(("stage", "milestone"), STAGE_TABLE.items())
def test_each_stage_reaches_its_milestone(stage, milestone):
    assert milestone_of_stage(stage) == milestone


def test_the_tables_cover_every_status_and_stage_and_milestones_are_in_order():
    assert set(STATUS_TABLE) == set(LeadStatus)
    assert set(STAGE_TABLE) == set(OpportunityStage)
    assert [m.value for m in MILESTONES] == [
        "RAW",
        "INQUIRY",
        "MQL",
        "ACCEPTED",
        "QUALIFYING",
        "PENDING_ACCEPTANCE",
        "SAO",
        "SQO",
        "WON",
    ]
    assert MILESTONES[:5] == LEAD_MILESTONES
    assert previous(M.RAW) is None
    assert previous(M.SAO) is M.PENDING_ACCEPTANCE


def test_a_new_lead_is_raw_at_its_creation_only():
    assert lead_stamps(T0) == (T0, None, None, None, None, None, None, None, None)


def test_reaching_a_milestone_stamps_the_skipped_ones_with_it():
    stamps = reach(lead_stamps(T0), M.MQL, at(2))

    assert stamps == (T0, at(2), at(2), None, None, None, None, None, None)
    assert seconds_between(stamps) == (7200, 0, None, None, None, None, None, None)


def test_the_first_reach_is_kept():
    stamps = replay(
        lead_stamps(T0),
        [(M.INQUIRY, at(1)), (None, at(2)), (M.INQUIRY, at(3)), (M.MQL, at(4))],
    )

    assert stamps[:3] == (T0, at(1), at(4))
    assert reach(stamps, M.INQUIRY, at(9)) == stamps
    assert reach(stamps, None, at(9)) == stamps


def test_reaching_an_earlier_milestone_after_a_later_one_changes_nothing():
    won = reach(lead_stamps(T0), M.WON, at(5))

    assert won == (T0,) + (at(5),) * 8
    assert reach(won, M.PENDING_ACCEPTANCE, at(6)) == won


@pytest.mark.parametrize(
    ("stage", "last"),
    [
        (S.PRE_OPPORTUNITY, None),
        (S.PENDING_ACCEPTANCE, M.PENDING_ACCEPTANCE),
        (S.CLOSED_WON, M.WON),
    ],
)
def test_an_opportunity_created_without_a_lead_enters_at_pending_acceptance(
    stage, last
):
    """D11, Decision (round 2): a direct opportunity "enters the funnel at
    PENDING_ACCEPTANCE and is never stamped with lead milestones"."""
    stamps = opportunity_stamps(T0, stage)

    first = MILESTONES.index(M.PENDING_ACCEPTANCE)
    reached = MILESTONES.index(last) + 1 if last else first
    assert stamps == (None,) * first + (T0,) * (reached - first) + (None,) * (
        len(MILESTONES) - reached
    )
    assert seconds_between(stamps)[:first] == (None,) * first
    assert entry_milestone(stamps) is M.PENDING_ACCEPTANCE


def test_a_direct_record_never_reaches_a_lead_milestone():
    pre = opportunity_stamps(T0, S.PRE_OPPORTUNITY)

    assert reach(pre, M.QUALIFYING, at(1)) == pre
    sao = reach(pre, M.SAO, at(2))
    assert sao == (None,) * 5 + (at(2), at(2)) + (None, None)
    assert seconds_between(sao) == (None,) * 5 + (0, None, None)
    assert entry_milestone(lead_stamps(T0)) is M.RAW


def test_seconds_are_whole_and_never_negative():
    stamps = (T0, at(1) + timedelta(microseconds=999_999), at(0.5))

    assert seconds_between(stamps) == (3600, 0)
