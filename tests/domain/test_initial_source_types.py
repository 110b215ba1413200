"""D11 initial source types: the grouping table the SAO report uses."""

from __future__ import annotations

import pytest

from domain.rules.initial_source_types import (
    INITIAL_SOURCE_TYPES,
    InitialSourceType,
    initial_source_type,
    source_key,
)

T = InitialSourceType


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Web Direct", T.INBOUND),
        ("Trial - Enterprise", T.INBOUND),
        ("GitLab.com", T.INBOUND),
        ("Contact Us", T.INBOUND),
        ("Outbound", T.OUTBOUND),
        ("CE Download", T.OUTBOUND),
        ("Paid Search", T.PAID),
        ("Trade Show", T.EVENT),
        ("Conference", T.EVENT),
        ("Referral", T.REFERRAL),
        ("Partner", T.REFERRAL),
        ("Carrier Pigeon", T.OTHER),
        ("Unknown", T.UNKNOWN),
        (None, T.UNKNOWN),
        ("", T.UNKNOWN),
    ],
)
def test_each_source_has_its_type(source, expected):
    assert initial_source_type(source) == expected


def test_sources_match_with_spaces_trimmed_and_in_any_case():
    assert initial_source_type("  wEB dIRECT ") == T.INBOUND
    assert initial_source_type("   ") == T.UNKNOWN


def test_only_spaces_are_trimmed_as_sql_trim_does():
    assert source_key("\tWeb Direct") == "\tweb direct"
    assert initial_source_type("\tWeb Direct") == T.OTHER


def test_every_listed_source_has_a_distinct_key_and_is_never_other():
    keys = [source_key(name) for name in INITIAL_SOURCE_TYPES]

    assert len(set(keys)) == len(keys)
    assert T.OTHER not in set(INITIAL_SOURCE_TYPES.values())


def test_an_edited_table_is_used_when_given():
    table = {"Pigeon Post": T.PAID}

    assert initial_source_type("pigeon post", table) == T.PAID
    assert initial_source_type("Web Direct", table) == T.OTHER
