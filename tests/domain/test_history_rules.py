"""A deal's past before a history import (issue 13 item 2): the stages it passed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.enums import OpportunityStage as S
from domain.rules.history import historical_path

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
ENGAGED, CLOSED = date(2017, 1, 2), date(2017, 3, 1)
E = datetime(2017, 1, 2, tzinfo=UTC)
C = datetime(2017, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stage", "accepted", "closed", "steps"),
    [
        (S.PRE_OPPORTUNITY, None, None, [(S.PRE_OPPORTUNITY, NOW)]),
        (S.PENDING_ACCEPTANCE, None, None, [(S.PENDING_ACCEPTANCE, NOW)]),
        (S.DISCOVERY, ENGAGED, None, [(S.PENDING_ACCEPTANCE, E), (S.DISCOVERY, E)]),
        (
            S.PROPOSAL, ENGAGED, None,
            [(S.PENDING_ACCEPTANCE, E), (S.DISCOVERY, E), (S.PROPOSAL, E)],
        ),
        (
            S.CLOSED_WON, ENGAGED, CLOSED,
            [(S.PENDING_ACCEPTANCE, E), (S.DISCOVERY, E), (S.CLOSED_WON, C)],
        ),
        (
            S.CLOSED_LOST, ENGAGED, CLOSED,
            [(S.PENDING_ACCEPTANCE, E), (S.DISCOVERY, E), (S.CLOSED_LOST, C)],
        ),
        (S.CLOSED_WON, None, CLOSED, [(S.PENDING_ACCEPTANCE, C), (S.CLOSED_WON, C)]),
        (S.UNQUALIFIED, None, CLOSED, [(S.PENDING_ACCEPTANCE, C), (S.UNQUALIFIED, C)]),
    ],
)  # fmt: skip
def test_a_deal_passed_the_stages_its_days_say(stage, accepted, closed, steps):
    assert historical_path(stage, accepted_on=accepted, closed_on=closed, now=NOW) == (
        steps,
        [],
    )


@pytest.mark.parametrize(
    ("stage", "accepted", "closed", "refused"),
    [
        (S.DISCOVERY, None, None, [("MISSING_FIELD", "sales_accepted_date")]),
        (S.CLOSED_WON, ENGAGED, None, [("MISSING_FIELD", "close_date")]),
        (S.CLOSED_LOST, CLOSED, ENGAGED, [("INVALID_INPUT", "close_date")]),
        (S.CLOSED_WON, None, date(2027, 1, 1), [("INVALID_INPUT", "close_date")]),
        (
            S.UNQUALIFIED, ENGAGED, CLOSED,
            [("INVALID_INPUT", "sales_accepted_date")],
        ),
        (
            S.NEGOTIATING, None, None, [("MISSING_FIELD", "sales_accepted_date")],
        ),
    ],
)  # fmt: skip
def test_a_past_the_row_cannot_say_is_every_reason(stage, accepted, closed, refused):
    steps, found = historical_path(
        stage, accepted_on=accepted, closed_on=closed, now=NOW
    )
    assert steps == []
    assert [(r.code.value, r.field[0]) for r in found] == refused
