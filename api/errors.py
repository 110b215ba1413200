"""The error vocabulary of the API: ``UserError`` and the one ``ErrorCode`` enum."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry import relay

from api.enums import ErrorCodeGQL
from domain.errors import Refusal


def camel(name: str) -> str:
    """snake_case -> camelCase (idempotent on camelCase)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@strawberry.type(
    description=(
        "Why a mutation was refused or a transition is blocked. `code` is stable "
        "(switch on it); `field` is the input path concerned; `message` is for people."
    )
)
class UserError:
    """One refusal, as the API shows it."""

    code: ErrorCodeGQL = strawberry.field(description="Stable machine-readable code.")
    field: list[str] | None = strawberry.field(
        description="Path of the input field concerned (camelCase), if any."
    )
    message: str = strawberry.field(description="Human-readable explanation.")
    record_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Global id of an existing record the error points at "
        "(e.g. the record that already has this email).",
    )


def user_errors(refusals: Iterable[Refusal]) -> list[UserError]:
    """Domain refusals -> API user errors, one for one."""
    return [
        UserError(
            code=r.code,
            field=[camel(f) for f in r.field] or None,
            message=r.message,
            record_id=strawberry.ID(str(relay.GlobalID(*map(str, r.record))))
            if r.record
            else None,
        )
        for r in refusals
    ]
