"""Campaigns: the `Campaign` type, `campaigns`/`campaign`, createCampaign."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry

from api.context import Info
from api.enums import CampaignChannelGQL
from api.errors import UserError
from api.inputs import idempotency_field, mutate_once, provided
from api.relay import (
    Connection,
    Order,
    RecordNode,
    connection,
    decode_id,
    load_node,
    ordering,
)
from domain import records as rec
from domain.rules.permissions import CAMPAIGN_EDITORS, role_list
from domain.services import campaigns as service
from domain.services.listing import CampaignQuery


@strawberry.type(
    name="Campaign",
    description="A marketing program: webcast, trade show, email, paid channel "
    "(D11). Webcasts are named `YYYYMMDD_Title`.",
)
class CampaignNode(RecordNode):
    """A campaign."""

    model = rec.Campaign

    name: str = strawberry.field(description="Name of the program.")
    channel: CampaignChannelGQL = strawberry.field(description="Marketing channel.")
    spend: Decimal = strawberry.field(description="Money spent (exact decimal).")
    start_date: date | None = strawberry.field(description="First day.")
    end_date: date | None = strawberry.field(description="Last day.")
    version: int = strawberry.field(description="Grows by one with every change.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")


@strawberry.enum(description="Fields campaigns can be sorted by.")
class CampaignOrderField(Enum):
    """Sortable campaign fields."""

    ID = strawberry.enum_value("ID", description="Creation order.")
    NAME = strawberry.enum_value("NAME", description="Name.")


@strawberry.input(description="Sort order of a campaign list.")
class CampaignOrder(Order[CampaignOrderField]):
    """Field and direction."""


CAMPAIGN_ORDER = {
    CampaignOrderField.ID: rec.Campaign.id,
    CampaignOrderField.NAME: rec.Campaign.name,
}


@strawberry.input(description="Filter campaigns; all given criteria must hold.")
class CampaignFilter:
    """Campaign criteria."""

    channel: list[CampaignChannelGQL] | None = strawberry.field(
        default=None, description="Any of these channels."
    )
    search: str | None = strawberry.field(
        default=None, description="Substring of the name."
    )


@strawberry.type
class CampaignQueries:
    """Root fields about campaigns."""

    @strawberry.field(description="One campaign by global id.")
    async def campaign(self, info: Info, id: strawberry.ID) -> CampaignNode | None:
        """A campaign, or null."""
        return await load_node(info, CampaignNode, decode_id(id, CampaignNode, "id"))

    @strawberry.field(description="Campaigns, filtered and sorted, keyset paged.")
    async def campaigns(
        self,
        info: Info,
        filter: CampaignFilter | None = None,
        order_by: CampaignOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CampaignNode]:
        """A page of campaigns."""
        f = filter or CampaignFilter()
        statement = CampaignQuery(channel=f.channel or (), search=f.search).statement()
        order = ordering(CAMPAIGN_ORDER, order_by)
        return await connection(
            info, CampaignNode, statement, first, after, last, before, order=order
        )


@strawberry.input(description=f"A new campaign ({role_list(CAMPAIGN_EDITORS)}).")
class CreateCampaignInput:
    """createCampaign input."""

    idempotency_key: str | None = idempotency_field(
        "the first campaign (no second campaign)"
    )
    name: str = strawberry.field(description="Name (webcasts: YYYYMMDD_Title).")
    channel: CampaignChannelGQL = strawberry.field(description="Marketing channel.")
    spend: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Money spent (not negative; default 0)."
    )
    start_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="First day."
    )
    end_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Last day (not before the first)."
    )


@strawberry.type(description="Result of createCampaign.")
class CreateCampaignPayload:
    """The campaign, or why not."""

    campaign: CampaignNode | None = strawberry.field(description="The new campaign.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class CampaignMutations:
    """Root mutations about campaigns."""

    @strawberry.mutation(description="Create a campaign.")
    async def create_campaign(
        self, info: Info, input: CreateCampaignInput
    ) -> CreateCampaignPayload:
        """Create a campaign."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "createCampaign",
            input,
            rec.Campaign,
            lambda s: service.create_campaign(provided(input), session=s, actor=actor),
        )
        return CreateCampaignPayload(
            campaign=row and CampaignNode.from_row(row), user_errors=errors
        )
