"""The schema as a contract: exported SDL, descriptions, naming, batching."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from api.schema import schema
from domain.enums import Role
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from tests.api.ids import gid

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_the_exported_sdl_of_the_live_schema():
    exported = (ROOT / "schema.graphql").read_text()

    assert exported.strip() == schema.as_str().strip(), (
        "schema.graphql drifted: run `salesops export-schema > schema.graphql`"
    )


def test_every_type_field_argument_and_enum_value_has_a_description():
    missing = []
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not gql_type.description:
            missing.append(name)
        if isinstance(gql_type, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in gql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
        if isinstance(gql_type, GraphQLEnumType):
            for value_name, value in gql_type.values.items():
                if not value.description:
                    missing.append(f"{name}.{value_name}")

    assert missing == []


def test_fixed_enum_names_and_values_match_the_spec():
    type_map = schema._schema.type_map

    assert list(type_map["SalesSegment"].values) == [
        "STRATEGIC",
        "LARGE",
        "MID_MARKET",
        "SMB",
        "UNKNOWN",
    ]
    assert set(type_map["Role"].values) == {r.value for r in Role}
    assert (
        type_map["OpportunityStage"]
        .values["PENDING_ACCEPTANCE"]
        .description.startswith("0-Pending Acceptance")
    )


PAGE = """
query($first: Int!) {
  leads(first: $first) { nodes { id owner { name } account { name owner { name } } } }
}"""


async def an_account(make, by, owner, name: str):  # type: ignore[no-untyped-def]
    """An account named ``name`` owned by ``owner``, created by ``by``."""
    return await make.run(
        lambda s: create_account(
            {"name": name, "owner_id": owner.id},
            session=s,
            actor=Actor(by.id, by.role),
        )
    )


async def test_a_page_of_200_leads_costs_as_many_statements_as_a_page_of_10(
    api, make, count_statements
):
    ops = await make.user(Role.SALES_OPS)  # creates for others (issue 17)
    owners = [await make.user(Role.BDR) for _ in range(5)]
    accounts = [await an_account(make, ops, owners[n], f"Acme {n}") for n in range(5)]
    for n in range(200):
        await make.lead(
            by=ops,
            owner_id=owners[n % 5].id,
            account_id=accounts[n % 5].id,
            last_name=f"L{n}",
        )

    with count_statements() as small:
        ten = (await api(PAGE, {"first": 10}, as_user=ops)).ok()
    with count_statements() as large:
        two_hundred = (await api(PAGE, {"first": 200}, as_user=ops)).ok()

    assert len(ten["leads"]["nodes"]) == 10
    assert len(two_hundred["leads"]["nodes"]) == 200
    assert (
        two_hundred["leads"]["nodes"][7]["account"]["owner"]["name"] == owners[2].name
    )
    assert small.count == large.count


RELATED = """
fragment Placed on Lead { account { id name } convertedAccount { id } }
query($first: Int!) {
  leads(first: $first) {
    nodes { lastName owner { name } }
    edges { node { ...Placed } }
  }
}"""


async def test_a_page_answers_its_rows_relations_from_one_prefetch_per_type(
    api, make, count_statements, monkeypatch
):
    """owner/account of a page's rows are loaded before the rows are
    answered (one statement per record type, through ``nodes``, ``edges``
    and fragments alike), so no row awaits its own relation."""
    from api import relay

    ops = await make.user(Role.SALES_OPS)
    owners = [await make.user(Role.BDR) for _ in range(3)]
    account = await an_account(make, ops, owners[0], "Acme")
    for n in range(30):
        await make.lead(
            by=ops,
            owner_id=owners[n % 3].id,
            account_id=account.id if n % 2 else None,
            last_name=f"L{n}",
        )
    awaited: list[int | None] = []
    load_node = relay.load_node

    def counted(info, node_cls, record_id):  # type: ignore[no-untyped-def]
        awaited.append(record_id)
        return load_node(info, node_cls, record_id)

    monkeypatch.setattr(relay, "load_node", counted)

    with count_statements() as bare:
        (await api("{ leads(first: 30) { nodes { id } } }", as_user=ops)).ok()
    with count_statements() as related:
        page = (await api(RELATED, {"first": 30}, as_user=ops)).ok()["leads"]

    assert awaited == []
    assert related.count == bare.count + 2  # users, accounts
    for node, edge in zip(page["nodes"], page["edges"], strict=True):
        n = int(node["lastName"][1:])
        assert node["owner"]["name"] == owners[n % 3].name
        assert edge["node"]["account"] == (
            {"id": gid("Account", account.id), "name": "Acme"} if n % 2 else None
        )
        assert edge["node"]["convertedAccount"] is None


def test_status_stage_and_role_descriptions_come_from_the_domain():
    from domain.enums import LeadStatus, OpportunityStage
    from domain.lifecycle.lead import LEAD_MACHINE
    from domain.lifecycle.opportunity import OPPORTUNITY_MACHINE, REOPEN_WINDOW_DAYS
    from domain.rules.permissions import powers_of
    from domain.rules.scoring import MQL_THRESHOLD

    type_map = schema._schema.type_map
    statuses = type_map["LeadStatus"].values
    stages = type_map["OpportunityStage"].values

    for status in LeadStatus:
        assert statuses[status.value].description.startswith(
            LEAD_MACHINE.info(status).description
        )
    for stage in OpportunityStage:
        info = OPPORTUNITY_MACHINE.info(stage)
        assert stages[stage.value].description.startswith(
            f"{info.label}. {info.description}"
        )
    assert f"{MQL_THRESHOLD} by default" in statuses["MQL"].description
    assert f"within {REOPEN_WINDOW_DAYS} days" in stages["CLOSED_LOST"].description
    for role in Role:
        description = type_map["Role"].values[role.value].description
        assert all(p.lower() in description.lower() for p in powers_of(role))
