"""Segments and regions (D5): pure rules, the default region table and edited ones."""

from __future__ import annotations

import pycountry
import pytest

from domain.enums import ErrorCode, Region, SalesSegment
from domain.rules.segmentation import (
    COUNTRY_ALIASES,
    DEFAULT_REGION_TABLE,
    RegionRow,
    RegionTableEdit,
    normalize_country,
    normalize_state,
    region_for,
    region_table_of,
    sales_segment_for,
)

R = Region
US_WEST = "AK AZ CA CO HI ID KS MT ND NE NM NV OK OR SD TX UT WA WY".split()  # noqa: SIM905


@pytest.mark.parametrize(
    ("employees", "named", "segment"),
    [
        (None, False, SalesSegment.UNKNOWN),
        (0, False, SalesSegment.SMB),
        (99, False, SalesSegment.SMB),
        (100, False, SalesSegment.MID_MARKET),
        (1_999, False, SalesSegment.MID_MARKET),
        (2_000, False, SalesSegment.LARGE),
        (5, True, SalesSegment.STRATEGIC),
    ],
)
def test_segment_follows_employees_and_a_named_account_is_strategic(
    employees, named, segment
) -> None:
    assert sales_segment_for(employees, is_named=named) is segment


@pytest.mark.parametrize("state", US_WEST)
def test_the_spec_s_western_states_are_us_west(state: str) -> None:
    assert region_for("US", state) is R.US_WEST


@pytest.mark.parametrize(
    ("country", "state", "region"),
    [
        ("US", "NY", R.US_EAST),
        ("US", "DC", R.US_EAST),
        ("US", "PR", R.US_EAST),
        ("US", None, R.US_EAST),
        ("US", "ZZ", R.US_EAST),
        ("United States", "California", R.US_WEST),
        ("usa", "wa", R.US_WEST),
        ("CA", "BC", R.US_WEST),
        ("Canada", "Alberta", R.US_WEST),
        ("CA", "YT", R.US_WEST),
        ("CA", "ON", R.US_EAST),
        ("CA", "QC", R.US_EAST),
        ("CA", None, R.US_EAST),
        ("JP", None, R.APAC),
        ("India", None, R.APAC),
        ("BR", "SP", R.LATAM),
        ("MX", "CA", R.LATAM),
        ("DE", None, R.EMEA),
        ("Kenya", None, R.EMEA),
        # D5 round 2: an unrecognized country has no region, never the * row.
        ("XX", None, None),
        ("Narnia", None, None),
        ("Brasil", None, R.LATAM),
        ("Deutschland", None, R.EMEA),
        ("US", "Arizona", R.US_WEST),
        (None, "CA", None),
        ("  ", None, None),
    ],
)
def test_the_default_table_decides_regions_as_d5_says(country, state, region) -> None:
    assert region_for(country, state) is region


@pytest.mark.parametrize(
    ("country", "public", "region"),
    [
        ("US", True, R.PUBLIC_SECTOR),
        (None, True, R.PUBLIC_SECTOR),
        ("DE", True, R.EMEA),
        ("US", False, R.US_WEST),
        ("U.S.A.", True, R.PUBLIC_SECTOR),
        # An address that cannot be read does not contradict the flag.
        ("Narnia", True, R.PUBLIC_SECTOR),
    ],
)
def test_the_us_public_sector_flag_wins_over_the_address(country, public, region):
    assert region_for(country, "TX", is_public_sector=public) is region


CUSTOM = region_table_of(
    [
        RegionRow("*", None, R.APAC),
        RegionRow("AU", None, R.EMEA),
        RegionRow("AU", "WA", R.LATAM),
        RegionRow("US", "TX", R.US_EAST),
    ],
    version=7,
)


@pytest.mark.parametrize(
    ("country", "state", "region"),
    [
        ("AU", "WA", R.LATAM),  # the state row
        ("AU", "NSW", R.EMEA),  # the country row
        ("AU", None, R.EMEA),
        ("US", "TX", R.US_EAST),
        ("US", "CA", R.APAC),  # no US row: the * row
        ("FR", None, R.APAC),
    ],
)
def test_a_custom_table_looks_up_state_then_country_then_star(country, state, region):
    assert region_for(country, state, table=CUSTOM) is region


def test_without_a_star_row_an_unlisted_country_has_no_region() -> None:
    table = region_table_of([RegionRow("AU", None, R.APAC)])

    assert region_for("FR", None, table=table) is None
    assert region_for("AU", "WA", table=table) is R.APAC
    assert region_for("US", None, is_public_sector=True, table=table) is (
        R.PUBLIC_SECTOR
    )


def test_the_default_table_lists_star_then_countries_and_their_states() -> None:
    rows = DEFAULT_REGION_TABLE.rows()

    assert rows[0] == RegionRow("*", None, R.EMEA)
    assert len(rows) == 138
    us = [r for r in rows if r.country == "US"]
    assert us[0] == RegionRow("US", None, R.US_EAST)
    assert [r.state for r in us[1:]] == sorted(r.state for r in us[1:])
    assert len(us) == 57
    assert DEFAULT_REGION_TABLE.version == 1


def test_an_edit_sets_and_removes_rows_and_makes_the_next_version() -> None:
    edit = RegionTableEdit(
        set_rows=(
            RegionRow("United States", "Texas", R.US_EAST),
            RegionRow("nz", None, R.LATAM),
        ),
        remove_rows=(("CA", "AB"), ("*", None)),
    )

    assert edit.refusals(DEFAULT_REGION_TABLE) == []
    table = edit.applied_to(DEFAULT_REGION_TABLE)
    assert table.version == 2
    assert region_for("US", "TX", table=table) is R.US_EAST
    assert region_for("NZ", None, table=table) is R.LATAM
    assert region_for("CA", "AB", table=table) is R.US_EAST
    assert region_for("DE", None, table=table) is None
    assert len(table.regions) == 136  # TX and NZ changed, AB and * removed
    assert region_for("US", "TX") is R.US_WEST  # the default is untouched


def test_an_invalid_edit_lists_every_reason() -> None:
    edit = RegionTableEdit(
        set_rows=(
            RegionRow("", None, R.EMEA),
            RegionRow("US", "T_X", R.US_EAST),
            RegionRow("*", "CA", R.EMEA),
            RegionRow("DE", None, R.PUBLIC_SECTOR),
            RegionRow("de", None, R.EMEA),
        ),
        remove_rows=(("FR", None), ("US", "ZZ")),
    )

    refusals = edit.refusals(DEFAULT_REGION_TABLE)

    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.INVALID_INPUT, ("set_rows", "0", "country")),
        (ErrorCode.INVALID_INPUT, ("set_rows", "1", "state")),
        (ErrorCode.INVALID_INPUT, ("set_rows", "2", "state")),
        (ErrorCode.INVALID_INPUT, ("set_rows", "4")),
        (ErrorCode.NOT_FOUND, ("remove_rows", "0")),
        (ErrorCode.NOT_FOUND, ("remove_rows", "1")),
        (ErrorCode.INVALID_INPUT, ("set_rows", "3", "region")),
    ]


def test_an_empty_edit_is_refused() -> None:
    refusals = RegionTableEdit().refusals(DEFAULT_REGION_TABLE)

    assert [(r.code, r.field) for r in refusals] == [(ErrorCode.INVALID_INPUT, ())]


# --- D5 round 2: countries normalized with pycountry ----------------------------


@pytest.mark.parametrize(
    ("given", "code"),
    [
        # ISO 3166 codes and names
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("Germany", "DE"),
        ("United States", "US"),
        ("  united   states ", "US"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("Korea, Republic of", "KR"),
        ("Russian Federation", "RU"),
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Türkiye", "TR"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        # local names, from pycountry's translations, with or without accents
        ("Brasil", "BR"),
        ("Deutschland", "DE"),
        ("España", "ES"),
        ("Espana", "ES"),
        ("México", "MX"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Österreich", "AT"),
        ("Italia", "IT"),
        ("Polska", "PL"),
        ("Nederland", "NL"),
        ("Sverige", "SE"),
        ("Turkiye", "TR"),
        ("日本", "JP"),
        ("Côte d'Ivoire", "CI"),
        # the few common names pycountry lacks
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("England", "GB"),
        ("Great Britain", "GB"),
        ("Russia", "RU"),
        ("Turkey", "TR"),
        ("Holland", "NL"),
        ("Korea", "KR"),
        ("Ivory Coast", "CI"),
        # blank or unrecognized: no code
        (None, None),
        ("  ", None),
        ("XX", None),
        ("Narnia", None),
        ("276", None),
        ("Kosovo", None),
    ],
)
def test_a_country_is_normalized_to_its_iso_alpha_2_code(
    given: str | None, code: str | None
) -> None:
    """D5 round 2: "country input is normalized (ISO 3166 names and codes, common
    local names such as "Brasil", "Deutschland", "USA") with a maintained
    library"."""
    assert normalize_country(given) == code


def test_the_alias_map_only_holds_names_pycountry_lacks() -> None:
    for alias, code in COUNTRY_ALIASES.items():
        with pytest.raises(LookupError):
            pycountry.countries.lookup(alias)
        assert pycountry.countries.get(alpha_2=code) is not None, alias


@pytest.mark.parametrize(
    ("state", "country", "code"),
    [
        ("CA", "US", "CA"),
        ("California", "US", "CA"),
        ("arizona", "US", "AZ"),
        ("District of Columbia", "US", "DC"),
        ("Québec", "CA", "QC"),
        ("Quebec", "CA", "QC"),
        ("British Columbia", "CA", "BC"),
        ("Bayern", "DE", "BY"),
        ("ZZ", "US", "ZZ"),
        ("Texas", None, "TEXAS"),
        (" ", "US", None),
    ],
)
def test_a_state_is_normalized_to_its_iso_3166_2_code_in_its_country(
    state: str, country: str | None, code: str | None
) -> None:
    assert normalize_state(state, country) == code


def test_an_edit_names_countries_by_any_accepted_name_and_refuses_unknown_ones() -> (
    None
):
    edit = RegionTableEdit(
        set_rows=(
            RegionRow("Deutschland", "Bayern", R.APAC),
            RegionRow("Narnia", None, R.EMEA),
        )
    )

    refusals = edit.refusals(DEFAULT_REGION_TABLE)

    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.INVALID_INPUT, ("set_rows", "1", "country"))
    ]
    assert RegionTableEdit.key("Deutschland", "Bayern") == ("DE", "BY")
