"""Lead routing (D8): the facts of a lead in, a routing decision out.

``route_lead`` applies D8's rules in order, the first match winning, after a
precondition (a passive ``GitLab.com`` lead is not routed). It names either
an assignee (an account owner) or a pool; the caller turns a pool into a user
with ``next_in_rotation`` and stores the rotation's position itself. The pool
keys, region mappings, SLA, trial length and thresholds are data in a
``RoutingTable`` that sales ops may replace with an edited copy.

Decisions where the spec is silent or contradicts the handbook:

- Order: NOT_ACTIVE (precondition), then 1 OWNED_ACCOUNT, 2 PUBLIC_SECTOR,
  3 PROFESSIONAL_SERVICES, 4 TRIAL_REQUEST, 5 CONTACT_US, 6 SCORE_AT_LEAST_50,
  else NURTURE. Because PUBLIC_SECTOR comes before TRIAL_REQUEST (the spec's
  order), a US public-sector trial goes to the public-sector SDR pool, not to
  the US/APAC BDR pool the handbook names for "US Federal" trials; the
  PUBLIC_SECTOR entry of the trial-pool table only matters if a caller's
  facts skip rule 2.
- Active: ``active_until`` later than ``now``, or one of the triggering
  engagements is itself hand-raising (a trial request makes the lead Active
  even if the caller has not stored the new ``active_until`` yet). Only the
  spec's hand-raising kinds count: trial request, high-intent live attended,
  web chat (so a passive GitLab.com lead's Contact Us alone is not routed).
- Owned account (1): the owner must be active, not the Sales Admin
  placeholder, and have a field-sales role (AE, SAL, AM, RD).
- Public sector (2): the lead's region is PUBLIC_SECTOR, or it is flagged
  public sector with a US or unknown country (as ``region_for`` decides); a
  non-US public-sector lead is routed by its region like any other.
- Professional Services (3): the account owner when the lead matched an
  account whose owner is active and not the Sales Admin placeholder (any role;
  a field-sales owner was already taken by rule 1); otherwise it is routed
  like a Contact Us request (the handbook: "treated like a Contact Us").
- A matched named account makes the lead STRATEGIC for rule 5.
- No region known: every rule needing a region sends the lead to the
  pre-qualification BDR pool. SMB Contact Us leads go to the Customer
  Advocate pool of the region group (EMEA, NCSA = LATAM + US_EAST + US_WEST,
  APAC); UNKNOWN-segment Contact Us leads go to the pre-qualification pool.
- Notifications, SLA and trial length follow the lead, not the winning rule:
  any routed lead (not NOT_ACTIVE, not NURTURE) notifies
  STRATEGIC_ACCOUNT_INBOUND when it matched a named account and
  PROFESSIONAL_SERVICES_REQUEST when a Professional Services request
  triggered it; it gets the 1-business-day SLA when a Contact Us or
  Professional Services request triggered it, and the 30-day trial length
  when a trial request did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from domain.enums import FIELD_SALES_ROLES, EngagementKind, Region, Role, SalesSegment
from domain.rules.business_days import require_utc
from domain.rules.notifications import (
    PROFESSIONAL_SERVICES_REQUEST,
    STRATEGIC_ACCOUNT_INBOUND,
)
from domain.rules.scoring import ROUTING_THRESHOLD, crossed
from domain.rules.segmentation import normalize_country

# Stable rule ids, stored on the lead with the decision.
NOT_ACTIVE = "NOT_ACTIVE"
OWNED_ACCOUNT = "OWNED_ACCOUNT"
PUBLIC_SECTOR = "PUBLIC_SECTOR"
PROFESSIONAL_SERVICES = "PROFESSIONAL_SERVICES"
TRIAL_REQUEST = "TRIAL_REQUEST"
CONTACT_US = "CONTACT_US"
SCORE_AT_LEAST_50 = "SCORE_AT_LEAST_50"
NURTURE = "NURTURE"

RULES: tuple[str, ...] = (
    NOT_ACTIVE,
    OWNED_ACCOUNT,
    PUBLIC_SECTOR,
    PROFESSIONAL_SERVICES,
    TRIAL_REQUEST,
    CONTACT_US,
    SCORE_AT_LEAST_50,
    NURTURE,
)

# Event kinds a routing decision asks the caller to raise (D10) are the
# notification kinds STRATEGIC_ACCOUNT_INBOUND and PROFESSIONAL_SERVICES_REQUEST.

_SCORE = f"score ≥ {ROUTING_THRESHOLD}"
POOLS: Mapping[str, str] = MappingProxyType(
    {
        "BDR_APAC": f"BDR round robin for APAC (Contact Us, {_SCORE})",
        "BDR_EMEA": f"EMEA BDR round robin (EMEA trials, Contact Us, {_SCORE})",
        "BDR_LATAM": f"BDR round robin for LATAM (Contact Us, {_SCORE})",
        "BDR_US_EAST": f"BDR round robin for US East (Contact Us, {_SCORE})",
        "BDR_US_WEST": f"BDR round robin for US West (Contact Us, {_SCORE})",
        "BDR_US_APAC": "US/APAC BDR round robin (APAC, NCSA and US Federal trials)",
        "BDR_PREQUALIFICATION": (
            "BDR pre-qualification (unknown segment or unknown region)"
        ),
        "CUSTOMER_ADVOCATE_EMEA": "Customer Advocates, EMEA (SMB Contact Us)",
        "CUSTOMER_ADVOCATE_NCSA": (
            "Customer Advocates, NCSA: LATAM, US East, US West (SMB Contact Us)"
        ),
        "CUSTOMER_ADVOCATE_APAC": "Customer Advocates, APAC (SMB Contact Us)",
        "PUBLIC_SECTOR_SDR": "US Public Sector SDR and inside sales team",
    }
)

DEFAULT_BDR_POOLS: Mapping[Region, str] = MappingProxyType(
    {
        Region.APAC: "BDR_APAC",
        Region.EMEA: "BDR_EMEA",
        Region.LATAM: "BDR_LATAM",
        Region.US_EAST: "BDR_US_EAST",
        Region.US_WEST: "BDR_US_WEST",
        Region.PUBLIC_SECTOR: "PUBLIC_SECTOR_SDR",
    }
)
DEFAULT_TRIAL_POOLS: Mapping[Region, str] = MappingProxyType(
    {
        Region.EMEA: "BDR_EMEA",
        Region.APAC: "BDR_US_APAC",
        Region.LATAM: "BDR_US_APAC",
        Region.US_EAST: "BDR_US_APAC",
        Region.US_WEST: "BDR_US_APAC",
        Region.PUBLIC_SECTOR: "BDR_US_APAC",
    }
)
DEFAULT_CUSTOMER_ADVOCATE_POOLS: Mapping[Region, str] = MappingProxyType(
    {
        Region.EMEA: "CUSTOMER_ADVOCATE_EMEA",
        Region.APAC: "CUSTOMER_ADVOCATE_APAC",
        Region.LATAM: "CUSTOMER_ADVOCATE_NCSA",
        Region.US_EAST: "CUSTOMER_ADVOCATE_NCSA",
        Region.US_WEST: "CUSTOMER_ADVOCATE_NCSA",
    }
)
DEFAULT_HAND_RAISING_KINDS: frozenset[EngagementKind] = frozenset(
    {
        EngagementKind.TRIAL_REQUEST,
        EngagementKind.HIGH_INTENT_LIVE_ATTENDED,
        EngagementKind.WEB_CHAT,
    }
)
# Forms that ask for sales: each one routes an unowned lead (D8).
DEFAULT_FORM_SUBMISSION_KINDS: frozenset[EngagementKind] = frozenset(
    {
        EngagementKind.TRIAL_REQUEST,
        EngagementKind.CONTACT_US_REQUEST,
        EngagementKind.PROFESSIONAL_SERVICES_REQUEST,
    }
)
DEFAULT_SLA_KINDS: frozenset[EngagementKind] = frozenset(
    {EngagementKind.CONTACT_US_REQUEST, EngagementKind.PROFESSIONAL_SERVICES_REQUEST}
)


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Routing as data: pools per region, SLA, trial length, thresholds."""

    bdr_pools: Mapping[Region, str] = field(default_factory=lambda: DEFAULT_BDR_POOLS)
    trial_pools: Mapping[Region, str] = field(
        default_factory=lambda: DEFAULT_TRIAL_POOLS
    )
    customer_advocate_pools: Mapping[Region, str] = field(
        default_factory=lambda: DEFAULT_CUSTOMER_ADVOCATE_POOLS
    )
    public_sector_pool: str = "PUBLIC_SECTOR_SDR"
    prequalification_pool: str = "BDR_PREQUALIFICATION"
    field_sales_roles: frozenset[Role] = FIELD_SALES_ROLES
    score_threshold: int = ROUTING_THRESHOLD
    sla_business_days: int = 1
    sla_kinds: frozenset[EngagementKind] = DEFAULT_SLA_KINDS
    trial_days: int = 30
    trial_grace_days: int = 30
    active_days: int = 60
    hand_raising_kinds: frozenset[EngagementKind] = DEFAULT_HAND_RAISING_KINDS
    form_submission_kinds: frozenset[EngagementKind] = DEFAULT_FORM_SUBMISSION_KINDS
    # Compared casefolded: leads from these initial sources need to be Active.
    passive_initial_sources: frozenset[str] = frozenset({"gitlab.com"})


DEFAULT_ROUTING_TABLE = RoutingTable()


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """The account a lead matched, as routing sees it."""

    id: int
    owner_id: int | None
    owner_role: Role | None = None
    owner_active: bool = False
    owner_is_sales_admin: bool = False
    is_named: bool = False


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing needs to know about a lead at the moment it is routed."""

    segment: SalesSegment
    region: Region | None
    now: datetime
    is_public_sector: bool = False
    country: str | None = None
    initial_source: str | None = None
    active_until: datetime | None = None
    person_score: int = 0
    # Kinds of the engagement(s) that triggered this routing run.
    engagement_kinds: frozenset[EngagementKind] = frozenset()
    account: AccountFacts | None = None


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Which rule routed the lead, why, to whom or which pool, and what follows."""

    rule: str
    reason: str
    assignee_user_id: int | None = None
    pool: str | None = None
    sla_business_days: int | None = None
    notify: tuple[str, ...] = ()
    trial_days: int | None = None

    @property
    def routed(self) -> bool:
        """True when the decision names an assignee or a pool."""
        return self.assignee_user_id is not None or self.pool is not None


def is_active(
    active_until: datetime | None,
    now: datetime,
    triggering_kinds: frozenset[EngagementKind] = frozenset(),
    table: RoutingTable = DEFAULT_ROUTING_TABLE,
) -> bool:
    """Active: within ``active_until``, or raising a hand right now."""
    if triggering_kinds & table.hand_raising_kinds:
        return True
    if active_until is None:
        return False
    return require_utc(active_until, "active_until") > require_utc(now, "now")


def must_be_active(
    initial_source: str | None, table: RoutingTable = DEFAULT_ROUTING_TABLE
) -> bool:
    """Leads from a passive source (GitLab.com) are routed and accepted only while
    Active (D8); compared trimmed and casefolded."""
    return (initial_source or "").strip().casefold() in table.passive_initial_sources


def active_until_after(
    current: datetime | None,
    kind: EngagementKind,
    occurred_at: datetime,
    table: RoutingTable = DEFAULT_ROUTING_TABLE,
) -> datetime | None:
    """The new ``active_until`` after an engagement; it never moves earlier."""
    at = require_utc(occurred_at, "occurred_at")
    if kind is EngagementKind.TRIAL_REQUEST:
        until: datetime | None = at + timedelta(
            days=table.trial_days + table.trial_grace_days
        )
    elif kind in table.hand_raising_kinds:
        until = at + timedelta(days=table.active_days)
    else:
        until = None
    if current is None:
        return until
    current = require_utc(current, "current")
    return current if until is None else max(current, until)


def _region_pool(
    pools: Mapping[Region, str], region: Region | None, table: RoutingTable
) -> str:
    """The pool for a region; unknown or unmapped regions go to pre-qualification."""
    if region is None:
        return table.prequalification_pool
    return pools.get(region, table.prequalification_pool)


def _is_us_public_sector(facts: RoutingFacts) -> bool:
    """A US (or country-less) public-sector lead, as ``region_for`` decides."""
    if facts.region is Region.PUBLIC_SECTOR:
        return True
    return facts.is_public_sector and normalize_country(facts.country) in (None, "US")


def _owner_may_take(account: AccountFacts | None, table: RoutingTable) -> bool:
    """True when the account has an active owner who is not the Sales Admin."""
    return (
        account is not None
        and account.owner_id is not None
        and account.owner_active
        and not account.owner_is_sales_admin
        and account.owner_role is not Role.SALES_ADMIN
    )


def territory_pool(
    segment: SalesSegment,
    region: Region | None,
    table: RoutingTable = DEFAULT_ROUTING_TABLE,
) -> tuple[str, str]:
    """(pool, reason) of a territory (segment + region), as rule 5 routes it.

    SMB → the Customer Advocates of the region; STRATEGIC, LARGE, MID_MARKET →
    the region's BDR pool; UNKNOWN segment → the pre-qualification pool.
    """
    where = region.value if region else "an unknown region"
    if segment is SalesSegment.UNKNOWN:
        return (
            table.prequalification_pool,
            "segment unknown: the BDR team pre-qualifies it",
        )
    if segment is SalesSegment.SMB:
        return (
            _region_pool(table.customer_advocate_pools, region, table),
            f"SMB segment in {where}: the region's Customer Advocates",
        )
    return (
        _region_pool(table.bdr_pools, region, table),
        f"{segment.value} segment in {where}: the region's BDR pool",
    )


def _contact_us_pool(facts: RoutingFacts, table: RoutingTable) -> tuple[str, str]:
    """(pool, reason) for a Contact Us request by segment and region."""
    segment = facts.segment
    if facts.account is not None and facts.account.is_named:
        segment = SalesSegment.STRATEGIC
    return territory_pool(segment, facts.region, table)


def _assign(facts: RoutingFacts, table: RoutingTable) -> RoutingDecision:
    """The first matching rule's rule id, reason, assignee or pool."""
    kinds = facts.engagement_kinds
    account = facts.account
    if (
        account is not None
        and _owner_may_take(account, table)
        and account.owner_role in table.field_sales_roles
    ):
        return RoutingDecision(
            OWNED_ACCOUNT,
            f"The lead matches account {account.id}, owned by an active "
            "field-sales user.",
            assignee_user_id=account.owner_id,
        )
    if _is_us_public_sector(facts):
        return RoutingDecision(
            PUBLIC_SECTOR,
            "A US public-sector lead goes to the public-sector SDR pool.",
            pool=table.public_sector_pool,
        )
    if EngagementKind.PROFESSIONAL_SERVICES_REQUEST in kinds:
        if account is not None and _owner_may_take(account, table):
            return RoutingDecision(
                PROFESSIONAL_SERVICES,
                "A Professional Services request goes to the owner of account "
                f"{account.id}.",
                assignee_user_id=account.owner_id,
            )
        pool, why = _contact_us_pool(facts, table)
        return RoutingDecision(
            PROFESSIONAL_SERVICES,
            "A Professional Services request without an active account owner is "
            f"routed like a Contact Us request; {why}.",
            pool=pool,
        )
    if EngagementKind.TRIAL_REQUEST in kinds:
        where = facts.region.value if facts.region else "an unknown region"
        return RoutingDecision(
            TRIAL_REQUEST,
            f"A trial request from {where} goes to the BDR round robin of that region.",
            pool=_region_pool(table.trial_pools, facts.region, table),
        )
    if EngagementKind.CONTACT_US_REQUEST in kinds:
        pool, why = _contact_us_pool(facts, table)
        return RoutingDecision(CONTACT_US, f"A Contact Us request, {why}.", pool=pool)
    if facts.person_score >= table.score_threshold:
        where = facts.region.value if facts.region else "an unknown region"
        return RoutingDecision(
            SCORE_AT_LEAST_50,
            f"Score {facts.person_score} is at least {table.score_threshold}: the "
            f"BDR pool of {where}.",
            pool=_region_pool(table.bdr_pools, facts.region, table),
        )
    return RoutingDecision(
        NURTURE,
        f"Score {facts.person_score} is below {table.score_threshold} and no form "
        "asks for sales: the lead stays unowned in marketing nurture.",
    )


def routing_trigger(
    *,
    owned: bool,
    last_rule: str | None,
    kind: EngagementKind,
    kinds_so_far: frozenset[EngagementKind],
    score_before: int,
    score_after: int,
    table: RoutingTable = DEFAULT_ROUTING_TABLE,
) -> frozenset[EngagementKind] | None:
    """Whether an engagement routes the lead (D8): the engagement kinds routing
    is to see, or None when it does not route.

    Only an unowned lead is routed (routing is what owns it): by a form that
    asks for sales, or by its score crossing the routing threshold, on this
    engagement; a passive lead held by routing (``NOT_ACTIVE``) once it raises
    its hand, on everything it asked for so far (e.g. its unanswered Contact Us).
    """
    if owned:
        return None
    if last_rule == NOT_ACTIVE and kind in table.hand_raising_kinds:
        return kinds_so_far
    if kind in table.form_submission_kinds or crossed(
        score_before, score_after, table.score_threshold
    ):
        return frozenset({kind})
    return None


def route_lead(
    facts: RoutingFacts, table: RoutingTable = DEFAULT_ROUTING_TABLE
) -> RoutingDecision:
    """Route a lead by D8's rules in order; the first matching rule wins."""
    if must_be_active(facts.initial_source, table) and not is_active(
        facts.active_until, facts.now, facts.engagement_kinds, table
    ):
        return RoutingDecision(
            NOT_ACTIVE,
            f"The lead's initial source is {facts.initial_source} and it is not "
            "Active: it is not routed until it raises its hand.",
        )
    decision = _assign(facts, table)
    if not decision.routed:
        return decision
    kinds = facts.engagement_kinds
    notify: list[str] = []
    if facts.account is not None and facts.account.is_named:
        notify.append(STRATEGIC_ACCOUNT_INBOUND)
    if EngagementKind.PROFESSIONAL_SERVICES_REQUEST in kinds:
        notify.append(PROFESSIONAL_SERVICES_REQUEST)
    return RoutingDecision(
        decision.rule,
        decision.reason,
        assignee_user_id=decision.assignee_user_id,
        pool=decision.pool,
        sla_business_days=table.sla_business_days if kinds & table.sla_kinds else None,
        notify=tuple(notify),
        trial_days=table.trial_days if EngagementKind.TRIAL_REQUEST in kinds else None,
    )


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """A pool member as the rotation sees it."""

    user_id: int
    active: bool = True
    out_of_office_until: datetime | None = None


def is_available(member: MemberFacts, now: datetime) -> bool:
    """Active and not out of office at ``now``."""
    if not member.active:
        return False
    if member.out_of_office_until is None:
        return True
    return require_utc(member.out_of_office_until, "out_of_office_until") <= (
        require_utc(now, "now")
    )


def next_in_rotation(
    members: Sequence[MemberFacts], last_position: int | None, now: datetime
) -> tuple[int, int] | None:
    """(user id, new position) of the next available member after the last turn."""
    require_utc(now, "now")
    count = len(members)
    if count == 0:
        return None
    start = 0 if last_position is None else (last_position + 1) % count
    for step in range(count):
        position = (start + step) % count
        if is_available(members[position], now):
            return members[position].user_id, position
    return None
