"""Who may change what (A6): pure rules over the acting user and the record.

Decisions where the spec is silent: every authenticated user may read every
record (the go-to-market team works in the open); accounts, contacts and
opportunities may be changed by their owner, by anyone while unowned, and by
SALES_OPS, SALES_ADMIN and ADMIN; campaigns by MARKETING_OPS, SALES_OPS and
ADMIN; users and tokens by ADMIN only; the scoring (D6) and region (D5)
tables by SALES_OPS and ADMIN.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import ErrorCode, Role
from domain.errors import Refusal

LEAD_EDITORS = frozenset({Role.MARKETING_OPS, Role.SALES_OPS, Role.ADMIN})
RECORD_EDITORS = frozenset({Role.SALES_OPS, Role.SALES_ADMIN, Role.ADMIN})
CAMPAIGN_EDITORS = frozenset({Role.MARKETING_OPS, Role.SALES_OPS, Role.ADMIN})
USER_ADMINS = frozenset({Role.ADMIN})
RULE_TABLE_EDITORS = frozenset({Role.SALES_OPS, Role.ADMIN})


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
        "Leads may be changed only by their owner, MARKETING_OPS, SALES_OPS or ADMIN."
    )


def may_edit_record(actor: Actor, owner_id: int | None, kind: str) -> list[Refusal]:
    """Owned records: the owner, SALES_OPS, SALES_ADMIN, ADMIN; unowned: anyone."""
    if owner_id is None or owner_id == actor.id or actor.role in RECORD_EDITORS:
        return []
    return _forbidden(
        f"This {kind} may be changed only by its owner, SALES_OPS, SALES_ADMIN "
        "or ADMIN."
    )


def may_edit_campaigns(actor: Actor) -> list[Refusal]:
    """Campaigns belong to marketing: MARKETING_OPS, SALES_OPS, ADMIN."""
    if actor.role in CAMPAIGN_EDITORS:
        return []
    return _forbidden(
        "Campaigns may be changed only by MARKETING_OPS, SALES_OPS or ADMIN."
    )


def may_manage_users(actor: Actor) -> list[Refusal]:
    """Users and API tokens are managed by ADMIN only."""
    if actor.role in USER_ADMINS:
        return []
    return _forbidden("Only an ADMIN may manage users and API tokens.")


def may_edit_rule_tables(actor: Actor, table: str) -> list[Refusal]:
    """The scoring and region tables are sales ops' data: SALES_OPS, ADMIN."""
    if actor.role in RULE_TABLE_EDITORS:
        return []
    return _forbidden(f"Only SALES_OPS or ADMIN may change {table}.")
