"""Campaigns: marketing programs with a channel and a spend (D1, D11)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import ErrorCode
from domain.errors import Refusal, refuse_if
from domain.records import Campaign
from domain.rules.permissions import Actor, may_edit_campaigns
from domain.rules.validation import Check, max_length, money, required
from domain.services.loading import check_values

CAMPAIGN_RULES: dict[str, list[Check]] = {
    "name": [required, max_length(255)],
    "channel": [required],
    "spend": [required, money],
}


async def create_campaign(
    values: Mapping[str, Any], *, session: AsyncSession, actor: Actor
) -> Campaign:
    """Create a campaign (MARKETING_OPS, SALES_OPS, ADMIN)."""
    refuse_if(may_edit_campaigns(actor))
    check_values(values, CAMPAIGN_RULES, required_fields=("name", "channel"))
    start, end = values.get("start_date"), values.get("end_date")
    if start is not None and end is not None and end < start:
        refuse_if(
            [
                Refusal.on(
                    "end_date", ErrorCode.INVALID_INPUT, "endDate is before startDate."
                )
            ]
        )
    campaign = Campaign(**values)
    session.add(campaign)
    await session.flush()
    return campaign
