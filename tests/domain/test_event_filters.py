"""Which events a live subscriber asked for (domain.rules.event_filters)."""

from __future__ import annotations

import pytest

from domain.rules.event_filters import TransitionFilter, is_assignment

MOVE = {"from_state": "PENDING_ACCEPTANCE", "to_state": "DISCOVERY"}


@pytest.mark.parametrize(
    ("wanted", "kind", "record_id", "payload", "expected"),
    [
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED"),
            "OPPORTUNITY_STAGE_CHANGED",
            1,
            MOVE,
            True,
        ),
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED"),
            "LEAD_STATUS_CHANGED",
            1,
            MOVE,
            False,
        ),
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED", to_states={"DISCOVERY"}),
            "OPPORTUNITY_STAGE_CHANGED",
            1,
            MOVE,
            True,
        ),
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED", to_states={"SCOPING"}),
            "OPPORTUNITY_STAGE_CHANGED",
            1,
            MOVE,
            False,
        ),
        (
            TransitionFilter(
                "OPPORTUNITY_STAGE_CHANGED", from_states={"PENDING_ACCEPTANCE"}
            ),
            "OPPORTUNITY_STAGE_CHANGED",
            1,
            MOVE,
            True,
        ),
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED", from_states={"DISCOVERY"}),
            "OPPORTUNITY_STAGE_CHANGED",
            1,
            MOVE,
            False,
        ),
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED", record_ids={1, 2}),
            "OPPORTUNITY_STAGE_CHANGED",
            2,
            MOVE,
            True,
        ),
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED", record_ids={1}),
            "OPPORTUNITY_STAGE_CHANGED",
            2,
            MOVE,
            False,
        ),
        # A creation has no from state: a from filter never matches it.
        (
            TransitionFilter("OPPORTUNITY_STAGE_CHANGED", from_states={"DISCOVERY"}),
            "OPPORTUNITY_STAGE_CHANGED",
            1,
            {"from_state": None, "to_state": "DISCOVERY"},
            False,
        ),
    ],
)
def test_a_transition_filter_holds_only_when_every_given_criterion_does(
    wanted, kind, record_id, payload, expected
):
    assert wanted.matches(kind, record_id, payload) is expected


def test_an_assignment_to_me_is_one_whose_new_owner_i_am():
    assert is_assignment("LEAD_ASSIGNED", {"owner_id": 7}, 7)
    assert not is_assignment("LEAD_ASSIGNED", {"owner_id": 8}, 7)
    assert is_assignment("ACCOUNT_ASSIGNED", {"owner_id": 8}, None)
    assert not is_assignment("LEAD_STATUS_CHANGED", {"owner_id": 7}, 7)
