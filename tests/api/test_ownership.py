"""Record ownership (D8, D10): BDR leads change hands by transfer, Sales Admin
records are adoptable by anyone with an alert, and every owner change is an event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.leads import LeadNode
from api.opportunities import OpportunityNode
from api.users import UserNode
from domain.enums import Role
from domain.records import (
    Account,
    Contact,
    Event,
    EventRecipient,
    Lead,
    Opportunity,
    User,
)
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.services.contacts import create_contact
from domain.services.opportunities import create_opportunity
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.conftest import row_count

UPDATE_LEAD = """
mutation($input: UpdateLeadInput!) {
  updateLead(input: $input) {
    lead { owner { id } title version } userErrors { code field message }
  }
}"""
TRANSFER = """
mutation($input: TransferLeadOwnershipInput!) {
  transferLeadOwnership(input: $input) {
    lead { owner { id } version } userErrors { code field message }
  }
}"""
EVENTS = """
query($filter: EventFilter) {
  events(filter: $filter) {
    nodes { type recordId payload actor { id } recipients { capacity user { id } } }
  }
}"""
BDR_RULE = (
    "A lead owned by a BDR changes hands only through an ownership transfer by that "
    "BDR or SALES_OPS (D8): ask the BDR to transfer it to you."
)


def uid(user: User) -> str:
    return gid(UserNode, user.id)


async def events(api: Any, as_user: User) -> list[dict[str, Any]]:
    return (await api(EVENTS, {}, as_user=as_user)).ok()["events"]["nodes"]


async def snapshot(sessions: Any, model: type, record_id: int) -> tuple[Any, ...]:
    """(owner, version) of a record, and how many events and recipients exist."""
    async with sessions() as s:
        row = await s.get(model, record_id)
    return (
        row.owner_id,
        row.version,
        await row_count(sessions, Event),
        await row_count(sessions, EventRecipient),
    )


# --- a BDR's lead ---------------------------------------------------------------------

ROLES = [
    ("owner_bdr", True),
    (Role.SALES_OPS, True),
    (Role.ADMIN, True),
    (Role.MARKETING_OPS, False),
    (Role.BDR, False),
    (Role.AE, False),
    (Role.SDR, False),
    (Role.SALES_ADMIN, False),
]


@pytest.mark.parametrize(("who", "allowed"), ROLES)
@pytest.mark.parametrize("mutation", ["updateLead", "transferLeadOwnership"])
async def test_a_bdrs_lead_changes_hands_only_by_that_bdr_or_sales_ops(
    api, make, sessions, who, allowed, mutation
):
    bdr = await make.user(Role.BDR)
    ae = await make.user(Role.AE)
    actor = bdr if who == "owner_bdr" else await make.user(who)
    lead = await make.lead(owner_id=bdr.id)
    before = await snapshot(sessions, Lead, lead.id)

    if mutation == "updateLead":
        variables = {"id": gid(LeadNode, lead.id), "ownerId": uid(ae)}
        answer = (await api(UPDATE_LEAD, {"input": variables}, as_user=actor)).ok()
    else:
        variables = {"id": gid(LeadNode, lead.id), "toUserId": uid(ae)}
        answer = (await api(TRANSFER, {"input": variables}, as_user=actor)).ok()
    data = answer[mutation]

    if allowed:
        assert data["userErrors"] == []
        assert data["lead"]["owner"] == {"id": uid(ae)}
        assert (await snapshot(sessions, Lead, lead.id))[:2] == (ae.id, 2)
    else:
        assert data == {
            "lead": None,
            "userErrors": [{"code": "FORBIDDEN", "field": None, "message": BDR_RULE}],
        }
        assert await snapshot(sessions, Lead, lead.id) == before


async def test_someone_who_may_edit_a_bdrs_lead_still_changes_its_other_fields(
    api, make
):
    bdr = await make.user(Role.BDR)
    marketing = await make.user(Role.MARKETING_OPS)
    lead = await make.lead(owner_id=bdr.id)

    same_owner = (
        await api(
            UPDATE_LEAD,
            {
                "input": {
                    "id": gid(LeadNode, lead.id),
                    "title": "CTO",
                    "ownerId": uid(bdr),  # unchanged: not a change of hands
                }
            },
            as_user=marketing,
        )
    ).ok()["updateLead"]

    assert same_owner["userErrors"] == []
    assert same_owner["lead"]["title"] == "CTO"


async def test_a_transfer_tells_both_owners_and_keeps_the_reason(api, make):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    ae = await make.user(Role.AE)
    lead = await make.lead(owner_id=bdr.id)

    by_ops = (
        await api(
            TRANSFER,
            {
                "input": {
                    "id": gid(LeadNode, lead.id),
                    "toUserId": uid(ae),
                    "reason": "Named account of the AE",
                    "expectedVersion": 1,
                }
            },
            as_user=ops,
        )
    ).ok()["transferLeadOwnership"]
    by_owner = (
        await api(
            TRANSFER,
            {"input": {"id": gid(LeadNode, lead.id), "toUserId": uid(bdr)}},
            as_user=ae,
        )
    ).ok()["transferLeadOwnership"]

    assert [by_ops["userErrors"], by_owner["userErrors"]] == [[], []]
    assert by_owner["lead"] == {"owner": {"id": uid(bdr)}, "version": 3}
    created, *transfers = await events(api, ops)
    assert (created["payload"], created["recipients"]) == (
        {"owner_id": bdr.id},
        [{"capacity": "NEW_OWNER", "user": {"id": uid(bdr)}}],
    )
    assert transfers == [
        {
            "type": "LEAD_ASSIGNED",
            "recordId": gid(LeadNode, lead.id),
            "payload": {
                "owner_id": ae.id,
                "previous_owner_id": bdr.id,
                "via": "TRANSFER",
                "reason": "Named account of the AE",
            },
            "actor": {"id": uid(ops)},
            "recipients": [
                {"capacity": "NEW_OWNER", "user": {"id": uid(ae)}},
                {"capacity": "PREVIOUS_OWNER", "user": {"id": uid(bdr)}},
            ],
        },
        {
            "type": "LEAD_ASSIGNED",
            "recordId": gid(LeadNode, lead.id),
            "payload": {
                "owner_id": bdr.id,
                "previous_owner_id": ae.id,
                "via": "TRANSFER",
            },
            "actor": {"id": uid(ae)},
            "recipients": [{"capacity": "NEW_OWNER", "user": {"id": uid(bdr)}}],
        },
    ]


async def test_a_transfer_refuses_a_bad_target_a_stale_version_or_a_converted_lead(
    api, make, sessions
):
    bdr = await make.user(Role.BDR)
    gone = await make.user(Role.AE, active=False)
    ae = await make.user(Role.AE)
    lead = await make.lead(owner_id=bdr.id)
    converted = await make.lead(owner_id=bdr.id)

    async def convert(s):
        (await s.get(Lead, converted.id)).converted_at = utcnow()

    await make.run(convert)
    before = await snapshot(sessions, Lead, lead.id)

    async def transfer(target: str, **extra: Any) -> list[tuple[str, Any]]:
        data = (
            await api(
                TRANSFER,
                {"input": {"id": gid(LeadNode, lead.id), "toUserId": target, **extra}},
                as_user=bdr,
            )
        ).ok()["transferLeadOwnership"]
        assert data["lead"] is None
        return [(e["code"], e["field"]) for e in data["userErrors"]]

    answers = [
        await transfer(uid(gone)),
        await transfer(uid(bdr)),
        await transfer(gid(UserNode, 999)),
        await transfer(gid(LeadNode, lead.id)),
        await transfer(uid(ae), expectedVersion=9),
    ]
    read_only = (
        await api(
            TRANSFER,
            {"input": {"id": gid(LeadNode, converted.id), "toUserId": uid(ae)}},
            as_user=bdr,
        )
    ).ok()["transferLeadOwnership"]

    assert answers == [
        [("INVALID_INPUT", ["toUserId"])],
        [("INVALID_INPUT", ["toUserId"])],
        [("NOT_FOUND", ["toUserId"])],
        [("INVALID_INPUT", ["toUserId"])],
        [("STALE_VERSION", ["expectedVersion"])],
    ]
    assert [e["code"] for e in read_only["userErrors"]] == ["READ_ONLY_RECORD"]
    assert await snapshot(sessions, Lead, lead.id) == before


# --- Sales Admin records are adoptable ----------------------------------------------


async def placeholder_record(make: Any, kind: str, placeholder: User) -> Any:
    """A record of ``kind`` owned by the Sales Admin placeholder."""
    actor = Actor(placeholder.id, placeholder.role)
    if kind == "lead":
        return await make.lead(owner_id=placeholder.id)
    account = await make.run(
        lambda s: create_account(
            {
                "name": "CE user",
                "owner_id": placeholder.id,
                "account_source": "CE Download",
            },
            session=s,
            actor=actor,
        )
    )
    if kind == "account":
        return account
    if kind == "contact":
        return await make.run(
            lambda s: create_contact(
                {
                    "last_name": "User",
                    "account_id": account.id,
                    "owner_id": placeholder.id,
                    "initial_source": "CE Download",
                },
                session=s,
                actor=actor,
            )
        )
    return await make.run(
        lambda s: create_opportunity(
            {
                "name": "CE upgrade",
                "account_id": account.id,
                "owner_id": placeholder.id,
            },
            session=s,
            actor=actor,
        )
    )


KINDS = {
    "lead": (Lead, LeadNode, "updateLead", "UpdateLeadInput", "lead", "LEAD"),
    "account": (
        Account,
        AccountNode,
        "updateAccount",
        "UpdateAccountInput",
        "account",
        "ACCOUNT",
    ),
    "contact": (
        Contact,
        ContactNode,
        "updateContact",
        "UpdateContactInput",
        "contact",
        "CONTACT",
    ),
    "opportunity": (
        Opportunity,
        OpportunityNode,
        "updateOpportunity",
        "UpdateOpportunityInput",
        "opportunity",
        "OPPORTUNITY",
    ),
}


def update_mutation(kind: str) -> str:
    _, _, name, input_type, field, _ = KINDS[kind]
    return f"""
mutation($input: {input_type}!) {{
  {name}(input: $input) {{
    {field} {{ owner {{ id }} version }} userErrors {{ code field message }}
  }}
}}"""


@pytest.mark.parametrize("kind", list(KINDS))
async def test_anyone_may_adopt_a_sales_admin_record_which_raises_an_alert(
    api, make, sessions, kind
):
    model, node, name, _, field, record_type = KINDS[kind]
    placeholder = await make.user(Role.SALES_ADMIN)
    ops = await make.user(Role.SALES_OPS)
    other_ops = await make.user(Role.SALES_OPS)
    await make.user(Role.SALES_OPS, active=False)
    bdr = await make.user(Role.BDR)
    record = await placeholder_record(make, kind, placeholder)
    first_event = await row_count(sessions, Event)

    adopted = (
        await api(
            update_mutation(kind),
            {"input": {"id": gid(node, record.id), "ownerId": uid(bdr)}},
            as_user=bdr,
        )
    ).ok()[name]

    assert adopted["userErrors"] == []
    assert adopted[field]["owner"] == {"id": uid(bdr)}
    found = (await events(api, ops))[first_event:]
    assert found == [
        {
            "type": f"{record_type}_ASSIGNED",
            "recordId": gid(node, record.id),
            "payload": {
                "owner_id": bdr.id,
                "previous_owner_id": placeholder.id,
                "via": "UPDATE",
            },
            "actor": {"id": uid(bdr)},
            "recipients": [],
        },
        {
            "type": "SALES_ADMIN_RECORD_ADOPTED",
            "recordId": gid(node, record.id),
            "payload": {
                "previous_owner_id": placeholder.id,
                "owner_id": bdr.id,
                "adopted_by_id": bdr.id,
            },
            "actor": {"id": uid(bdr)},
            "recipients": [
                {"capacity": "SALES_OPS", "user": {"id": uid(ops)}},
                {"capacity": "SALES_OPS", "user": {"id": uid(other_ops)}},
            ],
        },
    ]
    async with sessions() as s:
        assert (await s.get(model, record.id)).owner_id == bdr.id


@pytest.mark.parametrize("kind", list(KINDS))
async def test_adopting_is_for_yourself_and_is_no_licence_to_edit(
    api, make, sessions, kind
):
    _, node, name, _, field, _ = KINDS[kind]
    model = KINDS[kind][0]
    placeholder = await make.user(Role.SALES_ADMIN)
    ae = await make.user(Role.AE)
    friend = await make.user(Role.AE)
    record = await placeholder_record(make, kind, placeholder)
    before = await snapshot(sessions, model, record.id)
    rename = {
        "lead": {"title": "CTO"},
        "account": {"name": "Renamed"},
        "contact": {"title": "CTO"},
        "opportunity": {"name": "Renamed"},
    }[kind]

    for_a_friend = (
        await api(
            update_mutation(kind),
            {"input": {"id": gid(node, record.id), "ownerId": uid(friend)}},
            as_user=ae,
        )
    ).ok()[name]
    just_editing = (
        await api(
            update_mutation(kind),
            {"input": {"id": gid(node, record.id), **rename}},
            as_user=ae,
        )
    ).ok()[name]

    assert [e["code"] for e in for_a_friend["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in just_editing["userErrors"]] == ["FORBIDDEN"]
    assert for_a_friend[field] is None and just_editing[field] is None
    assert await snapshot(sessions, model, record.id) == before


async def test_adopting_a_lead_may_come_with_other_changes_and_by_transfer(
    api, make, sessions
):
    placeholder = await make.user(Role.SALES_ADMIN)
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    sdr = await make.user(Role.SDR)
    by_update = await make.lead(owner_id=placeholder.id)
    by_transfer = await make.lead(owner_id=placeholder.id)

    updated = (
        await api(
            UPDATE_LEAD,
            {
                "input": {
                    "id": gid(LeadNode, by_update.id),
                    "ownerId": uid(ae),
                    "title": "VP Engineering",
                }
            },
            as_user=ae,
        )
    ).ok()["updateLead"]
    transferred = (
        await api(
            TRANSFER,
            {"input": {"id": gid(LeadNode, by_transfer.id), "toUserId": uid(sdr)}},
            as_user=sdr,
        )
    ).ok()["transferLeadOwnership"]

    assert updated["userErrors"] == [] and transferred["userErrors"] == []
    assert updated["lead"]["title"] == "VP Engineering"
    async with sessions() as s:
        alerts = (
            await s.execute(
                select(Event.record_id, Event.payload)
                .where(Event.kind == "SALES_ADMIN_RECORD_ADOPTED")
                .order_by(Event.id)
            )
        ).all()
    assert [(r, p["adopted_by_id"]) for r, p in alerts] == [
        (by_update.id, ae.id),
        (by_transfer.id, sdr.id),
    ]
    # SALES_OPS heard of both.
    mine = (
        await api(
            """query($f: EventFilter) { events(filter: $f) { totalCount } }""",
            {"f": {"recipientId": uid(ops), "type": ["SALES_ADMIN_RECORD_ADOPTED"]}},
            as_user=ops,
        )
    ).ok()["events"]["totalCount"]
    assert mine == 2


async def test_sales_ops_handing_a_sales_admin_record_on_is_an_adoption_too(api, make):
    placeholder = await make.user(Role.SALES_ADMIN)
    ops = await make.user(Role.SALES_OPS)
    colleague = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    account = await placeholder_record(make, "account", placeholder)

    handed = (
        await api(
            update_mutation("account"),
            {"input": {"id": gid(AccountNode, account.id), "ownerId": uid(ae)}},
            as_user=ops,
        )
    ).ok()["updateAccount"]

    assert handed["userErrors"] == []
    found = await events(api, ops)
    assert [(e["type"], e["recipients"]) for e in found] == [
        ("ACCOUNT_ASSIGNED", [{"capacity": "NEW_OWNER", "user": {"id": uid(ae)}}]),
        (
            "SALES_ADMIN_RECORD_ADOPTED",
            [{"capacity": "SALES_OPS", "user": {"id": uid(colleague)}}],
        ),
    ]


async def test_an_ordinary_owner_change_tells_both_owners_and_raises_no_alert(
    api, make
):
    ae = await make.user(Role.AE)
    other = await make.user(Role.AE)
    ops = await make.user(Role.SALES_OPS)
    account = await make.run(
        lambda s: create_account(
            {"name": "Acme", "owner_id": ae.id}, session=s, actor=Actor(ae.id, ae.role)
        )
    )

    await api(
        update_mutation("account"),
        {"input": {"id": gid(AccountNode, account.id), "ownerId": uid(other)}},
        as_user=ops,
    )

    assert [
        (e["type"], e["payload"], e["recipients"]) for e in await events(api, ops)
    ] == [
        (
            "ACCOUNT_ASSIGNED",
            {"owner_id": other.id, "previous_owner_id": ae.id, "via": "UPDATE"},
            [
                {"capacity": "NEW_OWNER", "user": {"id": uid(other)}},
                {"capacity": "PREVIOUS_OWNER", "user": {"id": uid(ae)}},
            ],
        )
    ]


async def test_releasing_a_lead_to_the_sales_admin_tells_only_the_previous_owner(
    api, make
):
    placeholder = await make.user(Role.SALES_ADMIN)
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    lead = await make.lead(owner_id=ae.id)

    released = (
        await api(
            UPDATE_LEAD,
            {"input": {"id": gid(LeadNode, lead.id), "ownerId": uid(placeholder)}},
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert released["userErrors"] == []
    last = (await events(api, ops))[-1]
    assert (last["type"], last["recipients"]) == (
        "LEAD_ASSIGNED",
        [{"capacity": "PREVIOUS_OWNER", "user": {"id": uid(ae)}}],
    )


ROUTE = """
mutation($input: RouteLeadInput!) {
  routeLead(input: $input) { lead { owner { id } } userErrors { code message } }
}"""


async def test_re_routing_a_bdrs_lead_is_for_sales_ops_not_marketing(
    api, make, sessions
):
    bdr = await make.user(Role.BDR)
    marketing = await make.user(Role.MARKETING_OPS)
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(owner_id=bdr.id, number_of_employees=5000, country="DE")
    before = await snapshot(sessions, Lead, lead.id)

    refused = (
        await api(ROUTE, {"input": {"id": gid(LeadNode, lead.id)}}, as_user=marketing)
    ).ok()["routeLead"]
    after_refusal = await snapshot(sessions, Lead, lead.id)
    rerouted = (
        await api(ROUTE, {"input": {"id": gid(LeadNode, lead.id)}}, as_user=ops)
    ).ok()["routeLead"]

    assert refused == {
        "lead": None,
        "userErrors": [{"code": "FORBIDDEN", "message": BDR_RULE}],
    }
    assert after_refusal == before
    assert rerouted["userErrors"] == []


async def test_two_reps_adopting_the_same_record_at_once_one_wins_one_alert(
    api, make, sessions
):
    placeholder = await make.user(Role.SALES_ADMIN)
    await make.user(Role.SALES_OPS)
    reps = [await make.user(Role.AE) for _ in range(4)]
    lead = await make.lead(owner_id=placeholder.id)

    answers = await asyncio.gather(
        *(
            api(
                UPDATE_LEAD,
                {"input": {"id": gid(LeadNode, lead.id), "ownerId": uid(rep)}},
                as_user=rep,
            )
            for rep in reps
        )
    )

    codes = sorted(
        tuple(e["code"] for e in a.ok()["updateLead"]["userErrors"]) for a in answers
    )
    assert codes == [(), ("FORBIDDEN",), ("FORBIDDEN",), ("FORBIDDEN",)]
    winner = next(
        rep
        for rep, a in zip(reps, answers, strict=True)
        if not a.data["updateLead"]["userErrors"]
    )
    async with sessions() as s:
        stored = await s.get(Lead, lead.id)
        alerts = (
            (
                await s.execute(
                    select(Event.payload).where(
                        Event.kind == "SALES_ADMIN_RECORD_ADOPTED"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (stored.owner_id, stored.version) == (winner.id, 2)
    assert [a["adopted_by_id"] for a in alerts] == [winner.id]


# --- unowned leads (round 2) ------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AE, Role.BDR, Role.SDR, Role.SAL])
async def test_anyone_may_adopt_an_unowned_lead_for_themselves_without_an_alert(
    api, make, sessions, role
):
    """002_91dd8e67a169a832.txt, Record Creation: "If LEAD or CONTACT is unowned or
    'owned by Sales Admin' ..., this record is adoptable by anyone - change `Record
    Owner` to your name"."""
    ops = await make.user(Role.SALES_OPS)
    rep = await make.user(role)
    friend = await make.user(Role.AE)
    lead = await make.lead(by=ops)
    before = await snapshot(sessions, Lead, lead.id)

    for_a_friend = (
        await api(
            UPDATE_LEAD,
            {"input": {"id": gid(LeadNode, lead.id), "ownerId": uid(friend)}},
            as_user=rep,
        )
    ).ok()["updateLead"]
    assert [e["code"] for e in for_a_friend["userErrors"]] == ["FORBIDDEN"]
    assert await snapshot(sessions, Lead, lead.id) == before

    adopted = (
        await api(
            UPDATE_LEAD,
            {
                "input": {
                    "id": gid(LeadNode, lead.id),
                    "ownerId": uid(rep),
                    "phone": "+1 555 0100",
                }
            },
            as_user=rep,
        )
    ).ok()["updateLead"]

    assert adopted["userErrors"] == []
    assert adopted["lead"]["owner"] == {"id": uid(rep)}
    async with sessions() as s:
        assert (await s.get(Lead, lead.id)).phone == "+1 555 0100"
    found = (await events(api, ops))[before[2] :]
    assert [(e["type"], e["payload"]) for e in found] == [
        (
            "LEAD_ASSIGNED",
            {"owner_id": rep.id, "previous_owner_id": None, "via": "UPDATE"},
        )
    ]
