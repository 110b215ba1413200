"""Custom fields on the API (issue 14 item 3): their definitions
(`customFieldDefinitions`, defineCustomField, updateCustomField), the typed
`customFields` connection of a lead, account or opportunity, and the input and
filter entries that write and find values.

A value is read as one of six types — CustomTextValue, CustomNumberValue,
CustomMoneyValue, CustomDateValue, CustomBooleanValue, CustomChoiceValue —
each naming its value differently (`text`, `number`, `amount`, `date`,
`boolean`, `choice`) so one selection can ask for all of them.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Info, refused
from api.dry_runs import DryRun, dry_run_field, dry_run_outcome, rehearsable
from api.enums import RecordTypeGQL, register_enum
from api.errors import UserError
from api.inputs import idempotency_field, mutate_once, provided, version_guard
from api.relay import RecordNode, decode_id, to_one
from api.users import UserNode
from domain import records as rec
from domain.enums import CustomFieldType, ErrorCode, RecordType
from domain.errors import Refused
from domain.rules.custom_fields import Definition, GivenValue, typed
from domain.rules.permissions import RULE_TABLE_EDITORS, role_list
from domain.services import custom_fields as service

CustomFieldTypeGQL = register_enum(
    CustomFieldType,
    "CustomFieldType",
    "What a custom field holds.",
    {
        "TEXT": "Text, up to 1,000 characters.",
        "NUMBER": "A decimal number (exact).",
        "MONEY": "An amount with at most 2 decimals.",
        "DATE": "A calendar date.",
        "BOOLEAN": "Yes or no.",
        "CHOICE": "One of the definition's choices.",
    },
)
MAX_PAGE = 100


@strawberry.type(
    name="CustomFieldDefinition",
    description="A custom field sales ops defined on leads, accounts or "
    "opportunities. Its key and type never change; choices are only added; an "
    "archived field keeps its values but takes no new one.",
)
class CustomFieldDefinitionNode(RecordNode):
    """A custom field definition."""

    model = rec.CustomFieldDefinition

    record_type: RecordTypeGQL = strawberry.field(  # type: ignore[valid-type]
        description="LEAD, ACCOUNT or OPPORTUNITY."
    )
    key: str = strawberry.field(
        description="Its key (camelCase): what inputs, filters, stage "
        "requirements (`custom.<key>`) and imports name."
    )
    label: str = strawberry.field(description="Its name for people.")
    type: CustomFieldTypeGQL = strawberry.field(description="What it holds.")  # type: ignore[valid-type]
    choices: list[str] = strawberry.field(description="A CHOICE field's choices.")
    description: str | None = strawberry.field(description="What it is for.")
    archived_at: strawberry.Private[Any]
    created_by_id: strawberry.Private[int | None]
    version: int = strawberry.field(description="Grows by one with every change.")

    created_by = to_one(UserNode, "created_by_id", description="Who defined it.")

    @strawberry.field(description="Archived: its values stay, it takes no new one.")
    def archived(self) -> bool:
        """Whether it is archived."""
        return self.archived_at is not None


@strawberry.interface(description="A custom field's value on a record.")
class CustomFieldValue:
    """A value (see its type for the value itself)."""

    key: str = strawberry.field(description="The field's key.")
    label: str = strawberry.field(description="The field's label.")
    type: CustomFieldTypeGQL = strawberry.field(description="The field's type.")  # type: ignore[valid-type]


@strawberry.type(description="A TEXT custom field's value.")
class CustomTextValue(CustomFieldValue):
    """Text."""

    text: str = strawberry.field(description="The text.")


@strawberry.type(description="A NUMBER custom field's value.")
class CustomNumberValue(CustomFieldValue):
    """A number."""

    number: Decimal = strawberry.field(description="The number (exact).")


@strawberry.type(description="A MONEY custom field's value.")
class CustomMoneyValue(CustomFieldValue):
    """An amount."""

    amount: Decimal = strawberry.field(description="The amount (2 decimals).")


@strawberry.type(description="A DATE custom field's value.")
class CustomDateValue(CustomFieldValue):
    """A date."""

    date: date = strawberry.field(description="The date.")


@strawberry.type(description="A BOOLEAN custom field's value.")
class CustomBooleanValue(CustomFieldValue):
    """Yes or no."""

    boolean: bool = strawberry.field(description="Yes (true) or no (false).")


@strawberry.type(description="A CHOICE custom field's value.")
class CustomChoiceValue(CustomFieldValue):
    """A choice."""

    choice: str = strawberry.field(description="The choice.")


_VALUE_TYPES: dict[CustomFieldType, tuple[type[CustomFieldValue], str]] = {
    CustomFieldType.TEXT: (CustomTextValue, "text"),
    CustomFieldType.NUMBER: (CustomNumberValue, "number"),
    CustomFieldType.MONEY: (CustomMoneyValue, "amount"),
    CustomFieldType.DATE: (CustomDateValue, "date"),
    CustomFieldType.BOOLEAN: (CustomBooleanValue, "boolean"),
    CustomFieldType.CHOICE: (CustomChoiceValue, "choice"),
}


# Every concrete value type, for the schema (clients reach them through the
# interface only).
CUSTOM_VALUE_TYPES = [node_type for node_type, _ in _VALUE_TYPES.values()]


def value_node(definition: Definition, stored: Any) -> CustomFieldValue:
    """A stored value as its GraphQL type."""
    node_type, name = _VALUE_TYPES[definition.type]
    return node_type(  # type: ignore[call-arg]
        key=definition.key,
        label=definition.label,
        type=definition.type,
        **{name: typed(definition, stored)},
    )


@strawberry.type(description="A custom field value and its cursor.")
class CustomFieldValueEdge:
    """An edge."""

    cursor: str = strawberry.field(description="Opaque cursor of this value.")
    node: CustomFieldValue = strawberry.field(description="The value.")


@strawberry.type(
    description="A record's custom field values, in the order the fields were "
    "defined (fields without a value are left out)."
)
class CustomFieldValueConnection:
    """A page of values."""

    edges: list[CustomFieldValueEdge] = strawberry.field(description="The values.")
    nodes: list[CustomFieldValue] = strawberry.field(description="The values.")
    page_info: strawberry.relay.PageInfo = strawberry.field(
        description="Paging information."
    )
    total_count: int = strawberry.field(description="How many values (all pages).")


def _cursor(key: str) -> str:
    return base64.b64encode(f"custom:{key}".encode()).decode()


async def _definitions(info: Info, record_type: RecordType) -> list[Definition]:
    """The record type's definitions, read once per request."""

    async def batch(session: AsyncSession, types: list[RecordType]) -> list[Any]:
        rows = await service.definition_rows(session)
        return [
            [service.definition_of(r) for r in rows if r.record_type == t]
            for t in types
        ]

    loader = info.context.loader(("custom_field_definitions",), batch)
    found: list[Definition] = await loader.load(record_type)
    return found


async def custom_field_values(
    info: Info,
    record_type: RecordType,
    stored: Mapping[str, Any] | None,
    first: int,
    after: str | None,
) -> CustomFieldValueConnection:
    """The ``customFields`` connection of a record."""
    if not 0 <= first <= MAX_PAGE:
        raise refused(
            ErrorCode.INVALID_INPUT, f"first must be 0 to {MAX_PAGE}.", "first"
        )
    stored = stored or {}
    present = [
        d
        for d in await _definitions(info, record_type)
        if stored.get(d.key) is not None
    ]
    start = 0
    if after is not None:
        cursors = [_cursor(d.key) for d in present]
        if after not in cursors:
            raise refused(ErrorCode.INVALID_INPUT, "Unknown cursor.", "after")
        start = cursors.index(after) + 1
    page = present[start : start + first]
    edges = [
        CustomFieldValueEdge(cursor=_cursor(d.key), node=value_node(d, stored[d.key]))
        for d in page
    ]
    return CustomFieldValueConnection(
        edges=edges,
        nodes=[e.node for e in edges],
        page_info=strawberry.relay.PageInfo(
            has_next_page=start + first < len(present),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(present),
    )


def custom_fields_field(record_type: RecordType) -> Any:
    """The ``customFields`` field of a record type's node (its row's
    ``custom_fields`` kept as a private field of the same name)."""

    async def resolve(
        root: Any,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description=f"How many (0 to {MAX_PAGE}).")
        ] = MAX_PAGE,
        after: Annotated[
            str | None, strawberry.argument(description="After this cursor.")
        ] = None,
    ) -> CustomFieldValueConnection:
        return await custom_field_values(
            info, record_type, root.custom_fields, first, after
        )

    return strawberry.field(
        resolver=resolve,
        name="customFields",
        description="Its custom field values, typed (customFieldDefinitions).",
    )


@strawberry.input(
    description="A custom field's value to write: its key and exactly one of the "
    "typed members, the one of the field's type — or `clear: true` to remove it."
)
class CustomFieldValueInput:
    """One value to write."""

    key: str = strawberry.field(description="The field's key.")
    text: str | None = strawberry.field(default=None, description="A TEXT value.")
    number: Decimal | None = strawberry.field(
        default=None, description="A NUMBER value."
    )
    amount: Decimal | None = strawberry.field(
        default=None, description="A MONEY value."
    )
    date: date | None = strawberry.field(default=None, description="A DATE value.")
    boolean: bool | None = strawberry.field(
        default=None, description="A BOOLEAN value."
    )
    choice: str | None = strawberry.field(default=None, description="A CHOICE value.")
    clear: bool = strawberry.field(default=False, description="Remove the value.")

    def given(self) -> GivenValue:
        """The value as the rules take it (exactly one member, or a removal)."""
        members = {
            kind: getattr(self, name)
            for kind, (_, name) in _VALUE_TYPES.items()
            if getattr(self, name) is not None
        }
        if self.clear and not members:
            return GivenValue(self.key, None, None)
        if len(members) != 1 or self.clear:
            raise refused(
                ErrorCode.INVALID_INPUT,
                f"Give {self.key!r} exactly one of text, number, amount, date, "
                "boolean, choice — or clear.",
                "customFields",
            )
        [(kind, value)] = members.items()
        if isinstance(value, date):
            value = value.isoformat()
        return GivenValue(self.key, kind, value)


def custom_fields_input() -> Any:
    """The ``customFields`` member of a create or update input."""
    return strawberry.field(
        default=strawberry.UNSET,
        description="Custom field values to write (others keep theirs); "
        "customFieldDefinitions lists the keys.",
    )


@strawberry.input(
    description="A custom field criterion: every given test must hold. The value "
    "tests are typed like the field (a NUMBER field: `number`, `atLeast`, "
    "`atMost`); a record without a value matches only `isSet: false`."
)
class CustomFieldFilter:
    """One custom field criterion."""

    key: str = strawberry.field(description="The field's key.")
    text: str | None = strawberry.field(default=None, description="TEXT equals.")
    number: Decimal | None = strawberry.field(
        default=None, description="NUMBER equals."
    )
    amount: Decimal | None = strawberry.field(default=None, description="MONEY equals.")
    date: date | None = strawberry.field(default=None, description="DATE equals.")
    boolean: bool | None = strawberry.field(default=None, description="BOOLEAN equals.")
    choice: str | None = strawberry.field(default=None, description="CHOICE equals.")
    at_least: Decimal | None = strawberry.field(
        default=None, description="A NUMBER or MONEY value at least this."
    )
    at_most: Decimal | None = strawberry.field(
        default=None, description="A NUMBER or MONEY value at most this."
    )
    is_set: bool | None = strawberry.field(
        default=None, description="true: has a value; false: has none."
    )

    def criterion(self) -> service.CustomCriterion:
        """The filter as the listing takes it."""
        return service.CustomCriterion(
            key=self.key,
            text=self.text,
            number=self.number,
            amount=self.amount,
            date=self.date,
            boolean=self.boolean,
            choice=self.choice,
            at_least=self.at_least,
            at_most=self.at_most,
            is_set=self.is_set,
        )


def criteria(
    filters: list[CustomFieldFilter] | None,
) -> tuple[service.CustomCriterion, ...]:
    """A list filter's custom field criteria."""
    return tuple(f.criterion() for f in filters or ())


async def check_criteria(info: Info, record_type: RecordType, list_filter: Any) -> None:
    """Refuse (INVALID_INPUT) a list filter's custom field criterion naming no
    field of the record type."""
    found = criteria(list_filter.custom_fields if list_filter is not None else None)
    if not found:
        return
    known = {d.key: d for d in await _definitions(info, record_type)}
    refusals = service.unknown_keys(found, known)
    if refusals:
        raise Refused(refusals)


def custom_fields_filter() -> Any:
    """The ``customFields`` member of a list filter."""
    return strawberry.field(
        default=None, description="Custom field criteria (all must hold)."
    )


@strawberry.type
class CustomFieldQueries:
    """Root fields about custom fields."""

    @strawberry.field(
        description="The custom field definitions, in the order they were made."
    )
    async def custom_field_definitions(
        self,
        info: Info,
        record_type: Annotated[
            RecordTypeGQL | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only this record type's."),
        ] = None,
        include_archived: Annotated[
            bool, strawberry.argument(description="Archived ones too.")
        ] = True,
    ) -> list[CustomFieldDefinitionNode]:
        """The definitions."""
        rows = await info.context.read(
            lambda s: service.definition_rows(
                s, record_type, include_archived=include_archived
            )
        )
        return [CustomFieldDefinitionNode.from_row(r) for r in rows]


@strawberry.input(description="A new custom field.")
class DefineCustomFieldInput:
    """defineCustomField input."""

    idempotency_key: str | None = idempotency_field("the first definition")
    record_type: RecordTypeGQL = strawberry.field(  # type: ignore[valid-type]
        description="LEAD, ACCOUNT or OPPORTUNITY."
    )
    key: str = strawberry.field(
        description="camelCase, a lower-case letter first, at most 40 (never changes)."
    )
    label: str = strawberry.field(description="Its name for people (1 to 120).")
    type: CustomFieldTypeGQL = strawberry.field(description="What it holds.")  # type: ignore[valid-type]
    choices: list[str] | None = strawberry.field(
        default=None, description="A CHOICE field's choices (1 to 100)."
    )
    description: str | None = strawberry.field(default=None, description="What for.")


@strawberry.input(description="Change a custom field (its key and type never change).")
class UpdateCustomFieldInput:
    """updateCustomField input."""

    idempotency_key: str | None = idempotency_field("the definition (changed once)")
    dry_run: bool = dry_run_field()
    id: strawberry.ID = strawberry.field(description="The definition.")
    expected_version: int | None = version_guard("definition")
    label: str | None = strawberry.field(default=strawberry.UNSET, description="Label.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What it is for."
    )
    choices: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Every choice it should have (the present ones kept).",
    )
    archived: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Archive (true) or restore (false)."
    )


@strawberry.type(description="Result of defineCustomField or updateCustomField.")
class CustomFieldPayload:
    """The definition, or why not."""

    custom_field: CustomFieldDefinitionNode | None = strawberry.field(
        description="The definition (null when refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.type
class CustomFieldMutations:
    """Root mutations about custom fields."""

    @strawberry.mutation(
        description=f"Define a custom field ({role_list(RULE_TABLE_EDITORS)})."
    )
    async def define_custom_field(
        self, info: Info, input: DefineCustomFieldInput
    ) -> CustomFieldPayload:
        """Define a custom field."""
        actor = info.context.actor

        def use_case(s: AsyncSession) -> Awaitable[rec.CustomFieldDefinition]:
            return service.define_custom_field(provided(input), session=s, actor=actor)

        row, errors = await mutate_once(
            info, "defineCustomField", input, rec.CustomFieldDefinition, use_case
        )
        return CustomFieldPayload(
            custom_field=row and CustomFieldDefinitionNode.from_row(row),
            user_errors=errors,
        )

    @strawberry.mutation(
        description=f"Change a custom field ({role_list(RULE_TABLE_EDITORS)}): its "
        "label, description, choices (added only), archived."
    )
    async def update_custom_field(
        self, info: Info, input: UpdateCustomFieldInput
    ) -> CustomFieldPayload:
        """Change a custom field."""
        actor = info.context.actor

        def use_case(s: AsyncSession) -> Awaitable[rec.CustomFieldDefinition]:
            return service.update_custom_field(
                decode_id(input.id, CustomFieldDefinitionNode, "id"),
                provided(input, skip=frozenset({"id", "expected_version"})),
                session=s,
                actor=actor,
                expected_version=input.expected_version,
            )

        row, errors, dry_run = await rehearsable(
            info,
            input.dry_run,
            use_case,
            lambda: mutate_once(
                info, "updateCustomField", input, rec.CustomFieldDefinition, use_case
            ),
        )
        return CustomFieldPayload(
            custom_field=row and CustomFieldDefinitionNode.from_row(row),
            user_errors=errors,
            dry_run=dry_run,
        )
