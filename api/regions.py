"""The D5 region table on the API: `regionTable`, its history, updateRegionTable."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Info
from api.enums import RegionGQL
from api.errors import UserError
from api.inputs import mutate
from api.relay import to_one
from api.scoring import MAX_HISTORY, table_history, table_version
from api.users import UserNode
from domain.rules.permissions import RULE_TABLE_EDITORS, role_list
from domain.rules.segmentation import RegionRow, RegionTableEdit
from domain.services import region_table as service


@strawberry.type(
    name="RegionRule",
    description="One row of the region table: a country (or * for every country "
    "without a row), optionally a state or province, and its region.",
)
class RegionRuleNode:
    """A region table row."""

    country: str = strawberry.field(
        description="ISO 3166-1 alpha-2 country code, or * for any other country."
    )
    state: str | None = strawberry.field(
        description="State or province code (null: the whole country)."
    )
    region: RegionGQL = strawberry.field(  # type: ignore[valid-type]
        description="The region of addresses there."
    )


@strawberry.type(
    name="RegionTable",
    description="A version of the D5 region table. An address takes the region of "
    "its country and state row, else of its country row, else of the * row; a US "
    "public-sector record is PUBLIC_SECTOR whatever its address. Every edit makes "
    "a new version; the current one is what region derivation uses.",
)
class RegionTableNode:
    """A region table version."""

    version: int = strawberry.field(
        description="Version number (1: as seeded from the spec)."
    )
    rows: list[RegionRuleNode] = strawberry.field(
        description="Every row: * first, then by country (its whole-country row "
        "first) and state."
    )
    changed_at: datetime = strawberry.field(description="When this version was made.")
    note: str | None = strawberry.field(description="Why it was changed, if given.")
    leads_rederived: int = strawberry.field(
        description="How many leads' regions this version changed when it was made."
    )
    accounts_rederived: int = strawberry.field(
        description="How many accounts' regions this version changed when it was made."
    )
    changed_by_id: strawberry.Private[int | None]

    changed_by = to_one(
        UserNode,
        "changed_by_id",
        description="Who made this version (null: seeded).",
    )

    @classmethod
    def from_stored(cls, stored: service.StoredRegionTable) -> RegionTableNode:
        """Stored version -> GraphQL object."""
        row = stored.version
        return cls(
            version=row.version,
            rows=[
                RegionRuleNode(country=r.country, state=r.state, region=r.region)
                for r in stored.rows
            ],
            changed_at=row.changed_at,
            note=row.note,
            leads_rederived=row.leads_rederived,
            accounts_rederived=row.accounts_rederived,
            changed_by_id=row.changed_by_id,
        )


@strawberry.type
class RegionQueries:
    """Root fields about the region table."""

    @strawberry.field(
        description="The region table (D5): the current version, or the given one "
        "(null when there is no such version)."
    )
    async def region_table(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(
                description="A past version (default: the current one)."
            ),
        ] = None,
    ) -> RegionTableNode | None:
        """One version of the table."""
        return await table_version(
            info,
            version,
            service.REGION_TABLE,
            service.region_table_versions,
            RegionTableNode.from_stored,
        )

    @strawberry.field(
        description="The versions of the region table, newest (current) first."
    )
    async def region_table_history(
        self,
        info: Info,
        first: Annotated[
            int,
            strawberry.argument(description=f"How many versions (1 to {MAX_HISTORY})."),
        ] = 50,
    ) -> list[RegionTableNode]:
        """The history of the table."""
        return await table_history(
            info, first, service.region_table_versions, RegionTableNode.from_stored
        )


@strawberry.input(description="A row to add to the region table, or to change.")
class RegionRuleInput:
    """A row of the region table."""

    country: str = strawberry.field(
        description="Country code (or a name the service knows, e.g. Canada), or *."
    )
    state: str | None = strawberry.field(
        default=None,
        description="State or province code or name (null: the whole country).",
    )
    region: RegionGQL = strawberry.field(  # type: ignore[valid-type]
        description="Its region (not PUBLIC_SECTOR: that comes from the flag)."
    )


@strawberry.input(description="The key of a row to remove from the region table.")
class RegionRowKeyInput:
    """A row key."""

    country: str = strawberry.field(description="Country code, or *.")
    state: str | None = strawberry.field(
        default=None, description="State or province code (null: the country row)."
    )


@strawberry.input(
    description=f"Edit the region table ({role_list(RULE_TABLE_EDITORS)}). Every "
    "lead's and "
    "account's region is re-derived in the same transaction."
)
class UpdateRegionTableInput:
    """updateRegionTable input."""

    expected_version: int = strawberry.field(
        description="The version the edit was made on; STALE_VERSION if the table "
        "moved on."
    )
    set_rows: list[RegionRuleInput] | None = strawberry.field(
        default=None, description="Rows to add, or to change the region of."
    )
    remove_rows: list[RegionRowKeyInput] | None = strawberry.field(
        default=None, description="Rows to remove."
    )
    note: str | None = strawberry.field(
        default=None, description="Why the table changes (kept with the version)."
    )


@strawberry.type(description="Result of updateRegionTable.")
class UpdateRegionTablePayload:
    """The new version and how many regions changed, or why not."""

    region_table: RegionTableNode | None = strawberry.field(
        description="The new current version."
    )
    leads_rederived: int | None = strawberry.field(
        description="How many leads' regions changed."
    )
    accounts_rederived: int | None = strawberry.field(
        description="How many accounts' regions changed."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class RegionMutations:
    """Root mutations about the region table."""

    @strawberry.mutation(
        description=f"Edit the region table ({role_list(RULE_TABLE_EDITORS)}): a new "
        "version, and "
        "the regions of every lead and account re-derived with it."
    )
    async def update_region_table(
        self, info: Info, input: UpdateRegionTableInput
    ) -> UpdateRegionTablePayload:
        """Make a new version of the region table."""
        actor = info.context.actor
        edit = RegionTableEdit(
            set_rows=tuple(
                RegionRow(r.country, r.state, r.region) for r in input.set_rows or ()
            ),
            remove_rows=tuple((r.country, r.state) for r in input.remove_rows or ()),
        )

        async def use_case(s):  # type: ignore[no-untyped-def]
            change = await service.update_region_table(
                edit,
                session=s,
                actor=actor,
                expected_version=input.expected_version,
                note=input.note,
            )
            stored = await service.region_table_versions(
                s, version=change.version.version
            )
            return change, stored[0]

        result, errors = await mutate(info, use_case)
        if result is None:
            return UpdateRegionTablePayload(
                region_table=None,
                leads_rederived=None,
                accounts_rederived=None,
                user_errors=errors,
            )
        change, stored = result
        return UpdateRegionTablePayload(
            region_table=RegionTableNode.from_stored(stored),
            leads_rederived=change.leads_rederived,
            accounts_rederived=change.accounts_rederived,
            user_errors=[],
        )
