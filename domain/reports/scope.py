"""Which opportunities a report counts: the criteria every D11 report shares.

Segment and region are the account's (an opportunity has neither); a named
account's segment is STRATEGIC. A criterion left empty does not filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import (
    OpportunityType,
    Pipeline,
    Region,
    SalesQualificationSource,
    SalesSegment,
)
from domain.records import Account, Opportunity
from domain.services.loading import require_user

S = TypeVar("S", bound=Select)

Opp = Opportunity
Acct = Account


@dataclass(frozen=True)
class OpportunityScope:
    """Report criteria on opportunities; all given ones must hold."""

    owner_id: int | None = None
    segment: Sequence[SalesSegment] = ()
    region: Sequence[Region] = ()
    type: Sequence[OpportunityType] = ()
    sales_qualification_source: Sequence[SalesQualificationSource] = ()
    pipeline: Sequence[Pipeline] = ()

    async def check(self, session: AsyncSession) -> None:
        """The named owner must exist (NOT_FOUND on ``ownerId`` otherwise)."""
        await require_user(session, self.owner_id, "ownerId")

    @property
    def is_empty(self) -> bool:
        """Whether no criterion is given (every opportunity is in scope)."""
        return self.owner_id is None and not (
            self.segment
            or self.region
            or self.type
            or self.sales_qualification_source
            or self.pipeline
        )

    @property
    def needs_account(self) -> bool:
        """Whether the criteria read the account."""
        return bool(self.segment or self.region)

    def conditions(self) -> list[ColumnElement[bool]]:
        """The criteria as SQL (on ``opportunities`` and, if needed, ``accounts``)."""
        found: list[ColumnElement[bool]] = []
        if self.owner_id is not None:
            found.append(col(Opp.owner_id) == self.owner_id)
        if self.type:
            found.append(col(Opp.type).in_(self.type))
        if self.pipeline:
            found.append(col(Opp.pipeline).in_(self.pipeline))
        if self.sales_qualification_source:
            found.append(
                col(Opp.sales_qualification_source).in_(self.sales_qualification_source)
            )
        if self.segment:
            found.append(col(Acct.sales_segment).in_(self.segment))
        if self.region:
            found.append(col(Acct.region).in_(self.region))
        return found

    def apply(self, stmt: S, *, join_account: bool = False) -> S:
        """``stmt`` (selecting from opportunities) narrowed to the scope."""
        if join_account or self.needs_account:
            stmt = stmt.join(Acct, col(Acct.id) == col(Opp.account_id))
        return stmt.where(*self.conditions())
