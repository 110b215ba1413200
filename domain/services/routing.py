"""Routing (D8): who gets a lead, from which rule, through which pool.

The decision is the pure ``domain.rules.routing.route_lead``; this module
gathers its facts, takes a turn in the pool's rotation and records the
result. The rotation's position lives in ``routing_pools.last_position`` and
is advanced under the pool row's lock (``FOR UPDATE`` on PostgreSQL, the
write lock on SQLite), so two processes routing at the same moment never get
the same turn, and a restart continues where it left off.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import changed_columns
from domain.enums import EngagementKind, ErrorCode, RecordType, Role
from domain.errors import Refused, refuse_if
from domain.lifecycle.lead import converted_lead_refusals
from domain.records import (
    Account,
    AccountTeamMember,
    Engagement,
    Lead,
    RoutingPool,
    RoutingPoolMember,
    User,
)
from domain.rules.business_days import sla_due_at
from domain.rules.notifications import Person, account_team_recipients
from domain.rules.permissions import (
    Actor,
    may_change_lead_owner,
    may_manage_pools,
    may_reroute,
)
from domain.rules.routing import (
    DEFAULT_ROUTING_TABLE,
    OWNED_ACCOUNT_INBOUND,
    AccountFacts,
    MemberFacts,
    RoutingDecision,
    RoutingFacts,
    RoutingTable,
    account_owner_recipients,
    member_refusals,
    next_in_rotation,
    route_lead,
)
from domain.rules.scoring import ScoringTable
from domain.services.account_matching import accounts_matching
from domain.services.lead_profile import link_account
from domain.services.loading import load
from domain.services.outbox import address, emit
from domain.services.ownership import owner_of
from domain.services.record_writes import write_record
from domain.services.rule_tables import rule_tables
from domain.sqltypes import utcnow

ROUTED_EVENT = "LEAD_ROUTED"


def routing_table(scoring: ScoringTable) -> RoutingTable:
    """The routing table in force: rule 6's score threshold is the scoring
    table's routing threshold (D6)."""
    return replace(DEFAULT_ROUTING_TABLE, score_threshold=scoring.routing_threshold)


async def set_pool_members(
    pool_key: str, user_ids: Sequence[int], *, session: AsyncSession, actor: Actor
) -> RoutingPool:
    """Replace a pool's members; their order is the rotation's order."""
    refuse_if(may_manage_pools(actor))
    pool = await session.get(RoutingPool, pool_key, with_for_update=True)
    if pool is None:
        raise Refused.one(ErrorCode.NOT_FOUND, f"No routing pool {pool_key!r}.", "pool")
    found = await session.scalars(
        select(col(User.id)).where(col(User.id).in_(user_ids))
    )
    refuse_if(member_refusals(user_ids, {u for u in found if u is not None}))
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


@cache
def _locking_pools_statement(one: bool) -> Any:
    """Lock pools (``one``: the pool bound as ``key``; else every pool, in key
    order) and read their members in rotation order, in one statement: the
    pools' rows with each member's facts (a pool without members: one row,
    no member). Built once."""
    chosen = (
        select(
            RoutingPool,
            col(User.id),
            col(User.active),
            col(User.out_of_office_until),
        )
        .outerjoin(
            RoutingPoolMember, col(RoutingPoolMember.pool_key) == RoutingPool.key
        )
        .outerjoin(User, col(User.id) == RoutingPoolMember.user_id)
        .order_by(RoutingPool.key, RoutingPoolMember.position)  # type: ignore[arg-type]
        .with_for_update(of=RoutingPool.__table__)  # type: ignore[attr-defined]
    )
    if one:
        chosen = chosen.where(col(RoutingPool.key) == bindparam("key"))
    return chosen


async def _lock_pools(
    session: AsyncSession, key: str | None
) -> tuple[dict[str, RoutingPool], dict[str, list[MemberFacts]]]:
    """The pools locked until commit (``key``: that one; None: every pool, in
    key order), and each pool's members in rotation order."""
    rows = await session.execute(
        _locking_pools_statement(key is not None),
        {} if key is None else {"key": key},
    )
    pools: dict[str, RoutingPool] = {}
    members: dict[str, list[MemberFacts]] = {}
    for pool, user_id, active, out_until in rows:
        pools[pool.key] = pool
        listed = members.setdefault(pool.key, [])
        if user_id is not None:
            listed.append(
                MemberFacts(
                    user_id=user_id, active=active, out_of_office_until=out_until
                )
            )
    return pools, members


def _next_turn(
    pool: RoutingPool,
    members: Sequence[MemberFacts],
    now: datetime,
    passed_over: Collection[int] = (),
) -> int | None:
    """The next available member, the pool's stored rotation moved on to them."""
    turn = next_in_rotation(members, pool.last_position, now, passed_over)
    if turn is None:
        return None
    user_id, position = turn
    pool.last_position = position
    return user_id


async def take_turn(session: AsyncSession, pool_key: str, now: datetime) -> int | None:
    """The next available member of the pool, advancing the stored rotation."""
    pools, members = await _lock_pools(session, pool_key)
    if pool_key not in pools:
        return None
    return _next_turn(pools[pool_key], members[pool_key], now)


_POOLS_LOCKED = "salesops.pools_locked"


def _claim_pool_locks(session: AsyncSession, *, one: bool) -> None:
    """Note the pools this transaction is about to lock (every pool, or one
    turn's pool when ``one``). Every pool already locked: locking them or one
    again is a no-op. One pool locked: any further turn would lock another out
    of key order, so it raises."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_POOLS_LOCKED)
    held = held[1] if held is not None and held[0] is transaction else None
    if held == "one":
        raise RuntimeError("a one-turn routing transaction took a second turn")
    if held is None:
        session.info[_POOLS_LOCKED] = (transaction, "one" if one else "all")


class RoutingLookups:
    """What routing reads besides the lead, read once for all the leads of a use
    case (a batch of engagements routes many in one transaction).

    The leads' accounts (linked, else matched) and the accounts' owners are read
    for every lead given, in a few statements, the first time one of them is
    routed; the pools and their members once, on the first turn taken; each
    account team once. Turns advance the pools' stored rotation as ``take_turn``
    does, so the rotation continues where the transaction leaves it.

    The first turn locks every pool, in key order: a transaction that takes
    turns in several pools must not lock them in the order it meets them, or two
    such transactions could each hold a pool the other waits for (PostgreSQL;
    SQLite runs one writer at a time). Routing transactions therefore queue on
    the pools from their first turn to their commit, whichever pools they use.

    ``one_turn``: the transaction takes at most one turn (a single engagement
    routes its lead at most once), so it locks only that turn's pool, as
    ``take_turn`` does — one pool is in key order by itself — and routing into
    other pools goes on meanwhile (single ``recordEngagement`` requests that
    route, 16 clients, queued on every pool before). Any later turn in the same
    transaction raises instead of locking a second pool out of key order.
    """

    def __init__(
        self,
        session: AsyncSession,
        leads: Iterable[Lead] = (),
        *,
        passed_over: Collection[int] = (),
        one_turn: bool = False,
    ) -> None:
        self._session = session
        self._one_turn = one_turn
        # Pool members a turn skips while another is available.
        self._passed_over = frozenset(passed_over)
        self._waiting: dict[int, Lead] = {lead.id: lead for lead in leads}  # type: ignore[misc]
        self._accounts: dict[int, Account | None] = {}
        self._owners: dict[int, User] = {}
        self._pools: dict[str, RoutingPool] | None = None
        self._members: dict[str, list[MemberFacts]] = {}
        self._teams: dict[int, tuple[Person | None, list[Person]]] = {}

    async def account_for(self, lead: Lead) -> Account | None:
        """The lead's linked account, else the one it matches (domain, then name)."""
        lead_id: int = lead.id  # type: ignore[assignment]
        if lead_id not in self._accounts:
            self._waiting[lead_id] = lead
            await self._load_accounts()
        return self._accounts[lead_id]

    async def _load_accounts(self) -> None:
        leads = [lead for i, lead in self._waiting.items() if i not in self._accounts]
        self._waiting.clear()
        session = self._session
        linked_ids = sorted({x.account_id for x in leads if x.account_id is not None})
        linked = (
            {
                a.id: a
                for a in (
                    await session.execute(
                        select(Account).where(Account.id.in_(linked_ids))  # type: ignore[union-attr]
                    )
                ).scalars()
            }
            if linked_ids
            else {}
        )
        unlinked = [x for x in leads if linked.get(x.account_id) is None]  # type: ignore[arg-type]
        matched = await accounts_matching(
            session, [(x.email, x.company) for x in unlinked]
        )
        found = {x.id: a for x, a in zip(unlinked, matched, strict=True)}
        for x in leads:
            self._accounts[x.id] = linked.get(x.account_id) or found.get(x.id)  # type: ignore[arg-type,index]
        owner_ids = sorted(
            {
                a.owner_id
                for a in self._accounts.values()
                if a is not None and a.owner_id is not None
            }
            - self._owners.keys()
        )
        if owner_ids:
            for user in (
                await session.execute(select(User).where(User.id.in_(owner_ids)))  # type: ignore[union-attr]
            ).scalars():
                self._owners[user.id] = user  # type: ignore[index]

    def account_facts(self, account: Account | None) -> AccountFacts | None:
        """The account as routing sees it (its owner read with the account)."""
        if account is None:
            return None
        owner = self._owners.get(account.owner_id) if account.owner_id else None
        return AccountFacts(
            id=account.id,  # type: ignore[arg-type]
            owner_id=account.owner_id,
            owner_role=owner.role if owner else None,
            owner_active=bool(owner and owner.active),
            owner_is_sales_admin=bool(owner and owner.role == Role.SALES_ADMIN),
            is_named=account.is_named,
            name=account.name,
        )

    async def turn(self, pool_key: str, now: datetime) -> int | None:
        """The pool's next available member, moving its rotation on."""
        if self._pools is None or self._one_turn:
            # A one-turn use case's second turn raises here.
            _claim_pool_locks(self._session, one=self._one_turn)
            self._pools, self._members = await _lock_pools(
                self._session, pool_key if self._one_turn else None
            )
        pool = self._pools.get(pool_key)
        if pool is None:
            return None
        return _next_turn(pool, self._members[pool_key], now, self._passed_over)

    async def write_turns(self, now: datetime) -> None:
        """Write the rotations the turns moved on now, as ``write_record`` does,
        instead of leaving them to the flush: in a bulk use case on PostgreSQL
        the UPDATE is held and goes with the lead's writes (a routed single
        engagement: one statement less). The pools are locked (``turn``)."""
        for pool in (self._pools or {}).values():
            changes = changed_columns(pool)
            if changes:
                await write_record(self._session, pool, changes, now=now)

    async def team(self, account: Account) -> tuple[Person | None, list[Person]]:
        """The account's owner and team members (``account_team``), read once."""
        account_id: int = account.id  # type: ignore[assignment]
        if account_id not in self._teams:
            self._teams[account_id] = await account_team(self._session, account)
        return self._teams[account_id]


async def account_team(
    session: AsyncSession, account: Account
) -> tuple[Person | None, list[Person]]:
    """The account's owner and team members, as notifications see them."""
    owner = await session.get(User, account.owner_id) if account.owner_id else None
    rows = (
        await session.execute(
            select(
                col(AccountTeamMember.user_id),
                col(AccountTeamMember.role),
                col(User.active),
            )
            .join(User, col(User.id) == AccountTeamMember.user_id)
            .where(col(AccountTeamMember.account_id) == account.id)
        )
    ).all()
    return (
        Person(owner.id, owner.role, owner.active) if owner else None,  # type: ignore[arg-type]
        [Person(u, r, a) for u, r, a in rows],
    )


async def _notify_account_team(
    session: AsyncSession,
    kind: str,
    lead: Lead,
    account: Account | None,
    actor: Actor | None,
    lookups: RoutingLookups,
    **payload: Any,
) -> None:
    """One notification event, addressed to the account team it concerns (D10)."""
    event = emit(
        session,
        kind,
        RecordType.LEAD,
        lead.id,  # type: ignore[arg-type]
        actor,
        account_id=account.id if account else None,
        account_owner_id=account.owner_id if account else None,
        **payload,
    )
    recipients = []
    if account is not None:
        owner, team = await lookups.team(account)
        recipients = (
            account_owner_recipients(owner)
            if kind == OWNED_ACCOUNT_INBOUND
            else account_team_recipients(kind, owner, team)
        )
    await address(session, event, [(r.user_id, r.capacity) for r in recipients])


@dataclass(frozen=True, slots=True)
class Routed:
    """A routing decision applied to a lead, its events not yet written."""

    decision: RoutingDecision
    assignee: int | None
    previous_owner: int | None
    account: Account | None
    lookups: RoutingLookups


async def route(
    session: AsyncSession,
    lead: Lead,
    *,
    actor: Actor | None,
    now: datetime,
    trigger_kinds: frozenset[EngagementKind] | None = None,
    lookups: RoutingLookups | None = None,
) -> RoutingDecision:
    """Decide, take a turn, assign, record (decision + events) — one transaction.

    The lead's linked account counts; an unlinked lead is linked to the
    account it matches (domain, then company name). Either way it takes the
    account's segment and region (D5) before the rules see it.

    Nothing is flushed (a batch of engagements writes once, at its end).
    ``lookups`` carries what the use case already read for its leads (a new
    one reads for this lead).
    """
    routed = await assign(
        session, lead, now=now, trigger_kinds=trigger_kinds, lookups=lookups
    )
    await record_routing(session, lead, routed, actor=actor)
    return routed.decision


async def assign(
    session: AsyncSession,
    lead: Lead,
    *,
    now: datetime,
    trigger_kinds: frozenset[EngagementKind] | None = None,
    lookups: RoutingLookups | None = None,
) -> Routed:
    """Decide, take a turn and assign (``route`` without its events): a lead
    being created is routed before it is first written, so that its creation
    stays one change (version 1); ``record_routing`` follows once it has an id."""
    tables = await rule_tables(session)
    if lookups is None:
        lookups = RoutingLookups(session, [lead])
    account = await lookups.account_for(lead)
    if account is not None:
        link_account(lead, account, tables.regions)
    if trigger_kinds is None:
        trigger_kinds = frozenset(
            (
                await session.execute(
                    select(col(Engagement.kind)).where(
                        col(Engagement.lead_id) == lead.id
                    )
                )
            ).scalars()
        )
    facts = RoutingFacts(
        segment=lead.sales_segment,
        region=lead.region,
        now=now,
        is_public_sector=lead.is_public_sector,
        country=lead.country,
        initial_source=lead.initial_source,
        active_until=lead.active_until,
        person_score=lead.person_score,
        engagement_kinds=trigger_kinds,
        account=lookups.account_facts(account),
    )
    decision = route_lead(facts, routing_table(tables.scoring))
    assignee = decision.assignee_user_id
    if assignee is None and decision.pool is not None:
        assignee = await lookups.turn(decision.pool, now)
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
        lead.sla_started_at = now
        lead.sla_due_at = sla_due_at(now, decision.sla_business_days)
    return Routed(decision, assignee, previous_owner, account, lookups)


async def record_routing(
    session: AsyncSession, lead: Lead, routed: Routed, *, actor: Actor | None
) -> None:
    """The events of a routing decision (D10): LEAD_ROUTED, then the
    notifications it asks for."""
    decision, assignee = routed.decision, routed.assignee
    emit(
        session,
        ROUTED_EVENT,
        RecordType.LEAD,
        lead.id,  # type: ignore[arg-type]
        actor,
        rule=decision.rule,
        pool=decision.pool,
        assignee_id=assignee,
        previous_owner_id=routed.previous_owner,
    )
    for kind in decision.notify:
        await _notify_account_team(
            session,
            kind,
            lead,
            routed.account,
            actor,
            routed.lookups,
            rule=decision.rule,
            assignee_id=assignee,
        )


async def route_lead_again(
    lead_id: int, *, session: AsyncSession, actor: Actor, now: datetime | None = None
) -> Lead:
    """`routeLead`: re-run routing for one lead (SALES_OPS, MARKETING_OPS, ADMIN;
    a BDR's lead by SALES_OPS or ADMIN only)."""
    refuse_if(may_reroute(actor))
    # The rule-table heads before the lead's row (``domain.services.locks``):
    # routing links the lead to an account and writes its region.
    await rule_tables(session, lock=True)
    lead = await load(session, Lead, lead_id, lock=True)
    refuse_if(converted_lead_refusals(lead.id, lead.converted_at))
    if lead.owner_id is not None:
        # Re-routing may hand the lead on: a BDR's lead only by that BDR or
        # SALES_OPS (D8), like any other change of hands.
        refuse_if(
            may_change_lead_owner(actor, await owner_of(session, lead.owner_id), None)
        )
    await route(session, lead, actor=actor, now=now or utcnow())
    await session.flush()
    return lead
