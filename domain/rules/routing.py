"""Lead routing (D8): the facts of a lead in, a routing decision out.

``route_lead`` applies D8's rules in order, the first match winning, after a
precondition (a passive ``GitLab.com`` lead is not routed). It names either
an assignee (an account owner) or a pool; the caller turns a pool into a user
with ``next_in_rotation`` and stores the rotation's position itself. The pool
keys, region mappings, SLA, trial length and thresholds are data in a
``RoutingTable`` that sales ops may replace with an edited copy.

The order (D8 round 2; seed 002_91dd8e67a169a832.txt, "Lead Routing"):

0. NOT_ACTIVE (precondition): a lead whose initial source is GitLab.com and
   that is not Active is held ("are **not** to be engaged … unless they have
   taken a handraising 'active' activity").
1. NAMED_ACCOUNT: a lead of a named (strategic) account whose owner is an
   active field-sales user goes to that owner, whatever the request (seed
   000/001: "if a lead from a named account is created, it will be routed
   directly to the owner of the named account").
2. PROFESSIONAL_SERVICES: the owner of the matched account ("routed following
   `Global Account Ownership` rules"); without one, routed like a Contact Us
   request ("must be treated like a `Contact Us` request").
3. TRIAL_REQUEST: the BDR round robin of the region, "regardless of sales
   segment" and of account ownership: EMEA → EMEA BDR; APAC, NCSA and "US
   Federal and Government" (a US public-sector lead) → US/APAC BDR.
4. CONTACT_US: a US public-sector lead → the Public Sector SDR pool;
   STRATEGIC, LARGE, MID_MARKET → the region's BDR pool ("Routed to BDR for
   qualification"), even when the lead matches an owned account; SMB → the
   region's Customer Advocates; UNKNOWN → BDR pre-qualification.
5. OWNED_ACCOUNT: any other lead with score ≥ 50 matching an account owned by
   an active field-sales user → that owner (the LeanData example).
6. PUBLIC_SECTOR: any other US public-sector lead with score ≥ 50 → the Public
   Sector SDR pool.
7. SCORE_AT_LEAST_50: anything else with score ≥ 50 → the region's BDR pool;
   below 50, NURTURE (unowned, in marketing nurture).

Routing is checked every time the person score of an unowned lead is set or
changes while it is ≥ 50, creation included (seed 002: "every time a `Person
Score` is updated, LeanData will run a check"), and on every form that asks
for sales (``routing_trigger``, ``score_check_routes``).

Decisions where the handbook is silent or ambiguous:

- The detailed Business Operations rules (Contact Us by segment, Trials by
  region) win over the tech-stack pages' general example ("named account →
  owner"), which is kept for named accounts (rule 1) and for leads without a
  request (rule 5).
- Active is ``active_until`` later than ``now``; the caller computes
  ``active_until`` from when the hand-raise happened (the engagement's
  ``occurredAt``, ``active_until_after``), so a hand-raise 70 days ago does
  not make a lead Active now.
- Owners: rules 1 and 5 want an active field-sales owner (AE, SAL, AM, RD);
  rule 2 any active owner but the Sales Admin placeholder (global account
  ownership).
- Public sector: the lead's region is PUBLIC_SECTOR, or it is flagged public
  sector with a US or unknown country (as ``region_for`` decides); a
  non-US public-sector lead is routed by its region like any other.
- A matched named account makes the lead STRATEGIC for the Contact Us rule.
- No region known (no country, or one ``normalize_country`` does not know):
  every rule needing a region sends the lead to the pre-qualification BDR
  pool.
- Notifications follow the lead, not the winning rule: any routed lead
  notifies STRATEGIC_ACCOUNT_INBOUND (the SAL) when it matched a named
  account, PROFESSIONAL_SERVICES_REQUEST (SAL, SDR, Customer Success) when a
  Professional Services request triggered it, and OWNED_ACCOUNT_INBOUND (the
  account owner) when a trial or Contact Us of a lead matching an account
  that is not named, with an owner who may take it, went to a pool. The
  1-business-day SLA follows a Contact Us or Professional Services request,
  the 30-day trial length a trial request.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from domain.enums import (
    FIELD_SALES_ROLES,
    EngagementKind,
    ErrorCode,
    Region,
    Role,
    SalesSegment,
)
from domain.errors import RecordRef, Refusal
from domain.rules.business_days import require_utc
from domain.rules.notifications import (
    PROFESSIONAL_SERVICES_REQUEST,
    STRATEGIC_ACCOUNT_INBOUND,
    Person,
    Recipient,
)
from domain.rules.scoring import ROUTING_THRESHOLD
from domain.rules.segmentation import normalize_country

# Stable rule ids, stored on the lead with the decision.
NOT_ACTIVE = "NOT_ACTIVE"
NAMED_ACCOUNT = "NAMED_ACCOUNT"
PROFESSIONAL_SERVICES = "PROFESSIONAL_SERVICES"
TRIAL_REQUEST = "TRIAL_REQUEST"
CONTACT_US = "CONTACT_US"
OWNED_ACCOUNT = "OWNED_ACCOUNT"
PUBLIC_SECTOR = "PUBLIC_SECTOR"
SCORE_AT_LEAST_50 = "SCORE_AT_LEAST_50"
NURTURE = "NURTURE"

# In the order they are tried (the precondition first, NURTURE when none match).
RULES: tuple[str, ...] = (
    NOT_ACTIVE,
    NAMED_ACCOUNT,
    PROFESSIONAL_SERVICES,
    TRIAL_REQUEST,
    CONTACT_US,
    OWNED_ACCOUNT,
    PUBLIC_SECTOR,
    SCORE_AT_LEAST_50,
    NURTURE,
)

# Event kinds a routing decision asks the caller to raise (D10): the account-team
# notifications STRATEGIC_ACCOUNT_INBOUND and PROFESSIONAL_SERVICES_REQUEST
# (``domain.rules.notifications``), and this one, addressed to the owner of the
# matched account when its lead's trial or Contact Us went to a pool (D8 3, 4).
OWNED_ACCOUNT_INBOUND = "OWNED_ACCOUNT_INBOUND"
ACCOUNT_OWNER = "ACCOUNT_OWNER"

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
    # How reasons name it (a routing reason is kept with the lead: no ids in it).
    name: str = ""


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


def is_active(active_until: datetime | None, now: datetime) -> bool:
    """Active: ``now`` is before ``active_until`` — which ``active_until_after``
    computes from when the hand-raise happened, not when it was recorded."""
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
    """(pool, reason) for a Contact Us request: US public sector, else by segment
    and region."""
    if _is_us_public_sector(facts):
        return (
            table.public_sector_pool,
            "a US public-sector lead: the public-sector SDR pool",
        )
    segment = facts.segment
    if facts.account is not None and facts.account.is_named:
        segment = SalesSegment.STRATEGIC
    return territory_pool(segment, facts.region, table)


def _assign(facts: RoutingFacts, table: RoutingTable) -> RoutingDecision:
    """The first matching rule's rule id, reason, assignee or pool."""
    kinds = facts.engagement_kinds
    account = facts.account
    field_sales_owner = (
        account is not None
        and _owner_may_take(account, table)
        and account.owner_role in table.field_sales_roles
    )
    if account is not None and account.is_named and field_sales_owner:
        return RoutingDecision(
            NAMED_ACCOUNT,
            f"The lead matches named account {account.name!r}: its owner takes it, "
            "whatever the request.",
            assignee_user_id=account.owner_id,
        )
    if EngagementKind.PROFESSIONAL_SERVICES_REQUEST in kinds:
        if account is not None and _owner_may_take(account, table):
            return RoutingDecision(
                PROFESSIONAL_SERVICES,
                "A Professional Services request goes to the owner of account "
                f"{account.name!r}.",
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
            f"A trial request from {where} goes to the BDR round robin of that "
            "region, regardless of segment and account ownership.",
            pool=_region_pool(table.trial_pools, facts.region, table),
        )
    if EngagementKind.CONTACT_US_REQUEST in kinds:
        pool, why = _contact_us_pool(facts, table)
        return RoutingDecision(CONTACT_US, f"A Contact Us request, {why}.", pool=pool)
    if facts.person_score < table.score_threshold:
        return RoutingDecision(
            NURTURE,
            f"Score {facts.person_score} is below {table.score_threshold} and no "
            "form asks for sales: the lead stays unowned in marketing nurture.",
        )
    if account is not None and field_sales_owner:
        return RoutingDecision(
            OWNED_ACCOUNT,
            f"The lead matches account {account.name!r}, owned by an active "
            "field-sales user.",
            assignee_user_id=account.owner_id,
        )
    if _is_us_public_sector(facts):
        return RoutingDecision(
            PUBLIC_SECTOR,
            "A US public-sector lead goes to the public-sector SDR pool.",
            pool=table.public_sector_pool,
        )
    where = facts.region.value if facts.region else "an unknown region"
    return RoutingDecision(
        SCORE_AT_LEAST_50,
        f"Score {facts.person_score} is at least {table.score_threshold}: the "
        f"BDR pool of {where}.",
        pool=_region_pool(table.bdr_pools, facts.region, table),
    )


def score_check_routes(
    *,
    owned: bool,
    score_before: int | None,
    score_after: int,
    table: RoutingTable = DEFAULT_ROUTING_TABLE,
) -> bool:
    """Whether a score routes the lead (D6, D8): an unowned lead whose score is
    set (``score_before`` None: the lead is being created) or changes while it is
    at or above the routing threshold ("every time a `Person Score` is updated,
    LeanData will run a check")."""
    return (
        not owned
        and score_after >= table.score_threshold
        and score_after != score_before
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
    asks for sales, or by its score changing while at or above the routing
    threshold (``score_check_routes``), on this engagement; a passive lead held
    by routing (``NOT_ACTIVE``) once it raises its hand, on everything it asked
    for so far (e.g. its unanswered Contact Us).
    """
    if owned:
        return None
    if last_rule == NOT_ACTIVE and kind in table.hand_raising_kinds:
        return kinds_so_far
    if kind in table.form_submission_kinds or score_check_routes(
        owned=owned, score_before=score_before, score_after=score_after, table=table
    ):
        return frozenset({kind})
    return None


def route_lead(
    facts: RoutingFacts, table: RoutingTable = DEFAULT_ROUTING_TABLE
) -> RoutingDecision:
    """Route a lead by D8's rules in order; the first matching rule wins."""
    if must_be_active(facts.initial_source, table) and not is_active(
        facts.active_until, facts.now
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
    elif (
        decision.rule in (TRIAL_REQUEST, CONTACT_US)
        and facts.account is not None
        and _owner_may_take(facts.account, table)
    ):
        notify.append(OWNED_ACCOUNT_INBOUND)
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


def account_owner_recipients(owner: Person | None) -> list[Recipient]:
    """Who hears of OWNED_ACCOUNT_INBOUND: the account's owner, when active (the
    account team's notifications are ``notifications.account_team_recipients``)."""
    if owner is None or not owner.active:
        return []
    return [Recipient(owner.user_id, ACCOUNT_OWNER)]


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
    members: Sequence[MemberFacts],
    last_position: int | None,
    now: datetime,
    passed_over: Collection[int] = (),
) -> tuple[int, int] | None:
    """(user id, new position) of the next available member after the last turn.

    ``passed_over``: members to skip while another one is available (a lead
    that timed out is not handed back to the rep who let it, issue 14 item
    4); when nobody else is, the rotation goes on as usual."""
    require_utc(now, "now")
    count = len(members)
    if count == 0:
        return None
    start = 0 if last_position is None else (last_position + 1) % count
    for skipping in (frozenset(passed_over), frozenset()):
        for step in range(count):
            position = (start + step) % count
            member = members[position]
            if member.user_id not in skipping and is_available(member, now):
                return member.user_id, position
        if not skipping:
            break
    return None


def member_refusals(user_ids: Sequence[int], existing: set[int]) -> list[Refusal]:
    """Every reason a pool's new member list is refused, each under its index."""
    found: list[Refusal] = []
    for index, user_id in enumerate(user_ids):
        where = ("user_ids", str(index))
        ref = RecordRef("User", user_id)
        if user_id not in existing:
            found.append(Refusal(ErrorCode.NOT_FOUND, f"No such record: {ref}.", where))
        elif user_id in user_ids[:index]:
            found.append(
                Refusal(ErrorCode.INVALID_INPUT, f"User {ref} is listed twice.", where)
            )
    return found
