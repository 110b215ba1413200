"""Sales segment and region (D5): pure functions over plain values.

The tables here are the *defaults*. They are data, not code paths: the
region table (``RegionTable``) is stored in the database as a versioned table
that sales ops edit (``domain.services.region_table``); ``region_for`` takes
the current one as a parameter.

A region table maps (country, state/province) to a region. A row without a
state covers the whole country; the row of country ``*`` covers every country
without a row of its own. Decisions where the spec is silent:

- Lookup: the row of the country and state, else the country's own row, else
  the ``*`` row, else no region (null). The default table has a ``*`` row
  (EMEA: Europe, Middle East and Africa are every country not listed as APAC,
  LATAM or North America), a row per US state, DC and territory, a row per
  Canadian province and territory, and rows for the US and Canada without a
  state (US_EAST) for an unknown or missing state.
- Any country may be split by state (not only the US and Canada): a state row
  wins over its country's row wherever it is.
- Countries and states are matched as ISO codes after the aliases below
  ("United States" → US, "California" → CA); an edit accepts the same names.
- The US public-sector flag wins over every row (D5), and ``PUBLIC_SECTOR``
  cannot be the region of a row: it comes from the flag alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.enums import ErrorCode, Region, SalesSegment
from domain.errors import Refusal

LARGE_MIN_EMPLOYEES = 2_000
MID_MARKET_MIN_EMPLOYEES = 100


def sales_segment_for(
    number_of_employees: int | None, *, is_named: bool = False
) -> SalesSegment:
    """Segment from total employees; a named account is STRATEGIC."""
    if is_named:
        return SalesSegment.STRATEGIC
    if number_of_employees is None or number_of_employees < 0:
        return SalesSegment.UNKNOWN
    if number_of_employees >= LARGE_MIN_EMPLOYEES:
        return SalesSegment.LARGE
    if number_of_employees >= MID_MARKET_MIN_EMPLOYEES:
        return SalesSegment.MID_MARKET
    return SalesSegment.SMB


SEGMENT_RANK: Mapping[SalesSegment, int] = MappingProxyType(
    {
        SalesSegment.STRATEGIC: 4,
        SalesSegment.LARGE: 3,
        SalesSegment.MID_MARKET: 2,
        SalesSegment.SMB: 1,
        SalesSegment.UNKNOWN: 0,
    }
)

_US_WEST_STATES = [
    "AK",
    "AZ",
    "CA",
    "CO",
    "HI",
    "ID",
    "KS",
    "MT",
    "ND",
    "NE",
    "NM",
    "NV",
    "OK",
    "OR",
    "SD",
    "TX",
    "UT",
    "WA",
    "WY",
]
_US_EAST_STATES = [
    "AL",
    "AR",
    "CT",
    "DC",
    "DE",
    "FL",
    "GA",
    "IA",
    "IL",
    "IN",
    "KY",
    "LA",
    "MA",
    "MD",
    "ME",
    "MI",
    "MN",
    "MO",
    "MS",
    "NC",
    "NH",
    "NJ",
    "NY",
    "OH",
    "PA",
    "RI",
    "SC",
    "TN",
    "VA",
    "VT",
    "WI",
    "WV",
    "PR",
    "VI",
    "GU",
    "AS",
    "MP",
]
_CA_WEST_PROVINCES = ["AB", "BC", "NT", "NU", "SK", "YT"]
_CA_EAST_PROVINCES = ["MB", "NB", "NL", "NS", "ON", "PE", "QC"]

_APAC = [
    "AU",
    "BD",
    "BN",
    "BT",
    "CN",
    "FJ",
    "HK",
    "ID",
    "IN",
    "JP",
    "KH",
    "KR",
    "LA",
    "LK",
    "MM",
    "MN",
    "MO",
    "MV",
    "MY",
    "NP",
    "NZ",
    "PG",
    "PH",
    "PK",
    "SB",
    "SG",
    "TH",
    "TL",
    "TO",
    "TW",
    "VN",
    "VU",
    "WS",
]
_LATAM = [
    "AR",
    "BO",
    "BR",
    "BZ",
    "CL",
    "CO",
    "CR",
    "CU",
    "DO",
    "EC",
    "GT",
    "GY",
    "HN",
    "HT",
    "JM",
    "MX",
    "NI",
    "PA",
    "PE",
    "PY",
    "SR",
    "SV",
    "TT",
    "UY",
    "VE",
    "BS",
    "BB",
    "AG",
    "DM",
    "GD",
    "KN",
    "LC",
    "VC",
]

ANY_COUNTRY = "*"
# The state key of a row that covers a whole country.
WHOLE_COUNTRY = ""

RegionKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RegionRow:
    """One row of the region table: a country (or ``*``), a state or None, a region."""

    country: str
    state: str | None
    region: Region


@dataclass(frozen=True, slots=True)
class RegionTable:
    """Region by (country, state) as data; see the module docstring for lookup."""

    regions: Mapping[RegionKey, Region]
    version: int = 1

    def lookup(self, country: str, state: str | None) -> Region | None:
        """The region of a normalized country code and state code."""
        if state is not None:
            found = self.regions.get((country, state))
            if found is not None:
                return found
        found = self.regions.get((country, WHOLE_COUNTRY))
        if found is not None:
            return found
        return self.regions.get((ANY_COUNTRY, WHOLE_COUNTRY))

    def rows(self) -> tuple[RegionRow, ...]:
        """Every row, ``*`` first, then by country and state (country rows first)."""
        return tuple(
            RegionRow(country, state or None, region)
            for (country, state), region in sorted(
                self.regions.items(),
                key=lambda item: (item[0][0] != ANY_COUNTRY, item[0]),
            )
        )


def region_table_of(rows: Iterable[RegionRow], version: int = 1) -> RegionTable:
    """A region table from its rows."""
    return RegionTable(
        regions=MappingProxyType(
            {(r.country, r.state or WHOLE_COUNTRY): r.region for r in rows}
        ),
        version=version,
    )


DEFAULT_REGION_TABLE = region_table_of(
    [
        RegionRow(ANY_COUNTRY, None, Region.EMEA),
        *(RegionRow(c, None, Region.APAC) for c in _APAC),
        *(RegionRow(c, None, Region.LATAM) for c in _LATAM),
        RegionRow("US", None, Region.US_EAST),
        *(RegionRow("US", s, Region.US_WEST) for s in _US_WEST_STATES),
        *(RegionRow("US", s, Region.US_EAST) for s in _US_EAST_STATES),
        RegionRow("CA", None, Region.US_EAST),
        *(RegionRow("CA", p, Region.US_WEST) for p in _CA_WEST_PROVINCES),
        *(RegionRow("CA", p, Region.US_EAST) for p in _CA_EAST_PROVINCES),
    ]
)

# Common spellings seen in real data mapped to ISO 3166-1 alpha-2 codes.
COUNTRY_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "UNITED STATES": "US",
        "UNITED STATES OF AMERICA": "US",
        "USA": "US",
        "U.S.": "US",
        "U.S.A.": "US",
        "AMERICA": "US",
        "CANADA": "CA",
        "UNITED KINGDOM": "GB",
        "UK": "GB",
        "GREAT BRITAIN": "GB",
        "ENGLAND": "GB",
        "GERMANY": "DE",
        "FRANCE": "FR",
        "NETHERLANDS": "NL",
        "BELGIUM": "BE",
        "ITALY": "IT",
        "SPAIN": "ES",
        "NORWAY": "NO",
        "SWEDEN": "SE",
        "DENMARK": "DK",
        "SWITZERLAND": "CH",
        "POLAND": "PL",
        "ROMANIA": "RO",
        "IRELAND": "IE",
        "RUSSIA": "RU",
        "JORDAN": "JO",
        "KENYA": "KE",
        "NIGERIA": "NG",
        "SOUTH AFRICA": "ZA",
        "GHANA": "GH",
        "UGANDA": "UG",
        "TANZANIA": "TZ",
        "LIBERIA": "LR",
        "UNITED ARAB EMIRATES": "AE",
        "SAUDI ARABIA": "SA",
        "QATAR": "QA",
        "BAHRAIN": "BH",
        "OMAN": "OM",
        "KUWAIT": "KW",
        "ISRAEL": "IL",
        "INDIA": "IN",
        "CHINA": "CN",
        "JAPAN": "JP",
        "KOREA": "KR",
        "SOUTH KOREA": "KR",
        "SINGAPORE": "SG",
        "AUSTRALIA": "AU",
        "NEW ZEALAND": "NZ",
        "HONG KONG": "HK",
        "PHILIPPINES": "PH",
        "PHILIPINES": "PH",
        "MALAYSIA": "MY",
        "INDONESIA": "ID",
        "VIETNAM": "VN",
        "BANGLADESH": "BD",
        "SRI LANKA": "LK",
        "BRAZIL": "BR",
        "MEXICO": "MX",
        "ARGENTINA": "AR",
        "CHILE": "CL",
        "COLOMBIA": "CO",
        "PANAMA": "PA",
        "PERU": "PE",
    }
)

STATE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "CALIFORNIA": "CA",
        "TEXAS": "TX",
        "WASHINGTON": "WA",
        "OREGON": "OR",
        "NEW YORK": "NY",
        "MASSACHUSETTS": "MA",
        "FLORIDA": "FL",
        "ILLINOIS": "IL",
        "COLORADO": "CO",
        "GEORGIA": "GA",
        "VIRGINIA": "VA",
        "DISTRICT OF COLUMBIA": "DC",
        "BRITISH COLUMBIA": "BC",
        "ALBERTA": "AB",
        "ONTARIO": "ON",
        "QUEBEC": "QC",
    }
)


def normalize_country(country: str | None) -> str | None:
    """ISO alpha-2 code for a country name or code; None when blank."""
    if country is None or not country.strip():
        return None
    key = country.strip().upper()
    return COUNTRY_ALIASES.get(key, key)


def normalize_state(state: str | None) -> str | None:
    """Two-letter code for a US state / Canadian province name or code."""
    if state is None or not state.strip():
        return None
    key = state.strip().upper()
    return STATE_ALIASES.get(key, key)


def region_for(
    country: str | None,
    state: str | None = None,
    *,
    is_public_sector: bool = False,
    table: RegionTable = DEFAULT_REGION_TABLE,
) -> Region | None:
    """Region from the address by the table; US public sector wins; None when no
    country (or no row applies)."""
    code = normalize_country(country)
    if is_public_sector and code in (None, "US"):
        return Region.PUBLIC_SECTOR
    if code is None:
        return None
    return table.lookup(code, normalize_state(state))


_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_STATE_CODE = re.compile(r"[A-Z0-9]{1,3}")


@dataclass(frozen=True, slots=True)
class RegionTableEdit:
    """A sales-ops edit of the region table: rows to add or change, rows to remove.

    Countries and states may be given as codes or as the names the aliases
    know ("Canada", "British Columbia"); they are stored as codes.
    """

    set_rows: tuple[RegionRow, ...] = ()
    remove_rows: tuple[tuple[str, str | None], ...] = ()

    @staticmethod
    def key(country: str, state: str | None) -> RegionKey:
        """The normalized (country, state) key of an input row."""
        code = country.strip().upper()
        if code != ANY_COUNTRY:
            code = normalize_country(country) or ""
        return code, normalize_state(state) or WHOLE_COUNTRY

    def refusals(self, table: RegionTable) -> list[Refusal]:
        """Every reason the edit is invalid for ``table``."""
        found: list[Refusal] = []
        if not self.set_rows and not self.remove_rows:
            found.append(
                Refusal.on(
                    None,
                    ErrorCode.INVALID_INPUT,
                    "Nothing to change: give rows to set or to remove.",
                )
            )
        keys: dict[RegionKey, str] = {}
        entries = [
            ("set_rows", i, row.country, row.state)
            for i, row in enumerate(self.set_rows)
        ] + [
            ("remove_rows", i, country, state)
            for i, (country, state) in enumerate(self.remove_rows)
        ]
        for group, i, country, state in entries:
            where = (group, str(i))
            key = self.key(country, state)
            code, sub = key
            if code != ANY_COUNTRY and not _COUNTRY_CODE.fullmatch(code):
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=f"{country!r} is not a country code (ISO 3166-1 "
                        "alpha-2, e.g. DE) or * for every other country.",
                        field=(*where, "country"),
                    )
                )
            if sub and (code == ANY_COUNTRY or not _STATE_CODE.fullmatch(sub)):
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=(
                            "The * row covers whole countries and has no state."
                            if code == ANY_COUNTRY
                            else f"{state!r} is not a state or province code "
                            "(1 to 3 letters or digits, e.g. CA)."
                        ),
                        field=(*where, "state"),
                    )
                )
            if key in keys:
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=f"The row {_show(key)} is given twice.",
                        field=where,
                    )
                )
            keys[key] = group
            if group == "remove_rows" and key not in table.regions:
                found.append(
                    Refusal(
                        code=ErrorCode.NOT_FOUND,
                        message=f"There is no row {_show(key)} to remove.",
                        field=where,
                    )
                )
        for i, row in enumerate(self.set_rows):
            if row.region is Region.PUBLIC_SECTOR:
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message="PUBLIC_SECTOR comes from the public-sector flag, "
                        "not from an address; choose another region.",
                        field=("set_rows", str(i), "region"),
                    )
                )
        return found

    def applied_to(self, table: RegionTable) -> RegionTable:
        """The next version of ``table`` with this (valid) edit applied."""
        regions = dict(table.regions)
        for country, state in self.remove_rows:
            regions.pop(self.key(country, state), None)
        for row in self.set_rows:
            regions[self.key(row.country, row.state)] = row.region
        return RegionTable(regions=MappingProxyType(regions), version=table.version + 1)


def _show(key: RegionKey) -> str:
    """A row key for people: "US/CA", "DE", "*"."""
    country, state = key
    return f"{country}/{state}" if state else country
