"""The error vocabulary of the API: ``UserError`` and the one ``ErrorCode`` enum."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import strawberry
from strawberry import relay

from api.enums import ErrorCodeGQL
from domain.errors import RecordRef, Refusal, Refused, camel, refuse_if, render_refs

T = TypeVar("T")
R = TypeVar("R")

# record class name -> its GraphQL node type, filled as the node types are
# defined (api/relay.py's RecordNode registers each one).
NODE_OF_MODEL: dict[str, type] = {}


def global_id(model_name: str, record_id: int) -> str:
    """The global id of the record ``model_name`` #``record_id``."""
    node = NODE_OF_MODEL[model_name]
    type_name = node.__strawberry_definition__.name  # type: ignore[attr-defined]
    return str(relay.GlobalID(type_name, str(record_id)))


def client_message(message: str) -> str:
    """A domain message as clients read it: every record it names by global id."""
    return render_refs(message, global_id)


def _record_id(ref: RecordRef | None) -> strawberry.ID | None:
    return strawberry.ID(global_id(ref.type, ref.id)) if ref else None


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
            message=client_message(r.message),
            record_id=_record_id(r.record),
        )
        for r in refusals
    ]


def each_item(items: Sequence[T], convert: Callable[[T], R], *path: str) -> list[R]:
    """``convert`` every item of a list input; every refusal of every item is
    raised at once, its field under ``path.<index>`` (a batch reports them all)."""
    found: list[Refusal] = []
    converted: list[R] = []
    for index, item in enumerate(items):
        try:
            converted.append(convert(item))
        except Refused as refused:
            found += [r.under(*path, str(index)) for r in refused.refusals]
    refuse_if(found)
    return converted
