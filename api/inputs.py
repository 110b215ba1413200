"""Mutation plumbing: which input fields were given, ids decoded, one write each."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from api.context import Info
from api.errors import UserError, camel, user_errors
from api.relay import decode_id
from domain.enums import ErrorCode
from domain.errors import Refusal
from domain.records import IdempotencyKey
from domain.services.idempotency import (
    KEY_RETENTION,
    input_fingerprint,
    once,
    once_many,
    once_with,
)

T = TypeVar("T")
R = TypeVar("R", bound=SQLModel)  # a record: what idempotent writes load again

# Input fields that are not record values (handled by the mutation itself).
CONTROL_FIELDS = frozenset(
    {"id", "expected_version", "allow_duplicate", "idempotency_key", "dry_run"}
)


def version_guard(record: str) -> Any:
    """The optional ``expectedVersion`` field of an input that changes a ``record``."""
    return strawberry.field(
        default=None,
        description=f"Refuse with STALE_VERSION if the {record} moved on.",
    )


def idempotency_field(answer: str) -> Any:
    """The optional ``idempotencyKey`` field of a create or transition input (A3)."""
    hours = int(KEY_RETENTION.total_seconds() // 3600)
    return strawberry.field(
        default=None,
        description=f"Repeat-safe key, kept {hours} hours: the same key and input "
        f"return {answer} without doing it again; the same key with another input "
        "is IDEMPOTENCY_KEY_REUSED.",
    )


@strawberry.input(description="The control fields every update input starts with.")
class RecordChange:
    """``id`` and ``expectedVersion`` of an update input (both in CONTROL_FIELDS).

    An update input lists this base before its record's fields base,
    ``UpdateLeadInput(RecordChange, LeadFields)``, so that these two come first
    in its SDL, and redeclares them to name its record in the descriptions.
    """

    id: strawberry.ID = strawberry.field(description="The record.")
    expected_version: int | None = version_guard("record")


def provided(
    data: Any,
    *,
    ids: Mapping[str, type] | None = None,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The fields the client actually sent (UNSET left out), global ids decoded."""
    ids = ids or {}
    values: dict[str, Any] = {}
    for f in dataclasses.fields(data):
        if f.name in CONTROL_FIELDS or f.name in skip:
            continue
        value = getattr(data, f.name)
        if value is strawberry.UNSET:
            continue
        if f.name in ids and value is not None:
            value = decode_id(value, ids[f.name], camel(f.name))
        if f.name == "custom_fields" and value is not None:
            # CustomFieldValueInput entries, as the rules take them.
            value = [entry.given() for entry in value]
        values[f.name] = value
    return values


def given_twice(path: str, keys: list[str]) -> list[Refusal]:
    """INVALID_INPUT (at the dotted ``path``) for each key a list input gives
    more than once, e.g. a stage of a whole-table edit."""
    return [
        Refusal(ErrorCode.INVALID_INPUT, f"{k} is given twice.", tuple(path.split(".")))
        for k in dict.fromkeys(x for x in keys if keys.count(x) > 1)
    ]


def given(value: T | None) -> T | None:
    """UNSET -> None, for optional control arguments."""
    return None if value is strawberry.UNSET else value


async def mutate(
    info: Info,
    use_case: Callable[[AsyncSession], Awaitable[T]],
    *,
    dry_run: bool = False,
    refusals_as: Callable[[list[Refusal]], list[Refusal]] = list,
) -> tuple[T | None, list[UserError]]:
    """Run one use case atomically; refusals come back as user errors
    (``refusals_as`` turns the domain's field names into the input's paths).

    A unique-constraint race (two requests creating the same idempotency key
    at once on PostgreSQL) is retried once: the retry sees the winner's row.
    Inputs refused before execution (``api.input_limits``) run nothing.
    ``dry_run``: the use case is rolled back at its end (``api.dry_runs``).
    """
    if refused := info.context.input_refusals.get(info.path.key):
        return None, user_errors(refused)
    try:
        result, refusals = await info.context.attempt(use_case, dry_run=dry_run)
    except IntegrityError:
        result, refusals = await info.context.attempt(use_case, dry_run=dry_run)
    return result, user_errors(refusals_as(list(refusals)))


def _fingerprint(data: Any, key: str | None) -> str:
    """The input's fingerprint, kept with an idempotency key; none without a key
    (nothing reads it then, and walking the input cost ~4 % of a move's CPU:
    ``dataclasses.is_dataclass`` on an enum value asks the enum class)."""
    return input_fingerprint(_raw(data)) if key is not None else ""


def _raw(data: Any) -> dict[str, Any]:
    return {
        f.name: _plain(getattr(data, f.name))
        for f in dataclasses.fields(data)
        if f.name != "idempotency_key"
    }


def _plain(value: Any) -> Any:
    """An input value as fingerprinted: UNSET as None, nested inputs as dicts."""
    if value is strawberry.UNSET:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _raw(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def mutate_once(
    info: Info,
    mutation: str,
    data: Any,
    model: type[R],
    use_case: Callable[[AsyncSession], Awaitable[R]],
    *,
    refusals_as: Callable[[list[Refusal]], list[Refusal]] = list,
) -> tuple[R | None, list[UserError]]:
    """``mutate`` honouring the input's ``idempotencyKey`` (A3)."""
    actor = info.context.actor
    key = given(getattr(data, "idempotency_key", None))
    fingerprint = _fingerprint(data, key)
    return await mutate(
        info,
        lambda s: once(
            s,
            actor=actor,
            mutation=mutation,
            key=key,
            fingerprint=fingerprint,
            model=model,
            run=lambda: use_case(s),
        ),
        refusals_as=refusals_as,
    )


async def mutate_once_many(
    info: Info,
    mutation: str,
    data: Any,
    model: type[R],
    use_case: Callable[[AsyncSession], Awaitable[Sequence[R]]],
) -> tuple[list[R] | None, list[UserError]]:
    """``mutate_once`` for a batch mutation: its answer is a list of records."""
    actor = info.context.actor
    key = given(getattr(data, "idempotency_key", None))
    fingerprint = _fingerprint(data, key)
    return await mutate(
        info,
        lambda s: once_many(
            s,
            actor=actor,
            mutation=mutation,
            key=key,
            fingerprint=fingerprint,
            model=model,
            run=lambda: use_case(s),
        ),
    )


async def mutate_once_with(
    info: Info,
    mutation: str,
    data: Any,
    use_case: Callable[[AsyncSession], Awaitable[T]],
    *,
    remember: Callable[[T], dict[str, Any]],
    recall: Callable[[AsyncSession, IdempotencyKey], Awaitable[T]],
) -> tuple[T | None, list[UserError]]:
    """``mutate_once`` for an answer of several records (``once_with``)."""
    actor = info.context.actor
    key = given(getattr(data, "idempotency_key", None))
    fingerprint = _fingerprint(data, key)
    return await mutate(
        info,
        lambda s: once_with(
            s,
            actor=actor,
            mutation=mutation,
            key=key,
            fingerprint=fingerprint,
            run=lambda: use_case(s),
            remember=remember,
            recall=lambda seen: recall(s, seen),
        ),
    )
