"""mergeLeads, mergeContacts, mergeAccounts and undoMerge (D4, D12; issue 13
item 4): what moves, what the survivor keeps, the guards, and the undo."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from domain.enums import Role
from domain.records import (
    Account,
    AccountTeamMember,
    Activity,
    Contact,
    Engagement,
    Event,
    FunnelEntry,
    Lead,
    Opportunity,
    OpportunityContactRole,
    RecordMerge,
)
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from domain.services.opportunities import create_opportunity
from domain.sqltypes import utcnow
from tests.api.ids import gid, raw_id
from tests.api.merging import UNDO, add_lead, add_work, merge_mutation, picture
from tests.api.payloads import codes


async def count(sessions: Any, model: Any, *where: Any) -> int:
    async with sessions() as s:
        return (
            await s.execute(select(func.count()).select_from(model).where(*where))
        ).scalar_one()


async def test_merging_leads_moves_their_work_keeps_the_oldest_source_and_undoes(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        survivor = await add_lead(
            s, actor, first_name="Jane", email="jane@acme.com", title="Engineer"
        )
        older = await add_lead(
            s,
            actor,
            days_old=40,
            initial_source="Trade Show",
            email="jane.doe@acme.com",
            title="VP Engineering",
            phone="+1 415 555 0100",
        )
        newer = await add_lead(s, actor, days_old=0, email="j@acme.com")
        add_work(s, activities=2, engagements=1, lead_id=older.id)
        add_work(s, activities=1, engagements=2, lead_id=newer.id)
        add_work(s, activities=1, lead_id=survivor.id)
        return survivor.id, older.id, newer.id

    survivor, older, newer = await make.run(build)
    before = await picture(sessions)

    result = await api(
        merge_mutation("Leads"),
        {
            "input": {
                "survivorId": gid("Lead", survivor),
                "duplicateIds": [gid("Lead", newer), gid("Lead", older)],
                "fieldChoices": [
                    {"field": "phone", "fromId": gid("Lead", older)},
                    {"field": "email", "fromId": gid("Lead", older)},
                ],
            }
        },
        as_user=ops,
    )

    payload = result.ok()["mergeLeads"]
    assert payload["userErrors"] == []
    merge = payload["merge"]
    assert merge["kind"] == "LEAD"
    assert merge["survivorId"] == merge["survivor"]["id"] == gid("Lead", survivor)
    assert merge["duplicateIds"] == [gid("Lead", older), gid("Lead", newer)]
    assert merge["undoneAt"] is None
    assert merge["actor"] == {"id": gid("User", ops.id)}
    assert await count(sessions, Lead) == 1
    assert await count(sessions, Activity, Activity.lead_id == survivor) == 4
    assert await count(sessions, Engagement, Engagement.lead_id == survivor) == 3
    assert await count(sessions, FunnelEntry) == 1
    async with sessions() as s:
        kept = (await s.execute(select(Lead).where(Lead.id == survivor))).scalar_one()
        merged = (
            await s.execute(
                select(Event.kind, Event.payload).where(Event.kind == "RECORD_MERGED")
            )
        ).one()
    assert (kept.initial_source, kept.email, kept.phone, kept.title) == (
        "Trade Show",
        "jane.doe@acme.com",
        "+1 415 555 0100",
        "Engineer",
    )
    assert kept.match_email == "jane.doe@acme.com"
    assert merged.payload["duplicate_ids"] == [older, newer]
    assert merged.payload["fields"] == ["email", "phone"]

    undone = (await api(UNDO, {"id": merge["id"]}, as_user=ops)).ok()["undoMerge"]

    assert undone["userErrors"] == []
    assert undone["merge"]["undoneAt"] is not None
    assert await picture(sessions) == before
    assert await count(sessions, Event, Event.kind == "MERGE_UNDONE") == 1


async def test_a_refused_merge_names_every_reason_and_changes_nothing(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    rep = await make.user(Role.AE)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        a = await add_lead(s, actor, email="a@acme.com")
        b = await add_lead(s, actor, email="b@acme.com")
        converted = await add_lead(s, actor, email="c@acme.com", owner_id=rep.id)
        # Converted (D7) as far as the guard reads it.
        await s.execute(
            update(Lead).where(Lead.id == converted.id).values(converted_at=utcnow())
        )
        account = await create_account({"name": "Acme"}, session=s, actor=actor)
        return a.id, b.id, converted.id, account.id

    a, b, converted, account = await make.run(build)
    before = await picture(sessions)

    async def merge(as_user: Any, **input: Any) -> list[tuple[str, Any]]:
        result = await api(merge_mutation("Leads"), {"input": input}, as_user=as_user)
        payload = result.ok()["mergeLeads"]
        assert payload["merge"] is None
        return codes(payload)

    assert await merge(
        ops,
        survivorId=gid("Lead", a),
        duplicateIds=[gid("Lead", converted), gid("Lead", 999)],
    ) == [
        ("ALREADY_CONVERTED", ["duplicateIds", "0"]),
        ("NOT_FOUND", ["duplicateIds", "1"]),
    ]
    assert await merge(
        ops, survivorId=gid("Lead", a), duplicateIds=[gid("Lead", a)]
    ) == [("INVALID_INPUT", ["duplicateIds"])]
    assert await merge(ops, survivorId=gid("Lead", a), duplicateIds=[]) == [
        ("INVALID_INPUT", ["duplicateIds"])
    ]
    assert await merge(
        ops,
        survivorId=gid("Lead", a),
        duplicateIds=[gid("Account", account), gid("Lead", b), "nope"],
    ) == [
        ("INVALID_INPUT", ["duplicateIds", "0"]),
        ("INVALID_INPUT", ["duplicateIds", "2"]),
    ]
    # Every malformed id of every choice, each at its index.
    assert await merge(
        ops,
        survivorId=gid("Lead", a),
        duplicateIds=[gid("Lead", b)],
        fieldChoices=[
            {"field": "title", "fromId": "nope"},
            {"field": "title", "fromId": gid("Lead", b)},
            {"field": "phone", "fromId": gid("Account", account)},
        ],
    ) == [
        ("INVALID_INPUT", ["fieldChoices", "0", "fromId"]),
        ("INVALID_INPUT", ["fieldChoices", "2", "fromId"]),
    ]
    assert await merge(
        ops,
        survivorId=gid("Lead", a),
        duplicateIds=[gid("Lead", b)],
        fieldChoices=[
            {"field": "initialSource", "fromId": gid("Lead", b)},
            {"field": "status", "fromId": gid("Lead", b)},
            {"field": "title", "fromId": gid("Lead", converted)},
        ],
    ) == [
        ("IMMUTABLE_FIELD", ["fieldChoices", "0", "field"]),
        ("INVALID_INPUT", ["fieldChoices", "1", "field"]),
        ("INVALID_INPUT", ["fieldChoices", "2", "fromId"]),
    ]
    assert await merge(
        rep, survivorId=gid("Lead", a), duplicateIds=[gid("Lead", b)]
    ) == [("FORBIDDEN", None)]
    assert await picture(sessions) == before
    assert await count(sessions, RecordMerge) == 0
    assert await count(sessions, Event, Event.kind == "RECORD_MERGED") == 0


async def test_merging_contacts_moves_roles_and_drops_a_role_the_survivor_has(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        account = await create_account({"name": "Acme"}, session=s, actor=actor)

        async def contact(**values: Any) -> int:
            base = {"last_name": "Lee", "account_id": account.id}
            row = await create_contact(
                {"initial_source": "Web Direct", **base, **values},
                session=s,
                actor=actor,
                allow_duplicate=True,
            )
            return row.id

        survivor = await contact(email="sam@acme.com")
        duplicate = await contact(email="sam.lee@acme.com", title="CTO")
        both = await create_opportunity(
            {"name": "Both", "account_id": account.id}, session=s, actor=actor
        )
        only_dup = await create_opportunity(
            {"name": "Dup", "account_id": account.id}, session=s, actor=actor
        )
        s.add_all(
            [
                OpportunityContactRole(
                    opportunity_id=both.id, contact_id=survivor, role="Buyer"
                ),
                OpportunityContactRole(
                    opportunity_id=both.id, contact_id=duplicate, role="Champion"
                ),
                OpportunityContactRole(
                    opportunity_id=only_dup.id, contact_id=duplicate, role="Buyer"
                ),
            ]
        )
        await s.flush()
        await s.execute(
            update(Opportunity)
            .where(Opportunity.id == only_dup.id)
            .values(primary_contact_id=duplicate)
        )
        add_work(s, activities=1, engagements=1, contact_id=duplicate)
        return survivor, duplicate, only_dup.id

    survivor, duplicate, only_dup = await make.run(build)
    before = await picture(sessions)

    payload = (
        await api(
            merge_mutation("Contacts"),
            {
                "input": {
                    "survivorId": gid("Contact", survivor),
                    "duplicateIds": [gid("Contact", duplicate)],
                    "fieldChoices": [
                        {"field": "title", "fromId": gid("Contact", duplicate)}
                    ],
                }
            },
            as_user=ops,
        )
    ).ok()["mergeContacts"]

    assert payload["userErrors"] == []
    assert await count(sessions, Contact) == 1
    assert await count(sessions, OpportunityContactRole) == 2
    assert (
        await count(
            sessions,
            OpportunityContactRole,
            OpportunityContactRole.contact_id == survivor,
        )
        == 2
    )
    assert await count(sessions, Activity, Activity.contact_id == survivor) == 1
    assert await count(sessions, Engagement, Engagement.contact_id == survivor) == 1
    async with sessions() as s:
        primary = (
            await s.execute(
                select(Opportunity.primary_contact_id).where(Opportunity.id == only_dup)
            )
        ).scalar_one()
        title = (
            await s.execute(select(Contact.title).where(Contact.id == survivor))
        ).scalar_one()
    assert (primary, title) == (survivor, "CTO")

    undone = (await api(UNDO, {"id": payload["merge"]["id"]}, as_user=ops)).ok()[
        "undoMerge"
    ]
    assert undone["userErrors"] == []
    assert await picture(sessions) == before


async def test_merging_accounts_moves_people_deals_team_and_children(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    sdr = await make.user(Role.SDR)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        survivor = await create_account({"name": "Acme"}, session=s, actor=actor)
        duplicate = await create_account(
            {"name": "ACME Inc", "industry": "Software"},
            session=s,
            actor=actor,
            domains=["acme.example"],
        )
        child = await create_account(
            {"name": "Acme EU", "parent_account_id": duplicate.id},
            session=s,
            actor=actor,
        )
        for account in (survivor, duplicate):
            s.add(
                AccountTeamMember(account_id=account.id, user_id=sdr.id, role=sdr.role)
            )
        await create_contact(
            {"last_name": "Lee", "account_id": duplicate.id, "initial_source": "Web"},
            session=s,
            actor=actor,
        )
        await create_opportunity(
            {"name": "Deal", "account_id": duplicate.id}, session=s, actor=actor
        )
        add_work(s, activities=2, account_id=duplicate.id)
        return survivor.id, duplicate.id, child.id

    survivor, duplicate, child = await make.run(build)
    before = await picture(sessions)

    payload = (
        await api(
            merge_mutation("Accounts"),
            {
                "input": {
                    "survivorId": gid("Account", survivor),
                    "duplicateIds": [gid("Account", duplicate)],
                    "fieldChoices": [
                        {"field": "industry", "fromId": gid("Account", duplicate)}
                    ],
                }
            },
            as_user=ops,
        )
    ).ok()["mergeAccounts"]

    assert payload["userErrors"] == []
    assert await count(sessions, Account) == 2
    assert await count(sessions, Contact, Contact.account_id == survivor) == 1
    assert await count(sessions, Opportunity, Opportunity.account_id == survivor) == 1
    assert await count(sessions, Activity, Activity.account_id == survivor) == 2
    assert await count(sessions, AccountTeamMember) == 1
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Account.id, Account.parent_account_id, Account.industry)
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        (survivor, None, "Software"),
        (child, survivor, None),
    ]

    undone = (await api(UNDO, {"id": payload["merge"]["id"]}, as_user=ops)).ok()[
        "undoMerge"
    ]
    assert undone["userErrors"] == []
    assert await picture(sessions) == before


async def test_an_account_is_not_merged_into_its_own_child(api, make):
    ops = await make.user(Role.SALES_OPS)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        parent = await create_account({"name": "Parent"}, session=s, actor=actor)
        child = await create_account(
            {"name": "Child", "parent_account_id": parent.id}, session=s, actor=actor
        )
        return parent.id, child.id

    parent, child = await make.run(build)
    payload = (
        await api(
            merge_mutation("Accounts"),
            {
                "input": {
                    "survivorId": gid("Account", child),
                    "duplicateIds": [gid("Account", parent)],
                }
            },
            as_user=ops,
        )
    ).ok()["mergeAccounts"]
    assert codes(payload) == [("INVALID_INPUT", ["survivorId"])]


async def merged_pair(api: Any, make: Any, ops: Any) -> tuple[int, int, str]:
    actor = Actor(ops.id, ops.role)

    async def build(s):
        a = await add_lead(s, actor, email="a@acme.com")
        b = await add_lead(s, actor, email="b@acme.com")
        add_work(s, activities=1, lead_id=b.id)
        return a.id, b.id

    a, b = await make.run(build)
    payload = (
        await api(
            merge_mutation("Leads"),
            {"input": {"survivorId": gid("Lead", a), "duplicateIds": [gid("Lead", b)]}},
            as_user=ops,
        )
    ).ok()["mergeLeads"]
    assert payload["userErrors"] == []
    return a, b, payload["merge"]["id"]


async def test_undo_is_refused_when_the_survivor_changed_since(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    a, _b, merge = await merged_pair(api, make, ops)
    changed = await api(
        'mutation($id: ID!) { updateLead(input: {id: $id, title: "CEO"}) '
        "{ userErrors { code } } }",
        {"id": gid("Lead", a)},
        as_user=ops,
    )
    assert changed.ok()["updateLead"]["userErrors"] == []
    after = await picture(sessions)

    undone = (await api(UNDO, {"id": merge}, as_user=ops)).ok()["undoMerge"]

    assert codes(undone) == [("CHANGED_SINCE_MERGE", ["id"])]
    assert await picture(sessions) == after


async def test_undo_is_refused_when_a_moved_record_moved_again(api, make, sessions):
    ops = await make.user(Role.MARKETING_OPS)
    _a, _b, merge = await merged_pair(api, make, ops)
    other = await make.lead(by=ops)
    async with sessions() as s, s.begin():
        await s.execute(update(Activity).values(lead_id=other.id))
    after = await picture(sessions)

    undone = (await api(UNDO, {"id": merge}, as_user=ops)).ok()["undoMerge"]

    assert codes(undone) == [("CHANGED_SINCE_MERGE", ["id"])]
    assert "activities" in undone["userErrors"][0]["message"]
    assert await picture(sessions) == after


async def test_undo_happens_once_within_30_days_and_by_a_data_steward(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    rep = await make.user(Role.SDR)
    _a, _b, merge = await merged_pair(api, make, ops)

    forbidden = (await api(UNDO, {"id": merge}, as_user=rep)).ok()["undoMerge"]
    assert codes(forbidden) == [("FORBIDDEN", None)]
    async with sessions() as s, s.begin():
        await s.execute(
            update(RecordMerge).values(merged_at=utcnow() - timedelta(days=31))
        )
    late = (await api(UNDO, {"id": merge}, as_user=ops)).ok()["undoMerge"]
    assert codes(late) == [("UNDO_WINDOW_PASSED", ["id"])]
    async with sessions() as s, s.begin():
        await s.execute(
            update(RecordMerge).values(merged_at=utcnow() - timedelta(days=29))
        )
    first = (await api(UNDO, {"id": merge}, as_user=ops)).ok()["undoMerge"]
    again = (await api(UNDO, {"id": merge}, as_user=ops)).ok()["undoMerge"]
    assert first["userErrors"] == []
    assert codes(again) == [("ALREADY_UNDONE", ["id"])]
    assert raw_id(merge) == 1


async def test_two_merges_of_one_record_at_once_run_one_after_the_other(
    api, make, sessions
):
    ops = await make.user(Role.MARKETING_OPS)
    actor = Actor(ops.id, ops.role)

    async def build(s):
        a = await add_lead(s, actor, email="a@acme.com")
        b = await add_lead(s, actor, email="b@acme.com")
        shared = await add_lead(s, actor, email="shared@acme.com")
        add_work(s, activities=3, engagements=2, lead_id=shared.id)
        return a.id, b.id, shared.id

    a, b, shared = await make.run(build)

    def merge_into(survivor: int) -> Any:
        return api(
            merge_mutation("Leads"),
            {
                "input": {
                    "survivorId": gid("Lead", survivor),
                    "duplicateIds": [gid("Lead", shared)],
                }
            },
            as_user=ops,
        )

    results = await asyncio.gather(merge_into(a), merge_into(b))

    payloads = [r.ok()["mergeLeads"] for r in results]
    outcomes = sorted(tuple(c for c, _ in codes(p)) for p in payloads)
    assert outcomes == [(), ("NOT_FOUND",)]
    winner = a if payloads[0]["merge"] else b
    assert await count(sessions, Activity, Activity.lead_id == winner) == 3
    assert await count(sessions, Engagement, Engagement.lead_id == winner) == 2
    assert await count(sessions, RecordMerge) == 1
