"""A move that waited for another writer's lock reads what that writer wrote
(``domain.services.locks.locked_rows``).

PostgreSQL hands a ``SELECT … FOR UPDATE`` that waited the locked row's newest
version, but the rest of the statement (the joined funnel entry, the guards'
subqueries) still reads the snapshot taken before the wait. A move that trusted
those columns stamped the funnel with stale milestones. Here the first writer is
a move in the test's own transaction, held open; the second is `transitionLead`
over HTTP against `salesops serve --workers 2`, sent while the first holds the
lead. On SQLite the second waits for the database's write lock and starts
after the commit, so it passes there by construction.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select, text

from domain.db import write_transaction
from domain.enums import EngagementKind, LeadStatus, OpportunityStage, Role
from domain.lifecycle.lead import LeadTransitionRequest
from domain.lifecycle.opportunity import StageMoveRequest
from domain.records import FunnelEntry
from domain.rules.permissions import Actor
from domain.services.engagements import record_engagement
from domain.services.lead_lifecycle import transition_lead
from domain.services.opportunity_pipeline import move_opportunity_stage
from domain.sqltypes import utcnow
from tests.api.ids import gid
from tests.api.test_opportunity_pipeline import a_deal

TRANSITION = """mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) { lead { status } userErrors { code message } } }"""
LOG = """mutation($input: LogActivityInput!) {
  logActivity(input: $input) { activity { id } userErrors { code } } }"""


async def _until_a_backend_waits_for_a_lock(engine) -> None:
    """Return once another session waits for a row lock (PostgreSQL); on SQLite
    give the request time to reach its wait for the write lock."""
    if engine.dialect.name != "postgresql":
        await asyncio.sleep(1)
        return
    for _ in range(200):
        async with engine.connect() as conn:
            waiting = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                )
            ).scalar_one()
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second move never waited for the lead's lock")


async def _second_while_first_holds(
    sessions, engine, server, token, first, query, variables
) -> dict:
    """Run ``first(session)`` in a transaction held open until the HTTP request
    (``query`` with ``variables`` as its input) waits for its lock; commit; the
    request's answer."""
    async with httpx.AsyncClient(base_url=server, timeout=60) as client:
        async with sessions() as session, write_transaction(session):
            await first(session)
            second = asyncio.create_task(
                client.post(
                    "/graphql",
                    json={"query": query, "variables": {"input": variables}},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            await _until_a_backend_waits_for_a_lock(engine)
        return (await second).json()


async def _entry(sessions, where) -> FunnelEntry:
    async with sessions() as session:
        return (await session.execute(select(FunnelEntry).where(where))).scalar_one()


async def test_a_move_queued_behind_another_keeps_the_funnel_stamps_it_wrote(
    api, make, sessions, engine, server
):
    owner = await make.user(Role.BDR)
    token = await make.token(owner)
    lead = await make.lead(owner_id=owner.id)
    as_owner = Actor(owner.id, owner.role)
    await make.run(
        lambda s: record_engagement(
            lead.id, EngagementKind.NEWSLETTER_OPT_IN, session=s, actor=as_owner
        )
    )
    logged = await api(
        LOG,
        {
            "input": {
                "kind": "EVENT",
                "channel": "CALL",
                "subject": "Connected",
                "leadId": gid("Lead", lead.id),
                "completedAt": utcnow().isoformat(),
            }
        },
        as_user=owner,
    )
    assert logged.ok()["logActivity"]["userErrors"] == []
    accepted_at = utcnow() - timedelta(hours=1)

    answer = await _second_while_first_holds(
        sessions,
        engine,
        server,
        token,
        lambda session: transition_lead(
            lead.id,
            LeadTransitionRequest(to=LeadStatus.ACCEPTED),
            session=session,
            actor=as_owner,
            now=accepted_at,
        ),
        TRANSITION,
        {"id": gid("Lead", lead.id), "to": "QUALIFYING"},
    )

    moved = answer["data"]["transitionLead"]
    assert moved["userErrors"] == [] and moved["lead"]["status"] == "QUALIFYING"
    entry = await _entry(sessions, FunnelEntry.lead_id == lead.id)
    # The first move's stamp stands; the second reached QUALIFYING after it.
    assert entry.accepted_at == accepted_at
    assert entry.qualifying_at > accepted_at


MOVE_DEAL = """mutation($input: MoveOpportunityStageInput!) {
  moveOpportunityStage(input: $input) {
    opportunity { stage } userErrors { code message } } }"""


async def test_a_stage_move_queued_behind_another_keeps_its_stamps(
    make, sessions, engine, server
):
    ae = await make.user(Role.AE)
    token = await make.token(ae)
    deal = await a_deal(make, ae)
    accepted_at = utcnow() - timedelta(hours=1)

    answer = await _second_while_first_holds(
        sessions,
        engine,
        server,
        token,
        # The first writer: the SAO (PENDING_ACCEPTANCE -> DISCOVERY), held.
        lambda session: move_opportunity_stage(
            deal.id,
            StageMoveRequest(to=OpportunityStage.DISCOVERY),
            fields={},
            session=session,
            actor=Actor(ae.id, ae.role),
            now=accepted_at,
        ),
        MOVE_DEAL,
        {"id": gid("Opportunity", deal.id), "to": "SCOPING"},
    )

    moved = answer["data"]["moveOpportunityStage"]
    assert moved["userErrors"] == [] and moved["opportunity"]["stage"] == "SCOPING"
    entry = await _entry(sessions, FunnelEntry.opportunity_id == deal.id)
    assert entry.sao_at == accepted_at
    assert entry.sqo_at > accepted_at
