"""Users and API tokens: the `User` type, `users`/`viewer`, createUser, tokens."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from api.context import Info
from api.enums import RegionGQL, RoleGQL
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
    ordering,
)
from domain import records as rec
from domain.rules.permissions import (
    USER_ADMINS,
    may_read_private,
    private_reader,
    role_names,
)
from domain.services import users as service
from domain.services.listing import UserQuery

_ONLY = f"{role_names(USER_ADMINS)} only"


@strawberry.type(name="User", description="A member of the go-to-market team.")
class UserNode(RecordNode):
    """A user."""

    model = rec.User

    name: str = strawberry.field(description="Full name.")
    role: RoleGQL = strawberry.field(
        description="What the user does; decides permissions."
    )
    region: RegionGQL | None = strawberry.field(description="Region the user covers.")
    active: bool = strawberry.field(description="Inactive users get no new work.")
    out_of_office_until: datetime | None = strawberry.field(
        description="Out of office until then: skipped by round robin."
    )
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When the user was created.")

    @strawberry.field(
        description="Work email (unique): shown to the user themselves, SALES_OPS "
        "and ADMIN; null for anyone else."
    )
    async def email(self, info: Info) -> str | None:
        """The email, when the viewer may read it (``may_read_private``)."""
        if not may_read_private(info.context.actor, {int(self.id)}):
            return None
        row = await info.context.records(rec.User).load(int(self.id))
        return row.email if row is not None else None


@strawberry.enum(description="Fields users can be sorted by.")
class UserOrderField(Enum):
    """Sortable user fields."""

    ID = strawberry.enum_value("ID", description="Creation order.")
    NAME = strawberry.enum_value("NAME", description="Name.")


@strawberry.input(description="Sort order of a user list.")
class UserOrder(Order[UserOrderField]):
    """Field and direction."""


@strawberry.input(description="Filter users; all given criteria must hold.")
class UserFilter:
    """User criteria."""

    role: list[RoleGQL] | None = strawberry.field(
        default=None, description="Any of these roles."
    )
    region: list[RegionGQL] | None = strawberry.field(
        default=None, description="Any of these regions."
    )
    active: bool | None = strawberry.field(default=None, description="Active or not.")
    search: str | None = strawberry.field(
        default=None,
        description="Substring of name or email (other users' emails: for "
        "SALES_OPS and ADMIN only).",
    )


USER_ORDER = {UserOrderField.ID: rec.User.id, UserOrderField.NAME: rec.User.name}


@strawberry.type
class UserQueries:
    """Root fields about users."""

    @strawberry.field(description="The calling user.")
    async def viewer(self, info: Info) -> UserNode:
        """Whoever the bearer token belongs to."""
        row = await info.context.records(rec.User).load(info.context.actor.id)
        return UserNode.from_row(row)

    @strawberry.field(description="Users of the go-to-market team.")
    async def users(
        self,
        info: Info,
        filter: UserFilter | None = None,
        order_by: UserOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[UserNode]:
        """A page of users."""
        f = filter or UserFilter()
        statement = UserQuery(
            role=f.role or (),
            region=f.region or (),
            active=f.active,
            search=f.search,
            reader_id=private_reader(info.context.actor),
        ).statement()
        order = ordering(USER_ORDER, order_by)
        return await connection(
            info, UserNode, statement, first, after, last, before, order=order
        )


@strawberry.input(
    description="The fields of createUser and updateUser (not in the schema)."
)
class UserFields:
    """Every user field, optional (UNSET: not given) and worded for a change;
    CreateUserInput redeclares the ones a creation requires or words otherwise."""

    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Full name."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email.")
    role: RoleGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Role."
    )
    region: RegionGQL | None = strawberry.field(
        default=strawberry.UNSET, description="Region."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Active."
    )
    out_of_office_until: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Out of office until."
    )


@strawberry.input(description="A new member of the team.")
class CreateUserInput(UserFields):
    """createUser input."""

    idempotency_key: str | None = idempotency_field("the first user (no second user)")
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="Work email (unique).")
    role: RoleGQL = strawberry.field(description="Role.")


@strawberry.type(description="Result of createUser.")
class CreateUserPayload:
    """The user, or why not."""

    user: UserNode | None = strawberry.field(description="The new user.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(description=f"Change a user ({_ONLY}).")
class UpdateUserInput(RecordChange, UserFields):
    """updateUser input: only the given fields change."""

    id: strawberry.ID = strawberry.field(description="The user.")
    expected_version: int | None = version_guard("user")


@strawberry.type(description="Result of updateUser.")
class UpdateUserPayload:
    """The user, or why not."""

    user: UserNode | None = strawberry.field(description="The changed user.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(description=f"Issue an API token for a user ({_ONLY}).")
class CreateApiTokenInput:
    """createApiToken input."""

    user_id: strawberry.ID = strawberry.field(description="Whose token.")
    label: str | None = strawberry.field(default=None, description="What it is for.")


@strawberry.type(description="A new API token. The secret is shown once, here only.")
class CreateApiTokenPayload:
    """The token, or why not."""

    token: str | None = strawberry.field(description="The bearer token (store it now).")
    token_id: int | None = strawberry.field(description="Id to revoke it with.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(description=f"Revoke an API token ({_ONLY}).")
class RevokeApiTokenInput:
    """revokeApiToken input."""

    token_id: int = strawberry.field(description="The token's id.")


@strawberry.type(description="Result of revokeApiToken.")
class RevokeApiTokenPayload:
    """When it was revoked, or why not."""

    revoked_at: datetime | None = strawberry.field(
        description="When it stopped working."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class UserMutations:
    """Root mutations about users and tokens."""

    @strawberry.mutation(description=f"Create a user ({_ONLY}).")
    async def create_user(
        self, info: Info, input: CreateUserInput
    ) -> CreateUserPayload:
        """Create a user."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "createUser",
            input,
            rec.User,
            lambda s: service.create_user(provided(input), session=s, actor=actor),
        )
        return CreateUserPayload(
            user=row and UserNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(description=f"Change a user ({_ONLY}).")
    async def update_user(
        self, info: Info, input: UpdateUserInput
    ) -> UpdateUserPayload:
        """Change a user."""
        actor = info.context.actor

        async def use_case(s):  # type: ignore[no-untyped-def]
            return await service.update_user(
                decode_id(input.id, UserNode, "id"),
                provided(input),
                session=s,
                actor=actor,
                expected_version=given(input.expected_version),
            )

        row, errors = await mutate(info, use_case)
        return UpdateUserPayload(
            user=row and UserNode.from_row(row), user_errors=errors
        )

    @strawberry.mutation(description=f"Issue an API token ({_ONLY}).")
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        """Issue a token."""
        actor = info.context.actor
        result, errors = await mutate(
            info,
            lambda s: service.issue_token(
                decode_id(input.user_id, UserNode, "userId"),
                session=s,
                actor=actor,
                label=input.label,
            ),
        )
        return CreateApiTokenPayload(
            token=result[1] if result else None,
            token_id=result[0].id if result else None,
            user_errors=errors,
        )

    @strawberry.mutation(description=f"Revoke an API token ({_ONLY}).")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        """Revoke a token."""
        actor = info.context.actor
        row, errors = await mutate(
            info, lambda s: service.revoke_token(input.token_id, session=s, actor=actor)
        )
        return RevokeApiTokenPayload(
            revoked_at=row and row.revoked_at, user_errors=errors
        )
