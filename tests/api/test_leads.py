"""createLead / updateLead / leads / lead through the real schema."""

from __future__ import annotations

from domain.enums import Role
from domain.records import Event, Lead
from tests.api.ids import gid
from tests.conftest import row_count

CREATE = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) {
    lead { id version status firstName email company salesSegment region initialSource
           owner { id } }
    userErrors { code field message recordId }
  }
}"""

UPDATE = """
mutation($input: UpdateLeadInput!) {
  updateLead(input: $input) {
    lead { id version title initialSource salesSegment region owner { name } }
    userErrors { code field message }
  }
}"""


async def test_create_lead_returns_a_raw_lead_with_derived_segment_and_region(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "firstName": "Grace",
                    "lastName": "Hopper",
                    "email": " Grace@Navy.example ",
                    "company": "US Navy",
                    "initialSource": "Contact Us",
                    "numberOfEmployees": 2500,
                    "country": "United States",
                    "state": "CA",
                }
            },
            as_user=ops,
        )
    ).ok()["createLead"]

    assert data["userErrors"] == []
    lead = data["lead"]
    assert lead["status"] == "RAW"
    assert lead["version"] == 1
    assert lead["email"] == "grace@navy.example"
    assert lead["salesSegment"] == "LARGE"
    assert lead["region"] == "US_WEST"
    assert lead["owner"] is None


async def test_duplicate_email_is_refused_naming_the_existing_lead(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    first = (
        await api(
            CREATE,
            {"input": {"email": "a@b.example", "initialSource": "Webcast"}},
            as_user=ops,
        )
    ).ok()["createLead"]["lead"]

    again = (
        await api(
            CREATE,
            {"input": {"email": "A@B.example", "initialSource": "Webcast"}},
            as_user=ops,
        )
    ).ok()["createLead"]

    assert again["lead"] is None
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("DUPLICATE_RECORD", ["email"])
    ]
    assert again["userErrors"][0]["recordId"] == first["id"]
    assert await row_count(sessions, Lead) == 1


async def test_duplicate_email_is_created_when_the_caller_allows_it(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    await make.lead(email="dup@x.example", by=ops)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "email": "dup@x.example",
                    "initialSource": "Webcast",
                    "allowDuplicate": True,
                }
            },
            as_user=ops,
        )
    ).ok()["createLead"]

    assert data["userErrors"] == []
    assert await row_count(sessions, Lead) == 2


async def test_create_lead_refuses_unknown_initial_source_and_bad_email_together(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "email": "not-an-email",
                    "initialSource": "Unknown",
                    "numberOfEmployees": -3,
                }
            },
            as_user=ops,
        )
    ).ok()["createLead"]

    assert data["lead"] is None
    assert sorted((e["code"], e["field"][0]) for e in data["userErrors"]) == [
        ("INVALID_INPUT", "email"),
        ("INVALID_INPUT", "initialSource"),
        ("INVALID_INPUT", "numberOfEmployees"),
    ]
    assert await row_count(sessions, Lead) == 0


async def test_a_bad_enum_value_is_an_invalid_input_error_naming_the_field(api, make):
    ops = await make.user(Role.MARKETING_OPS)

    result = await api(
        "query($s: [LeadStatus!]) { leads(filter: {status: $s}) { totalCount } }",
        {"s": ["HOT"]},
        as_user=ops,
    )

    assert result.data is None
    assert result.errors[0]["code"] == "INVALID_INPUT"
    assert "HOT" in result.errors[0]["message"]


async def test_a_bad_date_is_an_invalid_input_error(api, make):
    ops = await make.user(Role.MARKETING_OPS)

    result = await api(
        "query($d: DateTime) { leads(filter: {createdAfter: $d}) { totalCount } }",
        {"d": "yesterday-ish"},
        as_user=ops,
    )

    assert result.errors[0]["code"] == "INVALID_INPUT"


async def test_initial_source_never_changes(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, initial_source="Webcast")

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid("Lead", lead.id),
                    "initialSource": "Trade Show",
                    "title": "VP",
                }
            },
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert data["lead"] is None
    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("IMMUTABLE_FIELD", ["initialSource"])
    ]
    unchanged = await _lead(sessions, lead.id)
    assert (unchanged.initial_source, unchanged.title, unchanged.version) == (
        "Webcast",
        None,
        1,
    )


async def test_update_lead_changes_fields_bumps_version_and_refreshes_segment(
    api, make
):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid("Lead", lead.id),
                    "expectedVersion": 1,
                    "title": "Head of Platform",
                    "numberOfEmployees": 150,
                    "country": "DE",
                }
            },
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert data["userErrors"] == []
    assert data["lead"]["version"] == 2
    assert data["lead"]["title"] == "Head of Platform"
    assert data["lead"]["salesSegment"] == "MID_MARKET"
    assert data["lead"]["region"] == "EMEA"


async def test_a_stale_expected_version_changes_nothing(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)
    await api(
        UPDATE, {"input": {"id": gid("Lead", lead.id), "title": "CTO"}}, as_user=ops
    )

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid("Lead", lead.id),
                    "expectedVersion": 1,
                    "title": "CEO",
                }
            },
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("STALE_VERSION", ["expectedVersion"])
    ]
    assert (await _lead(sessions, lead.id)).title == "CTO"


async def test_only_owner_or_ops_may_edit_a_lead(api, make, sessions):
    owner = await make.user(Role.SDR)
    other = await make.user(Role.SDR)
    lead = await make.lead(owner_id=owner.id)

    refused = (
        await api(
            UPDATE,
            {"input": {"id": gid("Lead", lead.id), "title": "X"}},
            as_user=other,
        )
    ).ok()["updateLead"]
    allowed = (
        await api(
            UPDATE,
            {"input": {"id": gid("Lead", lead.id), "title": "Y"}},
            as_user=owner,
        )
    ).ok()["updateLead"]

    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert allowed["userErrors"] == []
    assert (await _lead(sessions, lead.id)).title == "Y"


async def test_assigning_an_owner_writes_an_assignment_event(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    rep = await make.user(Role.BDR)
    lead = await make.lead(by=ops)

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid("Lead", lead.id), "ownerId": gid("User", rep.id)}},
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert data["lead"]["owner"]["name"] == rep.name
    assert await row_count(sessions, Event) == 1


async def test_an_owner_id_of_the_wrong_type_is_invalid_input(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid("Lead", lead.id), "ownerId": gid("Lead", lead.id)}},
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("INVALID_INPUT", ["ownerId"])
    ]


async def test_an_unknown_owner_is_not_found(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops)

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid("Lead", lead.id), "ownerId": gid("User", 999)}},
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert [(e["code"], e["field"]) for e in data["userErrors"]] == [
        ("NOT_FOUND", ["ownerId"])
    ]


LIST = """
query($first: Int, $after: String, $last: Int, $before: String, $filter: LeadFilter,
      $order: LeadOrder) {
  leads(first: $first, after: $after, last: $last, before: $before, filter: $filter,
        orderBy: $order) {
    totalCount
    edges { cursor node { lastName personScore } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_leads_are_keyset_paged_forward_and_backward(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    for n in range(7):
        await make.lead(by=ops, last_name=f"L{n}")

    page1 = (await api(LIST, {"first": 3}, as_user=ops)).ok()["leads"]
    page2 = (
        await api(
            LIST, {"first": 3, "after": page1["pageInfo"]["endCursor"]}, as_user=ops
        )
    ).ok()["leads"]
    page3 = (
        await api(
            LIST, {"first": 3, "after": page2["pageInfo"]["endCursor"]}, as_user=ops
        )
    ).ok()["leads"]
    back = (
        await api(
            LIST, {"last": 2, "before": page3["pageInfo"]["startCursor"]}, as_user=ops
        )
    ).ok()["leads"]

    names = lambda page: [e["node"]["lastName"] for e in page["edges"]]  # noqa: E731
    assert names(page1) == ["L0", "L1", "L2"]
    assert names(page2) == ["L3", "L4", "L5"]
    assert names(page3) == ["L6"]
    assert names(back) == ["L4", "L5"]
    assert page1["totalCount"] == 7
    assert (page1["pageInfo"]["hasNextPage"], page1["pageInfo"]["hasPreviousPage"]) == (
        True,
        False,
    )
    assert (page3["pageInfo"]["hasNextPage"], page3["pageInfo"]["hasPreviousPage"]) == (
        False,
        True,
    )
    assert (back["pageInfo"]["hasNextPage"], back["pageInfo"]["hasPreviousPage"]) == (
        True,
        True,
    )


async def test_paging_is_stable_when_leads_are_inserted_between_pages(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    for n in range(4):
        await make.lead(by=ops, last_name=f"L{n}")
    order = {"field": "CREATED_AT", "direction": "DESC"}
    page1 = (await api(LIST, {"first": 2, "order": order}, as_user=ops)).ok()["leads"]

    await make.lead(by=ops, last_name="Newest")
    page2 = (
        await api(
            LIST,
            {"first": 2, "after": page1["pageInfo"]["endCursor"], "order": order},
            as_user=ops,
        )
    ).ok()["leads"]

    assert [e["node"]["lastName"] for e in page1["edges"]] == ["L3", "L2"]
    assert [e["node"]["lastName"] for e in page2["edges"]] == ["L1", "L0"]


async def test_leads_filter_by_status_segment_and_search(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    await make.lead(
        by=ops, last_name="Big", number_of_employees=5000, company="Initech"
    )
    await make.lead(
        by=ops, last_name="Small", number_of_employees=5, company="Initrode"
    )

    data = (
        await api(
            LIST,
            {"filter": {"status": ["RAW"], "segment": ["LARGE"], "search": "INITECH"}},
            as_user=ops,
        )
    ).ok()["leads"]

    assert [e["node"]["lastName"] for e in data["edges"]] == ["Big"]
    assert data["totalCount"] == 1


async def test_first_above_the_maximum_is_refused_not_truncated(api, make):
    ops = await make.user(Role.MARKETING_OPS)

    result = await api(LIST, {"first": 501}, as_user=ops)

    assert result.data is None
    assert result.errors[0]["code"] == "INVALID_INPUT"
    assert result.errors[0]["field"] == ["first"]
    assert "500" in result.errors[0]["message"]


async def test_a_cursor_from_another_ordering_is_refused(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    await make.lead(by=ops)
    await make.lead(by=ops)
    cursor = (await api(LIST, {"first": 1}, as_user=ops)).ok()["leads"]["pageInfo"][
        "endCursor"
    ]

    result = await api(
        LIST,
        {"first": 1, "after": cursor, "order": {"field": "PERSON_SCORE"}},
        as_user=ops,
    )

    assert result.errors[0]["code"] == "INVALID_INPUT"
    assert result.errors[0]["field"] == ["after"]


async def test_lead_and_node_resolve_the_same_record(api, make):
    ops = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(by=ops, last_name="Turing")
    lead_gid = gid("Lead", lead.id)

    data = (
        await api(
            """query($id: ID!) {
                 lead(id: $id) { lastName }
                 node(id: $id) { id ... on Lead { lastName } }
                 nodes(ids: [$id]) { id }
               }""",
            {"id": lead_gid},
            as_user=ops,
        )
    ).ok()

    assert data["lead"]["lastName"] == "Turing"
    assert data["node"] == {"id": lead_gid, "lastName": "Turing"}
    assert data["nodes"] == [{"id": lead_gid}]


async def _lead(sessions, lead_id: int) -> Lead:
    async with sessions() as session:
        return await session.get(Lead, lead_id)


async def test_a_repeated_idempotency_key_returns_the_first_lead(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    payload = {
        "email": "once@x.example",
        "initialSource": "Webcast",
        "idempotencyKey": "k-1",
    }

    first = (await api(CREATE, {"input": payload}, as_user=ops)).ok()["createLead"]
    second = (await api(CREATE, {"input": payload}, as_user=ops)).ok()["createLead"]

    assert second["userErrors"] == []
    assert second["lead"]["id"] == first["lead"]["id"]
    assert await row_count(sessions, Lead) == 1


async def test_an_idempotency_key_reused_with_another_input_is_refused(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    first = {
        "email": "a1@x.example",
        "initialSource": "Webcast",
        "idempotencyKey": "k-2",
    }
    other = {**first, "email": "a2@x.example"}
    await api(CREATE, {"input": first}, as_user=ops)

    again = (await api(CREATE, {"input": other}, as_user=ops)).ok()["createLead"]

    assert again["lead"] is None
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["idempotencyKey"])
    ]
    assert await row_count(sessions, Lead) == 1
