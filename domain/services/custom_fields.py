"""Custom fields (issue 14 item 3): defining them (SALES_OPS, ADMIN) and
checking the values a write gives against the definitions of its record type.

The rules — keys, types, stored forms, merging — are
``domain.rules.custom_fields``'s. A definition is made under a key lock of its
record type and key (PostgreSQL; SQLite runs one writer at a time), so two
requests defining one key make one field and a DUPLICATE_RECORD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, cast, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import CustomFieldType, ErrorCode, RecordType
from domain.errors import Refusal, Refused, refuse_if
from domain.records import CustomFieldDefinition
from domain.rules.custom_fields import (
    Definition,
    GivenValue,
    choice_refusals,
    definition_refusals,
    label_refusals,
    merged_values,
)
from domain.rules.permissions import Actor, may_define_custom_fields
from domain.services.loading import check_version, load
from domain.services.locks import lock_key
from domain.sqltypes import utcnow

CUSTOM_FIELDS = "custom_fields"


def definition_of(row: CustomFieldDefinition) -> Definition:
    """A stored definition as the rules see it."""
    return Definition(
        record_type=row.record_type,
        key=row.key,
        label=row.label,
        type=row.type,
        choices=tuple(row.choices or ()),
        archived=row.archived_at is not None,
    )


async def definition_rows(
    session: AsyncSession,
    record_type: RecordType | None = None,
    *,
    include_archived: bool = True,
) -> list[CustomFieldDefinition]:
    """The definitions (of one record type), in the order they were made."""
    stmt = select(CustomFieldDefinition).order_by(col(CustomFieldDefinition.id))
    if record_type is not None:
        stmt = stmt.where(col(CustomFieldDefinition.record_type) == record_type)
    if not include_archived:
        stmt = stmt.where(col(CustomFieldDefinition.archived_at).is_(None))
    return list((await session.execute(stmt)).scalars())


async def definitions(
    session: AsyncSession, record_type: RecordType
) -> dict[str, Definition]:
    """A record type's definitions by key (archived ones included)."""
    return {
        row.key: definition_of(row)
        for row in await definition_rows(session, record_type)
    }


async def define_custom_field(
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    now: datetime | None = None,
) -> CustomFieldDefinition:
    """Define a custom field, or refuse with every reason."""
    refuse_if(may_define_custom_fields(actor))
    record_type = RecordType(values["record_type"])
    key = str(values["key"])
    await lock_key(session, "custom_field", f"{record_type.value}:{key}")
    existing = [definition_of(r) for r in await definition_rows(session, record_type)]
    wanted = Definition(
        record_type=record_type,
        key=key,
        label=str(values["label"]),
        type=CustomFieldType(values["type"]),
        choices=tuple(values.get("choices") or ()),
    )
    refuse_if(definition_refusals(wanted, existing))
    now = now or utcnow()
    row = CustomFieldDefinition(
        record_type=record_type,
        key=key,
        label=wanted.label.strip(),
        type=wanted.type,
        choices=list(wanted.choices),
        description=(values.get("description") or "").strip() or None,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def update_custom_field(
    definition_id: int,
    values: Mapping[str, Any],
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> CustomFieldDefinition:
    """Change a definition's label, description or choices (added only), or
    archive / restore it; its key and type never change."""
    refuse_if(may_define_custom_fields(actor))
    row = await load(session, CustomFieldDefinition, definition_id, lock=True)
    check_version(row, expected_version)
    found: list[Refusal] = []
    if values.get("label") is not None:
        found += label_refusals(values["label"])
    if values.get("choices") is not None:
        found += choice_refusals(row.type, values["choices"], row.choices or ())
    refuse_if(found)
    if values.get("label") is not None:
        row.label = values["label"].strip()
    if "description" in values:
        row.description = (values["description"] or "").strip() or None
    if values.get("choices") is not None:
        row.choices = list(values["choices"])
    if values.get("archived") is not None:
        archived = bool(values["archived"])
        if archived != (row.archived_at is not None):
            row.archived_at = (now or utcnow()) if archived else None
    await session.flush()
    return row


async def with_custom_fields(
    session: AsyncSession,
    record_type: RecordType,
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> Mapping[str, Any]:
    """A write's values with its given custom fields (``values["custom_fields"]``,
    a list of ``GivenValue``) checked against the record type's definitions
    and merged into the record's ``current`` ones; unchanged when it gives
    none. Refused with every invalid entry."""
    given: Sequence[GivenValue] | None = values.get(CUSTOM_FIELDS)
    if given is None:
        return values
    if not given:
        return {k: v for k, v in values.items() if k != CUSTOM_FIELDS}
    merged, found = merged_values(
        current, given, await definitions(session, record_type)
    )
    if found:
        raise Refused(found)
    return {**values, CUSTOM_FIELDS: merged or None}


@dataclass(frozen=True, slots=True)
class CustomCriterion:
    """A list filter's test of one custom field (all given tests must hold);
    the value tests are typed, as the field's type stores them."""

    key: str
    text: str | None = None
    number: Decimal | None = None
    amount: Decimal | None = None
    date: date | None = None
    boolean: bool | None = None
    choice: str | None = None
    at_least: Decimal | None = None
    at_most: Decimal | None = None
    is_set: bool | None = None


def criterion_conditions(column: Any, criterion: CustomCriterion) -> list[Any]:
    """A criterion as SQL on a ``custom_fields`` JSON column (both databases:
    SQLAlchemy's JSON index compiles to ``json_extract`` / ``->>``). Numbers
    and amounts are stored as exact decimal text and compared as decimals."""
    value = column[criterion.key]
    text = value.as_string()
    number = cast(text, Numeric(38, 10))
    found: list[Any] = []
    if criterion.is_set is not None:
        found.append(text.is_not(None) if criterion.is_set else text.is_(None))
    for given in (criterion.text, criterion.choice):
        if given is not None:
            found.append(text == given)
    if criterion.date is not None:
        found.append(text == criterion.date.isoformat())
    if criterion.boolean is not None:
        found.append(value.as_boolean() == criterion.boolean)
    for given_number in (criterion.number, criterion.amount):
        if given_number is not None:
            found.append(number == given_number)
    if criterion.at_least is not None:
        found.append(number >= criterion.at_least)
    if criterion.at_most is not None:
        found.append(number <= criterion.at_most)
    return found


def unknown_keys(
    criteria: Sequence[CustomCriterion], known: Mapping[str, Definition]
) -> list[Refusal]:
    """A criterion naming no field of the record type (each by its position)."""
    return [
        Refusal(
            ErrorCode.INVALID_INPUT,
            f"No custom field {c.key!r} here.",
            ("filter", "customFields", str(i), "key"),
        )
        for i, c in enumerate(criteria)
        if c.key not in known
    ]
