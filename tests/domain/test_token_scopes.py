"""Which scope an operation needs: the table is the spec (issue 16 item 9)."""

from __future__ import annotations

import pytest

from domain.enums import ErrorCode, TokenScope
from domain.rules.token_scopes import (
    ADMIN_MUTATIONS,
    needed_scopes,
    scope_refusals,
    widening_refusals,
)

READ, WRITE, ADMIN = TokenScope.READ, TokenScope.WRITE, TokenScope.ADMIN


@pytest.mark.parametrize(
    ("operation", "fields", "needed"),
    [
        ("query", ["leads", "viewer"], {READ}),
        ("query", ["apiTokens"], {READ}),
        ("subscription", ["leadStatusChanged"], {READ}),
        ("mutation", ["transitionLead"], {WRITE}),
        ("mutation", ["createUser"], {ADMIN}),
        ("mutation", ["updateUser"], {ADMIN}),
        ("mutation", ["createApiToken"], {ADMIN}),
        ("mutation", ["revokeApiToken"], {ADMIN}),
        ("mutation", ["updateScoringTable"], {ADMIN}),
        ("mutation", ["updateRegionTable"], {ADMIN}),
        ("mutation", ["updateStageRequirements"], {ADMIN}),
        ("mutation", ["updateTimeouts"], {ADMIN}),
        ("mutation", ["setRoutingPoolMembers"], {ADMIN}),
        ("mutation", ["createLead", "createUser"], {WRITE, ADMIN}),
        ("mutation", ["__typename"], set()),
    ],
)
def test_each_operation_needs_its_scope(operation, fields, needed):
    assert needed_scopes(operation, fields) == needed


def test_the_admin_mutations_are_users_tokens_pools_and_rule_tables():
    assert {
        "createUser",
        "updateUser",
        "createApiToken",
        "revokeApiToken",
        "setRoutingPoolMembers",
        "updateScoringTable",
        "updateRegionTable",
        "updateStageRequirements",
        "updateTimeouts",
        "defineCustomField",
        "updateCustomField",
    } == ADMIN_MUTATIONS


def test_a_token_with_the_scope_passes():
    assert scope_refusals({READ}, "query", ["leads"]) == []
    assert (
        scope_refusals({WRITE, ADMIN}, "mutation", ["createLead", "createUser"]) == []
    )


def test_a_missing_scope_is_one_refusal_naming_it():
    refusals = scope_refusals({READ}, "mutation", ["createLead", "createUser"])

    assert [r.code for r in refusals] == [ErrorCode.INSUFFICIENT_SCOPE]
    assert "ADMIN, WRITE scope" in refusals[0].message


def test_write_alone_does_not_read():
    assert [r.code for r in scope_refusals({WRITE}, "query", ["leads"])] == [
        ErrorCode.INSUFFICIENT_SCOPE
    ]


def test_a_token_grants_only_what_it_has():
    assert widening_refusals({READ, ADMIN}, {READ}) == []
    refusals = widening_refusals({READ, ADMIN}, {READ, WRITE})

    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.INSUFFICIENT_SCOPE, ("scopes",))
    ]
