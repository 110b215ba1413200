"""Contacts: the `Contact` type, `contacts`/`contact`, createContact, updateContact."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from api.merges import PossibleDuplicate

from api.accounts import AccountNode
from api.context import Info
from api.errors import UserError
from api.inputs import (
    RecordChange,
    given,
    idempotency_field,
    mutate,
    mutate_once,
    provided,
    version_guard,
)
from api.relay import (
    Connection,
    Order,
    RecordNode,
    connection,
    decode_id,
    load_node,
    ordering,
    to_one,
)
from api.users import UserNode
from domain import records as rec
from domain.enums import MergeKind
from domain.services import contacts as service
from domain.services.listing import ContactQuery

DuplicateRef = Annotated["PossibleDuplicate", strawberry.lazy("api.merges")]


@strawberry.type(
    name="Contact",
    description="A person at an account. `initialSource` is set on creation and "
    "never changes (D4).",
)
class ContactNode(RecordNode):
    """A contact."""

    model = rec.Contact

    first_name: str | None = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    email: str | None = strawberry.field(description="Email (stored lower-case).")
    title: str | None = strawberry.field(description="Job title.")
    phone: str | None = strawberry.field(description="Phone number.")
    mailing_street: str | None = strawberry.field(description="Mailing street.")
    mailing_city: str | None = strawberry.field(description="Mailing city.")
    mailing_state: str | None = strawberry.field(
        description="Mailing state or province."
    )
    mailing_postal_code: str | None = strawberry.field(
        description="Mailing zip / postal code."
    )
    mailing_country: str | None = strawberry.field(description="Mailing country.")
    initial_source: str = strawberry.field(
        description="First known touch; never changes."
    )
    lead_source: str | None = strawberry.field(description="Latest source; may change.")
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When the contact was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    account_id: strawberry.Private[int]
    owner_id: strawberry.Private[int | None]

    account = to_one(
        AccountNode,
        "account_id",
        description="The account the person works at.",
    )

    @strawberry.field(
        description="Contacts that are likely the same person (D12), best first: "
        "same normalized email, same name and email domain or account, same phone."
    )
    async def possible_duplicates(
        self,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description="How many (1 to 500).")
        ] = 10,
    ) -> list[DuplicateRef]:
        """Likely duplicates of this contact."""
        from api.merges import duplicates_of

        return await duplicates_of(info, MergeKind.CONTACT, self.id, first)

    owner = to_one(
        UserNode,
        "owner_id",
        description="Who owns the contact.",
    )


@strawberry.enum(description="Fields contacts can be sorted by.")
class ContactOrderField(Enum):
    """Sortable contact fields."""

    ID = strawberry.enum_value("ID", description="Creation order.")
    LAST_NAME = strawberry.enum_value("LAST_NAME", description="Last name.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="Creation time.")


@strawberry.input(description="Sort order of a contact list.")
class ContactOrder(Order[ContactOrderField]):
    """Field and direction."""


CONTACT_ORDER = {
    ContactOrderField.ID: rec.Contact.id,
    ContactOrderField.LAST_NAME: rec.Contact.last_name,
    ContactOrderField.CREATED_AT: rec.Contact.created_at,
}


@strawberry.input(description="Filter contacts; all given criteria must hold.")
class ContactFilter:
    """Contact criteria."""

    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="At this account."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this user."
    )
    initial_source: str | None = strawberry.field(
        default=None, description="Exactly this initial source."
    )
    search: str | None = strawberry.field(
        default=None, description="Substring of name or email."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )


def contact_query(f: ContactFilter | None) -> ContactQuery:
    """GraphQL filter -> domain query."""
    f = f or ContactFilter()
    return ContactQuery(
        account_id=decode_id(f.account_id, AccountNode, "accountId")
        if f.account_id
        else None,
        owner_id=decode_id(f.owner_id, UserNode, "ownerId") if f.owner_id else None,
        initial_source=f.initial_source,
        search=f.search,
        created_after=f.created_after,
        created_before=f.created_before,
    )


@strawberry.type
class ContactQueries:
    """Root fields about contacts."""

    @strawberry.field(description="One contact by global id.")
    async def contact(self, info: Info, id: strawberry.ID) -> ContactNode | None:
        """A contact, or null."""
        return await load_node(info, ContactNode, decode_id(id, ContactNode, "id"))

    @strawberry.field(description="Contacts, filtered and sorted, keyset paged.")
    async def contacts(
        self,
        info: Info,
        filter: ContactFilter | None = None,
        order_by: ContactOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ContactNode]:
        """A page of contacts."""
        statement = contact_query(filter).statement()
        order = ordering(CONTACT_ORDER, order_by)
        return await connection(
            info, ContactNode, statement, first, after, last, before, order=order
        )


@strawberry.input(
    description="The fields of createContact and updateContact (not in the schema)."
)
class ContactFields:
    """Every contact field, optional (UNSET: not given) and worded for a change;
    CreateContactInput redeclares the ones a creation requires or words otherwise."""

    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Last name."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Move to this account."
    )
    initial_source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Immutable once set: a change is refused."
    )
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="First name."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email.")
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="Job title."
    )
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone.")
    mailing_street: str | None = strawberry.field(
        default=strawberry.UNSET, description="Mailing street."
    )
    mailing_city: str | None = strawberry.field(
        default=strawberry.UNSET, description="Mailing city."
    )
    mailing_state: str | None = strawberry.field(
        default=strawberry.UNSET, description="Mailing state/province."
    )
    mailing_postal_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="Mailing postal code."
    )
    mailing_country: str | None = strawberry.field(
        default=strawberry.UNSET, description="Mailing country."
    )
    lead_source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Lead source."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="New owner. A record owned by the Sales Admin placeholder may "
        "be adopted by anyone (ownerId: your own id), which raises an alert (D8).",
    )


@strawberry.input(description="A new person at an account.")
class CreateContactInput(ContactFields):
    """createContact input."""

    idempotency_key: str | None = idempotency_field(
        "the first contact (no second contact)"
    )
    last_name: str = strawberry.field(description="Last name (required).")
    account_id: strawberry.ID = strawberry.field(description="The account (required).")
    initial_source: str = strawberry.field(
        description="First known touch (required; 'Unknown' is refused)."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Owner (default: you)."
    )
    allow_duplicate: bool = strawberry.field(
        default=False, description="Create even if a lead/contact has this email."
    )


@strawberry.input(description="Change a contact; only the given fields change.")
class UpdateContactInput(RecordChange, ContactFields):
    """updateContact input."""

    id: strawberry.ID = strawberry.field(description="The contact.")
    expected_version: int | None = version_guard("contact")
    allow_duplicate: bool = strawberry.field(
        default=False,
        description="Change the email even if another lead/contact has it.",
    )


@strawberry.type(description="Result of createContact.")
class CreateContactPayload:
    """The contact, or why not."""

    contact: ContactNode | None = strawberry.field(description="The new contact.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of updateContact.")
class UpdateContactPayload:
    """The contact, or why not."""

    contact: ContactNode | None = strawberry.field(description="The changed contact.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


CONTACT_IDS = {"owner_id": UserNode, "account_id": AccountNode}


@strawberry.type
class ContactMutations:
    """Root mutations about contacts."""

    @strawberry.mutation(description="Create a contact. Duplicate emails are refused.")
    async def create_contact(
        self, info: Info, input: CreateContactInput
    ) -> CreateContactPayload:
        """Create a contact."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "createContact",
            input,
            rec.Contact,
            lambda s: service.create_contact(
                provided(input, ids=CONTACT_IDS),
                session=s,
                actor=actor,
                allow_duplicate=input.allow_duplicate,
            ),
        )
        return CreateContactPayload(
            contact=row and ContactNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(description="Change a contact (its initialSource never).")
    async def update_contact(
        self, info: Info, input: UpdateContactInput
    ) -> UpdateContactPayload:
        """Change a contact."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: service.update_contact(
                decode_id(input.id, ContactNode, "id"),
                provided(input, ids=CONTACT_IDS),
                session=s,
                actor=actor,
                expected_version=given(input.expected_version),
                allow_duplicate=input.allow_duplicate,
            ),
        )
        return UpdateContactPayload(
            contact=row and ContactNode.from_row(row), user_errors=errors
        )
