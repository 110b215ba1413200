"""Accounts: the `Account` type, `accounts`/`account`, createAccount, updateAccount."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Info
from api.custom_fields import (
    CustomFieldFilter,
    CustomFieldValueInput,
    check_criteria,
    criteria,
    custom_fields_field,
    custom_fields_filter,
    custom_fields_input,
)
from api.enums import AccountTypeGQL, RegionGQL, RoleGQL, SalesSegmentGQL
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
from domain.enums import RecordType
from domain.services import account_team as team
from domain.services import accounts as service
from domain.services.listing import AccountQuery, ContactQuery, OpportunityQuery

if TYPE_CHECKING:
    from api.contacts import ContactNode
    from api.opportunities import OpportunityNode

ContactRef = Annotated["ContactNode", strawberry.lazy("api.contacts")]
OpportunityRef = Annotated["OpportunityNode", strawberry.lazy("api.opportunities")]
# The class itself, for its own to-one fields (its name is not bound yet there).
AccountSelf = Annotated["AccountNode", strawberry.lazy("api.accounts")]


async def _domains_by_account(
    session: AsyncSession, ids: Sequence[int]
) -> list[list[str]]:
    """DataLoader batch: the domains of many accounts in one query."""
    found = await service.account_domains(session, ids)
    return [found[i] for i in ids]


@strawberry.type(
    name="Account",
    description="An organization: prospect, customer, former customer, partner, "
    "reseller or integrator. `salesSegment` and `region` are derived (D5).",
)
class AccountNode(RecordNode):
    """An account."""

    model = rec.Account

    custom_fields: strawberry.Private[dict[str, Any] | None]
    custom_field_values = custom_fields_field(RecordType.ACCOUNT)

    name: str = strawberry.field(description="Name of the organization.")
    type: AccountTypeGQL = strawberry.field(description="Relationship with us.")
    number_of_employees: int | None = strawberry.field(
        description="Total employees (sets the segment)."
    )
    sales_segment: SalesSegmentGQL = strawberry.field(
        description="Derived from numberOfEmployees; STRATEGIC when named (D5)."
    )
    billing_street: str | None = strawberry.field(description="Billing street.")
    billing_city: str | None = strawberry.field(description="Billing city.")
    billing_state: str | None = strawberry.field(
        description="Billing state or province."
    )
    billing_postal_code: str | None = strawberry.field(
        description="Billing zip / postal code."
    )
    billing_country: str | None = strawberry.field(
        description="Billing country (name or ISO code)."
    )
    is_public_sector: bool = strawberry.field(
        description="US public sector (government)."
    )
    region: RegionGQL | None = strawberry.field(
        description="Derived from billing country/state/public sector (D5)."
    )
    industry: str | None = strawberry.field(description="Industry.")
    annual_revenue: Decimal | None = strawberry.field(
        description="Annual revenue (exact decimal)."
    )
    account_source: str | None = strawberry.field(
        description="Where the account came from (e.g. CE Download)."
    )
    is_named: bool = strawberry.field(
        description="A named (strategic) account: segment STRATEGIC."
    )
    customer_since: datetime | None = strawberry.field(
        description="When a won NEW_BUSINESS deal made it a CUSTOMER (null: never, "
        "or reverted by reopening that deal within 30 days)."
    )
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When the account was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    owner_id: strawberry.Private[int | None]
    parent_account_id: strawberry.Private[int | None]

    owner = to_one(
        UserNode,
        "owner_id",
        description="Who owns the account.",
    )

    parent_account = to_one(
        AccountSelf,
        "parent_account_id",
        description="The parent in the account hierarchy, if any.",
    )

    @strawberry.field(
        description="Web and email domains that identify the account, bare and "
        "lower-case (e.g. acme.com), sorted."
    )
    async def domains(self, info: Info) -> list[str]:
        """The account's domains (batched per request)."""
        loader = info.context.loader("account_domains", _domains_by_account)
        return await loader.load(self.id)

    @strawberry.field(description="The account team, in the order they joined.")
    async def team_members(self, info: Info) -> list[AccountTeamMemberNode]:
        """The account team (batched per request)."""
        rows = await info.context.loader("account_team", team.team_members).load(
            self.id
        )
        return [AccountTeamMemberNode(role=r.role, user_id=r.user_id) for r in rows]

    @strawberry.field(description="Accounts whose parent is this account.")
    async def child_accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AccountNode]:
        """A page of child accounts, oldest first."""
        statement = AccountQuery(parent_account_id=self.id).statement()
        return await connection(
            info, AccountNode, statement, first, after, last, before
        )

    @strawberry.field(description="People at this account.")
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ContactRef]:
        """A page of the account's contacts, oldest first."""
        from api.contacts import ContactNode

        statement = ContactQuery(account_id=self.id).statement()
        return await connection(
            info, ContactNode, statement, first, after, last, before
        )

    @strawberry.field(description="Deals with this account.")
    async def opportunities(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OpportunityRef]:
        """A page of the account's opportunities, oldest first."""
        from api.opportunities import OpportunityNode

        statement = OpportunityQuery(account_id=self.id).statement()
        return await connection(
            info, OpportunityNode, statement, first, after, last, before
        )


@strawberry.type(
    name="AccountTeamMember",
    description="A user helping on an account besides its owner (the account "
    "team: e.g. an assigned SDR, the Customer Success manager, a SAL).",
)
class AccountTeamMemberNode:
    """One member of an account team."""

    role: RoleGQL = strawberry.field(
        description="Their role on this account (SAL, SDR and CUSTOMER_SUCCESS are "
        "told of Professional Services requests and strategic inbound leads)."
    )
    user_id: strawberry.Private[int]

    user = to_one(
        UserNode,
        "user_id",
        description="The team member.",
    )


@strawberry.enum(description="Fields accounts can be sorted by.")
class AccountOrderField(Enum):
    """Sortable account fields."""

    ID = strawberry.enum_value("ID", description="Creation order.")
    NAME = strawberry.enum_value("NAME", description="Name.")
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="Creation time.")


@strawberry.input(description="Sort order of an account list.")
class AccountOrder(Order[AccountOrderField]):
    """Field and direction."""


ACCOUNT_ORDER = {
    AccountOrderField.ID: rec.Account.id,
    AccountOrderField.NAME: rec.Account.name,
    AccountOrderField.CREATED_AT: rec.Account.created_at,
}


@strawberry.input(description="Filter accounts; all given criteria must hold.")
class AccountFilter:
    """Account criteria."""

    custom_fields: list[CustomFieldFilter] | None = custom_fields_filter()

    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Owned by this user."
    )
    type: list[AccountTypeGQL] | None = strawberry.field(
        default=None, description="Any of these types."
    )
    segment: list[SalesSegmentGQL] | None = strawberry.field(
        default=None, description="Any of these segments."
    )
    region: list[RegionGQL] | None = strawberry.field(
        default=None, description="Any of these regions."
    )
    is_named: bool | None = strawberry.field(
        default=None, description="Named (strategic) or not."
    )
    parent_account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Children of this account."
    )
    search: str | None = strawberry.field(
        default=None, description="Substring of the name."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )


def account_query(f: AccountFilter | None) -> AccountQuery:
    """GraphQL filter -> domain query."""
    f = f or AccountFilter()
    return AccountQuery(
        owner_id=decode_id(f.owner_id, UserNode, "ownerId") if f.owner_id else None,
        type=f.type or (),
        segment=f.segment or (),
        region=f.region or (),
        is_named=f.is_named,
        parent_account_id=decode_id(f.parent_account_id, AccountNode, "parentAccountId")
        if f.parent_account_id
        else None,
        search=f.search,
        created_after=f.created_after,
        created_before=f.created_before,
        custom=criteria(f.custom_fields),
    )


@strawberry.type
class AccountQueries:
    """Root fields about accounts."""

    @strawberry.field(description="One account by global id.")
    async def account(self, info: Info, id: strawberry.ID) -> AccountNode | None:
        """An account, or null."""
        return await load_node(info, AccountNode, decode_id(id, AccountNode, "id"))

    @strawberry.field(description="Accounts, filtered and sorted, keyset paged.")
    async def accounts(
        self,
        info: Info,
        filter: AccountFilter | None = None,
        order_by: AccountOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AccountNode]:
        """A page of accounts."""
        await check_criteria(info, RecordType.ACCOUNT, filter)
        statement = account_query(filter).statement()
        order = ordering(ACCOUNT_ORDER, order_by)
        return await connection(
            info, AccountNode, statement, first, after, last, before, order=order
        )


@strawberry.input(
    description="The fields of createAccount and updateAccount (not in the schema)."
)
class AccountFields:
    """Every account field, optional (UNSET: not given) and worded for a change;
    CreateAccountInput redeclares the ones a creation requires or words otherwise."""

    custom_fields: list[CustomFieldValueInput] | None = custom_fields_input()

    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Name of the organization."
    )
    domains: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces all domains (null or [] removes them).",
    )
    type: AccountTypeGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Relationship."
    )
    number_of_employees: int | None = strawberry.field(
        default=strawberry.UNSET, description="Total employees."
    )
    billing_street: str | None = strawberry.field(
        default=strawberry.UNSET, description="Billing street."
    )
    billing_city: str | None = strawberry.field(
        default=strawberry.UNSET, description="Billing city."
    )
    billing_state: str | None = strawberry.field(
        default=strawberry.UNSET, description="Billing state/province."
    )
    billing_postal_code: str | None = strawberry.field(
        default=strawberry.UNSET, description="Billing postal code."
    )
    billing_country: str | None = strawberry.field(
        default=strawberry.UNSET, description="Billing country."
    )
    is_public_sector: bool | None = strawberry.field(
        default=strawberry.UNSET, description="US public sector."
    )
    industry: str | None = strawberry.field(
        default=strawberry.UNSET, description="Industry."
    )
    annual_revenue: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Annual revenue."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="New owner. A record owned by the Sales Admin placeholder may "
        "be adopted by anyone (ownerId: your own id), which raises an alert (D8).",
    )
    parent_account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New parent account (null: none)."
    )
    account_source: str | None = strawberry.field(
        default=strawberry.UNSET, description="Account source."
    )
    is_named: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Named (strategic) account."
    )


@strawberry.input(description="A new account; segment and region are derived.")
class CreateAccountInput(AccountFields):
    """createAccount input."""

    idempotency_key: str | None = idempotency_field(
        "the first account (no second account)"
    )
    name: str = strawberry.field(description="Name of the organization.")
    domains: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Websites or domains (stored bare: https://www.Acme.com → "
        "acme.com); a domain of another account is refused.",
    )
    type: AccountTypeGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Relationship (default PROSPECT)."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Owner."
    )
    parent_account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Parent account."
    )


@strawberry.input(description="Change an account; only the given fields change.")
class UpdateAccountInput(RecordChange, AccountFields):
    """updateAccount input."""

    id: strawberry.ID = strawberry.field(description="The account.")
    expected_version: int | None = version_guard("account")


@strawberry.type(description="Result of createAccount.")
class CreateAccountPayload:
    """The account, or why not."""

    account: AccountNode | None = strawberry.field(description="The new account.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of updateAccount.")
class UpdateAccountPayload:
    """The account, or why not."""

    account: AccountNode | None = strawberry.field(description="The changed account.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


ACCOUNT_IDS = {"owner_id": UserNode, "parent_account_id": AccountNode}
NOT_VALUES = frozenset({"domains"})


@strawberry.type
class AccountMutations:
    """Root mutations about accounts."""

    @strawberry.mutation(description="Create an account with its domains.")
    async def create_account(
        self, info: Info, input: CreateAccountInput
    ) -> CreateAccountPayload:
        """Create an account."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "createAccount",
            input,
            rec.Account,
            lambda s: service.create_account(
                provided(input, ids=ACCOUNT_IDS, skip=NOT_VALUES),
                session=s,
                actor=actor,
                domains=given(input.domains) or (),
            ),
        )
        return CreateAccountPayload(
            account=row and AccountNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(description="Change an account; derived fields follow.")
    async def update_account(
        self, info: Info, input: UpdateAccountInput
    ) -> UpdateAccountPayload:
        """Change an account."""
        actor = info.context.actor
        # Absent: domains unchanged; null or []: all removed.
        domains = None if input.domains is strawberry.UNSET else input.domains or []
        row, errors = await mutate(
            info,
            lambda s: service.update_account(
                decode_id(input.id, AccountNode, "id"),
                provided(input, ids=ACCOUNT_IDS, skip=NOT_VALUES),
                session=s,
                actor=actor,
                domains=domains,
                expected_version=given(input.expected_version),
            ),
        )
        return UpdateAccountPayload(
            account=row and AccountNode.from_row(row), user_errors=errors
        )


@strawberry.input(description="Add a user to an account team.")
class AddAccountTeamMemberInput:
    """addAccountTeamMember input."""

    idempotency_key: str | None = idempotency_field("the account (as it is now)")
    account_id: strawberry.ID = strawberry.field(description="The account.")
    user_id: strawberry.ID = strawberry.field(description="The user to add.")
    role: RoleGQL | None = strawberry.field(
        default=None, description="Their role on the account (default: their role)."
    )


@strawberry.input(description="Remove a user from an account team.")
class RemoveAccountTeamMemberInput:
    """removeAccountTeamMember input."""

    account_id: strawberry.ID = strawberry.field(description="The account.")
    user_id: strawberry.ID = strawberry.field(description="The user to remove.")
    role: RoleGQL | None = strawberry.field(
        default=None, description="Only in this role (default: in every role)."
    )


@strawberry.type(
    description="Result of addAccountTeamMember / removeAccountTeamMember."
)
class AccountTeamPayload:
    """The account with its team, or why not."""

    account: AccountNode | None = strawberry.field(
        description="The account (see teamMembers)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class AccountTeamMutations:
    """Root mutations about account teams."""

    @strawberry.mutation(
        description="Add a user to an account team (whoever may change the account)."
    )
    async def add_account_team_member(
        self, info: Info, input: AddAccountTeamMemberInput
    ) -> AccountTeamPayload:
        """Add a team member."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "addAccountTeamMember",
            input,
            rec.Account,
            lambda s: team.add_team_member(
                decode_id(input.account_id, AccountNode, "accountId"),
                decode_id(input.user_id, UserNode, "userId"),
                input.role,
                session=s,
                actor=actor,
            ),
        )
        return AccountTeamPayload(
            account=row and AccountNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(
        description="Remove a user from an account team (whoever may change the "
        "account)."
    )
    async def remove_account_team_member(
        self, info: Info, input: RemoveAccountTeamMemberInput
    ) -> AccountTeamPayload:
        """Remove a team member."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: team.remove_team_member(
                decode_id(input.account_id, AccountNode, "accountId"),
                decode_id(input.user_id, UserNode, "userId"),
                input.role,
                session=s,
                actor=actor,
            ),
        )
        return AccountTeamPayload(
            account=row and AccountNode.from_row(row), user_errors=errors
        )
