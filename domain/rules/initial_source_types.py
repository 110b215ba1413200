"""Initial source types (D11): the grouping of initial sources that SAO reports use.

The handbook analyses SAOs "by initial source type" but lists no mapping, so
this table is the **decision**: each known initial source (the names the
handbook and the demo data use, matched trimmed and case-insensitively) has
one type. It is data, like the region table: a caller may pass an edited copy.

| type | what it groups |
|---|---|
| INBOUND | the person came to us: web forms, trials, GitLab.com, webcasts, |
|         | chat, organic search and social, gated content, newsletters, support |
| OUTBOUND | we went to the person: SDR/AE prospecting, CE usage data, list enrichment |
| PAID | paid channels: paid search and social, CPC, display, sponsorships |
| EVENT | people met at trade shows, conferences and field events |
| REFERRAL | referred by someone else: referrals, partners, web referrals |
| OTHER | an initial source that is not in the table |
| UNKNOWN | no initial source recorded (or "Unknown") |
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class InitialSourceType(StrEnum):
    """The group an initial source belongs to."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"
    PAID = "PAID"
    EVENT = "EVENT"
    REFERRAL = "REFERRAL"
    OTHER = "OTHER"
    UNKNOWN = "UNKNOWN"


_T = InitialSourceType

INITIAL_SOURCE_TYPES: Mapping[str, InitialSourceType] = MappingProxyType(
    {
        "Web Direct": _T.INBOUND,
        "Web": _T.INBOUND,
        "Contact Us": _T.INBOUND,
        "Trial - Enterprise": _T.INBOUND,
        "Trial - GitLab.com": _T.INBOUND,
        "GitLab.com": _T.INBOUND,
        "Professional Services": _T.INBOUND,
        "Webcast": _T.INBOUND,
        "Web Chat": _T.INBOUND,
        "Organic Search": _T.INBOUND,
        "Social Media": _T.INBOUND,
        "Gated Content": _T.INBOUND,
        "Newsletter": _T.INBOUND,
        "Support": _T.INBOUND,
        "Outbound": _T.OUTBOUND,
        "SDR Generated": _T.OUTBOUND,
        "AE Generated": _T.OUTBOUND,
        "CE Download": _T.OUTBOUND,
        "Data Enrichment": _T.OUTBOUND,
        "Paid Search": _T.PAID,
        "Paid Social": _T.PAID,
        "CPC": _T.PAID,
        "Display": _T.PAID,
        "Sponsorship": _T.PAID,
        "Trade Show": _T.EVENT,
        "Conference": _T.EVENT,
        "Field Event": _T.EVENT,
        "Referral": _T.REFERRAL,
        "Web Referral": _T.REFERRAL,
        "Partner": _T.REFERRAL,
        "Unknown": _T.UNKNOWN,
    }
)


def source_key(initial_source: str) -> str:
    """How initial sources are compared: spaces trimmed, lower case (as SQL's
    ``lower(trim(…))`` does, so the reports group exactly like this function)."""
    return initial_source.strip(" ").lower()


def initial_source_type(
    initial_source: str | None,
    table: Mapping[str, InitialSourceType] = INITIAL_SOURCE_TYPES,
) -> InitialSourceType:
    """The type of an initial source; OTHER when unlisted, UNKNOWN when none."""
    if initial_source is None or not source_key(initial_source):
        return InitialSourceType.UNKNOWN
    by_key = {source_key(name): kind for name, kind in table.items()}
    return by_key.get(source_key(initial_source), InitialSourceType.OTHER)
