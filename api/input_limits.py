"""Every string that enters the API, checked in one place before execution (A6).

A string input — a literal in the document, a variable's value, or a
variable's default — is refused with ``INVALID_INPUT`` naming its field when
it holds a NUL character (PostgreSQL cannot store one), a lone surrogate
(not encodable as UTF-8), or more characters than its field allows:

- the length of the database column it is stored in, when it has one
  (``Lead.phone`` 60, ``Account.billingPostalCode`` 40…);
- 32 KiB for free text (notes, reasons, problem statements, domain lists);
- 255 for everything else (names, filters, search strings, ids, cursors).

Where the string is an argument of a mutation that has a payload, the
refusal is that mutation's ``userErrors`` (the mutation does nothing);
anywhere else the whole request is refused with a GraphQL error whose
``extensions`` carry the code and the argument path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from api.errors import camel, client_message
from domain import records
from domain.enums import ErrorCode
from domain.errors import Refusal

NAME_LENGTH = 255
FREE_TEXT_LENGTH = 32 * 1024

# Inputs whose value is prose or a list, not a name.
FREE_TEXT_FIELDS = frozenset(
    {
        "businessProblem",
        "closedLostDetail",
        "closedWonDetails",
        "domains",
        "freeMailDomains",
        "note",
        "outcome",
        "pocNotes",
        "pocSuccessCriteria",
        "purchasingPlan",
        "reason",
    }
)
# Input types whose fields are stored in a record not named in the type's name.
_RECORD_OF_INPUT: Mapping[str, type] = {
    "PassTicketToSalesInput": records.SupportHandOff,
    "ScoringPointsInput": records.ScoringTablePoints,
}
# Fields stored under another column name.
_COLUMN_OF_FIELD: Mapping[str, tuple[type, str]] = {
    "idempotencyKey": (records.IdempotencyKey, "key"),
    "pool": (records.RoutingPool, "key"),
}
_RECORDS = sorted(
    (
        model
        for model in vars(records).values()
        if isinstance(model, type) and hasattr(model, "__table__")
    ),
    key=lambda model: -len(model.__name__),
)


def _column_length(model: type, column: str) -> int | None:
    found = model.__table__.columns.get(column)  # type: ignore[attr-defined]
    length = getattr(found.type, "length", None) if found is not None else None
    return length if isinstance(length, int) else None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@cache
def string_limit(input_type: str | None, field: str) -> int:
    """The most characters a string given for ``field`` of ``input_type`` may have."""
    limit = FREE_TEXT_LENGTH if field in FREE_TEXT_FIELDS else NAME_LENGTH
    if field in _COLUMN_OF_FIELD:
        model, column = _COLUMN_OF_FIELD[field]
        return min(limit, _column_length(model, column) or limit)
    if input_type is None:
        return limit
    model = _RECORD_OF_INPUT.get(input_type) or next(
        (m for m in _RECORDS if m.__name__ in input_type), None
    )
    length = _column_length(model, _snake(field)) if model else None
    return min(limit, length) if length else limit


def string_refusal(value: str, path: tuple[str, ...], limit: int) -> Refusal | None:
    """Why the string ``value`` may not be stored, or None."""
    name = ".".join(path)
    if "\x00" in value:
        message = f"{name} contains a NUL character."
    elif len(value) > limit:
        message = f"{name} is longer than {limit} characters."
    else:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            message = f"{name} contains a lone surrogate (not valid Unicode)."
        else:
            return None
    return Refusal(ErrorCode.INVALID_INPUT, message, path)


@dataclass
class _Walk:
    """One operation's argument values, walked along their declared types."""

    schema: GraphQLSchema
    document: DocumentNode
    variables: Mapping[str, Any]
    defaults: Mapping[str, ValueNode]

    def fields(
        self, selections: SelectionSetNode | None, parent: Any, seen: set[str]
    ) -> Iterator[tuple[FieldNode, Any]]:
        """Every field under ``selections`` with its definition (fragments
        followed once each)."""
        if selections is None or parent is None:
            return
        for node in selections.selections:
            if isinstance(node, FieldNode):
                definition = getattr(parent, "fields", {}).get(node.name.value)
                if definition is None:
                    continue
                yield node, definition
                yield from self.fields(
                    node.selection_set, get_named_type(definition.type), seen
                )
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else None
                yield from self.fields(node.selection_set, kind or parent, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self._fragment(name)
                if fragment is None or name in seen:
                    continue
                seen.add(name)
                kind = self.schema.get_type(fragment.type_condition.name.value)
                yield from self.fields(fragment.selection_set, kind, seen)

    def _fragment(self, name: str) -> FragmentDefinitionNode | None:
        for definition in self.document.definitions:
            if (
                isinstance(definition, FragmentDefinitionNode)
                and definition.name.value == name
            ):
                return definition
        return None

    def literal(
        self,
        node: ValueNode,
        kind: GraphQLInputType,
        path: tuple[str, ...],
        owner: str | None,
    ) -> Iterator[Refusal]:
        """Refusals in a value written in the document."""
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                yield from self.value(self.variables[name], kind, path, owner)
            elif name in self.defaults:
                yield from self.literal(self.defaults[name], kind, path, owner)
        elif isinstance(node, ListValueNode):
            item = kind.of_type if isinstance(kind, GraphQLList) else kind
            for index, value in enumerate(node.values):
                yield from self.literal(value, item, (*path, str(index)), owner)
        elif isinstance(node, ObjectValueNode):
            if isinstance(kind, GraphQLInputObjectType):
                for field in node.fields:
                    definition = kind.fields.get(field.name.value)
                    if definition is not None:
                        yield from self.literal(
                            field.value,
                            definition.type,
                            (*path, field.name.value),
                            kind.name,
                        )
        elif isinstance(node, StringValueNode):
            yield from self._string(node.value, path, owner)

    def value(
        self, value: Any, kind: Any, path: tuple[str, ...], owner: str | None
    ) -> Iterator[Refusal]:
        """Refusals in a value given as a variable (JSON)."""
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(value, str):
            yield from self._string(value, path, owner)
        elif isinstance(value, list):
            item = kind.of_type if isinstance(kind, GraphQLList) else kind
            for index, element in enumerate(value):
                yield from self.value(element, item, (*path, str(index)), owner)
        elif isinstance(value, dict) and isinstance(kind, GraphQLInputObjectType):
            for name, element in value.items():
                definition = kind.fields.get(name)
                if definition is not None:
                    yield from self.value(
                        element, definition.type, (*path, name), kind.name
                    )

    @staticmethod
    def _string(
        value: str, path: tuple[str, ...], owner: str | None
    ) -> Iterator[Refusal]:
        field = next((p for p in reversed(path) if not p.isdigit()), "")
        refusal = string_refusal(value, path, string_limit(owner, field))
        if refusal is not None:
            yield refusal


def literal_path(document: DocumentNode, target: Any) -> list[str]:
    """The argument path (``["filter", "createdAfter"]``) at which ``target``,
    a value node of ``document``, is written; [] when it is not an argument's."""

    def within(value: Any, path: list[str]) -> list[str] | None:
        if value is target:
            return path
        children: list[tuple[str, Any]] = []
        if isinstance(value, ObjectValueNode):
            children = [(f.name.value, f.value) for f in value.fields]
        elif isinstance(value, ListValueNode):
            children = [(str(i), v) for i, v in enumerate(value.values)]
        for name, child in children:
            if (found := within(child, [*path, name])) is not None:
                return found
        return None

    def selections(selection_set: SelectionSetNode | None) -> list[str] | None:
        for node in selection_set.selections if selection_set else ():
            for argument in getattr(node, "arguments", None) or ():
                found = within(argument.value, [argument.name.value])
                if found is not None:
                    return found
            if (found := selections(node.selection_set)) is not None:
                return found
        return None

    for definition in document.definitions:
        found = selections(getattr(definition, "selection_set", None))
        if found is not None:
            return found
    return []


def input_refusals(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[dict[str, list[Refusal]], list[Refusal]]:
    """(refusals per root mutation field, refusals of the whole request)."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return {}, []
    walk = _Walk(
        schema,
        document,
        variables or {},
        {
            d.variable.name.value: d.default_value
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        },
    )
    root = schema.get_root_type(operation.operation)
    per_field: dict[str, list[Refusal]] = {}
    whole: list[Refusal] = []
    for node, definition in walk.fields(operation.selection_set, root, set()):
        found = [
            refusal
            for argument in node.arguments or ()
            if (declared := definition.args.get(argument.name.value)) is not None
            for refusal in walk.literal(
                argument.value, declared.type, (argument.name.value,), None
            )
        ]
        if not found:
            continue
        is_root = any(node is s for s in operation.selection_set.selections)
        has_payload = "userErrors" in getattr(
            get_named_type(definition.type), "fields", {}
        )
        if operation.operation == OperationType.MUTATION and is_root and has_payload:
            key = node.alias.value if node.alias else node.name.value
            # A payload names fields inside `input`, as its other refusals do.
            per_field.setdefault(key, []).extend(
                Refusal(
                    r.code, r.message, r.field[1:] if r.field[0] == "input" else r.field
                )
                for r in found
            )
        else:
            whole += found
    return per_field, whole


class InputLimits(SchemaExtension):
    """Checks every string input of an operation after validation, before
    execution (see the module docstring)."""

    def on_execute(self) -> Iterator[None]:
        """Refuse the request, or note the refusals of root mutations."""
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            per_field, whole = input_refusals(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if whole:
                context.result = ExecutionResult(
                    data=None, errors=[refusal_error(r) for r in whole]
                )
            elif per_field and context.context is not None:
                context.context.input_refusals = per_field
        yield


def refusal_error(refusal: Refusal) -> GraphQLError:
    """A refusal outside any payload: a GraphQL error with code and field."""
    return GraphQLError(
        client_message(refusal.message),
        extensions={
            "code": refusal.code.value,
            "field": [camel(f) for f in refusal.field],
        },
    )
