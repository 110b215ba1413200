"""Query cost: a static price per request, computed before execution (A6).

The cost model (documented in the README too):

- a field returning a scalar or an enum costs 0; one returning an object (or
  a list of objects of unknown length) costs 1 plus its selections;
- a paged field (a connection, or a list with ``first``) multiplies what
  each row selects by its page size: ``first`` or ``last`` (from the
  document or the variables; 50 when neither is given, at most 500), so
  ``leads(first: 100) { nodes { id owner { id } } }`` costs
  1 + 100 * (1 + 1) = 201; ``nodes(ids:)`` multiplies by the number of ids
  (each row costs 1 plus what it selects);
- ``availableTransitions`` and ``history`` cost 5 each on top (they read
  guards' facts and the transition log for every row); ``totalCount`` 1;
- a root mutation field costs 10 plus its payload's selections;
- fragments count once per place they are spread (all type conditions).

A request above the budget (``SALESOPS_QUERY_COST_BUDGET``, default
``QUERY_COST_BUDGET`` = 10,000, carried by the request's context) is refused
before anything runs, with ``QUERY_TOO_COSTLY`` and ``extensions.cost`` /
``extensions.budget``;
every response carries ``extensions.cost = {requested, budget}`` (0 for a
request refused before it could be priced, e.g. a syntax error).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from strawberry.extensions import SchemaExtension

from api.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.enums import ErrorCode

QUERY_COST_BUDGET = 10_000
OBJECT_COST = 1
MUTATION_COST = 10
# Fields dearer than their shape says: priced per row they appear on.
FIELD_COSTS: Mapping[str, int] = {
    "availableTransitions": 5,
    "history": 5,
    "totalCount": 1,
}
_ROWS = ("nodes", "edges")


def _unwrap(kind: Any) -> Any:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


@dataclass
class _Pricing:
    """One operation priced along the schema's types."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    defaults: Mapping[str, ValueNode]

    def selections(
        self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str]
    ) -> int:
        """The cost of a selection set on ``parent`` (each fragment spread once
        per path, a cycle counted never)."""
        return sum(
            self.field(found) for found in self._fields(selections, parent, seen)
        )

    def _fields(
        self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, Any, frozenset[str]]]:
        if selections is None or parent is None:
            return
        for node in selections.selections:
            if isinstance(node, FieldNode):
                yield node, parent, seen
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else None
                yield from self._fields(node.selection_set, kind or parent, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    kind = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self._fields(fragment.selection_set, kind, seen | {name})

    def field(self, found: tuple[FieldNode, Any, frozenset[str]]) -> int:
        """The cost of one field: its own price plus its rows' selections."""
        node, parent, seen = found
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:
            return 0
        kind = get_named_type(definition.type)
        own = FIELD_COSTS.get(node.name.value, 0 if is_leaf_type(kind) else OBJECT_COST)
        rows = self._rows(node, definition)
        if rows is None:
            return own + self.selections(node.selection_set, kind, seen)
        if {"nodes", "edges"} & set(getattr(kind, "fields", {})):
            # A connection: what a row selects, times the page size.
            total = own
            for child in self._fields(node.selection_set, kind, seen):
                cost = self.field(child)
                total += rows * cost if child[0].name.value in _ROWS else cost
            return total
        # A paged list: each row is an object.
        return own + rows * (
            OBJECT_COST + self.selections(node.selection_set, kind, seen)
        )

    def _rows(self, node: FieldNode, definition: Any) -> int | None:
        """How many rows a paged field may return (None: not paged)."""
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        if "ids" in definition.args and isinstance(
            _unwrap(definition.type), GraphQLList
        ):
            ids = self._value(arguments.get("ids"))
            return len(ids) if isinstance(ids, list) else 1
        if "first" not in definition.args and "last" not in definition.args:
            return None
        for name in ("first", "last"):
            value = self._value(arguments.get(name))
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, MAX_PAGE_SIZE))
        return DEFAULT_PAGE_SIZE

    def _value(self, node: ValueNode | None) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in self.variables:
                return self.variables[name]
            return self._value(self.defaults.get(name))
        if isinstance(node, IntValueNode):
            try:
                return int(node.value)
            except ValueError:
                return None
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The static cost of the operation a request runs (see the module doc)."""
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return 0
    pricing = _Pricing(
        schema,
        {
            d.name.value: d
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        },
        variables or {},
        {
            d.variable.name.value: d.default_value
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        },
    )
    root = schema.get_root_type(operation.operation)
    cost = pricing.selections(operation.selection_set, root, frozenset())
    if operation.operation == OperationType.MUTATION:
        cost += MUTATION_COST * len(operation.selection_set.selections)
    return cost


class QueryCost(SchemaExtension):
    """Prices each operation before it runs; refuses one over the budget."""

    def __init__(self, budget: int | None = None) -> None:
        self._budget = budget
        self.cost: int | None = None

    @property
    def budget(self) -> int:
        """The request's budget (its context's), else the default."""
        if self._budget is None:
            context = self.execution_context.context
            budget = getattr(context, "cost_budget", None)
            self._budget = budget if budget is not None else QUERY_COST_BUDGET
        return self._budget

    def _price(self) -> int:
        context = self.execution_context
        if self.cost is None:
            self.cost = 0
            if context.graphql_document is not None:
                self.cost = query_cost(
                    context.schema._schema,
                    context.graphql_document,
                    context.operation_name,
                    context.variables,
                )
            report = getattr(context.context, "operation", None)
            if report is not None:
                report.cost = self.cost
        return self.cost

    def on_execute(self) -> Iterator[None]:
        """Refuse before execution when the price is over the budget."""
        cost = self._price()
        if cost > self.budget and self.execution_context.result is None:
            self.execution_context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"This request costs {cost:,}, over the budget of "
                        f"{self.budget:,}: ask for smaller pages or fewer fields "
                        "(see the README, query cost).",
                        extensions={
                            "code": ErrorCode.QUERY_TOO_COSTLY.value,
                            "cost": cost,
                            "budget": self.budget,
                        },
                    )
                ],
            )
        yield

    def get_results(self) -> dict[str, Any]:
        """``extensions.cost`` of every response."""
        try:
            cost = self._price()
        except Exception:
            cost = 0
        return {"cost": {"requested": cost, "budget": self.budget}}
