"""Column mappings of a list import (D12): parsing, transforms, suggestions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.enums import AccountType, ErrorCode, ImportKind, OpportunityStage
from domain.rules.export_columns import neutralize, restore
from domain.rules.import_mapping import (
    ColumnMapping,
    FieldSpec,
    header_refusals,
    mapped_texts,
    parse_mapping,
    row_warnings,
    split_full_name,
    suggest_mapping,
    typed_values,
    unmapped_columns,
)


def mapping(kind: ImportKind, doc: dict) -> ColumnMapping:
    parsed, refused = parse_mapping(kind, doc)
    assert refused == []
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Jane Doe", "Jane", "Doe"),
        ("  Jane   Doe ", "Jane", "Doe"),
        ("Doe, Jane", "Jane", "Doe"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("Anna van der Berg", "Anna", "van der Berg"),
        ("Cher", None, "Cher"),
        ("", None, None),
    ],
)
def test_a_full_name_splits_into_first_and_last(full, first, last):
    assert split_full_name(full) == (first, last)


def test_each_transform_gives_the_field_its_text():
    m = mapping(
        ImportKind.LEAD,
        {
            "fields": {
                "firstName": {"split": "Full Name", "part": "first"},
                "lastName": {"split": "Full Name", "part": "last"},
                "street": {"combine": ["Address 1", "Address 2"], "separator": ", "},
                "leadSource": {"column": "Origin", "map": {"Olark Chat": "WEB_CHAT"}},
                "initialSource": {"constant": "Trade show"},
                "company": {"template": "Lead {Lead Number}"},
                "email": "Email",
                "title": {"column": "Title", "trim": False},
            }
        },
    )
    row = {
        "Full Name": " Jane Doe ",
        "Address 1": " 1 Main St ",
        "Address 2": "",
        "Origin": "olark chat",
        "Lead Number": " 660737 ",
        "Email": "  jane@acme.com ",
        "Title": " VP ",
    }
    assert mapped_texts(m, row) == {
        "firstName": "Jane",
        "lastName": "Doe",
        "street": "1 Main St",
        "leadSource": "WEB_CHAT",
        "initialSource": "Trade show",
        "company": "Lead 660737",
        "email": "jane@acme.com",
        "title": " VP ",
    }


def test_a_blank_cell_is_no_value():
    m = mapping(ImportKind.LEAD, {"email": "Email", "title": "Title"})
    assert mapped_texts(m, {"Email": "   ", "Title": None}) == {}


def test_texts_become_typed_values_and_bad_ones_are_refused_by_field():
    values, refused = typed_values(
        ImportKind.ACCOUNT,
        {
            "name": "Acme",
            "numberOfEmployees": "1,200",
            "annualRevenue": "$1,000.50",
            "isNamed": "yes",
            "type": "former customer",
            "domains": "acme.com; acme.io",
        },
    )
    assert refused == []
    assert values == {
        "name": "Acme",
        "number_of_employees": 1200,
        "annual_revenue": Decimal("1000.50"),
        "is_named": True,
        "type": AccountType.FORMER_CUSTOMER,
        "domains": ["acme.com", "acme.io"],
    }
    _, refused = typed_values(
        ImportKind.ACCOUNT,
        {"numberOfEmployees": "12.5", "isNamed": "maybe", "type": "alien"},
    )
    assert [(r.code, r.field) for r in refused] == [
        (ErrorCode.INVALID_INPUT, ("numberOfEmployees",)),
        (ErrorCode.INVALID_INPUT, ("isNamed",)),
        (ErrorCode.INVALID_INPUT, ("type",)),
    ]


def test_a_malformed_mapping_is_refused_with_every_reason():
    parsed, refused = parse_mapping(
        ImportKind.CONTACT,
        {
            "fields": {
                "nickname": "Nick",
                "email": {"column": "Email", "constant": "x"},
                "title": 3,
            }
        },
    )
    assert parsed is None
    assert [(r.code, r.field) for r in refused] == [
        (ErrorCode.INVALID_INPUT, ("mapping", "nickname")),
        (ErrorCode.INVALID_INPUT, ("mapping", "email")),
        (ErrorCode.INVALID_INPUT, ("mapping", "title")),
    ]


def test_a_mapping_for_another_kind_is_refused():
    _, refused = parse_mapping(ImportKind.LEAD, {"kind": "ACCOUNT", "fields": {}})
    assert [r.field for r in refused] == [("mapping", "kind")]


def test_columns_missing_from_the_header_are_refused_and_unread_ones_listed():
    m = mapping(
        ImportKind.LEAD,
        {"email": "Email", "lastName": {"template": "Lead {Lead Number}"}},
    )
    assert [r.field for r in header_refusals(m, ["Email", "Other"])] == [
        ("mapping", "lastName")
    ]
    assert unmapped_columns(m, ["Email", "Lead Number", "Other"]) == ["Other"]


def test_a_mapping_round_trips_through_its_json():
    doc = {
        "kind": "LEAD",
        "fields": {
            "email": "Email",
            "leadSource": {"column": "Origin", "map": {"Olark Chat": "WEB_CHAT"}},
            "street": {"combine": ["A1", "A2"], "separator": ", "},
        },
    }
    assert mapping(ImportKind.LEAD, doc).to_json() == doc


def test_a_header_is_suggested_exact_then_alias_then_fuzzy():
    suggestion = suggest_mapping(
        ImportKind.LEAD,
        ["EMAIL", "firstName", "Last Name", "Zip/Postal Code", "Compnay", "Notes", ""],
    )
    assert suggestion.mapping.fields == {
        "firstName": FieldSpec(column="firstName"),
        "lastName": FieldSpec(column="Last Name"),
        "email": FieldSpec(column="EMAIL"),
        "company": FieldSpec(column="Compnay"),
        "postalCode": FieldSpec(column="Zip/Postal Code"),
    }
    assert suggestion.fuzzy == {"Compnay": "company"}
    assert suggestion.unmapped == ["Notes"]


def test_the_catalogue_names_map_exactly_without_transforms():
    header = ["name", "domains", "externalId", "ownerId"]
    suggestion = suggest_mapping(ImportKind.ACCOUNT, header)
    assert {n: s.column for n, s in suggestion.mapping.fields.items()} == {
        "name": "name",
        "domains": "domains",
        "ownerId": "ownerId",
        "externalId": "externalId",
    }
    assert suggestion.fuzzy == {}


@given(st.text())
def test_an_import_reads_back_every_text_an_export_guarded(text):
    assert restore(neutralize(text)) == text


# --- issue 13 item 2: slug, multiply, corrections, warnings, the new kinds --------


def test_slug_multiply_and_corrections_shape_a_value():
    m = mapping(
        ImportKind.ACCOUNT,
        {
            "name": {"template": "{A}.{B}", "slug": True},
            "annualRevenue": {"column": "Revenue", "multiply": "1000000"},
            "industry": {
                "column": "Sector",
                "corrections": {"technolgy": "technology"},
            },
        },
    )
    row = {"A": "Mei-Mei", "B": "Johns", "Revenue": "1,100.04", "Sector": "Technolgy"}
    assert mapped_texts(m, row) == {
        "name": "mei.mei.johns",
        "annualRevenue": "1100040000",
        "industry": "technology",
    }
    assert mapping(ImportKind.ACCOUNT, m.to_json()).to_json() == m.to_json()


def test_a_repaired_value_and_an_unknown_country_are_warnings():
    m = mapping(
        ImportKind.ACCOUNT,
        {
            "industry": {
                "column": "Sector",
                "corrections": {"technolgy": "technology"},
            },
            "billingCountry": "Country",
        },
    )
    warned = row_warnings(m, {"Sector": "technolgy", "Country": "Atlantis"})
    assert [(w.code, w.field) for w in warned] == [
        (ErrorCode.VALUE_CORRECTED, ("industry",)),
        (ErrorCode.UNKNOWN_COUNTRY, ("billingCountry",)),
    ]
    assert row_warnings(m, {"Sector": "technology", "Country": "Kenya"}) == []


def test_stages_dates_and_roles_are_typed_or_refused():
    values, refused = typed_values(
        ImportKind.OPPORTUNITY,
        {"stage": "closed won", "closeDate": "2017-03-01", "salesAcceptedDate": "x"},
    )
    assert values == {
        "stage": OpportunityStage.CLOSED_WON,
        "close_date": date(2017, 3, 1),
    }
    assert [(r.code, r.field) for r in refused] == [
        (ErrorCode.INVALID_INPUT, ("salesAcceptedDate",))
    ]
    _, refused = typed_values(ImportKind.USER, {"role": "Wizard"})
    assert [r.field for r in refused] == [("role",)]


def test_an_activity_mapping_may_have_a_kind_field():
    m = mapping(ImportKind.ACTIVITY, {"kind": {"constant": "TASK"}, "subject": "S"})
    assert mapped_texts(m, {"S": "Call back"}) == {
        "kind": "TASK",
        "subject": "Call back",
    }
