"""Contacts: people at an account (D1, D4, D12).

Who owns a contact is ``domain.rules.ownership.contact_owner`` (D7): on an
account owned by field sales, the account owner — asked on creation and when
a contact moves to another account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import RecordType
from domain.errors import refuse_if
from domain.records import Account, Contact
from domain.rules.ownership import contact_owner, contact_owner_refusals
from domain.rules.permissions import (
    Actor,
    Operation,
    Owner,
    may_create,
    may_update_record,
)
from domain.rules.validation import (
    Check,
    initial_source_change_refusals,
    known_initial_source,
    max_length,
    normalize_email,
    required,
    valid_email,
)
from domain.services.duplicates import refuse_duplicate_email
from domain.services.loading import (
    apply,
    check_values,
    check_version,
    load,
    require_user,
)
from domain.services.ownership import (
    may_place_on,
    owner_of,
    record_owner_change,
    standing,
)

CONTACT_RULES: dict[str, list[Check]] = {
    "last_name": [required, max_length(120)],
    "email": [valid_email, max_length(320)],
    "account_id": [required],
    "initial_source": [known_initial_source, max_length(120)],
}


async def account_owner(session: AsyncSession, account_id: int) -> Owner | None:
    """The owner of the account (the field the contact rules read), or None."""
    account = await load(session, Account, account_id, field="accountId")
    return await owner_of(session, account.owner_id)


async def create_contact(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    allow_duplicate: bool = False,
) -> Contact:
    """Create a contact; an existing email is refused unless ``allow_duplicate``."""
    check_values(
        values,
        CONTACT_RULES,
        required_fields=("last_name", "account_id", "initial_source"),
    )
    owner = await account_owner(session, values["account_id"])
    await require_user(session, values.get("owner_id"), "ownerId")
    requested = values.get("owner_id")
    # Naming the field-sales account owner is the rule's choice, not the actor's.
    ruled = requested is not None and contact_owner(owner, None) == requested
    refuse_if(contact_owner_refusals(owner, values.get("owner_id")))
    refuse_if(may_create(actor, Operation.CREATE_CONTACT, None if ruled else requested))
    data = dict(values)
    data["email"] = normalize_email(data.get("email"))
    await refuse_duplicate_email(
        session, data["email"], allow_duplicate=allow_duplicate
    )
    data["owner_id"] = contact_owner(owner, data.get("owner_id", actor.id))
    contact = Contact(**data)
    session.add(contact)
    await session.flush()
    return contact


async def update_contact(
    contact_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    allow_duplicate: bool = False,
) -> Contact:
    """Change a contact; its initial source never changes (D4). A new email
    another lead or contact has is refused unless ``allow_duplicate`` (D12)."""
    contact = await load(session, Contact, contact_id, lock=True)
    check_version(contact, expected_version)
    previous = await owner_of(session, contact.owner_id)
    changes_owner = "owner_id" in values and values["owner_id"] != contact.owner_id
    on = await standing(session, owner_id=None, account_id=contact.account_id)
    refuse_if(
        may_update_record(
            actor,
            previous,
            values.get("owner_id"),
            "contact",
            changes_owner=changes_owner,
            account_owner_id=on.account_owner_id,
            team=on.team,
        )
    )
    refuse_if(initial_source_change_refusals(contact.initial_source, values))
    check_values(values, CONTACT_RULES)
    if values.get("account_id", contact.account_id) != contact.account_id:
        # Re-homing a person: onto an account the actor may write (issue 17).
        await may_place_on(
            session, actor, values["account_id"], Operation.MOVE_CONTACT_TO_ACCOUNT
        )
    await require_user(session, values.get("owner_id"), "ownerId")
    data = dict(values)
    if "account_id" in values or "owner_id" in values:
        # Re-homed, or given an owner: the account's field-sales owner decides.
        owner = await account_owner(
            session, values.get("account_id", contact.account_id)
        )
        refuse_if(contact_owner_refusals(owner, values.get("owner_id")))
        data["owner_id"] = contact_owner(
            owner, values.get("owner_id", contact.owner_id)
        )
        changes_owner = data["owner_id"] != contact.owner_id
    if "email" in data:
        data["email"] = normalize_email(data["email"])
        if data["email"] != contact.email:
            await refuse_duplicate_email(
                session,
                data["email"],
                allow_duplicate=allow_duplicate,
                exclude=("Contact", contact.id),  # type: ignore[arg-type]
            )
    apply(contact, data)
    await session.flush()
    if changes_owner:
        await record_owner_change(
            session,
            record_type=RecordType.CONTACT,
            record_id=contact.id,  # type: ignore[arg-type]
            actor=actor,
            previous=previous,
            new_owner_id=contact.owner_id,
        )
    return contact
