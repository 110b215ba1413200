"""Input objects built from a plan made once per input type.

strawberry converts every input value by inspecting its type again for each
value: for each field of each item it resolves the field's type, converts its
GraphQL name and runs an import, so a ``recordEngagements`` call of 500 items
spent 7.9 ms converting its argument (measured: 16 µs an item) — ~4 % of the
whole call's CPU. strawberry's own hook for building an input
(``StrawberryObjectDefinition.from_input``) lets a type build itself; here each
input type of the schema does so from a plan made at its first use: its fields'
GraphQL names, Python names and how each value is converted. A leaf value (a
scalar or an enum: graphql-core has already parsed it), a null, or a list of
leaves is taken as it is (the list copied, as strawberry does); anything else
(a nested input, a global id) is handed back to strawberry's conversion
(``InputContext.convert``), so the result is what strawberry builds.

A type with a ``Maybe`` field is left to strawberry: a type that builds itself
loses strawberry's document check of a null given to a ``Maybe`` field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, replace
from typing import Any

import strawberry
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
)
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.lazy_type import LazyType

# How a field's value is converted: None takes it as it is.
Convert = Callable[[Any, InputContext, str], Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """An input type's fields: (GraphQL name, Python name, conversion), and the
    nulls of the fields that have no default (strawberry's implicit None)."""

    fields: tuple[tuple[str, str, Convert], ...]
    nulls: Mapping[str, None]


_PLANS: dict[type, _Plan] = {}


def install(schema: strawberry.Schema) -> None:
    """Let every input type of the schema build itself from its plan."""
    for defined in schema.schema_converter.type_map.values():
        definition = defined.definition
        if (
            isinstance(definition, StrawberryObjectDefinition)
            and definition.is_input
            and definition.from_input is None
            and not any(
                isinstance(f.resolve_type(type_definition=definition), StrawberryMaybe)
                for f in definition.fields
            )
        ):
            definition.from_input = build


def build(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    """The input object of ``cls`` for the GraphQL input ``value``."""
    plan = _PLANS.get(cls) or _plan(cls, context)
    kwargs: dict[str, Any] = dict(plan.nulls)
    for graphql_name, python_name, convert in plan.fields:
        if graphql_name in value:
            given = value[graphql_name]
            kwargs[python_name] = (
                given if convert is None else convert(given, context, graphql_name)
            )
    return cls(**kwargs)


def _plan(cls: type, context: InputContext) -> _Plan:
    definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    fields = []
    for field in definition.fields:
        field_type = field.resolve_type(type_definition=definition)
        fields.append(
            (
                context.config.name_converter.from_field(field),
                field.python_name,
                _conversion(field_type, context),
            )
        )
    plan = _Plan(
        fields=tuple(fields),
        nulls={
            f.python_name: None
            for f in definition.fields
            if f.default_value is MISSING and f.default_factory is MISSING
        },
    )
    _PLANS[cls] = plan
    return plan


def _conversion(field_type: Any, context: InputContext) -> Convert:
    registry = context.scalar_registry
    listed = _unwrapped(field_type)
    if _is_leaf(listed, registry):
        return None
    if isinstance(listed, StrawberryList) and _is_leaf(
        _unwrapped(listed.of_type), registry
    ):
        return _copied_list
    if isinstance(listed, StrawberryList) and _builds_itself(listed.of_type):
        item_cls = listed.of_type

        def items(given: Any, context: InputContext, name: str) -> Any:
            if given is None:
                return None
            return [
                build(item_cls, item, replace(context, path=(*context.path, name, i)))
                for i, item in enumerate(given)
            ]

        return items

    def converted(given: Any, context: InputContext, name: str) -> Any:
        return context.convert(given, field_type, name)

    return converted


def _unwrapped(field_type: Any) -> Any:
    """The type a nullable type wraps (the type itself otherwise)."""
    if isinstance(field_type, StrawberryOptional):
        return field_type.of_type
    return field_type


def _is_leaf(field_type: Any, registry: Any) -> bool:
    """Whether graphql-core hands values of this type over as they are to be
    kept: a scalar (its ``parse_value`` ran) or an enum — not a global id,
    which strawberry decodes."""
    if isinstance(field_type, LazyType):
        field_type = field_type.resolve_type()
    if field_type is GlobalID:
        return False
    return (
        is_scalar(field_type, registry)
        or isinstance(field_type, StrawberryEnumDefinition)
        or isinstance(
            getattr(field_type, "__strawberry_definition__", None),
            StrawberryEnumDefinition,
        )
    )


def _builds_itself(item_type: Any) -> bool:
    """Whether ``item_type`` is an input type built here (not nullable)."""
    definition = getattr(item_type, "__strawberry_definition__", None)
    return (
        isinstance(definition, StrawberryObjectDefinition)
        and definition.from_input is build
    )


def _copied_list(given: Any, _context: InputContext, _name: str) -> Any:
    # graphql-core gives one default list to every request that omits the value:
    # a copy keeps a change to it out of the next requests (as strawberry does).
    return None if given is None else list(given)
