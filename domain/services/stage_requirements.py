"""Editing the stage entry requirements (updateStageRequirements), and reading
their versions back.

The steps every versioned table shares (permission, head lock, version check,
version row, head) are ``domain.services.versioned_table``'s; what is this
table's own: it is stored as one document per version, validated whole
(``domain.rules.stage_requirements.validate``), and it re-derives nothing —
an edit applies to the next move, never to a stage already entered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import RecordType
from domain.records import StageRequirementsVersion
from domain.rules.permissions import Actor
from domain.rules.stage_requirements import (
    StageRequirements,
    catalogue,
    from_document,
    to_document,
    validate,
)
from domain.services import custom_fields as service_definitions
from domain.services.rule_tables import STAGE_REQUIREMENTS
from domain.services.versioned_table import (
    VersionedTable,
    edit_document_table,
    version_rows,
)

STAGE_REQUIREMENTS_TABLE: VersionedTable[StageRequirements] = VersionedTable(
    head=STAGE_REQUIREMENTS,
    field="stage_requirements",
    title="the stage requirements",
    record=StageRequirementsVersion,
    derives=frozenset(),
)


@dataclass(frozen=True, slots=True)
class StoredStageRequirements:
    """One stored version as the API shows it: the version row and its table."""

    version: StageRequirementsVersion
    table: StageRequirements


async def update_stage_requirements(
    table: StageRequirements,
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int,
    note: str | None = None,
    now: datetime | None = None,
) -> StoredStageRequirements:
    """Put ``table`` in force as the next version (its own ``version`` is
    ignored), or refuse with every invalid entry."""

    fields = catalogue(
        service_definitions.definition_of(r)
        for r in await service_definitions.definition_rows(
            session, RecordType.OPPORTUNITY
        )
    )
    row = await edit_document_table(
        STAGE_REQUIREMENTS_TABLE,
        table,
        validate=lambda new: validate(new, fields),
        to_document=to_document,
        session=session,
        actor=actor,
        expected_version=expected_version,
        note=note,
        now=now,
    )
    return StoredStageRequirements(row, from_document(row.document, row.version))


async def stage_requirements_versions(
    session: AsyncSession, *, version: int | None = None, limit: int | None = None
) -> list[StoredStageRequirements]:
    """Stored versions, newest first: one ``version``, or the ``limit`` newest."""
    rows = await version_rows(
        session, STAGE_REQUIREMENTS_TABLE, version=version, limit=limit
    )
    return [
        StoredStageRequirements(r, from_document(r.document, r.version)) for r in rows
    ]
