"""api.md A7 / issue 16 item 8: a mutation that acts on an existing record names
it `id`; a mutation that creates a record names what it refers to `<thing>Id`.
Every mutation input of the live schema is checked against the rule."""

from __future__ import annotations

import re

from graphql import GraphQLInputObjectType, get_named_type

from api.schema import schema

# The first word of a mutation says which kind it is; a new verb must be placed.
ACTS_ON_A_RECORD = {
    "update",
    "revoke",
    "transition",
    "change",
    "convert",
    "transfer",
    "route",
    "move",
    "request",
    "complete",
    "resolve",
    "delete",
    "replay",
    "undo",
}
CREATES = {
    "create",
    "define",
    "record",
    "log",
    "pass",
    "start",
    "merge",
    "redeliver",
    "export",
    # saveImportMapping: creates a mapping, or replaces the one of that name.
    "save",
}

# Mutations outside the rule, and why.
EXCEPTIONS = {
    # The record they change is a team membership, which has no id of its own:
    # it is named by its two ends.
    "addAccountTeamMember": "a membership is (accountId, userId)",
    "removeAccountTeamMember": "a membership is (accountId, userId)",
    # A routing pool is named by its key (`pool`), a configuration row, no node.
    "setRoutingPoolMembers": "a pool is named by its key",
    # One table per kind, edited by version (`expectedVersion`), no id.
    "updateScoringTable": "a singleton table, edited by version",
    "updateRegionTable": "a singleton table, edited by version",
    "updateStageRequirements": "a singleton table, edited by version",
    "updateTimeouts": "a singleton table, edited by version",
}

# Input fields holding an id whose name is a role rather than the record type
# (the type is in the description): a record's own fields named in D1 (`ownerId`
# is a User, `mergedIntoId`/`duplicateOfId` an Opportunity), and the two ends
# of a merge, records of the same kind that only the role tells apart;
# `subscriptionId` is short for the WebhookSubscription it names.
ROLE_NAMED_IDS = {
    "ownerId",
    "mergedIntoId",
    "duplicateOfId",
    "survivorId",
    "duplicateIds",
    "fromId",
    "subscriptionId",
}

ID_NAME = re.compile(r"^(id|[a-z][A-Za-z]*Ids?)$")


def verb(mutation: str) -> str:
    """The first camelCase word of a mutation's name."""
    return re.split(r"(?=[A-Z])", mutation)[0]


def id_fields(input_type: GraphQLInputObjectType, seen: set[str]) -> list[str]:
    """Every ID-typed field of an input, nested inputs included (``a.b``)."""
    found = []
    if input_type.name in seen:
        return found
    seen.add(input_type.name)
    for name, field in input_type.fields.items():
        named = get_named_type(field.type)
        if named.name == "ID":
            found.append(name)
        elif isinstance(named, GraphQLInputObjectType):
            found += [f"{name}.{inner}" for inner in id_fields(named, seen)]
    return found


def mutation_inputs() -> dict[str, GraphQLInputObjectType]:
    """Each mutation's `input` type (every mutation has exactly one argument)."""
    mutations = schema._schema.mutation_type.fields
    assert {name: list(f.args) for name, f in mutations.items()} == {
        name: ["input"] for name in mutations
    }
    return {name: get_named_type(f.args["input"].type) for name, f in mutations.items()}


def test_every_mutation_is_known_to_act_on_a_record_or_to_create_one():
    unplaced = [
        name
        for name in mutation_inputs()
        if verb(name) not in ACTS_ON_A_RECORD | CREATES and name not in EXCEPTIONS
    ]

    assert unplaced == []


def test_a_mutation_acting_on_a_record_names_it_id_and_a_creating_one_has_none():
    wrong = {}
    for name, input_type in mutation_inputs().items():
        if name in EXCEPTIONS:
            continue
        fields = input_type.fields
        if verb(name) in ACTS_ON_A_RECORD:
            target = fields.get("id")
            if target is None or str(target.type) != "ID!":
                wrong[name] = "acts on a record: needs `id: ID!`"
        elif "id" in fields:
            wrong[name] = "creates a record: refers to others as `<thing>Id`"

    assert wrong == {}


def test_every_id_in_a_mutation_input_is_named_id_or_thing_id():
    wrong = {
        f"{name}.{field}": field
        for name, input_type in mutation_inputs().items()
        for field in id_fields(input_type, set())
        if not ID_NAME.match(field.split(".")[-1])
    }

    assert wrong == {}


def test_a_reference_is_named_after_the_type_it_points_to_or_a_listed_role():
    """`accountId`, `primaryContactId`, `toUserId` end with the type they hold;
    a name that does not must be a role listed in ROLE_NAMED_IDS (with why)."""
    types = set(schema._schema.type_map)
    unknown = {
        field
        for input_type in mutation_inputs().values()
        for path in id_fields(input_type, set())
        if (field := path.split(".")[-1]) != "id"
        and field not in ROLE_NAMED_IDS
        and re.split(r"(?=[A-Z])", re.sub(r"Ids?$", "", field))[-1].capitalize()
        not in types
    }

    assert unknown == set()


def test_the_rule_knows_its_exceptions_still_exist():
    assert set(EXCEPTIONS) <= set(mutation_inputs())
