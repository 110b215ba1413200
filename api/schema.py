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
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from api.accounts import AccountMutations, AccountQueries, AccountTeamMutations
from api.activities import (
    ActivityCompletionMutations,
    ActivityMutations,
    ActivityQueries,
)
from api.campaigns import CampaignMutations, CampaignQueries
from api.contacts import ContactMutations, ContactQueries
from api.cost import QueryCost
from api.engagements import EngagementMutations
from api.errors import camel
from api.events import EventQueries
from api.funnel import FunnelQueries
from api.input_limits import InputLimits, literal_path
from api.leads import LeadLifecycleMutations, LeadMutations, LeadQueries
from api.machines import MachineQueries
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
from api.subscriptions import Subscription
from api.support import SupportMutations, SupportQueries
from api.users import UserMutations, UserQueries
from domain.enums import ErrorCode
from domain.errors import Refused

log = logging.getLogger("salesops.api")

MAX_DEPTH = 12
MAX_ALIASES = 40
MAX_TOKENS = 8_000

_INPUT_PATH = re.compile(r"at '([^']+)'")
# graphql-core 3.3: "Variable '$input' has invalid value at .domains[1]: …"
_VARIABLE_PATH = re.compile(r"^Variable '\$(\w+)' has invalid value(?: at ([^:]+))?:")


@strawberry.type(description="Read the sales-operations records and reports.")
class Query(
    UserQueries,
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
    FunnelQueries,
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
    AccountMutations,
    AccountTeamMutations,
    ContactMutations,
    OpportunityMutations,
    OpportunityPipelineMutations,
    ActivityMutations,
    ActivityCompletionMutations,
    CampaignMutations,
    SupportMutations,
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
                "; ".join(r.message for r in original.refusals),
                nodes=error.nodes,
                path=error.path,
                extensions={
                    "code": first.code.value,
                    "field": [camel(f) for f in first.field],
                },
            )
        # A scalar's ValueError while GraphQL checks a value (before execution)
        # is a bad input, not a bug.
        bad_value = error.path is None and error.message.startswith(
            ("Expected value of type", "Variable '$")
        )
        if original is None or isinstance(original, GraphQLError) or bad_value:
            if error.extensions and "code" in error.extensions:
                return error
            extensions = self._classify(error.message)
            document = self.execution_context.graphql_document
            if extensions.get("field") == [] and error.nodes and document:
                # A literal in the document: name the argument it is written at.
                extensions["field"] = literal_path(document, error.nodes[0])
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions=extensions,
            )
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

    @staticmethod
    def _classify(message: str) -> dict[str, Any]:
        """Bad values for typed inputs (enum, date, ID…) are INVALID_INPUT."""
        if message.startswith("Syntax Error"):
            return {"code": "GRAPHQL_PARSE_FAILED"}
        if message.startswith(
            ("Variable '$", "Argument '", "Expected value of type")
        ) or any(
            words in message
            for words in ("got invalid value", "cannot represent", "does not exist in")
        ):
            found = _INPUT_PATH.search(message)
            path = found.group(1).split(".") if found else []
            if variable := _VARIABLE_PATH.match(message):
                inside = re.findall(r"\w+", variable.group(2) or "")
                path = [variable.group(1), *inside]
            return {"code": ErrorCode.INVALID_INPUT.value, "field": path}
        return {"code": "GRAPHQL_VALIDATION_FAILED"}


# The limiters' rules are built once: the same rule classes on every request let
# ValidationCache reuse a document's validation (it keys on the rules), which
# is most of a small request's cost (measured: 2.6 of 7 ms per request).
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(relay_max_results=500),
    scalar_overrides={
        Decimal: BoundedDecimal,
        date: BoundedDate,
        datetime: BoundedDateTime,
    },
    extensions=[
        # Clients repeat the same documents: parse and validate each once.
        lambda: CachedParser(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryCost,
        InputLimits,
        # Before the error policy: it reads the errors' final codes afterwards.
        OperationObserver,
        ErrorPolicy,
    ],
)
