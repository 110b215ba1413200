"""Who is told (D10): the recipients of alerts and notifications, as pure rules.

An event is addressed to users, each in a *capacity* that says why they are
told. Decisions where the spec is silent:

- An account's SAL is its owner when the owner's role is SAL, plus every team
  member with the SAL role. Its SDR and its Customer Success manager are the
  team members with the SDR and CUSTOMER_SUCCESS roles (``AccountTeamMember``;
  the handbook's "GitLab Team" on the account).
- Inactive users are never addressed (they get no new work, like round robin).
- A user is addressed once per event, in the first capacity that names them
  (the capacities are tried in the order the event kind lists them).
- Strategic-account inbound (D8 rule 1 with a named account) goes to the SAL;
  a Professional Services request (D8 rule 3) to the SAL, the SDR and the
  Customer Success manager (the handbook: "Notification of form submission
  will be sent to the SAL and SDR as well as Customer Success manager").
- A Sales Admin adoption alert (D8, D12) goes to every active SALES_OPS user
  but the adopter: they keep ownership clean.
- An owner change (an assignment or an ownership transfer) tells the new owner
  and the previous owner, except whoever made the change.

Round 2 (D10; every event names its recipients):

- A manager (``managers_of``): users carry no reporting line, so a field
  sales rep's (AE, SAL, AM) manager is the active RD (Regional Director) of
  the rep's region; a BDR/SDR team lead is not a role, so for them — and for
  an RD, a rep without a region or a region without an RD — SALES_OPS stands
  in: every active SALES_OPS user.
- Converting a lead (D7) tells every owner on the account — the account
  owner, the opportunity's owner (attached to or created) and the account
  team members — but the converting user (handbook: "In either case, the BDR
  will notify all Account Owners to maintain open and transparent
  communication between all parties").
- ``TICKET_PASSED_TO_SALES`` goes to the rep it was passed to and, when the
  ticket is escalated, to that rep's manager ("Copy the manager").
- ``LOST_DEAL_ALERT`` goes to the opportunity owner and the owner's manager
  (the handbook's #lost-deals channel is read by sales management), and so
  does ``LEAD_SLA_BREACHED`` about a lead (``owner_and_manager``);
  ``OPPORTUNITY_STALE`` goes to the owner only (``owner_only``), and
  ``LEAD_TIMED_OUT`` to the owner it left and the one it went to;
  ``UNQUALIFIED_OPPORTUNITY_FEEDBACK`` to the team lead of the sourcing
  BDR/SDR (SALES_OPS, as above), the owner (the AE holds the feedback
  session) and the sourcing rep ("A notification will be sent to BDR or SDR
  Team Lead and a feedback session should be scheduled between AE and Team
  Lead"). These alerts name the owner even when the owner raised them.
- The Sales Admin placeholder and inactive users are never addressed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.enums import FIELD_SALES_ROLES, Region, Role

STRATEGIC_ACCOUNT_INBOUND = "STRATEGIC_ACCOUNT_INBOUND"
PROFESSIONAL_SERVICES_REQUEST = "PROFESSIONAL_SERVICES_REQUEST"
SALES_ADMIN_RECORD_ADOPTED = "SALES_ADMIN_RECORD_ADOPTED"

SAL = "SAL"
SDR = "SDR"
CUSTOMER_SUCCESS = "CUSTOMER_SUCCESS"
SALES_OPS = "SALES_OPS"
NEW_OWNER = "NEW_OWNER"
PREVIOUS_OWNER = "PREVIOUS_OWNER"
OWNER = "OWNER"
MANAGER = "MANAGER"
TEAM_LEAD = "TEAM_LEAD"
SOURCING_REP = "SOURCING_REP"
ASSIGNEE = "ASSIGNEE"
ACCOUNT_OWNER = "ACCOUNT_OWNER"
OPPORTUNITY_OWNER = "OPPORTUNITY_OWNER"
ACCOUNT_TEAM = "ACCOUNT_TEAM"

# Field sales reps (AE, SAL, AM) report to their region's RD.
_REPORTS_TO_RD = FIELD_SALES_ROLES - {Role.RD}
# The roles ``managers_of`` picks a manager among (RDs, else SALES_OPS).
MANAGER_ROLES = frozenset({Role.RD, Role.SALES_OPS})
# The roles whose creation of a deal makes them its sourcing rep.
SOURCING_ROLES = frozenset({Role.BDR, Role.SDR})

# The account-team capacities each notification kind addresses, in order.
ACCOUNT_TEAM_CAPACITIES: dict[str, tuple[str, ...]] = {
    STRATEGIC_ACCOUNT_INBOUND: (SAL,),
    PROFESSIONAL_SERVICES_REQUEST: (SAL, SDR, CUSTOMER_SUCCESS),
}
_TEAM_ROLE = {SAL: Role.SAL, SDR: Role.SDR, CUSTOMER_SUCCESS: Role.CUSTOMER_SUCCESS}


@dataclass(frozen=True, slots=True)
class Person:
    """A user as notifications see them; ``role`` is their role on the account
    for a team member, their user role for an owner."""

    user_id: int
    role: Role
    active: bool = True
    region: Region | None = None


def _told(person: Person | None) -> bool:
    """Someone to address: an active user who is not the Sales Admin placeholder."""
    return person is not None and person.active and person.role is not Role.SALES_ADMIN


@dataclass(frozen=True, slots=True)
class Recipient:
    """A user an event is addressed to, in a capacity."""

    user_id: int
    capacity: str


def _once(found: Iterable[Recipient]) -> list[Recipient]:
    """Each user once, in the first capacity that named them."""
    seen: set[int] = set()
    unique = []
    for recipient in found:
        if recipient.user_id not in seen:
            seen.add(recipient.user_id)
            unique.append(recipient)
    return unique


def account_team_recipients(
    kind: str, owner: Person | None, team: Sequence[Person]
) -> list[Recipient]:
    """The account team members a notification ``kind`` is addressed to."""
    found = []
    for capacity in ACCOUNT_TEAM_CAPACITIES[kind]:
        role = _TEAM_ROLE[capacity]
        if (
            capacity == SAL
            and owner is not None
            and owner.role is role
            and owner.active
        ):
            found.append(Recipient(owner.user_id, capacity))
        found.extend(
            Recipient(m.user_id, capacity)
            for m in sorted(team, key=lambda m: m.user_id)
            if m.role is role and m.active
        )
    return _once(found)


def adoption_recipients(sales_ops: Sequence[Person], actor_id: int) -> list[Recipient]:
    """Every active SALES_OPS user but the adopter hears of a Sales Admin adoption."""
    return _once(
        Recipient(p.user_id, SALES_OPS)
        for p in sorted(sales_ops, key=lambda p: p.user_id)
        if p.role is Role.SALES_OPS and p.active and p.user_id != actor_id
    )


def owner_change_recipients(
    new_owner_id: int | None,
    previous_owner_id: int | None,
    actor_id: int,
    *,
    previous_is_placeholder: bool = False,
    new_is_placeholder: bool = False,
) -> list[Recipient]:
    """The new owner and the previous one, unless they made the change themselves
    (the Sales Admin placeholder is nobody to tell)."""
    found = []
    if new_owner_id is not None and new_owner_id != actor_id and not new_is_placeholder:
        found.append(Recipient(new_owner_id, NEW_OWNER))
    if (
        previous_owner_id is not None
        and previous_owner_id != actor_id
        and not previous_is_placeholder
    ):
        found.append(Recipient(previous_owner_id, PREVIOUS_OWNER))
    return _once(found)


def managers_of(person: Person, people: Sequence[Person]) -> list[Person]:
    """Who manages ``person``: their region's active RDs for field sales, else
    every active SALES_OPS user (no reporting line is recorded)."""
    ranked = sorted(people, key=lambda p: p.user_id)
    if person.role in _REPORTS_TO_RD and person.region is not None:
        rds = [
            p
            for p in ranked
            if p.role is Role.RD and p.active and p.region is person.region
        ]
        if rds:
            return rds
    return [p for p in ranked if p.role is Role.SALES_OPS and p.active]


def _as(capacity: str, found: Iterable[Person | None]) -> list[Recipient]:
    return [Recipient(p.user_id, capacity) for p in found if _told(p)]  # type: ignore[union-attr]


def conversion_recipients(
    account_owner: Person | None,
    opportunity_owner: Person | None,
    team: Sequence[Person],
    actor_id: int,
) -> list[Recipient]:
    """Every owner on the account hears of a converted lead, but the converter."""
    members: list[Person] = sorted(team, key=lambda m: m.user_id)
    found = (
        _as(ACCOUNT_OWNER, [account_owner])
        + _as(OPPORTUNITY_OWNER, [opportunity_owner])
        + _as(ACCOUNT_TEAM, members)
    )
    return _once(r for r in found if r.user_id != actor_id)


def hand_off_recipients(
    assignee: Person | None, people: Sequence[Person], *, escalated: bool
) -> list[Recipient]:
    """The rep a ticket is passed to, and their manager when it is escalated."""
    if not _told(assignee):
        return []
    assert assignee is not None
    managers = managers_of(assignee, people) if escalated else []
    return _once(_as(ASSIGNEE, [assignee]) + _as(MANAGER, managers))


def owner_and_manager(
    owner: Person | None, people: Sequence[Person]
) -> list[Recipient]:
    """An alert about a record going wrong — a lost deal, a breached follow-up
    SLA (issue 14 item 4: "escalated to the pool's manager"; a pool's BDR/SDR
    has no team lead role, so SALES_OPS stands in) — tells the record's owner
    and their manager; an unowned record, SALES_OPS."""
    if owner is None:
        ops = sorted(people, key=lambda p: p.user_id)
        return _once(_as(MANAGER, [p for p in ops if p.role is Role.SALES_OPS]))
    return _once(_as(OWNER, [owner]) + _as(MANAGER, managers_of(owner, people)))


def unqualified_feedback_recipients(
    sourcing_rep: Person | None, owner: Person | None, people: Sequence[Person]
) -> list[Recipient]:
    """Unqualified-opportunity feedback: the sourcing BDR/SDR's team lead, the
    owner (who holds the feedback session) and the sourcing rep."""
    lead_of = sourcing_rep or owner
    leads = managers_of(lead_of, people) if lead_of is not None else []
    return _once(
        _as(TEAM_LEAD, leads) + _as(OWNER, [owner]) + _as(SOURCING_REP, [sourcing_rep])
    )


def owner_only(owner: Person | None) -> list[Recipient]:
    """A nudge about the owner's own record (a stale deal): the owner."""
    return _as(OWNER, [owner])


def timed_out_recipients(
    previous_owner: Person | None, new_owner: Person | None
) -> list[Recipient]:
    """A lead that timed out: the owner who let it (PREVIOUS_OWNER) and the one
    routing gave it to (NEW_OWNER), each once."""
    return _once(_as(PREVIOUS_OWNER, [previous_owner]) + _as(NEW_OWNER, [new_owner]))
