"""Routing on the API (D8): decisions on leads, pools and their members, routeLead."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.context import Info
from api.dry_runs import DryRun, dry_run_field, dry_run_outcome, rehearsable
from api.errors import UserError
from api.inputs import idempotency_field, mutate, mutate_once
from api.relay import decode_id, decode_ids, to_one
from api.users import UserNode
from domain.records import Lead, RoutingPool, RoutingPoolMember
from domain.rules.permissions import POOL_MANAGERS, role_list
from domain.rules.routing import RULES
from domain.services import routing as service

if TYPE_CHECKING:
    from api.leads import LeadNode

LeadRef = Annotated["LeadNode", strawberry.lazy("api.leads")]


@strawberry.type(
    description="The last routing decision of a lead: which rule matched first, "
    "why, through which pool, to whom, when."
)
class RoutingDecision:
    """A routing decision."""

    rule: str = strawberry.field(
        description="The rule (D8), one of, in the order tried: "
        + ", ".join(RULES)
        + "."
    )
    reason: str = strawberry.field(description="The decision in words.")
    pool: str | None = strawberry.field(description="The round-robin pool, if any.")
    at: datetime = strawberry.field(description="When it was decided.")
    assignee_id: strawberry.Private[int | None]

    assignee = to_one(
        UserNode,
        "assignee_id",
        description="Who got the lead (null: nobody available / nurture).",
    )


@strawberry.type(
    name="RoutingPool", description="A round-robin pool and its members, in turn order."
)
class RoutingPoolNode:
    """A pool."""

    key: str = strawberry.field(description="Stable pool key, e.g. BDR_EMEA.")
    description: str = strawberry.field(description="Who the pool serves.")
    last_position: int | None = strawberry.field(
        description="Index of the member who took the last turn (null: none yet)."
    )
    member_ids: strawberry.Private[list[int]]

    @strawberry.field(description="Members in the order they take turns.")
    async def members(self, info: Info) -> list[UserNode]:
        """The members."""
        rows = await info.context.records(UserNode.model).load_many(self.member_ids)
        return [UserNode.from_row(r) for r in rows if r is not None]


async def _pools(session, keys: list[str] | None = None) -> list[RoutingPoolNode]:  # type: ignore[no-untyped-def]
    stmt = select(RoutingPool).order_by(RoutingPool.key)
    if keys is not None:
        stmt = stmt.where(RoutingPool.key.in_(keys))  # type: ignore[attr-defined]
    pools = list((await session.execute(stmt)).scalars())
    members = (
        await session.execute(
            select(RoutingPoolMember.pool_key, RoutingPoolMember.user_id).order_by(
                RoutingPoolMember.position
            )
        )
    ).all()
    by_pool: dict[str, list[int]] = {}
    for key, user_id in members:
        by_pool.setdefault(key, []).append(user_id)
    return [
        RoutingPoolNode(
            key=p.key,
            description=p.description,
            last_position=p.last_position,
            member_ids=by_pool.get(p.key, []),
        )
        for p in pools
    ]


@strawberry.type
class RoutingQueries:
    """Root fields about routing."""

    @strawberry.field(description="Every round-robin pool with its members (D8).")
    async def routing_pools(self, info: Info) -> list[RoutingPoolNode]:
        """The pools."""
        return await info.context.read(_pools)


@strawberry.input(
    description=f"Set who takes turns in a pool ({role_list(POOL_MANAGERS)})."
)
class SetRoutingPoolMembersInput:
    """setRoutingPoolMembers input."""

    pool: str = strawberry.field(description="Pool key (see routingPools).")
    user_ids: list[strawberry.ID] = strawberry.field(
        description="Members in turn order; replaces the current list and restarts "
        "the rotation."
    )


@strawberry.type(description="Result of setRoutingPoolMembers.")
class SetRoutingPoolMembersPayload:
    """The pool, or why not."""

    pool: RoutingPoolNode | None = strawberry.field(description="The pool.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.input(description="Re-run routing for a lead (D8).")
class RouteLeadInput:
    """routeLead input."""

    idempotency_key: str | None = idempotency_field(
        "the lead (as it is now, routed once)"
    )
    dry_run: bool = dry_run_field()
    id: strawberry.ID = strawberry.field(description="The lead.")


@strawberry.type(description="Result of routeLead.")
class RouteLeadPayload:
    """The routed lead, or why not."""

    lead: LeadRef | None = strawberry.field(description="The lead with its decision.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")
    dry_run: DryRun | None = dry_run_outcome()


@strawberry.type
class RoutingMutations:
    """Root mutations about routing."""

    @strawberry.mutation(
        description=f"Set a pool's members ({role_list(POOL_MANAGERS)})."
    )
    async def set_routing_pool_members(
        self, info: Info, input: SetRoutingPoolMembersInput
    ) -> SetRoutingPoolMembersPayload:
        """Replace the members of a pool."""
        actor = info.context.actor

        async def use_case(s):  # type: ignore[no-untyped-def]
            ids = decode_ids(input.user_ids, UserNode, "userIds")
            await service.set_pool_members(input.pool, ids, session=s, actor=actor)
            return (await _pools(s, [input.pool]))[0]

        pool, errors = await mutate(info, use_case)
        return SetRoutingPoolMembersPayload(pool=pool, user_errors=errors)

    @strawberry.mutation(
        description="Re-run routing: the first matching D8 rule decides; a pool "
        "hands the lead to the next available member in turn."
    )
    async def route_lead(self, info: Info, input: RouteLeadInput) -> RouteLeadPayload:
        """Route a lead again."""
        from api.leads import LeadNode

        actor = info.context.actor

        def use_case(s: AsyncSession) -> Awaitable[Lead]:
            return service.route_lead_again(
                decode_id(input.id, LeadNode, "id"), session=s, actor=actor
            )

        row, errors, dry_run = await rehearsable(
            info,
            input.dry_run,
            use_case,
            lambda: mutate_once(info, "routeLead", input, Lead, use_case),
        )
        return RouteLeadPayload(
            lead=row and LeadNode.from_row(row), user_errors=errors, dry_run=dry_run
        )
