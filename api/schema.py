"""The strawberry schema, assembled from the feature modules, with its guards.

Limits (A6): query depth 12, 40 aliases, 8,000 tokens, pages of at most 500.
String inputs (NUL, lone surrogates, lengths) are checked once, before
execution, by ``api.input_limits``; amounts and dates by bounded scalars
(``api.scalars``).
Each request is priced before execution (``api.cost``: budget 10,000) and
refused over budget with QUERY_TOO_COSTLY; ``extensions.cost`` tells the price.
Errors: expected refusals inside queries become errors with a stable
``extensions.code``; unexpected exceptions are masked for clients and logged
with the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Undefined,
    VariableDefinitionNode,
    get_named_type,
    is_input_type,
)
from graphql.utilities import type_from_ast
from graphql.utilities.validate_input_value import validate_input_value
from graphql.validation import ValuesOfCorrectTypeRule
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from api import input_building
from api.accounts import AccountMutations, AccountQueries, AccountTeamMutations
from api.activities import (
    ActivityCompletionMutations,
    ActivityMutations,
    ActivityQueries,
)
from api.auth import TokenScopes
from api.campaigns import CampaignMutations, CampaignQueries
from api.contacts import ContactMutations, ContactQueries
from api.cost import QueryCost
from api.custom_fields import (
    CUSTOM_VALUE_TYPES,
    CustomFieldMutations,
    CustomFieldQueries,
)
from api.engagements import EngagementMutations
from api.errors import camel, client_message
from api.events import EventQueries
from api.exports import ExportMutations, ExportQueries
from api.funnel import FunnelQueries
from api.imports import ImportMutations, ImportQueries
from api.input_limits import InputLimits, literal_path
from api.leads import LeadLifecycleMutations, LeadMutations, LeadQueries
from api.machines import MachineQueries
from api.merges import MergeMutations, MergeQueries
from api.observability import OperationObserver
from api.opportunities import (
    OpportunityMutations,
    OpportunityPipelineMutations,
    OpportunityQueries,
)
from api.ownership import OwnershipMutations
from api.regions import RegionMutations, RegionQueries
from api.relay import resolve_node, resolve_nodes
from api.reports import ReportQueries
from api.routing import RoutingMutations, RoutingQueries
from api.scalars import BoundedDate, BoundedDateTime, BoundedDecimal
from api.scoring import ScoringMutations, ScoringQueries
from api.stage_requirements import StageRequirementMutations, StageRequirementQueries
from api.subscriptions import Subscription
from api.support import SupportMutations, SupportQueries
from api.timeouts import TimeoutMutations, TimeoutQueries
from api.users import ApiTokenQueries, UserMutations, UserQueries
from api.webhooks import WebhookMutations, WebhookQueries
from domain.enums import ErrorCode
from domain.errors import Refused

log = logging.getLogger("salesops.api")

MAX_DEPTH = 12
MAX_ALIASES = 40
MAX_TOKENS = 8_000


@strawberry.type(description="Read the sales-operations records and reports.")
class Query(
    UserQueries,
    ApiTokenQueries,
    LeadQueries,
    AccountQueries,
    ContactQueries,
    OpportunityQueries,
    ActivityQueries,
    CampaignQueries,
    MachineQueries,
    RoutingQueries,
    SupportQueries,
    ReportQueries,
    EventQueries,
    ScoringQueries,
    RegionQueries,
    StageRequirementQueries,
    TimeoutQueries,
    CustomFieldQueries,
    FunnelQueries,
    WebhookQueries,
    MergeQueries,
    ExportQueries,
    ImportQueries,
):
    """The root of every read."""

    node: relay.Node | None = strawberry.field(
        resolver=resolve_node,
        description="Any record by its global id (null when it does not exist).",
    )
    nodes: list[relay.Node | None] = strawberry.field(
        resolver=resolve_nodes,
        description="Several records by global id, in the order asked.",
    )


@strawberry.type(
    description="Change records. Every mutation takes one `input` and returns a "
    "payload with the changed record(s) and `userErrors` (empty on success)."
)
class Mutation(
    UserMutations,
    LeadMutations,
    LeadLifecycleMutations,
    OwnershipMutations,
    EngagementMutations,
    RoutingMutations,
    ScoringMutations,
    RegionMutations,
    StageRequirementMutations,
    TimeoutMutations,
    CustomFieldMutations,
    AccountMutations,
    AccountTeamMutations,
    ContactMutations,
    OpportunityMutations,
    OpportunityPipelineMutations,
    ActivityMutations,
    ActivityCompletionMutations,
    CampaignMutations,
    SupportMutations,
    WebhookMutations,
    MergeMutations,
    ExportMutations,
    ImportMutations,
):
    """The root of every write."""


class CachedParser(ParserCache):
    """strawberry's ParserCache, but a syntax error is left to strawberry's own
    parse step: raised from this hook it escaped the operation, so the error
    policy never saw it (no ``extensions.code``)."""

    def on_parse(self) -> Iterator[None]:
        """Parse through the cache; on a syntax error, let strawberry reparse."""
        try:
            yield from super().on_parse()
        except GraphQLError:
            self.execution_context.graphql_document = None
            yield


class ErrorPolicy(MaskErrors):
    """Typed codes for expected errors; masked, logged internals for the rest."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._one(error) for error in errors]

    def _request_id(self) -> str:
        context = self.execution_context.context
        return getattr(context, "request_id", "-")

    def _one(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, Refused):
            first = original.refusals[0]
            return GraphQLError(
                "; ".join(client_message(r.message) for r in original.refusals),
                nodes=error.nodes,
                path=error.path,
                extensions={
                    "code": first.code.value,
                    "field": [camel(f) for f in first.field],
                },
            )
        if error.extensions and "code" in error.extensions:
            return error  # typed where it was raised (a coded rule, the cost guard)
        extensions = self._kind(error)
        if extensions is None:
            return self._internal(error, original)
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )

    def _kind(self, error: GraphQLError) -> dict[str, Any] | None:
        """The code of an error GraphQL itself raised, by its type and origin
        (never by its message): a syntax error, a variable that does not
        coerce (validation errors are coded by ``CodedValidation``), another
        error GraphQL raised on purpose; None for anything else (a bug)."""
        original = error.original_error
        if isinstance(error, GraphQLSyntaxError) or isinstance(
            original, GraphQLSyntaxError
        ):
            return {"code": "GRAPHQL_PARSE_FAILED"}
        node = error.nodes[0] if error.nodes else None
        if isinstance(node, VariableDefinitionNode):
            context = self.execution_context
            path = variable_path(context.schema._schema, node, context.variables)
            return {"code": ErrorCode.INVALID_INPUT.value, "field": path}
        if original is None or isinstance(original, GraphQLError):
            # A validation rule's error, or one GraphQL raised on purpose.
            return {"code": "GRAPHQL_VALIDATION_FAILED"}
        return None

    def _internal(
        self, error: GraphQLError, original: Exception | None
    ) -> GraphQLError:
        request_id = self._request_id()
        log.error(
            "unexpected error in request %s at %s",
            request_id,
            error.path,
            exc_info=original,
        )
        return GraphQLError(
            f"Internal error; quote request id {request_id} when reporting it.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR", "requestId": request_id},
        )


def variable_path(
    schema: GraphQLSchema, node: VariableDefinitionNode, variables: Any
) -> list[str]:
    """``["input", "domains", "1"]``: the variable, then the path inside its value
    where it first fails to coerce (graphql-core's own walk)."""
    name = node.variable.name.value
    value = (variables or {}).get(name, Undefined)
    type_ = type_from_ast(schema, node.type)
    found: list[list[str]] = []
    if value is not Undefined and is_input_type(type_):
        validate_input_value(
            value,
            type_,  # type: ignore[arg-type]
            lambda _error, path: found.append([str(p) for p in path]),
        )
    return [name, *(found[0] if found else [])]


class CodedValuesRule(ValuesOfCorrectTypeRule):
    """graphql-core's check of literal values, whose errors are bad input:
    INVALID_INPUT naming the argument the literal is written at."""

    def report_error(self, error: GraphQLError) -> None:
        node = error.nodes[0] if error.nodes else None
        error.extensions = {
            **(error.extensions or {}),
            "code": ErrorCode.INVALID_INPUT.value,
            "field": literal_path(self.context.document, node) if node else [],
        }
        super().report_error(error)


class CodedValidation(SchemaExtension):
    """Validation with graphql-core's rules, literal values checked by
    ``CodedValuesRule`` (the same class every request, so the validation cache
    still hits); every other validation error is GRAPHQL_VALIDATION_FAILED.
    Listed before ``ValidationCache``: its validate hook closes after the
    cache's has run the rules."""

    def on_operation(self) -> Iterator[None]:
        """Swap the literal-value rule for its coded twin."""
        context = self.execution_context
        context.validation_rules = tuple(
            CodedValuesRule if rule is ValuesOfCorrectTypeRule else rule
            for rule in context.validation_rules
        )
        yield

    def on_validate(self) -> Iterator[None]:
        """Code what the rules found."""
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if not (error.extensions and "code" in error.extensions):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": "GRAPHQL_VALIDATION_FAILED",
                }


# The limiters' rules are built once: the same rule classes on every request let
# ValidationCache reuse a document's validation (it keys on the rules), which
# is most of a small request's cost (measured: 2.6 of 7 ms per request).
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]

PAGE_MAX = 500

# Arguments many fields share, described once: every argument has a
# description (the schema linter's rule) without 100 copies of these words.
SHARED_ARGUMENTS = {
    "first": f"Return the first n items (1 to {PAGE_MAX}; 50 by default).",
    "after": "Return the items after this cursor (a page's endCursor).",
    "last": f"Return the last n items (1 to {PAGE_MAX}).",
    "before": "Return the items before this cursor (a page's startCursor).",
    "input": "What to do (see the input type).",
    "filter": "Which records (every record when omitted).",
    "orderBy": "The order (the default order when omitted).",
    "id": "The record's global id.",
}


PAGING_ARGUMENTS = frozenset({"first", "after", "last", "before"})


def describe_shared_arguments(graphql_schema: GraphQLSchema) -> None:
    """Give the shared arguments that have no description of their own theirs
    (the paging ones on connections only)."""
    for type_ in graphql_schema.type_map.values():
        for field in getattr(type_, "fields", {}).values():
            connection = "pageInfo" in getattr(get_named_type(field.type), "fields", {})
            for name, argument in getattr(field, "args", {}).items():
                if argument.description or name not in SHARED_ARGUMENTS:
                    continue
                if name in PAGING_ARGUMENTS and not connection:
                    continue
                argument.description = SHARED_ARGUMENTS[name]


def build_schema(outermost: Sequence[Any] = ()) -> strawberry.Schema:
    """The schema; ``outermost`` extensions (tracing) wrap all the others."""
    built = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # The custom field value types are reached through their interface.
        types=CUSTOM_VALUE_TYPES,
        config=StrawberryConfig(relay_max_results=PAGE_MAX),
        scalar_overrides={
            Decimal: BoundedDecimal,
            date: BoundedDate,
            datetime: BoundedDateTime,
        },
        extensions=[
            *outermost,
            # Clients repeat the same documents: parse and validate each once.
            lambda: CachedParser(maxsize=512),
            CodedValidation,
            lambda: ValidationCache(maxsize=512),
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            QueryCost,
            TokenScopes,
            InputLimits,
            # Before the error policy: it reads the errors' final codes afterwards.
            OperationObserver,
            ErrorPolicy,
        ],
    )
    describe_shared_arguments(built._schema)
    input_building.install(built)
    return built


schema = build_schema()
