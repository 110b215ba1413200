"""Users and API tokens: `User`, `users`/`viewer`, createUser; `ApiToken`,
`apiTokens`, createApiToken, revokeApiToken (issue 16 item 9)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from api.context import Info
from api.enums import RegionGQL, RoleGQL, TokenScopeGQL
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
    to_one,
)
from domain import records as rec
from domain.enums import TokenScope
from domain.rules.permissions import (
    USER_ADMINS,
    may_read_private,
    private_reader,
    role_names,
)
from domain.rules.token_scopes import ALL_SCOPES
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


@strawberry.type(
    name="ApiToken",
    description="An API token's metadata (the secret is never shown again): "
    "to its user and to ADMINs.",
)
class ApiTokenNode(RecordNode):
    """An API token."""

    model = rec.ApiToken

    label: strawberry.Private[str | None]
    user_id: strawberry.Private[int]
    scope_read: strawberry.Private[bool]
    scope_write: strawberry.Private[bool]
    scope_admin: strawberry.Private[bool]
    created_at: datetime = strawberry.field(description="When it was issued.")
    expires_at: datetime | None = strawberry.field(
        description="When it stops working (null: never)."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used (updated at most once a minute)."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (null: live)."
    )

    @strawberry.field(description="What it is for.")
    def name(self) -> str | None:
        """The token's name."""
        return self.label

    @strawberry.field(description="What it may be used for.")
    def scopes(self) -> list[TokenScopeGQL]:  # type: ignore[valid-type]
        """Its scopes, in the enum's order."""
        return sorted(
            service.scopes_from(self.scope_read, self.scope_write, self.scope_admin),
            key=list(TokenScope).index,
        )

    user = to_one(
        UserNode,
        "user_id",
        description="Whose token it is.",
    )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Any, required: bool = False
    ) -> list[ApiTokenNode | None]:
        """``node(id)`` of someone else's token is null (ADMINs see every one)."""
        nodes = await super().resolve_nodes(info=info, node_ids=node_ids)
        actor = info.context.actor
        return [
            n if n is not None and service.may_see_token(actor, n.user_id) else None
            for n in nodes
        ]


@strawberry.input(description="Filter API tokens; all given criteria must hold.")
class ApiTokenFilter:
    """Token criteria."""

    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Tokens of this user (ADMINs only see others')."
    )
    active: bool | None = strawberry.field(
        default=None, description="Live (not revoked, not expired) or not."
    )


@strawberry.type
class ApiTokenQueries:
    """Root fields about API tokens."""

    @strawberry.field(
        description="API tokens: an ADMIN sees every one, anyone else their own."
    )
    async def api_tokens(
        self,
        info: Info,
        filter: ApiTokenFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApiTokenNode]:
        """A page of tokens, oldest first."""
        f = filter or ApiTokenFilter()
        user_id = decode_id(f.user_id, UserNode, "userId") if f.user_id else None
        statement = service.token_list(info.context.actor, user_id, f.active)
        return await connection(
            info, ApiTokenNode, statement, first, after, last, before
        )


@strawberry.input(
    description="Issue an API token: your own, or (ADMIN) anyone's. The scopes "
    "must be among those of the token you call with."
)
class CreateApiTokenInput:
    """createApiToken input."""

    name: str = strawberry.field(description="What it is for (at most 200 characters).")
    scopes: list[TokenScopeGQL] = strawberry.field(  # type: ignore[valid-type]
        description="What it may be used for (at least one)."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When it stops working (null: never)."
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose token (default: yours; others': ADMIN)."
    )


@strawberry.type(description="A new API token. The secret is shown once, here only.")
class CreateApiTokenPayload:
    """The token, or why not."""

    token: str | None = strawberry.field(description="The bearer token (store it now).")
    api_token: ApiTokenNode | None = strawberry.field(description="Its metadata.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(
    description="Revoke an API token (your own, or as ADMIN anyone's): every "
    "server process refuses it within a second."
)
class RevokeApiTokenInput:
    """revokeApiToken input."""

    id: strawberry.ID = strawberry.field(description="The token.")


@strawberry.type(description="Result of revokeApiToken.")
class RevokeApiTokenPayload:
    """The revoked token, or why not."""

    api_token: ApiTokenNode | None = strawberry.field(
        description="The token (revokedAt set)."
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

    @strawberry.mutation(description="Issue an API token (your own; ADMIN: anyone's).")
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        """Issue a token."""
        actor = info.context.actor
        granted = info.context.scopes

        async def use_case(s):  # type: ignore[no-untyped-def]
            user_id = actor.id
            if input.user_id is not None:
                user_id = decode_id(input.user_id, UserNode, "userId")
            return await service.issue_token(
                user_id,
                session=s,
                actor=actor,
                label=input.name,
                scopes=frozenset(input.scopes),
                expires_at=input.expires_at,
                granted=ALL_SCOPES if granted is None else granted,
            )

        result, errors = await mutate(info, use_case)
        return CreateApiTokenPayload(
            token=result[1] if result else None,
            api_token=ApiTokenNode.from_row(result[0]) if result else None,
            user_errors=errors,
        )

    @strawberry.mutation(description="Revoke an API token (your own; ADMIN: anyone's).")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        """Revoke a token."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: service.revoke_token(
                decode_id(input.id, ApiTokenNode, "id"), session=s, actor=actor
            ),
        )
        return RevokeApiTokenPayload(
            api_token=row and ApiTokenNode.from_row(row), user_errors=errors
        )
