"""Custom fields (issue 14 item 3): defined by sales ops, written through the
records' create/update inputs, read as a typed `customFields` connection,
found through list filters — and refused, naming the entry, when wrong."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.enums import OpportunityStage, Role
from domain.records import Lead
from tests.api.ids import gid
from tests.api.test_opportunity_pipeline import a_deal

DEFINE = """
mutation($input: DefineCustomFieldInput!) {
  defineCustomField(input: $input) {
    customField { id key label type choices archived recordType version }
    userErrors { code field message }
  }
}"""
UPDATE_FIELD = """
mutation($input: UpdateCustomFieldInput!) {
  updateCustomField(input: $input) {
    customField { key label choices archived version }
    userErrors { code field message }
  }
}"""
DEFINITIONS = """
query($recordType: RecordType, $all: Boolean!) {
  customFieldDefinitions(recordType: $recordType, includeArchived: $all) { key }
}"""
VALUES = """
  customFields {
    totalCount
    nodes {
      key label type
      ... on CustomTextValue { text }
      ... on CustomNumberValue { number }
      ... on CustomMoneyValue { amount }
      ... on CustomDateValue { date }
      ... on CustomBooleanValue { boolean }
      ... on CustomChoiceValue { choice }
    }
  }
"""
CREATE_LEAD = f"""
mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ lead {{ id {VALUES} }} userErrors {{ code field message }} }}
}}"""
UPDATE_LEAD = f"""
mutation($input: UpdateLeadInput!) {{
  updateLead(input: $input) {{ lead {{ id {VALUES} }} userErrors {{ code field message }} }}
}}"""
LEADS = """
query($filter: LeadFilter) { leads(first: 50, filter: $filter) { nodes { id } } }"""
UPDATE_DEAL = f"""
mutation($input: UpdateOpportunityInput!) {{
  updateOpportunity(input: $input) {{
    opportunity {{ {VALUES} }} userErrors {{ code field message }} }}
}}"""
DEALS = """
query($filter: OpportunityFilter) {
  opportunities(first: 50, filter: $filter) { nodes { id } } }"""

LEAD_FIELDS = [
    {"key": "note", "label": "Note", "type": "TEXT"},
    {"key": "seats", "label": "Seats", "type": "NUMBER"},
    {"key": "budget", "label": "Budget", "type": "MONEY"},
    {"key": "renewsOn", "label": "Renews on", "type": "DATE"},
    {"key": "usesKubernetes", "label": "Uses Kubernetes", "type": "BOOLEAN"},
    {
        "key": "tier",
        "label": "Tier",
        "type": "CHOICE",
        "choices": ["Free", "Premium", "Ultimate"],
    },
]


async def define(api: Any, ops: Any, record_type: str, **field: Any) -> Any:
    data = (
        await api(DEFINE, {"input": {"recordType": record_type, **field}}, as_user=ops)
    ).ok()["defineCustomField"]
    return data


async def lead_fields(api: Any, ops: Any) -> dict[str, str]:
    """The LEAD_FIELDS defined; their global ids by key."""
    ids = {}
    for field in LEAD_FIELDS:
        data = await define(api, ops, "LEAD", **field)
        assert data["userErrors"] == [], data
        ids[field["key"]] = data["customField"]["id"]
    return ids


def errors(payload: Any) -> list[tuple[str, Any]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_sales_ops_define_typed_fields_and_others_may_not(api, make):
    ops, bdr = await make.user(Role.SALES_OPS), await make.user(Role.BDR)
    made = await define(api, ops, "LEAD", **LEAD_FIELDS[-1], description="Plan")
    assert made["customField"] | {"id": None} == {
        "id": None,
        "key": "tier",
        "label": "Tier",
        "type": "CHOICE",
        "choices": ["Free", "Premium", "Ultimate"],
        "archived": False,
        "recordType": "LEAD",
        "version": 1,
    }
    assert errors(await define(api, bdr, "LEAD", **LEAD_FIELDS[0])) == [
        ("FORBIDDEN", None)
    ]
    again = await define(api, ops, "LEAD", key="tier", label="Tier 2", type="TEXT")
    assert errors(again) == [("DUPLICATE_RECORD", ["key"])]
    # The same key on another record type is another field.
    assert errors(await define(api, ops, "OPPORTUNITY", **LEAD_FIELDS[-1])) == []
    listed = (
        await api(DEFINITIONS, {"recordType": "LEAD", "all": True}, as_user=bdr)
    ).ok()["customFieldDefinitions"]
    assert listed == [{"key": "tier"}]


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ({"key": "Tier", "label": "T", "type": "TEXT"}, ["key"]),
        ({"key": "tier-1", "label": "T", "type": "TEXT"}, ["key"]),
        ({"key": "tier", "label": " ", "type": "TEXT"}, ["label"]),
        ({"key": "tier", "label": "T", "type": "CHOICE"}, ["choices"]),
        (
            {"key": "tier", "label": "T", "type": "CHOICE", "choices": ["A", "A"]},
            ["choices", "1"],
        ),
        ({"key": "tier", "label": "T", "type": "TEXT", "choices": ["A"]}, ["choices"]),
        (
            {"key": "tier", "label": "T", "type": "TEXT", "recordType": "CONTACT"},
            ["recordType"],
        ),
    ],
    ids=[
        "capital",
        "dash",
        "blank-label",
        "no-choices",
        "choice-twice",
        "text-with-choices",
        "contact",
    ],
)
async def test_an_invalid_definition_is_refused_naming_its_field(
    api, make, field, where
):
    ops = await make.user(Role.SALES_OPS)
    record_type = field.pop("recordType", "LEAD")
    data = await define(api, ops, record_type, **field)
    assert data["customField"] is None
    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", where)
    ]


async def test_a_lead_takes_typed_values_and_reads_them_back(api, make):
    ops, rep = await make.user(Role.SALES_OPS), await make.user(Role.MARKETING_OPS)
    await lead_fields(api, ops)
    values = [
        {"key": "tier", "choice": "Premium"},
        {"key": "seats", "number": "250"},
        {"key": "budget", "amount": "12000.5"},
        {"key": "renewsOn", "date": "2027-01-31"},
        {"key": "usesKubernetes", "boolean": True},
        {"key": "note", "text": "  Met at KubeCon  "},
    ]
    made = (
        await api(
            CREATE_LEAD,
            {
                "input": {
                    "initialSource": "Webcast",
                    "email": "a@x.example",
                    "customFields": values,
                }
            },
            as_user=rep,
        )
    ).ok()["createLead"]
    assert made["userErrors"] == []
    read = made["lead"]["customFields"]
    assert read["totalCount"] == 6
    # In the order the fields were defined, each as its type.
    assert read["nodes"] == [
        {"key": "note", "label": "Note", "type": "TEXT", "text": "Met at KubeCon"},
        {"key": "seats", "label": "Seats", "type": "NUMBER", "number": "250"},
        {"key": "budget", "label": "Budget", "type": "MONEY", "amount": "12000.50"},
        {"key": "renewsOn", "label": "Renews on", "type": "DATE", "date": "2027-01-31"},
        {
            "key": "usesKubernetes",
            "label": "Uses Kubernetes",
            "type": "BOOLEAN",
            "boolean": True,
        },
        {"key": "tier", "label": "Tier", "type": "CHOICE", "choice": "Premium"},
    ]

    changed = (
        await api(
            UPDATE_LEAD,
            {
                "input": {
                    "id": made["lead"]["id"],
                    "customFields": [
                        {"key": "seats", "number": "300"},
                        {"key": "note", "clear": True},
                    ],
                }
            },
            as_user=rep,
        )
    ).ok()["updateLead"]
    assert changed["userErrors"] == []
    kept = {n["key"]: n for n in changed["lead"]["customFields"]["nodes"]}
    assert set(kept) == {"seats", "budget", "renewsOn", "usesKubernetes", "tier"}
    assert kept["seats"]["number"] == "300"


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"key": "nope", "text": "x"}, ["customFields", "0", "key"]),
        ({"key": "seats", "text": "many"}, ["customFields", "0", "value"]),
        ({"key": "tier", "choice": "Gold"}, ["customFields", "0", "value"]),
        ({"key": "budget", "amount": "10.001"}, ["customFields", "0", "value"]),
        ({"key": "seats", "number": "1", "text": "1"}, ["customFields"]),
    ],
    ids=["unknown-key", "wrong-member", "unknown-choice", "sub-cent", "two-members"],
)
async def test_a_bad_value_is_refused_and_changes_nothing(
    api, make, sessions, value, where
):
    ops, rep = await make.user(Role.SALES_OPS), await make.user(Role.MARKETING_OPS)
    await lead_fields(api, ops)
    lead = await make.lead(by=rep)
    refused = (
        await api(
            UPDATE_LEAD,
            {"input": {"id": gid("Lead", lead.id), "customFields": [value]}},
            as_user=rep,
        )
    ).ok()["updateLead"]
    assert refused["lead"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", where)
    ]
    async with sessions() as session:
        row = await session.get(Lead, lead.id)
    assert (row.custom_fields, row.version) == (None, lead.version)


async def test_list_filters_find_records_by_their_custom_values(api, make):
    ops, rep = await make.user(Role.SALES_OPS), await make.user(Role.MARKETING_OPS)
    await lead_fields(api, ops)
    given = {
        "small": [{"key": "seats", "number": "20"}, {"key": "tier", "choice": "Free"}],
        "big": [
            {"key": "seats", "number": "1200"},
            {"key": "tier", "choice": "Ultimate"},
            {"key": "usesKubernetes", "boolean": True},
            {"key": "budget", "amount": "99.90"},
        ],
        "none": [],
    }
    ids = {}
    for name, values in given.items():
        made = (
            await api(
                CREATE_LEAD,
                {
                    "input": {
                        "initialSource": "Webcast",
                        "email": f"{name}@x.example",
                        "customFields": values,
                    }
                },
                as_user=rep,
            )
        ).ok()["createLead"]
        ids[made["lead"]["id"]] = name

    async def found(*criteria: dict[str, Any]) -> list[str]:
        data = (
            await api(LEADS, {"filter": {"customFields": list(criteria)}}, as_user=rep)
        ).ok()
        return sorted(ids[n["id"]] for n in data["leads"]["nodes"])

    assert await found({"key": "seats", "atLeast": "100"}) == ["big"]
    assert await found({"key": "seats", "atMost": "1200", "atLeast": "20"}) == [
        "big",
        "small",
    ]
    assert await found({"key": "tier", "choice": "Free"}) == ["small"]
    assert await found({"key": "usesKubernetes", "boolean": True}) == ["big"]
    assert await found({"key": "budget", "amount": "99.9"}) == ["big"]
    assert await found({"key": "tier", "isSet": False}) == ["none"]
    assert await found(
        {"key": "seats", "atLeast": "1"}, {"key": "tier", "choice": "Ultimate"}
    ) == ["big"]
    unknown = await api(
        LEADS, {"filter": {"customFields": [{"key": "nope"}]}}, as_user=rep
    )
    assert [(e["code"], e["field"]) for e in unknown.errors] == [
        ("INVALID_INPUT", ["filter", "customFields", "0", "key"])
    ]


async def test_an_archived_field_keeps_its_values_and_takes_no_new_one(api, make):
    ops, rep = await make.user(Role.SALES_OPS), await make.user(Role.MARKETING_OPS)
    ids = await lead_fields(api, ops)
    made = (
        await api(
            CREATE_LEAD,
            {
                "input": {
                    "initialSource": "Webcast",
                    "customFields": [{"key": "tier", "choice": "Free"}],
                }
            },
            as_user=rep,
        )
    ).ok()["createLead"]

    shrink = (
        await api(
            UPDATE_FIELD,
            {"input": {"id": ids["tier"], "choices": ["Free"]}},
            as_user=ops,
        )
    ).ok()["updateCustomField"]
    grow = (
        await api(
            UPDATE_FIELD,
            {
                "input": {
                    "id": ids["tier"],
                    "archived": True,
                    "label": "Plan",
                    "choices": ["Free", "Premium", "Ultimate", "Gold"],
                }
            },
            as_user=ops,
        )
    ).ok()["updateCustomField"]
    write = (
        await api(
            UPDATE_LEAD,
            {
                "input": {
                    "id": made["lead"]["id"],
                    "customFields": [{"key": "tier", "choice": "Gold"}],
                }
            },
            as_user=rep,
        )
    ).ok()["updateLead"]
    active = (
        await api(DEFINITIONS, {"recordType": "LEAD", "all": False}, as_user=rep)
    ).ok()["customFieldDefinitions"]

    assert errors(shrink) == [("INVALID_INPUT", ["choices"])]
    assert grow["customField"] == {
        "key": "tier",
        "label": "Plan",
        "choices": ["Free", "Premium", "Ultimate", "Gold"],
        "archived": True,
        "version": 2,
    }
    assert errors(write) == [("INVALID_INPUT", ["customFields", "0", "key"])]
    assert "tier" not in [d["key"] for d in active]


async def test_opportunities_take_custom_fields_too(api, make):
    ops, ae = await make.user(Role.SALES_OPS), await make.user(Role.AE)
    await define(
        api,
        ops,
        "OPPORTUNITY",
        key="competitor",
        label="Competitor",
        type="CHOICE",
        choices=["GitHub", "Atlassian"],
    )
    deal = await a_deal(make, ae)
    other = await a_deal(make, ae)
    written = (
        await api(
            UPDATE_DEAL,
            {
                "input": {
                    "id": gid("Opportunity", deal.id),
                    "customFields": [{"key": "competitor", "choice": "GitHub"}],
                }
            },
            as_user=ae,
        )
    ).ok()["updateOpportunity"]
    assert written["userErrors"] == []
    assert written["opportunity"]["customFields"]["nodes"][0]["choice"] == "GitHub"
    listed = (
        await api(
            DEALS,
            {"filter": {"customFields": [{"key": "competitor", "choice": "GitHub"}]}},
            as_user=ae,
        )
    ).ok()["opportunities"]["nodes"]
    assert listed == [{"id": gid("Opportunity", deal.id)}]
    assert other.id != deal.id


async def test_two_definitions_of_one_key_at_once_make_one_field(api, make):
    ops = await make.user(Role.SALES_OPS)
    results = await asyncio.gather(
        *(
            define(api, ops, "ACCOUNT", key="vertical", label="Vertical", type="TEXT")
            for _ in range(4)
        )
    )
    assert (
        sorted(code for r in results for code, _ in errors(r))
        == ["DUPLICATE_RECORD"] * 3
    )


async def test_stage_requirements_may_name_an_opportunitys_custom_fields(api, make):
    from tests.api.test_opportunity_pipeline import move, put
    from tests.api.test_pipelines import REQUIREMENTS, with_pipelines

    ops, ae = await make.user(Role.SALES_OPS), await make.user(Role.AE)
    await define(
        api,
        ops,
        "OPPORTUNITY",
        key="securityReview",
        label="Security review",
        type="BOOLEAN",
    )
    await define(api, ops, "OPPORTUNITY", key="seats", label="Seats", type="NUMBER")
    fields = (await api("{ requirementFields { name kind } }", as_user=ae)).ok()
    assert {"name": "custom.securityReview", "kind": "BOOLEAN"} in fields[
        "requirementFields"
    ]
    table = with_pipelines()
    for stage in table["stages"]:
        if stage["stage"] == "PROPOSAL":
            stage["requirements"].append(
                {
                    "field": "custom.securityReview",
                    "check": "TRUE",
                    "message": "Big deals pass the security review first.",
                    "when": {
                        "field": "custom.seats",
                        "test": "AT_LEAST",
                        "values": ["100"],
                    },
                }
            )
    edit = (await api(REQUIREMENTS, {"input": table}, as_user=ops)).ok()
    assert edit["updateStageRequirements"]["userErrors"] == []

    small, big = await a_deal(make, ae), await a_deal(make, ae)
    for deal, seats in ((small, "20"), (big, "250")):
        await put(
            make,
            deal.id,
            stage="TECHNICAL_EVALUATION",
            technical_requirements_confirmed=True,
        )
        written = (
            await api(
                UPDATE_DEAL,
                {
                    "input": {
                        "id": gid("Opportunity", deal.id),
                        "customFields": [{"key": "seats", "number": seats}],
                    }
                },
                as_user=ae,
            )
        ).ok()["updateOpportunity"]
        assert written["userErrors"] == []

    assert (await move(api, small, OpportunityStage.PROPOSAL, as_user=ae))[
        "userErrors"
    ] == []
    refused = await move(api, big, OpportunityStage.PROPOSAL, as_user=ae)
    assert [(e["code"], e["field"], e["message"]) for e in refused["userErrors"]] == [
        (
            "REQUIREMENT_NOT_MET",
            ["customFields", "securityReview"],
            "Big deals pass the security review first. (stage requirements v2)",
        )
    ]
    await api(
        UPDATE_DEAL,
        {
            "input": {
                "id": gid("Opportunity", big.id),
                "customFields": [{"key": "securityReview", "boolean": True}],
            }
        },
        as_user=ae,
    )
    assert (await move(api, big, OpportunityStage.PROPOSAL, as_user=ae))[
        "userErrors"
    ] == []


async def test_a_requirement_on_an_unknown_custom_field_is_refused(api, make):
    from tests.api.test_pipelines import REQUIREMENTS, with_pipelines

    ops = await make.user(Role.SALES_OPS)
    table = with_pipelines()
    table["stages"][0]["requirements"].append(
        {"field": "custom.nope", "check": "RECORDED", "message": "No."}
    )
    refused = (await api(REQUIREMENTS, {"input": table}, as_user=ops)).ok()
    errors_ = refused["updateStageRequirements"]["userErrors"]
    assert [(e["code"], e["field"][-1]) for e in errors_] == [
        ("INVALID_INPUT", "field")
    ]
    assert "'custom.nope' is no catalogue field" in errors_[0]["message"]


async def test_a_list_import_writes_custom_fields_by_their_key(api, make, sessions):
    from sqlalchemy import select

    from domain.enums import ImportKind, ImportOutcome
    from domain.rules.import_mapping import parse_mapping
    from tests.api.test_imports import run

    ops, mops = await make.user(Role.SALES_OPS), await make.user(Role.MARKETING_OPS)
    await lead_fields(api, ops)
    mapping = {
        "email": "Email",
        "lastName": "Name",
        "custom.seats": "Seats",
        "custom.usesKubernetes": "K8s",
        "custom.tier": "Plan",
    }
    data = (
        "Email,Name,Seats,K8s,Plan\n"
        "a@x.example,Ames,250,yes,Premium\n"
        "b@x.example,Burr,many,no,Free\n"
        "c@x.example,Cole,,,\n"
    )
    results, _ = await run(sessions, mops, data, mapping)

    assert [r.outcome for r in results] == [
        ImportOutcome.CREATED,
        ImportOutcome.REJECTED,
        ImportOutcome.CREATED,
    ]
    assert [(r.code, r.message) for r in results[1].refusals] == [
        ("INVALID_INPUT", "Seats: Give a number.")
    ]
    async with sessions() as session:
        stored = dict(
            (await session.execute(select(Lead.email, Lead.custom_fields))).all()
        )
    assert stored == {
        "a@x.example": {"seats": "250", "usesKubernetes": True, "tier": "Premium"},
        "c@x.example": None,
    }
    # Users take no custom fields.
    unknown, refused = parse_mapping(ImportKind.USER, {"custom.seats": "Seats"})
    assert unknown is None and [r.field for r in refused] == [
        ("mapping", "custom.seats")
    ]
