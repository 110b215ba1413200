"""createOpportunity / updateOpportunity / opportunities / opportunity (no stages)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.opportunities import OpportunityNode
from api.users import UserNode
from domain.enums import (
    OpportunityStage,
    OpportunityType,
    Role,
    SalesQualificationSource,
)
from domain.records import Event, Opportunity, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from domain.services.opportunities import create_opportunity
from tests.api.ids import gid
from tests.api.payloads import codes
from tests.conftest import row_count

FIELDS = """
  id version name type stage closeDate currency incrementalAcv initialIacv
  salesAcceptedDate salesQualified salesQualifiedDate salesQualificationSource
  edition initialSource businessProblem closedAt closedLostReasons
  account { id } owner { id } primaryContact { id }
"""

CREATE = f"""
mutation($input: CreateOpportunityInput!) {{
  createOpportunity(input: $input) {{
    opportunity {{ {FIELDS} }}
    userErrors {{ code field message }}
  }}
}}"""

UPDATE = """
mutation($input: UpdateOpportunityInput!) {
  updateOpportunity(input: $input) {
    opportunity {
      id version stage name incrementalAcv
      technicalRequirementsConfirmed pocRan pocNotes pocSuccessCriteria
      poWillBeIssued purchasingPlan businessTermsAgreed referenceableCustomer
      signedOrderFormReceived poReceived restrictedPartyScreening financeApproved
      closedWonDetails closedLostReasons closedLostDetail lostFromStage
      billToContact { lastName } soldToContact { lastName }
      primaryContact { lastName } mergedInto { name } duplicateOf { name }
    }
    userErrors { code field message }
  }
}"""

LIST = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: OpportunityFilter, $order: OpportunityOrder) {
  opportunities(first: $first, after: $after, last: $last, before: $before,
                filter: $filter, orderBy: $order) {
    totalCount
    edges { cursor node { name incrementalAcv } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def an_account(make: Any, by: User, name: str = "Acme") -> Any:
    """An account owned by ``by``."""
    return await make.run(
        lambda s: create_account(
            {"name": name, "owner_id": by.id}, session=s, actor=Actor(by.id, by.role)
        )
    )


async def a_contact(make: Any, by: User, account_id: int, last_name: str) -> Any:
    """A contact at the account."""
    return await make.run(
        lambda s: create_contact(
            {
                "last_name": last_name,
                "account_id": account_id,
                "initial_source": "Webcast",
            },
            session=s,
            actor=Actor(by.id, by.role),
        )
    )


async def an_opportunity(
    make: Any, by: User, account_id: int, **values: Any
) -> Opportunity:
    """An opportunity created through the service."""
    values = {"name": "Deal", "account_id": account_id, **values}
    return await make.run(
        lambda s: create_opportunity(values, session=s, actor=Actor(by.id, by.role))
    )


async def stored(sessions: Any, opportunity_id: int) -> Opportunity:
    """The opportunity as the database has it now."""
    async with sessions() as session:
        return await session.get(Opportunity, opportunity_id)


def names(page: dict[str, Any]) -> list[str]:
    """The names on a page of opportunities."""
    return [e["node"]["name"] for e in page["edges"]]


# --- create ----------------------------------------------------------------------


async def test_a_new_opportunity_starts_pending_acceptance_owned_by_the_account_owner(
    api, make, sessions
):
    owner = await make.user(Role.AE)
    sdr = await make.user(Role.SDR)
    account = await an_account(make, owner)
    contact = await a_contact(make, owner, account.id, "Buyer")

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Acme - 500 seats",
                    "accountId": gid(AccountNode, account.id),
                    "closeDate": "2030-03-31",
                    "incrementalAcv": "48000.50",
                    "salesQualificationSource": "SDR_GENERATED",
                    "edition": "Premium",
                    "initialSource": "Webcast",
                    "primaryContactId": gid(ContactNode, contact.id),
                    "businessProblem": "Slow releases",
                }
            },
            as_user=sdr,
        )
    ).ok()["createOpportunity"]

    assert data["userErrors"] == []
    opp = data["opportunity"]
    assert opp["stage"] == "PENDING_ACCEPTANCE"
    assert opp["version"] == 1
    assert opp["type"] == "NEW_BUSINESS"
    assert opp["currency"] == "USD"
    assert opp["incrementalAcv"] == "48000.50"
    assert opp["closeDate"] == "2030-03-31"
    assert (opp["initialIacv"], opp["salesAcceptedDate"]) == (None, None)
    assert (opp["salesQualified"], opp["salesQualifiedDate"]) == (False, None)
    assert opp["closedLostReasons"] == []
    assert opp["owner"] == {"id": gid(UserNode, owner.id)}
    assert opp["account"] == {"id": gid(AccountNode, account.id)}
    assert opp["primaryContact"] == {"id": gid(ContactNode, contact.id)}
    read = (
        await api(
            f"query($id: ID!) {{ opportunity(id: $id) {{ {FIELDS} }} }}",
            {"id": opp["id"]},
            as_user=sdr,
        )
    ).ok()["opportunity"]
    assert read == opp
    assert await row_count(sessions, Event) == 1


async def test_closed_won_at_creation_is_refused_unless_web_direct(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    base = {"name": "Web deal", "accountId": gid(AccountNode, account.id)}

    refused = (
        await api(
            CREATE,
            {
                "input": {
                    **base,
                    "stage": "CLOSED_WON",
                    "salesQualificationSource": "AE_GENERATED",
                }
            },
            as_user=ae,
        )
    ).ok()["createOpportunity"]
    assert refused["opportunity"] is None
    assert codes(refused) == [("WEB_DIRECT_ONLY", ["stage"])]
    assert await row_count(sessions, Opportunity) == 0

    web_direct = {
        "input": {
            **base,
            "stage": "CLOSED_WON",
            "salesQualificationSource": "WEB_DIRECT",
        }
    }
    # Issue 17: never a field role; SALES_OPS/ADMIN (and integrations with
    # such a user's token) create the won purchase.
    by_ae = (await api(CREATE, web_direct, as_user=ae)).ok()["createOpportunity"]
    assert [e["code"] for e in by_ae["userErrors"]] == ["FORBIDDEN"]
    assert await row_count(sessions, Opportunity) == 0

    ops = await make.user(Role.SALES_OPS)
    won = (await api(CREATE, web_direct, as_user=ops)).ok()["createOpportunity"]
    assert won["userErrors"] == []
    assert won["opportunity"]["stage"] == "CLOSED_WON"
    assert won["opportunity"]["closedAt"] is not None


async def test_a_new_opportunity_cannot_skip_pending_acceptance(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Eager",
                    "accountId": gid(AccountNode, account.id),
                    "stage": "DISCOVERY",
                }
            },
            as_user=ae,
        )
    ).ok()["createOpportunity"]

    assert codes(data) == [("MUST_PASS_PENDING_ACCEPTANCE", ["stage"])]
    assert await row_count(sessions, Opportunity) == 0


async def test_a_pre_opportunity_may_be_created(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "Maybe",
                    "accountId": gid(AccountNode, account.id),
                    "stage": "PRE_OPPORTUNITY",
                }
            },
            as_user=ae,
        )
    ).ok()["createOpportunity"]

    assert data["opportunity"]["stage"] == "PRE_OPPORTUNITY"


async def test_negative_iacv_bad_currency_and_blank_name_are_refused_together(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "",
                    "accountId": gid(AccountNode, account.id),
                    "incrementalAcv": "-1.00",
                    "currency": "usd",
                }
            },
            as_user=ae,
        )
    ).ok()["createOpportunity"]

    assert data["opportunity"] is None
    assert sorted(codes(data)) == [
        ("INVALID_INPUT", ["currency"]),
        ("INVALID_INPUT", ["incrementalAcv"]),
        ("MISSING_FIELD", ["name"]),
    ]
    assert await row_count(sessions, Opportunity) == 0


async def test_a_missing_account_or_contact_is_not_found(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)

    no_account = (
        await api(
            CREATE,
            {"input": {"name": "X", "accountId": gid(AccountNode, 999)}},
            as_user=ae,
        )
    ).ok()["createOpportunity"]
    no_contact = (
        await api(
            CREATE,
            {
                "input": {
                    "name": "X",
                    "accountId": gid(AccountNode, account.id),
                    "primaryContactId": gid(ContactNode, 999),
                }
            },
            as_user=ae,
        )
    ).ok()["createOpportunity"]

    assert codes(no_account) == [("NOT_FOUND", ["accountId"])]
    assert codes(no_contact) == [("NOT_FOUND", ["primaryContactId"])]
    assert await row_count(sessions, Opportunity) == 0


# --- update ----------------------------------------------------------------------


async def test_update_records_the_stage_fields_with_the_expected_version(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    bill = await a_contact(make, ae, account.id, "Biller")
    sold = await a_contact(make, ae, account.id, "Seller")
    opp = await an_opportunity(make, ae, account.id)
    other = await an_opportunity(make, ae, account.id, name="Survivor")

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(OpportunityNode, opp.id),
                    "expectedVersion": 1,
                    "incrementalAcv": "12000.00",
                    "technicalRequirementsConfirmed": True,
                    "pocRan": True,
                    "pocNotes": "Ran 2 weeks",
                    "pocSuccessCriteria": "Pipelines under 10 min",
                    "billToContactId": gid(ContactNode, bill.id),
                    "soldToContactId": gid(ContactNode, sold.id),
                    "primaryContactId": gid(ContactNode, sold.id),
                    "poWillBeIssued": True,
                    "purchasingPlan": "Signature by Q3",
                    "businessTermsAgreed": True,
                    "referenceableCustomer": "LATER",
                    "signedOrderFormReceived": True,
                    "poReceived": True,
                    "restrictedPartyScreening": "CLEARED",
                    "financeApproved": True,
                    "closedWonDetails": "Best fit",
                    "closedLostReasons": ["PRICING", "MERGED_INTO_ANOTHER_OPPORTUNITY"],
                    "closedLostDetail": "Folded into the survivor",
                    "mergedIntoId": gid(OpportunityNode, other.id),
                    "duplicateOfId": gid(OpportunityNode, other.id),
                }
            },
            as_user=ae,
        )
    ).ok()["updateOpportunity"]

    assert data["userErrors"] == []
    assert data["opportunity"] == {
        "id": gid(OpportunityNode, opp.id),
        "version": 2,
        "stage": "PENDING_ACCEPTANCE",
        "name": "Deal",
        "incrementalAcv": "12000.00",
        "technicalRequirementsConfirmed": True,
        "pocRan": True,
        "pocNotes": "Ran 2 weeks",
        "pocSuccessCriteria": "Pipelines under 10 min",
        "poWillBeIssued": True,
        "purchasingPlan": "Signature by Q3",
        "businessTermsAgreed": True,
        "referenceableCustomer": "LATER",
        "signedOrderFormReceived": True,
        "poReceived": True,
        "restrictedPartyScreening": "CLEARED",
        "financeApproved": True,
        "closedWonDetails": "Best fit",
        "closedLostReasons": ["PRICING", "MERGED_INTO_ANOTHER_OPPORTUNITY"],
        "closedLostDetail": "Folded into the survivor",
        "lostFromStage": None,
        "billToContact": {"lastName": "Biller"},
        "soldToContact": {"lastName": "Seller"},
        "primaryContact": {"lastName": "Seller"},
        "mergedInto": {"name": "Survivor"},
        "duplicateOf": {"name": "Survivor"},
    }


async def test_the_stage_cannot_be_set_by_update(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    opp = await an_opportunity(make, ae, account.id)

    result = await api(
        UPDATE,
        {"input": {"id": gid(OpportunityNode, opp.id), "stage": "CLOSED_WON"}},
        as_user=ae,
    )

    assert result.data is None
    assert "stage" in result.errors[0]["message"]
    now = await stored(sessions, opp.id)
    assert (now.stage, now.version) == ("PENDING_ACCEPTANCE", 1)


async def test_a_stale_expected_version_changes_nothing(api, make, sessions):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    opp = await an_opportunity(make, ae, account.id)
    await api(
        UPDATE,
        {"input": {"id": gid(OpportunityNode, opp.id), "name": "Renamed"}},
        as_user=ae,
    )

    data = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(OpportunityNode, opp.id),
                    "expectedVersion": 1,
                    "name": "Again",
                }
            },
            as_user=ae,
        )
    ).ok()["updateOpportunity"]

    assert data["opportunity"] is None
    assert codes(data) == [("STALE_VERSION", ["expectedVersion"])]
    now = await stored(sessions, opp.id)
    assert (now.name, now.version) == ("Renamed", 2)


async def test_only_the_owner_or_sales_ops_may_edit_an_opportunity(api, make, sessions):
    owner = await make.user(Role.AE)
    other = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    account = await an_account(make, owner)
    opp = await an_opportunity(make, owner, account.id)

    refused = (
        await api(
            UPDATE,
            {"input": {"id": gid(OpportunityNode, opp.id), "name": "Stolen"}},
            as_user=other,
        )
    ).ok()["updateOpportunity"]
    allowed = (
        await api(
            UPDATE,
            {"input": {"id": gid(OpportunityNode, opp.id), "name": "Fixed"}},
            as_user=ops,
        )
    ).ok()["updateOpportunity"]

    assert refused["opportunity"] is None
    assert codes(refused) == [("FORBIDDEN", None)]
    assert allowed["userErrors"] == []
    now = await stored(sessions, opp.id)
    assert (now.name, now.version) == ("Fixed", 2)


async def test_update_refuses_a_negative_iacv_a_null_flag_and_a_missing_contact(
    api, make, sessions
):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    opp = await an_opportunity(make, ae, account.id)

    invalid = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(OpportunityNode, opp.id),
                    "incrementalAcv": "-5",
                    "pocRan": None,
                }
            },
            as_user=ae,
        )
    ).ok()["updateOpportunity"]
    missing = (
        await api(
            UPDATE,
            {
                "input": {
                    "id": gid(OpportunityNode, opp.id),
                    "billToContactId": gid(ContactNode, 999),
                }
            },
            as_user=ae,
        )
    ).ok()["updateOpportunity"]

    assert sorted(codes(invalid)) == [
        ("INVALID_INPUT", ["incrementalAcv"]),
        ("MISSING_FIELD", ["pocRan"]),
    ]
    assert codes(missing) == [("NOT_FOUND", ["billToContactId"])]
    now = await stored(sessions, opp.id)
    assert (now.incremental_acv, now.poc_ran, now.version) == (0, False, 1)


# --- lists -----------------------------------------------------------------------


async def test_opportunities_filter_by_stage_owner_account_type_and_search(api, make):
    ae = await make.user(Role.AE)
    am = await make.user(Role.AM)
    acme = await an_account(make, ae, "Acme")
    globex = await an_account(make, am, "Globex")
    await an_opportunity(make, ae, acme.id, name="Acme new")
    await an_opportunity(
        make, ae, acme.id, name="Acme renewal", type=OpportunityType.RENEWAL
    )
    await an_opportunity(
        make, am, globex.id, name="Globex add-on", type=OpportunityType.ADD_ON
    )
    await an_opportunity(
        make,
        await make.user(Role.SALES_OPS),  # a won purchase: ops only (issue 17)
        globex.id,
        name="Globex web",
        stage=OpportunityStage.CLOSED_WON,
        sales_qualification_source=SalesQualificationSource.WEB_DIRECT,
    )

    async def listed(filter: dict[str, Any]) -> list[str]:
        page = (await api(LIST, {"filter": filter}, as_user=ae)).ok()["opportunities"]
        assert page["totalCount"] == len(page["edges"])
        return names(page)

    assert await listed({"stage": ["CLOSED_WON"]}) == ["Globex web"]
    assert await listed({"ownerId": gid(UserNode, am.id)}) == [
        "Globex add-on",
        "Globex web",
    ]
    assert await listed({"accountId": gid(AccountNode, acme.id)}) == [
        "Acme new",
        "Acme renewal",
    ]
    assert await listed({"type": ["RENEWAL", "ADD_ON"]}) == [
        "Acme renewal",
        "Globex add-on",
    ]
    assert await listed({"salesQualified": False}) == [
        "Acme new",
        "Acme renewal",
        "Globex add-on",
        "Globex web",
    ]
    assert await listed({"salesQualified": True}) == []
    assert await listed({"search": "GLOBEX", "stage": ["PENDING_ACCEPTANCE"]}) == [
        "Globex add-on"
    ]


async def test_opportunities_are_keyset_paged_by_iacv_through_every_page(api, make):
    ae = await make.user(Role.AE)
    account = await an_account(make, ae)
    for name, iacv in [("A", "500"), ("B", "12000.50"), ("C", "500"), ("D", "99")]:
        await an_opportunity(
            make, ae, account.id, name=name, incremental_acv=Decimal(iacv)
        )
    await an_opportunity(make, ae, account.id, name="E")
    order = {"field": "INCREMENTAL_ACV", "direction": "DESC"}

    seen: list[tuple[str, str]] = []
    after = None
    pages = 0
    while True:
        page = (
            await api(LIST, {"first": 2, "after": after, "order": order}, as_user=ae)
        ).ok()["opportunities"]
        pages += 1
        seen += [
            (e["node"]["name"], e["node"]["incrementalAcv"]) for e in page["edges"]
        ]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # Equal amounts keep a stable order: the later id first, as the sort is DESC.
    assert seen == [
        ("B", "12000.50"),
        ("C", "500.00"),
        ("A", "500.00"),
        ("D", "99.00"),
        ("E", "0.00"),
    ]
    assert pages == 3


async def test_close_date_is_not_offered_as_a_sort_order(api, make):
    ae = await make.user(Role.AE)

    result = await api(LIST, {"order": {"field": "CLOSE_DATE"}}, as_user=ae)

    assert result.data is None
    assert "CLOSE_DATE" in result.errors[0]["message"]
