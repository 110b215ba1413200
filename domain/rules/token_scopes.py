"""Which token scope an operation needs (issue 16 item 9); pure, no I/O.

A token carries any of READ, WRITE and ADMIN (independent flags). Queries and
subscriptions need READ; a mutation needs WRITE, except the administrative
ones — users, API tokens, routing pools, scoring and region tables — which
need ADMIN (and not WRITE). The role still decides (``permissions``): a scope
only narrows what the token's user may do, it never widens it. A mutation's
payload is its answer, readable without READ.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from domain.enums import ErrorCode, TokenScope
from domain.errors import Refusal
from domain.rules.permissions import PERMISSIONS, Operation

ALL_SCOPES = frozenset(TokenScope)
# The operations of the permission table whose mutations are administrative.
ADMIN_OPERATIONS = (
    Operation.MANAGE_USERS,
    Operation.MANAGE_TOKENS,
    Operation.SET_ROUTING_POOLS,
    Operation.EDIT_RULE_TABLES,
    Operation.DEFINE_CUSTOM_FIELDS,
)
ADMIN_MUTATIONS = frozenset(
    mutation for op in ADMIN_OPERATIONS for mutation in PERMISSIONS[op].mutations
)


def needed_scopes(
    operation_type: str, root_fields: Iterable[str]
) -> frozenset[TokenScope]:
    """The scopes an operation (``query``, ``mutation``, ``subscription``) needs."""
    if operation_type != "mutation":
        return frozenset({TokenScope.READ})
    return frozenset(
        TokenScope.ADMIN if field in ADMIN_MUTATIONS else TokenScope.WRITE
        for field in root_fields
        if not field.startswith("__")
    )


def scope_refusals(
    granted: Collection[TokenScope], operation_type: str, root_fields: Iterable[str]
) -> list[Refusal]:
    """[] when the token's scopes cover the operation, else one refusal naming
    the scopes missing."""
    fields = list(root_fields)
    missing = needed_scopes(operation_type, fields) - set(granted)
    if not missing:
        return []
    names = ", ".join(sorted(missing))
    return [
        Refusal(
            ErrorCode.INSUFFICIENT_SCOPE,
            f"This API token lacks the {names} scope needed for this "
            f"{operation_type} ({', '.join(fields)}); issue a token with it.",
        )
    ]


def widening_refusals(
    granted: Collection[TokenScope], asked: Collection[TokenScope]
) -> list[Refusal]:
    """A new token may carry only scopes the calling token has."""
    extra = set(asked) - set(granted)
    if not extra:
        return []
    return [
        Refusal.on(
            "scopes",
            ErrorCode.INSUFFICIENT_SCOPE,
            f"The calling token lacks {', '.join(sorted(extra))}: a token cannot "
            "grant more than it has.",
        )
    ]
