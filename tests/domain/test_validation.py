"""D4 as a pure rule: once set, a record's initial source never changes."""

from __future__ import annotations

import pytest

from domain.enums import ErrorCode
from domain.rules.validation import initial_source_change_refusals


@pytest.mark.parametrize(
    ("current", "values"),
    [
        ("Webcast", {}),
        ("Webcast", {"title": "CTO"}),
        ("Webcast", {"initial_source": "Webcast"}),
        (None, {"initial_source": "Trial"}),
        (None, {}),
    ],
)
def test_an_update_that_keeps_or_first_sets_the_initial_source_is_allowed(
    current, values
):
    assert initial_source_change_refusals(current, values) == []


@pytest.mark.parametrize("new", ["Trial", None, "webcast"])
def test_changing_a_set_initial_source_is_refused_on_its_field(new):
    found = initial_source_change_refusals("Webcast", {"initial_source": new})

    assert [(r.code, r.field) for r in found] == [
        (ErrorCode.IMMUTABLE_FIELD, ("initial_source",))
    ]
    assert "'Webcast'" in found[0].message
