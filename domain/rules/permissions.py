"""Who may change what (A6): pure rules over the acting user and the record.

Decisions where the spec is silent: every authenticated user may read every
record (the go-to-market team works in the open); accounts, contacts and
opportunities may be changed by their owner, by anyone while unowned, and by
SALES_OPS, SALES_ADMIN and ADMIN; campaigns by MARKETING_OPS, SALES_OPS and
ADMIN; users and tokens by ADMIN only; the scoring (D6) and region (D5)
tables by SALES_OPS and ADMIN.

Record ownership (D8):

- A record (lead, account, contact, opportunity) that is unowned or owned by
  the Sales Admin placeholder (a user with the SALES_ADMIN role) is adoptable
  by anyone (round 2, D8; the handbook: "If LEAD or CONTACT is unowned or
  'owned by Sales Admin' …, this record is adoptable by anyone - change
  Record Owner to your name"): whoever could not otherwise change it may set
  its owner to *themselves*, together with any other change in the same
  update. Handing it to someone else needs the usual rights; an unowned lead
  is otherwise read-only like any lead (A6). Only leaving the placeholder
  raises the SALES_ADMIN_RECORD_ADOPTED alert.
- A lead owned by a BDR changes hands only by that BDR or SALES_OPS (ADMIN
  too, as everywhere SALES_OPS may act for others): whether through
  ``transferLeadOwnership`` or an ``ownerId`` in ``updateLead``, the same
  rule applies. Anyone who may edit the lead may still change its other
  fields. The rule is the spec's for leads only; contacts follow the
  general rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import FIELD_SALES_ROLES, ErrorCode, Role
from domain.errors import Refusal

# SALES_OPS, and ADMIN with them, act for others wherever the spec says SALES_OPS.
OPS_ROLES = frozenset({Role.SALES_OPS, Role.ADMIN})

# --- the named permissions: who may do what, each written once --------------------
LEAD_EDITORS = frozenset({Role.MARKETING_OPS, *OPS_ROLES})
RECORD_EDITORS = frozenset({Role.SALES_ADMIN, *OPS_ROLES})
CAMPAIGN_EDITORS = frozenset({Role.MARKETING_OPS, *OPS_ROLES})
USER_ADMINS = frozenset({Role.ADMIN})
# Who may take a lead away from the BDR who owns it (D8).
LEAD_TRANSFER_ROLES = OPS_ROLES
RULE_TABLE_EDITORS = OPS_ROLES
# Who may accept a lead that is not theirs (D2: "or SALES_OPS/ADMIN").
LEAD_ACCEPTORS_FOR_OTHERS = OPS_ROLES
# Who may take an opportunity out of 0-Pending Acceptance (D3.3, round 2): its
# owner when field sales ("the SAL or AE should move the opportunity") …
SALES_ACCEPTING_ROLES = FIELD_SALES_ROLES
# … or SALES_OPS/ADMIN for them; never the BDR/SDR who sourced it.
SALES_ACCEPTORS_FOR_OTHERS = OPS_ROLES
# Who may lift an opportunity stage rule with an override (D3 rules 6, 7).
STAGE_OVERRIDE_ROLES = frozenset({Role.SALES_OPS})
# Who set the members of the routing pools (D8).
POOL_MANAGERS = OPS_ROLES
# Who may re-run routing for a lead (``routeLead``).
REROUTERS = frozenset({Role.MARKETING_OPS, *POOL_MANAGERS})
# Who resolve any support hand-off, besides whoever passed it and its assignee.
HAND_OFF_RESOLVERS = OPS_ROLES


# What each named permission lets its roles do, in words (the API's role list).
PERMISSION_WORDS: tuple[tuple[frozenset[Role], str], ...] = (
    (LEAD_EDITORS, "may edit any lead"),
    (RECORD_EDITORS, "may edit any account, contact, opportunity and activity"),
    (CAMPAIGN_EDITORS, "may edit campaigns"),
    (LEAD_ACCEPTORS_FOR_OTHERS, "may accept a lead for its owner"),
    (LEAD_TRANSFER_ROLES, "may hand on a BDR's lead"),
    (SALES_ACCEPTING_ROLES, "may sales-accept the opportunities they own"),
    (SALES_ACCEPTORS_FOR_OTHERS, "may sales-accept an opportunity for its owner"),
    (STAGE_OVERRIDE_ROLES, "may override stage rules"),
    (REROUTERS, "may re-run routing"),
    (POOL_MANAGERS, "sets the routing pools"),
    (RULE_TABLE_EDITORS, "edits the scoring and region tables"),
    (HAND_OFF_RESOLVERS, "may resolve any support hand-off"),
    (USER_ADMINS, "manages users and API tokens"),
)


def powers_of(role: Role) -> list[str]:
    """What the named permissions let this role do, in words."""
    return [words for roles, words in PERMISSION_WORDS if role in roles]


def role_list(roles: frozenset[Role]) -> str:
    """The roles, in the enum's order: "MARKETING_OPS, SALES_OPS, ADMIN"."""
    return ", ".join(role.value for role in Role if role in roles)


def role_names(roles: frozenset[Role]) -> str:
    """The roles as words, in the enum's order: "MARKETING_OPS, SALES_OPS or ADMIN"."""
    names = [role.value for role in Role if role in roles]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True, slots=True)
class Actor:
    """The user on whose behalf a use case runs."""

    id: int
    role: Role


def _forbidden(message: str) -> list[Refusal]:
    return [Refusal(code=ErrorCode.FORBIDDEN, message=message)]


def may_edit_lead(actor: Actor, owner_id: int | None) -> list[Refusal]:
    """Leads are read-only except for their owner, MARKETING_OPS, SALES_OPS, ADMIN."""
    if actor.role in LEAD_EDITORS or (owner_id is not None and owner_id == actor.id):
        return []
    return _forbidden(
        f"Leads may be changed only by their owner, {role_names(LEAD_EDITORS)}."
    )


def may_edit_record(actor: Actor, owner_id: int | None, kind: str) -> list[Refusal]:
    """Owned records: the owner, SALES_OPS, SALES_ADMIN, ADMIN; unowned: anyone."""
    if owner_id is None or owner_id == actor.id or actor.role in RECORD_EDITORS:
        return []
    return _forbidden(
        f"This {kind} may be changed only by its owner, {role_names(RECORD_EDITORS)}."
    )


@dataclass(frozen=True, slots=True)
class Owner:
    """The current owner of a record, as the ownership rules see them."""

    id: int
    role: Role
    active: bool = True


def is_placeholder(owner: Owner | None) -> bool:
    """Owned by the Sales Admin placeholder: the record is adoptable (D8)."""
    return owner is not None and owner.role is Role.SALES_ADMIN


def is_adoptable(owner: Owner | None) -> bool:
    """Unowned or owned by the Sales Admin placeholder: anyone may adopt it (D8)."""
    return owner is None or is_placeholder(owner)


def is_adoption(owner: Owner | None, new_owner_id: int | None) -> bool:
    """The record leaves the Sales Admin placeholder for a user: an adoption."""
    return (
        is_placeholder(owner) and new_owner_id is not None and new_owner_id != owner.id  # type: ignore[union-attr]
    )


def may_change_lead_owner(
    actor: Actor, owner: Owner | None, new_owner_id: int | None
) -> list[Refusal]:
    """Who may give a lead another owner (D8): BDR leads by transfer only."""
    if owner is not None and owner.role is Role.BDR:
        if actor.id == owner.id or actor.role in LEAD_TRANSFER_ROLES:
            return []
        return _forbidden(
            "A lead owned by a BDR changes hands only through an ownership transfer "
            "by that BDR or SALES_OPS (D8): ask the BDR to transfer it to you."
        )
    if is_adoptable(owner) and new_owner_id is not None and new_owner_id == actor.id:
        return []
    return may_edit_lead(actor, owner.id if owner else None)


def may_update_lead(
    actor: Actor, owner: Owner | None, new_owner_id: int | None, *, changes_owner: bool
) -> list[Refusal]:
    """An update of a lead: the ownership rule when it changes the owner."""
    if changes_owner:
        return may_change_lead_owner(actor, owner, new_owner_id)
    return may_edit_lead(actor, owner.id if owner else None)


def may_update_record(
    actor: Actor,
    owner: Owner | None,
    new_owner_id: int | None,
    kind: str,
    *,
    changes_owner: bool,
) -> list[Refusal]:
    """An update of an account, contact or opportunity; adopting is open to all."""
    if changes_owner and is_adoption(owner, new_owner_id) and new_owner_id == actor.id:
        return []
    return may_edit_record(actor, owner.id if owner else None, kind)


def may_edit_campaigns(actor: Actor) -> list[Refusal]:
    """Campaigns belong to marketing: MARKETING_OPS, SALES_OPS, ADMIN."""
    if actor.role in CAMPAIGN_EDITORS:
        return []
    return _forbidden(
        f"Campaigns may be changed only by {role_names(CAMPAIGN_EDITORS)}."
    )


def may_manage_users(actor: Actor) -> list[Refusal]:
    """Users and API tokens are managed by ADMIN only."""
    if actor.role in USER_ADMINS:
        return []
    return _forbidden(
        f"Only {role_names(USER_ADMINS)} may manage users and API tokens."
    )


def may_edit_rule_tables(actor: Actor, table: str) -> list[Refusal]:
    """The scoring and region tables are sales ops' data: SALES_OPS, ADMIN."""
    if actor.role in RULE_TABLE_EDITORS:
        return []
    return _forbidden(f"Only {role_names(RULE_TABLE_EDITORS)} may change {table}.")


def may_manage_pools(actor: Actor) -> list[Refusal]:
    """The routing pools' members are set by SALES_OPS and ADMIN (D8)."""
    if actor.role in POOL_MANAGERS:
        return []
    return _forbidden(f"Only {role_names(POOL_MANAGERS)} manage pools.")


def may_reroute(actor: Actor) -> list[Refusal]:
    """Routing is re-run for a lead by MARKETING_OPS, SALES_OPS and ADMIN."""
    if actor.role in REROUTERS:
        return []
    return _forbidden(f"Only {role_names(REROUTERS)} re-run routing.")
