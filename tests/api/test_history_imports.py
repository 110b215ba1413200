"""History import (issue 13 item 2): users, opportunities with and without the
historical flag, activities; every refusal of a row, re-imports, dry runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from domain.enums import ImportKind, OpportunityStage, Role
from domain.records import (
    Account,
    Activity,
    Event,
    FunnelEntry,
    Opportunity,
    TransitionRecord,
    User,
)
from tests.api.test_imports import START, lines, run, upload

DEALS = {
    "externalId": "Id",
    "name": "Name",
    "accountId": "Account",
    "ownerId": "Owner",
    "stage": {
        "column": "Stage",
        "map": {
            "Prospecting": "PRE_OPPORTUNITY",
            "Engaging": "DISCOVERY",
            "Won": "CLOSED_WON",
            "Lost": "CLOSED_LOST",
        },
    },
    "salesAcceptedDate": "Engaged",
    "closeDate": "Closed",
    "incrementalAcv": "Value",
    "edition": {"column": "Product", "corrections": {"GTXPro": "GTX Pro"}},
}
PLAIN = {k: v for k, v in DEALS.items() if k != "salesAcceptedDate"}


async def setting(make: Any, sessions: Any) -> tuple[User, User, Account]:
    """An ops user, a field rep (rep@example.com) and an account (external id A1)."""
    ops = await make.user(Role.SALES_OPS, email="ops@example.com")
    rep = await make.user(Role.AE, email="rep@example.com")
    async with sessions() as s, s.begin():
        account = Account(name="Acme", normalized_name="acme", external_id="A1")
        s.add(account)
    return ops, rep, account


def deals_csv(*rows: str) -> str:
    return "Id,Name,Account,Owner,Stage,Engaged,Closed,Value,Product\n" + "".join(
        row + "\n" for row in rows
    )


async def count(sessions: Any, model: Any, *where: Any) -> int:
    async with sessions() as s:
        return int(
            await s.scalar(select(func.count()).select_from(model).where(*where))
        )


async def test_a_historical_deal_walks_its_past_stages_with_ledger_funnel_and_audit(
    make, sessions
):
    ops, rep, account = await setting(make, sessions)
    data = deals_csv(
        "D1,Big,A1,rep@example.com,Won,2017-01-02,2017-03-01,1200,GTXPro",
        "D2,Gone,A1,rep@example.com,Lost,2017-01-02,2017-01-12,0,GTX Basic",
        "D3,Open,A1,rep@example.com,Engaging,2017-02-01,,,MG Special",
        "D4,Early,A1,rep@example.com,Prospecting,,,,MG Special",
    )
    results, _ = await run(
        sessions, ops, data, DEALS, kind=ImportKind.OPPORTUNITY, source=None,
        historical=True, file_name="deals.csv",
    )  # fmt: skip
    assert [(r.outcome.value, r.codes) for r in results] == [
        ("CREATED", ["VALUE_CORRECTED"]),
        ("CREATED", []),
        ("CREATED", []),
        ("CREATED", []),
    ]
    async with sessions() as s:
        won = await s.scalar(select(Opportunity).where(Opportunity.external_id == "D1"))
        lost = await s.scalar(
            select(Opportunity).where(Opportunity.external_id == "D2")
        )
        ledger = list(
            await s.scalars(
                select(TransitionRecord)
                .where(TransitionRecord.record_id == won.id)
                .order_by(TransitionRecord.id)
            )
        )
        entry = await s.scalar(
            select(FunnelEntry).where(FunnelEntry.opportunity_id == won.id)
        )
        audit = await s.scalar(
            select(Event).where(
                Event.kind == "OPPORTUNITY_HISTORY_IMPORTED", Event.record_id == won.id
            )
        )
        acme = await s.get(Account, account.id)
    day = lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC)  # noqa: E731
    assert (won.stage, won.edition, won.owner_id) == (
        OpportunityStage.CLOSED_WON, "GTX Pro", rep.id,
    )  # fmt: skip
    assert (won.sales_accepted_date, won.sales_qualified_date, won.closed_at) == (
        day("2017-01-02"), day("2017-03-01"), day("2017-03-01"),
    )  # fmt: skip
    assert won.initial_iacv == won.incremental_acv == 1200
    assert (lost.stage, lost.lost_from_stage, lost.sales_qualified) == (
        OpportunityStage.CLOSED_LOST, OpportunityStage.DISCOVERY, False,
    )  # fmt: skip
    assert [(t.from_state, t.to_state, t.at, t.seconds_in_from) for t in ledger] == [
        (None, "PENDING_ACCEPTANCE", day("2017-01-02"), None),
        ("PENDING_ACCEPTANCE", "DISCOVERY", day("2017-01-02"), 0),
        ("DISCOVERY", "CLOSED_WON", day("2017-03-01"), 58 * 86400),
    ]
    assert ledger[2].note == "Historical import (deals.csv row 2, stage 'Won')."
    assert {t.actor_id for t in ledger} == {ops.id}
    assert (entry.pending_acceptance_at, entry.sao_at, entry.sqo_at, entry.won_at) == (
        day("2017-01-02"), day("2017-01-02"), day("2017-03-01"), day("2017-03-01"),
    )  # fmt: skip
    assert entry.raw_at is None
    assert audit.payload["original_stage"] == "Won"
    assert audit.payload["file"] == "deals.csv"
    assert acme.type.value == "CUSTOMER"
    # No lost-deal alert for a loss in the past.
    assert await count(sessions, Event, Event.kind == "LOST_DEAL_ALERT") == 0

    # Re-importing the file changes nothing.
    ledger_rows = await count(sessions, TransitionRecord)
    again, _ = await run(
        sessions, ops, data, DEALS, kind=ImportKind.OPPORTUNITY, source=None,
        historical=True,
    )  # fmt: skip
    assert [r.outcome.value for r in again] == ["UNCHANGED"] * 4
    assert await count(sessions, TransitionRecord) == ledger_rows == 3 + 3 + 2 + 1


async def test_a_later_stage_on_reimport_goes_through_the_machine(make, sessions):
    ops, _, _ = await setting(make, sessions)
    first = deals_csv("D1,Open,A1,rep@example.com,Engaging,2017-02-01,,,MG")
    await run(
        sessions, ops, first, DEALS, kind=ImportKind.OPPORTUNITY, source=None,
        historical=True,
    )  # fmt: skip
    won = deals_csv("D1,Open,A1,rep@example.com,Won,2017-02-01,2017-03-01,900,MG")
    results, _ = await run(
        sessions, ops, won, DEALS, kind=ImportKind.OPPORTUNITY, source=None,
        historical=True,
    )  # fmt: skip
    # 7-Closed Won's entry requirements apply now: refused, nothing changed.
    assert results[0].outcome.value == "REJECTED"
    assert set(results[0].codes) == {"MISSING_FIELD", "REQUIREMENT_NOT_MET"}
    async with sessions() as s:
        deal = await s.scalar(
            select(Opportunity).where(Opportunity.external_id == "D1")
        )
    assert (deal.stage, deal.incremental_acv, deal.version) == (
        OpportunityStage.DISCOVERY, 0, 2,
    )  # fmt: skip
    rewritten = deals_csv("D1,Open,A1,rep@example.com,Engaging,2017-02-09,,,MG")
    results, _ = await run(
        sessions, ops, rewritten, DEALS, kind=ImportKind.OPPORTUNITY, source=None,
        historical=True,
    )  # fmt: skip
    assert [(r.outcome.value, r.codes, r.fields) for r in results] == [
        ("REJECTED", ["INVALID_INPUT"], ["salesAcceptedDate"])
    ]


async def test_without_the_flag_a_deal_is_created_as_create_opportunity_would(
    make, sessions
):
    ops, _, _ = await setting(make, sessions)
    data = deals_csv(
        "D1,Won,A1,rep@example.com,Won,,2017-03-01,10,MG",
        "D2,Engaging,A1,rep@example.com,Engaging,,,,MG",
        "D3,Prospect,A1,rep@example.com,Prospecting,,,,MG",
        "D4,Orphan,,rep@example.com,Prospecting,,,,MG",
        "D5,Ghost,A1,ghost@example.com,Prospecting,,,,MG",
        "D6,Odd,A1,rep@example.com,Signed,,,,MG",
    )
    results, _ = await run(
        sessions, ops, data, PLAIN, kind=ImportKind.OPPORTUNITY, source=None
    )
    report = lines(results)
    assert report[2][2] is not None
    assert [line[:5] for line in report] == [
        [2, "REJECTED", None, "WEB_DIRECT_ONLY", "stage"],
        [3, "REJECTED", None, "MUST_PASS_PENDING_ACCEPTANCE", "stage"],
        [4, "CREATED", report[2][2], "", ""],
        [5, "REJECTED", None, "MISSING_FIELD", "accountId"],
        [6, "REJECTED", None, "INVALID_INPUT", "ownerId"],
        [7, "REJECTED", None, "INVALID_INPUT", "stage"],
    ]
    assert await count(sessions, Opportunity) == 1


async def test_a_historical_row_that_cannot_say_its_past_is_rejected(make, sessions):
    ops, _, _ = await setting(make, sessions)
    data = deals_csv(
        "D1,NoDays,A1,rep@example.com,Won,,,10,MG",
        "D2,Backwards,A1,rep@example.com,Lost,2017-03-01,2017-01-01,0,MG",
        "D3,NoEngage,A1,rep@example.com,Engaging,,,,MG",
        "D4,BadDay,A1,rep@example.com,Engaging,2017-13-01,,,MG",
    )
    results, _ = await run(
        sessions, ops, data, DEALS, kind=ImportKind.OPPORTUNITY, source=None,
        historical=True,
    )  # fmt: skip
    assert [(r.outcome.value, r.codes, r.fields) for r in results] == [
        ("REJECTED", ["MISSING_FIELD"], ["closeDate"]),
        ("REJECTED", ["INVALID_INPUT"], ["closeDate"]),
        ("REJECTED", ["MISSING_FIELD"], ["salesAcceptedDate"]),
        ("REJECTED", ["INVALID_INPUT"], ["salesAcceptedDate"]),
    ]
    assert await count(sessions, Opportunity) == 0
    assert await count(sessions, TransitionRecord) == 0


async def test_history_is_refused_whole_to_others_and_off_its_kinds(
    api, make, sessions
):
    ops, _, _ = await setting(make, sessions)
    marketing = await make.user(Role.MARKETING_OPS)
    data = deals_csv("D1,Big,A1,rep@example.com,Won,2017-01-02,2017-03-01,1,MG")
    cases = [
        (marketing, "OPPORTUNITY", DEALS, True, [("FORBIDDEN", None)]),
        (ops, "LEAD", {"lastName": "Name"}, True, [("INVALID_INPUT", ["historical"])]),
        (
            ops, "OPPORTUNITY", DEALS, False,
            [("INVALID_INPUT", ["mapping", "salesAcceptedDate"])],
        ),
    ]  # fmt: skip
    for user, kind, mapping, historical, expected in cases:
        answer = await api(
            START,
            {"input": {"file": upload(data), "kind": kind, "mapping": mapping,
                       "historical": historical}},
            as_user=user,
        )  # fmt: skip
        payload = answer.ok()["startImport"]
        assert payload["job"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == expected
    assert await count(sessions, Opportunity) == 0


async def test_users_are_created_by_an_admin_and_matched_by_email(make, sessions):
    admin = await make.user(Role.ADMIN)
    ops = await make.user(Role.SALES_OPS)
    mapping = {
        "name": "Agent",
        "email": {"template": "{Agent}@crm.example", "slug": True},
        "role": {"constant": "AE"},
        "region": {"column": "Office", "map": {"East": "US_EAST"}},
    }
    data = "Agent,Office\nAnna Snelling,East\nAnna Snelling,East\nBo Li,Mars\n"
    results, _ = await run(
        sessions, admin, data, mapping, kind=ImportKind.USER, source=None
    )
    assert [(r.outcome.value, r.codes, r.fields) for r in results] == [
        ("CREATED", [], []),
        ("UNCHANGED", [], []),
        ("REJECTED", ["INVALID_INPUT"], ["region"]),
    ]
    refused, _ = await run(
        sessions, ops, "Agent,Office\nCy Po,East\n", mapping, kind=ImportKind.USER,
        source=None,
    )  # fmt: skip
    assert [(r.outcome.value, r.codes) for r in refused] == [
        ("REJECTED", ["FORBIDDEN"])
    ]
    async with sessions() as s:
        anna = await s.scalar(
            select(User).where(User.email == "anna.snelling@crm.example")
        )
    assert (anna.name, anna.role.value, anna.region.value) == (
        "Anna Snelling",
        "AE",
        "US_EAST",
    )


async def test_activities_name_their_lead_by_external_id_once(make, sessions):
    admin = await make.user(Role.ADMIN)
    await run(sessions, admin, "Id,Name\nP1,Lead One\n", {"externalId": "Id",
              "lastName": "Name"}, source="CRM")  # fmt: skip
    # An activity has a field named kind: given alone, the fields are the mapping.
    mapping = {
        "externalId": {"template": "{Id}/last"},
        "leadId": "Id",
        "kind": {"constant": "TASK"},
        "subject": "Last",
        "channel": {
            "column": "Last",
            "map": {"Email Opened": "EMAIL", "Email Bounced": "EMAIL"},
        },
    }
    data = "Id,Last\nP1,Email Opened\nP2,Email Opened\nP1,Email Bounced\nP1,\n"
    results, _ = await run(
        sessions, admin, data, mapping, kind=ImportKind.ACTIVITY, source=None
    )
    assert [(r.outcome.value, r.codes, r.fields) for r in results] == [
        ("CREATED", [], []),
        ("REJECTED", ["INVALID_INPUT"], ["leadId"]),
        ("SKIPPED_DUPLICATE", ["DUPLICATE_RECORD"], ["externalId"]),
        ("UNCHANGED", [], []),  # a blank cell never erases
    ]
    again, _ = await run(
        sessions, admin, "Id,Last\nP1,Email Opened\n", mapping,
        kind=ImportKind.ACTIVITY, source=None,
    )  # fmt: skip
    assert [r.outcome.value for r in again] == ["UNCHANGED"]
    assert await count(sessions, Activity) == 1
