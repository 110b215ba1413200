"""Routing (D8): who gets a lead, from which rule, through which pool.

The decision is the pure ``domain.rules.routing.route_lead``; this module
gathers its facts, takes a turn in the pool's rotation and records the
result. The rotation's position lives in ``routing_pools.last_position`` and
is advanced under the pool row's lock (``FOR UPDATE`` on PostgreSQL, the
write lock on SQLite), so two processes routing at the same moment never get
the same turn, and a restart continues where it left off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import EngagementKind, ErrorCode, RecordType, Role
from domain.errors import Refusal, Refused
from domain.records import (
    Account,
    Engagement,
    Lead,
    RoutingPool,
    RoutingPoolMember,
    User,
)
from domain.rules.business_days import sla_due_at
from domain.rules.permissions import Actor
from domain.rules.routing import (
    DEFAULT_ROUTING_TABLE,
    AccountFacts,
    MemberFacts,
    RoutingDecision,
    RoutingFacts,
    next_in_rotation,
    route_lead,
)
from domain.services.common import emit, load, refuse_if
from domain.services.lead_lifecycle import matched_account
from domain.services.rule_tables import rule_tables
from domain.sqltypes import utcnow

ROUTED_EVENT = "LEAD_ROUTED"
POOL_MANAGERS = frozenset({Role.SALES_OPS, Role.ADMIN})


async def set_pool_members(
    pool_key: str, user_ids: Sequence[int], *, session: AsyncSession, actor: Actor
) -> RoutingPool:
    """Replace a pool's members; their order is the rotation's order."""
    if actor.role not in POOL_MANAGERS:
        raise Refused.one(ErrorCode.FORBIDDEN, "Only SALES_OPS or ADMIN manage pools.")
    pool = await session.get(RoutingPool, pool_key, with_for_update=True)
    if pool is None:
        raise Refused.one(ErrorCode.NOT_FOUND, f"No routing pool {pool_key!r}.", "pool")
    if len(set(user_ids)) != len(user_ids):
        raise Refused.one(ErrorCode.INVALID_INPUT, "A user is listed twice.", "userIds")
    for user_id in user_ids:
        await load(session, User, user_id, field="userIds")
    await session.execute(
        delete(RoutingPoolMember).where(RoutingPoolMember.pool_key == pool_key)  # type: ignore[arg-type]
    )
    session.add_all(
        RoutingPoolMember(pool_key=pool_key, user_id=u, position=i)
        for i, u in enumerate(user_ids)
    )
    pool.last_position = None
    pool.updated_at = utcnow()
    await session.flush()
    return pool


async def take_turn(session: AsyncSession, pool_key: str, now: datetime) -> int | None:
    """The next available member of the pool, advancing the stored rotation."""
    pool = await session.get(RoutingPool, pool_key, with_for_update=True)
    if pool is None:
        return None
    rows = (
        await session.execute(
            select(User.id, User.active, User.out_of_office_until)
            .join(RoutingPoolMember, RoutingPoolMember.user_id == User.id)
            .where(RoutingPoolMember.pool_key == pool_key)
            .order_by(RoutingPoolMember.position)  # type: ignore[arg-type]
        )
    ).all()
    members = [
        MemberFacts(user_id=i, active=a, out_of_office_until=o) for i, a, o in rows
    ]
    turn = next_in_rotation(members, pool.last_position, now)
    if turn is None:
        return None
    user_id, position = turn
    pool.last_position = position
    return user_id


async def _account_facts(
    session: AsyncSession, account: Account | None
) -> AccountFacts | None:
    if account is None:
        return None
    owner = await session.get(User, account.owner_id) if account.owner_id else None
    return AccountFacts(
        id=account.id,  # type: ignore[arg-type]
        owner_id=account.owner_id,
        owner_role=owner.role if owner else None,
        owner_active=bool(owner and owner.active),
        owner_is_sales_admin=bool(owner and owner.role == Role.SALES_ADMIN),
        is_named=account.is_named,
    )


async def route(
    session: AsyncSession,
    lead: Lead,
    *,
    actor: Actor | None,
    now: datetime,
    trigger_kinds: frozenset[EngagementKind] | None = None,
) -> RoutingDecision:
    """Decide, take a turn, assign, record (decision + event) — one transaction."""
    account = await matched_account(session, lead)
    if account is not None and lead.account_id is None:
        lead.account_id = account.id
    if trigger_kinds is None:
        trigger_kinds = frozenset(
            (
                await session.execute(
                    select(Engagement.kind).where(Engagement.lead_id == lead.id)
                )
            ).scalars()
        )
    # A lead that matches an account takes the account's segment and region (D5).
    segment = account.sales_segment if account is not None else lead.sales_segment
    facts = RoutingFacts(
        segment=segment,
        region=(
            account.region if account is not None and account.region else lead.region
        ),
        now=now,
        is_public_sector=lead.is_public_sector,
        country=lead.country,
        initial_source=lead.initial_source,
        active_until=lead.active_until,
        person_score=lead.person_score,
        engagement_kinds=trigger_kinds,
        account=await _account_facts(session, account),
    )
    # The score threshold of rule 6 is the scoring table's routing threshold (D6).
    threshold = (await rule_tables(session)).scoring.routing_threshold
    decision = route_lead(
        facts, replace(DEFAULT_ROUTING_TABLE, score_threshold=threshold)
    )
    assignee = decision.assignee_user_id
    if assignee is None and decision.pool is not None:
        assignee = await take_turn(session, decision.pool, now)
    previous_owner = lead.owner_id
    if assignee is not None:
        lead.owner_id = assignee
    lead.routing_rule = decision.rule
    lead.routing_reason = decision.reason + (
        ""
        if assignee is not None or decision.pool is None
        else f" Nobody in {decision.pool} is available: the lead stays unowned."
    )
    lead.routing_pool = decision.pool
    lead.routed_to_id = assignee
    lead.routed_at = now
    if decision.sla_business_days and lead.sla_due_at is None:
        lead.sla_due_at = sla_due_at(now, decision.sla_business_days)
    emit(
        session,
        ROUTED_EVENT,
        RecordType.LEAD,
        lead.id,  # type: ignore[arg-type]
        actor,
        rule=decision.rule,
        pool=decision.pool,
        assignee_id=assignee,
        previous_owner_id=previous_owner,
    )
    for kind in decision.notify:
        emit(
            session,
            kind,
            RecordType.LEAD,
            lead.id,  # type: ignore[arg-type]
            actor,
            account_id=account.id if account else None,
            account_owner_id=account.owner_id if account else None,
            assignee_id=assignee,
        )
    await session.flush()
    return decision


async def route_lead_again(
    lead_id: int, *, session: AsyncSession, actor: Actor, now: datetime | None = None
) -> Lead:
    """`routeLead`: re-run routing for one lead (SALES_OPS, MARKETING_OPS, ADMIN)."""
    if actor.role not in POOL_MANAGERS | {Role.MARKETING_OPS}:
        refuse_if(
            [
                Refusal(
                    code=ErrorCode.FORBIDDEN,
                    message="Only SALES_OPS, MARKETING_OPS or ADMIN re-run routing.",
                )
            ]
        )
    lead = await load(session, Lead, lead_id, lock=True)
    if lead.converted_at is not None:
        raise Refused.one(
            ErrorCode.READ_ONLY_RECORD, f"Lead {lead.id} was converted.", "id"
        )
    await route(session, lead, actor=actor, now=now or utcnow())
    return lead
