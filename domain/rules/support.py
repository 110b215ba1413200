"""Support hand-off (D13): a ticket's facts in, who gets it and why out.

``decide_hand_off`` applies the D13 workflow to facts the service gathered
(the account the requester's email belongs to, its owner, its open renewal
opportunity). It names either an assignee (an owner) or a pool (a
territory), which the caller turns into a user with the routing rotation
(``domain.services.routing.take_turn``), or it answers "new sales quote".
The roles that count as a sales rep, the territories and the lead source
are data in a ``HandOffTable``.

Decisions where the spec is silent:

- The account is found by the email's domain exactly as a lead is matched
  (``domain.rules.matching``: the domain or a parent domain, never a
  free-mail domain); when no domain matches, a contact with this exact email
  names its account (so a customer writing from a free-mail address is still
  found). Any account type counts, not only prospects: a new-business ticket
  from a customer's domain goes to that account's owner too (global account
  ownership).
- An owner "contains a sales rep" when the user is active and has a selling
  role (SDR, BDR, AE, SAL, AM, RD, CUSTOMER_ADVOCATE, CUSTOMER_SUCCESS); the
  Sales Admin placeholder, SALES_OPS, MARKETING_OPS and ADMIN owners do not
  take tickets, nor does an inactive owner. Out-of-office owners still do (the
  account stays theirs).
- A territory (segment + billing region) maps to users through the routing
  pools, as a Contact Us request from that account is routed (D8 rule 5):
  SMB → the region's Customer Advocates, STRATEGIC/LARGE/MID_MARKET → the
  region's BDR pool, UNKNOWN segment or region → BDR pre-qualification; a US
  public-sector account → the public-sector SDR pool (D8 rule 2). The pool's
  round robin picks the user.
- RENEWAL: the open renewal opportunity is the one with the earliest close
  date (undated last, then lowest id). Its owner takes the ticket when it is
  a sales rep as above; otherwise (the Sales Admin placeholder, nobody, an
  inactive or non-selling user) the SMB territory of the account's region
  does. With no open renewal, the account owner takes the ticket when a
  sales rep, else the SMB territory. With no account at all a renewal is
  refused (NOT_FOUND on requesterEmail): there is no customer to renew.
- Customer vs prospect (round 2; the handbook: "Note the Type field in the
  SFDC account record (Customer vs. Prospect)"): the account's type, kept by
  won deals (``domain.rules.customers``), is read and named in every reason
  ("Customer account Acme (3) …", "Prospect account …"). It does not change
  who takes the ticket: a new-business request from a customer's domain is an
  add-on for its owner (global account ownership), as above.
- Escalation reasons are accepted for either kind, deduplicated and kept in
  the enum's order; a hand-off with at least one reason is escalated. Its
  age runs from when it was passed until it is resolved.
- Who resolves a hand-off: the user who passed it, its assignee, SALES_OPS or
  ADMIN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.enums import (
    AccountType,
    ErrorCode,
    EscalationReason,
    HandOffRule,
    Region,
    Role,
    SalesSegment,
    SupportTicketKind,
)
from domain.errors import Refusal
from domain.rules.business_days import require_utc
from domain.rules.permissions import Actor, Operation, Relation, refusals
from domain.rules.routing import DEFAULT_ROUTING_TABLE, RoutingTable, territory_pool

DEFAULT_SELLING_ROLES: frozenset[Role] = frozenset(
    {
        Role.SDR,
        Role.BDR,
        Role.AE,
        Role.SAL,
        Role.AM,
        Role.RD,
        Role.CUSTOMER_ADVOCATE,
        Role.CUSTOMER_SUCCESS,
    }
)


@dataclass(frozen=True, slots=True)
class HandOffTable:
    """The hand-off as data: who is a sales rep, the territories, the lead source."""

    selling_roles: frozenset[Role] = DEFAULT_SELLING_ROLES
    routing: RoutingTable = field(default_factory=lambda: DEFAULT_ROUTING_TABLE)
    # A renewal without a sales-rep owner goes to this segment's territory.
    renewal_fallback_segment: SalesSegment = SalesSegment.SMB
    # The lead a "new sales quote" creates (D4: the first known touch).
    lead_source: str = "Support"
    initial_source: str = "Support"


DEFAULT_HAND_OFF_TABLE = HandOffTable()


@dataclass(frozen=True, slots=True)
class OwnerFacts:
    """The owner of an account or opportunity, as the hand-off sees them."""

    user_id: int
    role: Role
    active: bool = True
    name: str = ""


MatchedBy = Literal["DOMAIN", "CONTACT"]


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """The account the requester belongs to."""

    id: int
    name: str
    segment: SalesSegment
    region: Region | None
    owner: OwnerFacts | None
    matched_by: MatchedBy = "DOMAIN"
    type: AccountType = AccountType.PROSPECT


@dataclass(frozen=True, slots=True)
class RenewalFacts:
    """The account's open renewal opportunity."""

    opportunity_id: int
    owner: OwnerFacts | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the hand-off needs to know about a ticket."""

    kind: SupportTicketKind
    domain: str
    free_mail: bool
    account: AccountFacts | None = None
    renewal: RenewalFacts | None = None


@dataclass(frozen=True, slots=True)
class HandOffDecision:
    """Which rule decided, why, and to whom or which pool the ticket goes."""

    rule: HandOffRule
    reason: str
    assignee_user_id: int | None = None
    pool: str | None = None
    account_id: int | None = None
    opportunity_id: int | None = None

    @property
    def new_sales_quote(self) -> bool:
        """True when the answer is a new sales quote (no account)."""
        return self.rule is HandOffRule.NEW_SALES_QUOTE


def normalize_reasons(reasons: Iterable[EscalationReason]) -> list[EscalationReason]:
    """The reasons without repeats, in the enum's order."""
    given = set(reasons)
    return [r for r in EscalationReason if r in given]


def why_owner_cannot_take(
    owner: OwnerFacts | None, table: HandOffTable = DEFAULT_HAND_OFF_TABLE
) -> str | None:
    """None when the owner is a sales rep who takes tickets, else why not."""
    if owner is None:
        return "has no owner"
    if owner.role is Role.SALES_ADMIN:
        return "is owned by the Sales Admin placeholder"
    if not owner.active:
        return "is owned by an inactive user" + (
            f" ({owner.name})" if owner.name else ""
        )
    if owner.role not in table.selling_roles:
        return f"is owned by a user with role {owner.role.value}, not a sales rep"
    return None


def territory(
    segment: SalesSegment,
    region: Region | None,
    table: HandOffTable = DEFAULT_HAND_OFF_TABLE,
) -> tuple[str, str]:
    """(pool, reason) of a territory, routed like a Contact Us request (D8)."""
    if region is Region.PUBLIC_SECTOR:
        return (
            table.routing.public_sector_pool,
            "a US public-sector account: the public-sector SDR pool",
        )
    return territory_pool(segment, region, table.routing)


def hand_off_refusals(facts: TicketFacts) -> list[Refusal]:
    """Why the ticket cannot be passed at all: a renewal needs an account."""
    if facts.kind is not SupportTicketKind.RENEWAL or facts.account is not None:
        return []
    if facts.free_mail:
        why = f"{facts.domain} is a free-mail domain and no contact has this email"
    else:
        why = f"No account has the domain {facts.domain} and no contact has this email"
    return [
        Refusal.on(
            "requester_email",
            ErrorCode.NOT_FOUND,
            f"{why}: a renewal needs the customer's account. Find the account, or "
            "pass the ticket as NEW_BUSINESS.",
        )
    ]


def _found(account: AccountFacts, domain: str) -> str:
    how = (
        f"the domain {domain}"
        if account.matched_by == "DOMAIN"
        else "a contact with this email"
    )
    kind = account.type.value.replace("_", " ").capitalize()
    return f"{kind} account {account.name!r}, found by {how},"


def _new_business(facts: TicketFacts, table: HandOffTable) -> HandOffDecision:
    account = facts.account
    if account is None:
        why = (
            f"{facts.domain} is a free-mail domain, so no account can match it"
            if facts.free_mail
            else f"No account matches {facts.domain}"
        )
        return HandOffDecision(
            HandOffRule.NEW_SALES_QUOTE,
            f"{why}: answer with a new sales quote; a lead with lead source "
            f"{table.lead_source} tracks the request.",
        )
    why_not = why_owner_cannot_take(account.owner, table)
    if why_not is None:
        assert account.owner is not None
        return HandOffDecision(
            HandOffRule.ACCOUNT_OWNER,
            f"{_found(account, facts.domain)} is owned by a sales rep, who takes "
            "the ticket.",
            assignee_user_id=account.owner.user_id,
            account_id=account.id,
        )
    pool, where = territory(account.segment, account.region, table)
    return HandOffDecision(
        HandOffRule.TERRITORY,
        f"{_found(account, facts.domain)} {why_not}: its territory decides, {where}.",
        pool=pool,
        account_id=account.id,
    )


def _renewal(facts: TicketFacts, table: HandOffTable) -> HandOffDecision:
    account = facts.account
    assert account is not None, "hand_off_refusals refuses a renewal without account"
    renewal = facts.renewal
    found = _found(account, facts.domain)
    if renewal is not None:
        why_not = why_owner_cannot_take(renewal.owner, table)
        if why_not is None:
            assert renewal.owner is not None
            return HandOffDecision(
                HandOffRule.RENEWAL_OWNER,
                f"{found} has the open renewal opportunity {renewal.name!r}; "
                "its owner takes the ticket.",
                assignee_user_id=renewal.owner.user_id,
                account_id=account.id,
                opportunity_id=renewal.opportunity_id,
            )
        situation = f"has the open renewal opportunity {renewal.name!r}, which"
        opportunity_id: int | None = renewal.opportunity_id
    else:
        why_not = why_owner_cannot_take(account.owner, table)
        if why_not is None:
            assert account.owner is not None
            return HandOffDecision(
                HandOffRule.RENEWAL_ACCOUNT_OWNER,
                f"{found} has no open renewal opportunity; the account owner takes "
                "the ticket.",
                assignee_user_id=account.owner.user_id,
                account_id=account.id,
            )
        situation = "has no open renewal opportunity, and the account"
        opportunity_id = None
    pool, where = territory(table.renewal_fallback_segment, account.region, table)
    return HandOffDecision(
        HandOffRule.SMB_TERRITORY,
        f"{found} {situation} {why_not}: the "
        f"{table.renewal_fallback_segment.value} territory decides, {where}.",
        pool=pool,
        account_id=account.id,
        opportunity_id=opportunity_id,
    )


def decide_hand_off(
    facts: TicketFacts, table: HandOffTable = DEFAULT_HAND_OFF_TABLE
) -> HandOffDecision:
    """Who gets the ticket (D13); call only when ``hand_off_refusals`` is empty."""
    if facts.kind is SupportTicketKind.RENEWAL:
        return _renewal(facts, table)
    return _new_business(facts, table)


def age_seconds(passed_at: datetime, resolved_at: datetime | None, at: datetime) -> int:
    """Whole seconds a hand-off has been open at ``at`` (it stops when resolved)."""
    end = require_utc(at, "at")
    if resolved_at is not None:
        end = min(end, require_utc(resolved_at, "resolved_at"))
    return max(0, int((end - require_utc(passed_at, "passed_at")).total_seconds()))


def may_resolve_hand_off(
    actor: Actor, passed_by_id: int | None, assignee_id: int | None
) -> list[Refusal]:
    """The user who passed it, its assignee, SALES_OPS or ADMIN resolve a hand-off."""
    mine = actor.id in (passed_by_id, assignee_id)
    return refusals(
        actor,
        Operation.RESOLVE_SUPPORT_HAND_OFF,
        Relation.OWNER if mine else Relation.OTHER,
    )
