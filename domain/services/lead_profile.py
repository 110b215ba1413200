"""A lead's derived profile (D5): segment and region, from itself or its account.

Kept apart from ``leads`` so that routing (which links a lead to the account
it matches) and the lead use cases share one rule without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import Region, SalesSegment
from domain.records import Account, Lead
from domain.rules.matching import lead_segment_and_region
from domain.rules.segmentation import RegionTable, region_for, sales_segment_for

# The lead's columns its segment and region are derived from.
PROFILE = ("number_of_employees", "country", "state", "is_public_sector")


def lead_derived(
    values: Mapping[str, Any], regions: RegionTable, account: Account | None = None
) -> tuple[SalesSegment, Region | None]:
    """A lead's (segment, region) from its profile's values (region by the region
    table), the linked account's first (D5)."""
    own = (
        sales_segment_for(values.get("number_of_employees")),
        region_for(
            values.get("country"),
            values.get("state"),
            is_public_sector=bool(values.get("is_public_sector")),
            table=regions,
        ),
    )
    return lead_segment_and_region(
        own, (account.sales_segment, account.region) if account else None
    )


def refresh_lead_derived(
    lead: Lead, regions: RegionTable, account: Account | None = None
) -> None:
    """Segment and region from the lead's profile (``lead_derived``)."""
    lead.sales_segment, lead.region = lead_derived(
        {name: getattr(lead, name) for name in PROFILE}, regions, account
    )


async def linked_account(session: AsyncSession, lead: Lead) -> Account | None:
    """The account the lead is linked to, if any."""
    if lead.account_id is None:
        return None
    return await session.get(Account, lead.account_id)


def link_account(lead: Lead, account: Account | None, regions: RegionTable) -> None:
    """Link (or unlink) the lead to an account; its segment and region follow."""
    lead.account_id = account.id if account is not None else None
    refresh_lead_derived(lead, regions, account)


async def refresh_linked_leads(
    session: AsyncSession, account: Account, regions: RegionTable
) -> None:
    """The account's segment or region changed: its open linked leads follow.

    Converted leads are read-only and keep what they had (D7).
    """
    leads = (
        await session.execute(
            select(Lead).where(
                col(Lead.account_id) == account.id,
                Lead.converted_at.is_(None),  # type: ignore[union-attr]
            )
        )
    ).scalars()
    for lead in leads:
        refresh_lead_derived(lead, regions, account)
