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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.enums import Role

STRATEGIC_ACCOUNT_INBOUND = "STRATEGIC_ACCOUNT_INBOUND"
PROFESSIONAL_SERVICES_REQUEST = "PROFESSIONAL_SERVICES_REQUEST"
SALES_ADMIN_RECORD_ADOPTED = "SALES_ADMIN_RECORD_ADOPTED"

SAL = "SAL"
SDR = "SDR"
CUSTOMER_SUCCESS = "CUSTOMER_SUCCESS"
SALES_OPS = "SALES_OPS"
NEW_OWNER = "NEW_OWNER"
PREVIOUS_OWNER = "PREVIOUS_OWNER"

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
