"""Input objects built from a plan per type (``api.input_building``) are exactly
what strawberry's own conversion builds from the same GraphQL input."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry
from graphql import coerce_input_value
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.maybe import Maybe

from api import input_building
from api.schema import schema

INPUTS: list[tuple[str, dict[str, Any]]] = [
    # a list of input objects, leaves, nulls, an enum, a datetime scalar
    (
        "RecordEngagementsInput",
        {
            "engagements": [
                {"leadId": "TGVhZDox", "kind": "WEBCAST_REGISTRATION"},
                {
                    "leadId": "TGVhZDoy",
                    "kind": "CONTACT_US_REQUEST",
                    "occurredAt": "2026-11-30T10:00:00+00:00",
                    "campaignId": None,
                },
            ],
            "idempotencyKey": "k-1",
        },
    ),
    # an optional list of nested inputs with Decimal and defaulted fields
    (
        "CreateLeadInput",
        {
            "initialSource": "Web",
            "email": "ada@example.com",
            "numberOfEmployees": 120,
            "customFields": [
                {"key": "tier", "text": "gold"},
                {"key": "budget", "amount": "1250.50"},
                {"key": "gone", "clear": True},
            ],
        },
    ),
    # a list of leaves
    (
        "SetRoutingPoolMembersInput",
        {"pool": "BDR_EMEA", "userIds": ["VXNlcjox", "VXNlcjoy"]},
    ),
    # nested several levels, optional lists of inputs left out and given
    (
        "UpdateStageRequirementsInput",
        {
            "expectedVersion": 1,
            "stages": [
                {
                    "stage": "DISCOVERY",
                    "requirements": [
                        {
                            "field": "nextStep",
                            "check": "RECORDED",
                            "message": "Record the next step.",
                            "when": {
                                "field": "type",
                                "test": "ANY_OF",
                                "values": ["NEW_BUSINESS"],
                            },
                        },
                    ],
                }
            ],
        },
    ),
]


def definitions() -> Iterator[StrawberryObjectDefinition]:
    for defined in schema.schema_converter.type_map.values():
        definition = defined.definition
        if isinstance(definition, StrawberryObjectDefinition) and definition.is_input:
            yield definition


@contextmanager
def strawberrys_own_conversion() -> Iterator[None]:
    """Every input type converted by strawberry itself, as without the plans."""
    hooked = [d for d in definitions() if d.from_input is input_building.build]
    for definition in hooked:
        definition.from_input = None
    try:
        yield
    finally:
        for definition in hooked:
            definition.from_input = input_building.build


def converted(name: str, value: dict[str, Any]) -> Any:
    graphql_type = schema._schema.type_map[name]
    given = coerce_input_value(value, graphql_type)  # type: ignore[arg-type]
    origin = next(d.origin for d in definitions() if d.name == name)
    return convert_argument(
        given, origin, schema.schema_converter.scalar_registry, schema.config
    )


def test_every_input_type_of_the_schema_builds_itself():
    assert all(d.from_input is input_building.build for d in definitions())


@pytest.mark.parametrize(("name", "value"), INPUTS, ids=[n for n, _ in INPUTS])
def test_a_built_input_is_what_strawberry_builds(name, value):
    built = converted(name, value)
    with strawberrys_own_conversion():
        expected = converted(name, value)

    assert type(built) is type(expected)
    assert built == expected


def test_a_list_of_leaves_is_a_copy():
    # graphql-core hands every request the same default list object
    value = {"pool": "BDR_EMEA", "userIds": ["VXNlcjox"]}
    given = coerce_input_value(
        value, schema._schema.type_map["SetRoutingPoolMembersInput"]
    )  # type: ignore[arg-type]
    origin = next(
        d.origin for d in definitions() if d.name == "SetRoutingPoolMembersInput"
    )
    built = convert_argument(
        given, origin, schema.schema_converter.scalar_registry, schema.config
    )
    assert built.user_ids == given["userIds"]
    assert built.user_ids is not given["userIds"]


@strawberry.input
class Patch:
    name: Maybe[str]


@strawberry.input
class Plain:
    name: str | None = None


@strawberry.type
class SmallQuery:
    @strawberry.field
    def patch(self, patch: Patch, plain: Plain) -> str:
        return "ok"


def test_a_type_with_a_maybe_field_is_left_to_strawberry():
    small = strawberry.Schema(query=SmallQuery)
    input_building.install(small)

    assert Patch.__strawberry_definition__.from_input is None  # type: ignore[attr-defined]
    assert Plain.__strawberry_definition__.from_input is input_building.build  # type: ignore[attr-defined]
    # strawberry still refuses a null for the Maybe field in the document
    result = small.execute_sync("{ patch(patch: {name: null}, plain: {}) }")
    assert result.errors
