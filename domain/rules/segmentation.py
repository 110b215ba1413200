"""Sales segment and region (D5): pure functions over plain values.

The tables here are the *defaults*. They are data, not code paths: the
region table is a mapping that a caller may replace with an edited copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.enums import Region, SalesSegment

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

# Every country not listed falls back to EMEA (Europe, Middle East, Africa).
DEFAULT_COUNTRY_REGIONS: Mapping[str, Region] = MappingProxyType(
    {
        **{c: Region.APAC for c in _APAC},
        **{c: Region.LATAM for c in _LATAM},
    }
)

# (country, state/province) -> region, for the countries split by state.
DEFAULT_SUBDIVISION_REGIONS: Mapping[tuple[str, str], Region] = MappingProxyType(
    {
        **{("US", s): Region.US_WEST for s in _US_WEST_STATES},
        **{("US", s): Region.US_EAST for s in _US_EAST_STATES},
        **{("CA", p): Region.US_WEST for p in _CA_WEST_PROVINCES},
        **{("CA", p): Region.US_EAST for p in _CA_EAST_PROVINCES},
    }
)

# Countries whose region depends on the state; unknown state -> this default.
DEFAULT_SPLIT_COUNTRY_FALLBACK: Mapping[str, Region] = MappingProxyType(
    {"US": Region.US_EAST, "CA": Region.US_EAST}
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
    country_regions: Mapping[str, Region] = DEFAULT_COUNTRY_REGIONS,
    subdivision_regions: Mapping[tuple[str, str], Region] = DEFAULT_SUBDIVISION_REGIONS,
    split_fallback: Mapping[str, Region] = DEFAULT_SPLIT_COUNTRY_FALLBACK,
) -> Region | None:
    """Region from the address; US public sector wins; None when no country."""
    code = normalize_country(country)
    if is_public_sector and code in (None, "US"):
        return Region.PUBLIC_SECTOR
    if code is None:
        return None
    if code in split_fallback:
        sub = normalize_state(state)
        if sub is not None and (code, sub) in subdivision_regions:
            return subdivision_regions[(code, sub)]
        return split_fallback[code]
    return country_regions.get(code, Region.EMEA)
