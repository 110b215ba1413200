"""Hostile input (issue 17, item 4): every bad value is a typed refusal.

Malformed global ids, ids of things that are not records, forged cursors,
non-finite or huge amounts, NUL bytes, lone surrogates and over-long strings
are ``INVALID_INPUT`` naming the field: in the payload's ``userErrors`` where
the mutation has one, else as a GraphQL error with ``extensions.code``. None
is ever ``INTERNAL_ERROR``, and a refused write leaves no row.
"""

from __future__ import annotations

import base64
import json

import pytest

from api.input_limits import FREE_TEXT_LENGTH, NAME_LENGTH, string_limit
from domain.enums import Role
from domain.records import Account, Lead
from tests.conftest import row_count


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } userErrors { code field message } }
}"""
CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id } userErrors { code field message } }
}"""
UPDATE_LEAD = """
mutation($input: UpdateLeadInput!) {
  updateLead(input: $input) { lead { id } userErrors { code field message } }
}"""


def only_error(result) -> dict:
    """The single top-level error of a refused request (never an internal one)."""
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


@pytest.mark.parametrize(
    "value",
    [
        b64("Lead:abc"),
        b64("Lead:9223372036854775808"),
        b64("Lead:2147483648"),
        b64("Lead:0"),
        b64("Lead:"),
        b64("Lead"),
        "!!!",
        "%%%%",
        b64("\x00:1"),
    ],
)
async def test_node_refuses_a_malformed_global_id(api, make, value):
    user = await make.user()

    result = await api(NODE, {"id": value}, as_user=user)

    error = only_error(result)
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == ["id"]
    assert result.data == {"node": None}


@pytest.mark.parametrize(
    "type_name", ["Foo", "UserError", "Query", "Node", "LeadConnection", "PageInfo"]
)
async def test_node_refuses_the_id_of_something_that_is_not_a_record(
    api, make, type_name
):
    user = await make.user()

    result = await api(NODE, {"id": b64(f"{type_name}:1")}, as_user=user)

    error = only_error(result)
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == ["id"]
    assert "is no record type" in error["message"]


async def test_node_of_a_record_that_does_not_exist_is_null(api, make):
    user = await make.user()

    result = await api(NODE, {"id": b64("Lead:2147483647")}, as_user=user)

    assert result.ok() == {"node": None}


async def test_nodes_takes_at_most_a_page_of_ids(api, make):
    user = await make.user()
    lead = await make.lead()

    ok = await api(NODES, {"ids": [b64(f"Lead:{lead.id}")] * 500}, as_user=user)
    refused = await api(NODES, {"ids": [b64(f"Lead:{lead.id}")] * 501}, as_user=user)

    assert len(ok.ok()["nodes"]) == 500
    error = only_error(refused)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["ids"])


async def test_nodes_names_the_malformed_id_by_its_position(api, make):
    user = await make.user()
    lead = await make.lead()

    result = await api(
        NODES, {"ids": [b64(f"Lead:{lead.id}"), b64("Lead:x")]}, as_user=user
    )

    assert only_error(result)["field"] == ["ids", "1"]


@pytest.mark.parametrize(
    "value", [b64("Lead:9223372036854775808"), b64("Account:1"), "@@@"]
)
async def test_a_mutation_refuses_a_bad_id_in_its_user_errors(api, make, value):
    user = await make.user(Role.ADMIN)

    result = await api(
        UPDATE_LEAD, {"input": {"id": value, "firstName": "X"}}, as_user=user
    )

    payload = result.ok()["updateLead"]
    assert payload["lead"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["id"])
    ]


@pytest.mark.parametrize(
    "forged",
    [
        cursor("ID:ASC", "abc", 1),
        cursor("ID:ASC", 1, 2**63),
        cursor("ID:ASC", 1, "1"),
        cursor("ID:ASC", {"dec": "NaN"}, 1),
        cursor("ID:ASC", [1], 1),
        cursor("ID:ASC", 2**70, 1),
        cursor("NAME:ASC", 1, 1),
        cursor("ID:ASC", 1),
        base64.urlsafe_b64encode(b"[" * 5000).decode(),
        "not a cursor",
    ],
)
async def test_a_forged_cursor_is_refused(api, make, forged):
    user = await make.user()
    await make.lead()

    result = await api(
        "query($c: String) { leads(after: $c) { nodes { id } } }",
        {"c": forged},
        as_user=user,
    )

    error = only_error(result)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["after"])


@pytest.mark.parametrize(
    "forged",
    [cursor("NAME:ASC", "a\x00b", 1), cursor("NAME:ASC", 7, 1), cursor("NAME:ASC")],
)
async def test_a_forged_cursor_of_a_text_ordering_is_refused(api, make, forged):
    user = await make.user()

    result = await api(
        "query($c: String) { users(before: $c, orderBy: {field: NAME}) { nodes { id } } }",
        {"c": forged},
        as_user=user,
    )

    error = only_error(result)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["before"])


async def test_a_real_cursor_still_pages(api, make):
    user = await make.user()
    for _ in range(3):
        await make.lead()
    query = "query($c: String) { leads(first: 2, after: $c) { nodes { lastName } pageInfo { endCursor } } }"

    first = (await api(query, {"c": None}, as_user=user)).ok()["leads"]
    second = (
        await api(query, {"c": first["pageInfo"]["endCursor"]}, as_user=user)
    ).ok()["leads"]

    assert len(first["nodes"]) == 2
    assert len(second["nodes"]) == 1


@pytest.mark.parametrize(
    "amount",
    ["NaN", "Infinity", "-Infinity", "1e30", 1e30, "1e999999", "abc", "0.0000001"],
)
async def test_a_non_finite_or_huge_amount_is_refused(api, make, sessions, amount):
    user = await make.user(Role.ADMIN)

    result = await api(
        CREATE_ACCOUNT,
        {"input": {"name": "Acme", "annualRevenue": amount}},
        as_user=user,
    )

    error = only_error(result)
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == ["input", "annualRevenue"]
    assert await row_count(sessions, Account) == 0


async def test_a_sub_cent_amount_is_a_user_error(api, make, sessions):
    user = await make.user(Role.ADMIN)

    result = await api(
        CREATE_ACCOUNT,
        {"input": {"name": "Acme", "annualRevenue": "10.001"}},
        as_user=user,
    )

    payload = result.ok()["createAccount"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["annualRevenue"])
    ]
    assert await row_count(sessions, Account) == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "Ac\x00me"}, ["name"]),
        ({"name": "Ac\ud800me"}, ["name"]),
        ({"name": "A" * 256}, ["name"]),
        ({"name": "Acme", "billingPostalCode": "9" * 41}, ["billingPostalCode"]),
        ({"name": "Acme", "industry": "\x00"}, ["industry"]),
        (
            {"name": "Acme", "domains": ["acme.example", "x\x00.example"]},
            ["domains", "1"],
        ),
    ],
)
async def test_a_bad_string_in_a_mutation_is_a_user_error_and_writes_nothing(
    api, make, sessions, values, field
):
    user = await make.user(Role.ADMIN)

    result = await api(CREATE_ACCOUNT, {"input": values}, as_user=user)

    payload = result.ok()["createAccount"]
    assert payload["account"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", field)
    ]
    assert await row_count(sessions, Account) == 0


async def test_a_bad_string_written_in_the_document_is_refused_too(api, make, sessions):
    user = await make.user(Role.ADMIN)

    result = await api(
        'mutation { createAccount(input: {name: "Ac\\u0000me"}) { userErrors { code field } } }',
        as_user=user,
    )

    assert result.ok()["createAccount"]["userErrors"] == [
        {"code": "INVALID_INPUT", "field": ["name"]}
    ]
    assert await row_count(sessions, Account) == 0


async def test_every_lead_string_with_a_nul_is_refused(api, make, sessions):
    user = await make.user(Role.ADMIN)
    fields = [
        "firstName",
        "lastName",
        "email",
        "company",
        "title",
        "phone",
        "street",
        "city",
        "state",
        "postalCode",
        "country",
        "leadSource",
        "initialSource",
    ]

    for name in fields:
        values = {"lastName": "Lovelace", "initialSource": "Web Direct", name: "a\x00"}
        result = await api(CREATE_LEAD, {"input": values}, as_user=user)
        errors = result.ok()["createLead"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID_INPUT", [name])]

    assert await row_count(sessions, Lead) == 0


async def test_a_string_of_the_column_length_is_accepted(api, make, sessions):
    user = await make.user(Role.ADMIN)

    result = await api(
        CREATE_ACCOUNT,
        {"input": {"name": "A" * 255, "billingPostalCode": "9" * 40}},
        as_user=user,
    )

    assert result.ok()["createAccount"]["userErrors"] == []
    assert await row_count(sessions, Account) == 1


@pytest.mark.parametrize("search", ["a\x00", "a" * 50_000, "\udfff"])
async def test_a_bad_search_string_refuses_the_query(api, make, search):
    user = await make.user()

    result = await api(
        "query($s: String) { leads(filter: {search: $s}) { nodes { id } } }",
        {"s": search},
        as_user=user,
    )

    error = only_error(result)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["filter", "search"])
    assert result.data is None


async def test_update_user_active_null_is_a_user_error(api, make):
    admin = await make.user(Role.ADMIN)
    other = await make.user()

    result = await api(
        "mutation($id: ID!) { updateUser(input: {id: $id, active: null}) { userErrors { code field } } }",
        {"id": b64(f"User:{other.id}")},
        as_user=admin,
    )

    assert result.ok()["updateUser"]["userErrors"] == [
        {"code": "MISSING_FIELD", "field": ["active"]}
    ]


def test_string_limits_follow_the_columns_and_free_text():
    assert string_limit("CreateLeadInput", "phone") == 60
    assert string_limit("UpdateAccountInput", "billingPostalCode") == 40
    assert string_limit("CreateAccountInput", "name") == NAME_LENGTH
    assert string_limit("ScoringPointsInput", "rule") == 60
    # Region rows are codes the domain checks with its own, better message.
    assert string_limit("RegionRuleInput", "country") == NAME_LENGTH
    assert string_limit("LeadFilter", "search") == NAME_LENGTH
    assert string_limit("TransitionLeadInput", "note") == FREE_TEXT_LENGTH
    assert string_limit("UpdateOpportunityInput", "pocNotes") == FREE_TEXT_LENGTH
    assert string_limit("LogActivityInput", "idempotencyKey") == 200
    assert string_limit(None, "after") == NAME_LENGTH


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (
            '{ stageVelocity(closedBefore: "9999-12-31") { __typename } }',
            ["closedBefore"],
        ),
        (
            '{ stageVelocity(closedAfter: "0001-01-01") { __typename } }',
            ["closedAfter"],
        ),
        (
            '{ pipeToSpend(filter: {createdBefore: "9999-12-31T23:59:59+00:00"}) { __typename } }',
            ["filter", "createdBefore"],
        ),
        (
            '{ leads(filter: {createdAfter: "garbage"}) { totalCount } }',
            ["filter", "createdAfter"],
        ),
        (
            'mutation { createAccount(input: {name: "x", annualRevenue: "NaN"}) { userErrors { code } } }',
            ["input", "annualRevenue"],
        ),
        (
            "{ leads(filter: {status: [NOPE]}) { totalCount } }",
            ["filter", "status", "0"],
        ),
        ("{ leads(first: 2147483648) { totalCount } }", ["first"]),
    ],
)
async def test_a_bad_literal_is_invalid_input_naming_its_argument(
    api, make, query, field
):
    user = await make.user(Role.ADMIN)

    result = await api(query, as_user=user)

    error = only_error(result)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", field)
    assert result.data is None


async def test_dates_at_the_ends_of_the_calendar_are_refused_as_variables(api, make):
    user = await make.user(Role.ADMIN)

    result = await api(
        "query($d: Date) { stageVelocity(closedBefore: $d) { __typename } }",
        {"d": "9999-12-31"},
        as_user=user,
    )

    error = only_error(result)
    assert (error["code"], error["field"]) == ("INVALID_INPUT", ["d"])


def _string_inputs() -> list[tuple[str, str, str]]:
    """(root field, argument, input field) of every String/ID input field of
    every mutation's input and every query's filter."""
    from graphql import GraphQLInputObjectType, get_named_type

    from api.schema import schema

    found = []
    for root in (schema._schema.mutation_type, schema._schema.query_type):
        for name, field in root.fields.items():
            for argument, declared in field.args.items():
                kind = get_named_type(declared.type)
                if not isinstance(kind, GraphQLInputObjectType):
                    continue
                for input_field, definition in kind.fields.items():
                    if get_named_type(definition.type).name in ("String", "ID"):
                        found.append((name, argument, input_field))
    return found


def _dummy(kind) -> object:
    """A value of the right GraphQL type for a required field."""
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLList,
        GraphQLNonNull,
    )

    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return [_dummy(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: _dummy(f.type)
            for name, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        }
    return {
        "Int": 1,
        "Float": 1.0,
        "Boolean": True,
        "Decimal": "1",
        "DateTime": "2026-01-01T00:00:00+00:00",
    }.get(kind.name, "x")


from graphql import Undefined  # noqa: E402


@pytest.mark.parametrize(("root", "argument", "field"), _string_inputs())
async def test_a_nul_in_any_string_input_is_invalid_input_naming_it(
    api, make, root, argument, field
):
    from graphql import GraphQLList, GraphQLNonNull, get_nullable_type

    from api.schema import schema

    admin = await make.user(Role.ADMIN)
    is_mutation = root in schema._schema.mutation_type.fields
    parent = schema._schema.mutation_type if is_mutation else schema._schema.query_type
    declared = parent.fields[root].args[argument].type
    value = _dummy(declared)
    inner = get_nullable_type(get_nullable_type(declared).fields[field].type)
    value[field] = ["a\x00"] if isinstance(inner, GraphQLList) else "a\x00"
    others = {
        name: other.type
        for name, other in parent.fields[root].args.items()
        if name != argument and isinstance(other.type, GraphQLNonNull)
    }
    operation = "mutation" if is_mutation else "query"
    selection = "{ userErrors { code field } }" if is_mutation else "{ __typename }"
    declarations = "".join(f", ${n}: {t}" for n, t in others.items())
    arguments = "".join(f", {n}: ${n}" for n in others)
    query = (
        f"{operation}($v: {declared}{declarations}) "
        f"{{ {root}({argument}: $v{arguments}) {selection} }}"
    )
    variables = {"v": value, **{n: _dummy(t) for n, t in others.items()}}

    result = await api(query, variables, as_user=admin)

    path = [field, "0"] if isinstance(inner, GraphQLList) else [field]
    if is_mutation and argument == "input":
        assert result.ok()[root]["userErrors"] == [
            {"code": "INVALID_INPUT", "field": path}
        ]
    else:
        error = only_error(result)
        assert (error["code"], error["field"]) == ("INVALID_INPUT", [argument, *path])


@pytest.mark.parametrize(
    ("query", "variables", "code", "field"),
    [
        ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED", None),
        (
            "{ leads { totalCount } leads { edges } }",
            {},
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
        (
            "query($x: Int) { leads { totalCount } }",
            {},
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
        ("{ leads(", {}, "GRAPHQL_PARSE_FAILED", None),
        (
            "query($f: LeadFilter) { leads(filter: $f) { totalCount } }",
            {"f": {"status": ["RAW", "NOPE"]}},
            "INVALID_INPUT",
            ["f", "status", "1"],
        ),
        (
            "query($f: LeadFilter!) { leads(filter: $f) { totalCount } }",
            {},
            "INVALID_INPUT",
            ["f"],
        ),
        (
            "query($n: Int) { leads(first: $n) { totalCount } }",
            {"n": "ten"},
            "INVALID_INPUT",
            ["n"],
        ),
    ],
)
async def test_graphql_s_own_errors_are_coded_by_their_kind(
    api, make, query, variables, code, field
):
    """Issue 16 item 8: the code comes from the error's kind (a syntax error, a
    validation rule, a variable that does not coerce), never from its text."""
    user = await make.user()

    result = await api(query, variables, as_user=user)

    error = result.errors[0]
    assert error["code"] == code
    assert error.get("field") == field
    assert result.data is None
