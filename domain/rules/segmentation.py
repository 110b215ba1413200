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
- Countries are matched as ISO 3166-1 alpha-2 codes after normalization by
  ``normalize_country`` (D5 round 2), with the maintained ``pycountry``
  package and the ISO 3166 data it ships (no network): alpha-2 and alpha-3
  codes, the English name, official name and common name, and the local names
  of ``LOCAL_NAME_LANGUAGES`` from pycountry's ISO 3166 translations
  ("Deutschland", "Brasil", "España", "Türkiye", "日本"), compared casefolded,
  with or without accents, dots and a leading "The". ``COUNTRY_ALIASES`` holds
  only the common names pycountry lacks ("UK", "England", "Russia", "Turkey",
  "Holland", "Ivory Coast"…); a test keeps it so. Decisions: numeric codes are
  not accepted (a number in a country field is more likely a mistake); no
  fuzzy matching ("UK" fuzzily matches Ukraine and Uganda too); a local name
  two languages give to different countries is left out; "Korea" is South
  Korea (GitLab does not sell to North Korea).
- An unrecognized country gives no region (the API's null, "unknown"), which
  routing sends to pre-qualification (D8) — never the ``*`` row, which only
  covers recognized countries without a row of their own.
- States and provinces are matched as the country's ISO 3166-2 codes (the part
  after the dash, "CA" of US-CA), by code or by name ("California",
  "Québec") from pycountry's subdivisions of that country; an unknown state
  is kept as given (uppercased), so its country's row applies.
- An edit accepts the same names and stores codes; a row's country must be
  one ``normalize_country`` recognizes (or ``*``).
- The US public-sector flag wins over every row (D5), and ``PUBLIC_SECTOR``
  cannot be the region of a row: it comes from the flag alone. A flagged
  record whose country is blank or unrecognized is PUBLIC_SECTOR too (an
  address nobody can read does not contradict the flag); one with a
  recognized country other than the US is placed by its address.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType

import pycountry

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

# Common English names pycountry does not know (checked against pycountry
# 26.2.16: a test asserts it still lacks each one), as ISO 3166-1 alpha-2 codes.
COUNTRY_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "UK": "GB",
        "GREAT BRITAIN": "GB",
        "BRITAIN": "GB",
        "ENGLAND": "GB",
        "SCOTLAND": "GB",
        "WALES": "GB",
        "NORTHERN IRELAND": "GB",
        "AMERICA": "US",
        "RUSSIA": "RU",
        "TURKEY": "TR",
        "HOLLAND": "NL",
        "KOREA": "KR",
        "REPUBLIC OF KOREA": "KR",
        "UAE": "AE",
        "EMIRATES": "AE",
        "IVORY COAST": "CI",
        "SWAZILAND": "SZ",
        "BURMA": "MM",
        "MACAU": "MO",
        "CAPE VERDE": "CV",
        "EAST TIMOR": "TL",
        "DR CONGO": "CD",
        "DRC": "CD",
        "DEMOCRATIC REPUBLIC OF THE CONGO": "CD",
        "VATICAN": "VA",
        "VATICAN CITY": "VA",
        "PALESTINE": "PS",
        "MACEDONIA": "MK",
        "BRUNEI": "BN",
        "MICRONESIA": "FM",
        "PERSIA": "IR",
    }
)

# Languages whose ISO 3166 country names (pycountry's translations) are
# accepted as local names: the markets' languages, not every locale pycountry
# ships (some minor translations give one name to two countries).
LOCAL_NAME_LANGUAGES: tuple[str, ...] = (
    "de", "fr", "es", "pt", "pt_BR", "it", "nl", "pl", "sv", "da", "nb_NO",
    "fi", "cs", "sk", "hu", "ro", "tr", "el", "ru", "uk", "ja", "zh_CN",
    "zh_TW", "ko", "id", "vi", "th", "he", "ar", "hr", "sl", "bg", "et", "lv",
    "lt", "ca",
)  # fmt: skip


def _keys(name: str) -> tuple[str, ...]:
    """The forms a name is compared in: casefolded, spaces collapsed, without
    dots and a leading "the", then the same without accents."""
    key = " ".join(name.replace(".", "").split()).casefold()
    if key.startswith("the "):
        key = key[4:]
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c)
    )
    return (key,) if plain == key else (key, plain)


def _index(ranked: Iterable[Iterable[tuple[str, str]]]) -> dict[str, str]:
    """Name -> code, sources in rank order: a name keeps the code of the first
    source naming it; within one source, a name given two codes is left out."""
    index: dict[str, str] = {}
    for source in ranked:
        found: dict[str, str | None] = {}
        for name, code in source:
            for key in _keys(name):
                if key in index:
                    continue
                found[key] = code if found.get(key, code) == code else None
        index.update({k: c for k, c in found.items() if c is not None})
    return index


def _local_names() -> Iterable[tuple[str, str]]:
    """(local name, alpha-2) from pycountry's ISO 3166 translations."""
    for language in LOCAL_NAME_LANGUAGES:
        names = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
        )
        for country in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                english = getattr(country, attr, None)
                if english:
                    yield names.gettext(english), country.alpha_2


@cache
def _country_index() -> Mapping[str, str]:
    """Every accepted spelling of every country -> ISO alpha-2, built once."""
    countries = list(pycountry.countries)
    codes = [(c.alpha_2, c.alpha_2) for c in countries] + [
        (c.alpha_3, c.alpha_2) for c in countries
    ]
    english = [
        (name, c.alpha_2)
        for c in countries
        for name in (
            c.name,
            getattr(c, "official_name", None),
            getattr(c, "common_name", None),
        )
        if name
    ]
    return MappingProxyType(
        _index([codes, english, COUNTRY_ALIASES.items(), _local_names()])
    )


@cache
def _subdivision_index(country: str) -> Mapping[str, str]:
    """A country's states/provinces by ISO 3166-2 code and name -> the code after
    the dash ("california" -> "CA")."""
    subdivisions = pycountry.subdivisions.get(country_code=country) or []
    pairs = [
        (sub.code.split("-", 1)[1], sub.code.split("-", 1)[1]) for sub in subdivisions
    ]
    names = [(sub.name, sub.code.split("-", 1)[1]) for sub in subdivisions]
    return MappingProxyType(_index([pairs, names]))


@lru_cache(maxsize=4096)
def normalize_country(country: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name or code (see the module
    docstring); None when blank or not recognized."""
    if country is None or not country.strip():
        return None
    index = _country_index()
    for key in _keys(country):
        code = index.get(key)
        if code is not None:
            return code
    return None


@lru_cache(maxsize=4096)
def normalize_state(state: str | None, country: str | None = None) -> str | None:
    """The ISO 3166-2 code (after the dash) of a state or province of ``country``
    (an alpha-2 code), by code or name; else the state uppercased; None when
    blank."""
    if state is None or not state.strip():
        return None
    if country is not None:
        index = _subdivision_index(country)
        for key in _keys(state):
            code = index.get(key)
            if code is not None:
                return code
    return state.strip().upper()


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
    return table.lookup(code, normalize_state(state, code))


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
            # A row the table holds under a code pycountry does not know can
            # still be removed; setting one is refused (``refusals``).
            code = normalize_country(country) or code
        state_code = normalize_state(state, code if code != ANY_COUNTRY else None)
        return code, state_code or WHOLE_COUNTRY

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
            if code != ANY_COUNTRY and (
                not _COUNTRY_CODE.fullmatch(code)
                or (group == "set_rows" and normalize_country(country) is None)
            ):
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
