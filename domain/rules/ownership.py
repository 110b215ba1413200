"""Who owns a record (D7, D8): pure rules over the people involved.

``domain.rules.permissions`` says who may change an owner; this module says
who the owner *is* when a record is created or moves, on every path that asks.

Contacts (D7, round 2; handbook: "Contacts on accounts owned by a member of
the Field Sales Team (RD/AE/AM/SAL), will be owned by the named Account Owner
(i.e both the Account and Contact ownership will match)"):

- A contact on an account owned by a field-sales user (AE, SAL, AM, RD) is
  owned by that account owner — on creation
  (``createContact``, conversion, imports), and when ``updateContact`` moves
  it to such an account. Decision: a caller who names another owner is
  refused (INVALID_INPUT on ``ownerId``) rather than silently overruled;
  naming the account owner, or no one, is fine. On any other account (no
  owner, the Sales Admin placeholder, a BDR/SDR, ops) the chosen owner stands.

Converted opportunities (D7, round 2; handbook: "BDR to convert the LEAD to a
CONTACT and create an Opportunity and immediately assign the opportunity to
the Account Owner/SAL"):

- the account owner when field sales owns the account, else the assignee
  named in ``convertLead``, else the converting user if field sales.
- Decisions: the named assignee must be an active field-sales user (a deal
  is handed to a sales rep, who alone may accept it, D3.3); without one, a
  converting user who is not field sales — a BDR or SDR, and SALES_OPS,
  ADMIN or MARKETING_OPS alike — is refused with ASSIGNEE_REQUIRED: the
  opportunity is never left with its sourcer. When field sales owns the
  account, an assignee naming someone else is overruled by the account owner
  (global account ownership) and the conversion's event says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import FIELD_SALES_ROLES, ErrorCode
from domain.errors import RecordRef, Refusal
from domain.rules.permissions import Owner as Person


def is_field_sales(person: Person | None) -> bool:
    """AE, SAL, AM or RD: the Field Sales Team of the handbook."""
    return person is not None and person.role in FIELD_SALES_ROLES


def contact_owner(
    account_owner: Person | None, chosen_owner_id: int | None
) -> int | None:
    """The owner of a contact on an account: the field-sales account owner, else
    the one chosen (the caller's ``ownerId`` or default)."""
    if is_field_sales(account_owner):
        assert account_owner is not None
        return account_owner.id
    return chosen_owner_id


def contact_owner_refusals(
    account_owner: Person | None, requested_owner_id: int | None
) -> list[Refusal]:
    """Why an explicitly requested contact owner contradicts the account's."""
    if (
        requested_owner_id is None
        or not is_field_sales(account_owner)
        or requested_owner_id == account_owner.id  # type: ignore[union-attr]
    ):
        return []
    assert account_owner is not None
    return [
        Refusal.on(
            "ownerId",
            ErrorCode.INVALID_INPUT,
            "The account is owned by field sales (user "
            f"{RecordRef('User', account_owner.id)}, "
            f"{account_owner.role.value}): its contacts are owned by the account "
            "owner. Leave ownerId out or name the account owner.",
        )
    ]


@dataclass(frozen=True, slots=True)
class OpportunityOwner:
    """Who owns a converted opportunity, and which rule said so."""

    user_id: int
    rule: str  # ACCOUNT_OWNER, ASSIGNEE or CONVERTING_USER


def converted_opportunity_owner(
    account_owner: Person | None, assignee: Person | None, converter: Person
) -> OpportunityOwner | list[Refusal]:
    """The owner of the opportunity a conversion creates (D7), or the refusals."""
    if is_field_sales(account_owner):
        assert account_owner is not None
        return OpportunityOwner(account_owner.id, "ACCOUNT_OWNER")
    if assignee is not None:
        if not is_field_sales(assignee) or not assignee.active:
            return [
                Refusal.on(
                    "ownerId",
                    ErrorCode.INVALID_INPUT,
                    f"User {RecordRef('User', assignee.id)} ({assignee.role.value}"
                    f"{'' if assignee.active else ', inactive'}) cannot take the "
                    "opportunity: assign it to an active sales rep (AE, SAL, AM, RD).",
                )
            ]
        return OpportunityOwner(assignee.id, "ASSIGNEE")
    if is_field_sales(converter):
        return OpportunityOwner(converter.id, "CONVERTING_USER")
    return [
        Refusal.on(
            "ownerId",
            ErrorCode.ASSIGNEE_REQUIRED,
            "The account has no field-sales owner: name the sales rep (AE, SAL, AM, "
            "RD) who takes the opportunity in ownerId — it is handed to sales, never "
            f"left with the {converter.role.value} who converts.",
        )
    ]
