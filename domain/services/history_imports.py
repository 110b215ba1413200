"""Migrating a CRM's history (issue 13 item 2): users, opportunities, activities.

The rows of these kinds go through the list import's machinery
(``domain.services.imports``: files, mappings, batches, savepoints, dry runs,
the row report); this module decides and writes one row, through the same use
cases as the API: ``create_user`` / ``update_user``, ``create_opportunity`` /
``update_opportunity`` / ``move_opportunity_stage``, ``log_activity``.

A **historical** import (``ImportOptions.historical``: SALES_OPS or ADMIN,
checked for the whole file) may bring deals already past 0-Pending Acceptance,
won or lost: the deal is created by ``create_opportunity`` in its first stage
at its first known day (all of createOpportunity's checks: fields, account,
owner, permissions), then walks the stages it passed
(``domain.rules.history.historical_path``), each step with the machine's own
effects (``stage_effects``: sales-accepted date, SQO snapshot, closed_at,
lost-from stage), a ledger row noted with the file, the row and the original
stage name, and the funnel stamps the session's hook sets from the stage (the
same ``milestones`` code as every move) — so stage velocity, the funnel and
the SAO report count it. The entry requirements of those past stages are not
checked again, and a past loss raises no lost-deal alert (it is history, not
news). An ``OPPORTUNITY_HISTORY_IMPORTED`` event records the audited import:
actor, file, row, original stage name and days.

Without the flag a row is created as ``createOpportunity`` would create it:
0-Pending Acceptance or 00-Pre Opportunity (a WEB_DIRECT deal won by
SALES_OPS/ADMIN), its guards refusing anything else. An opportunity matched
by its external id takes the row's other fields through ``update_opportunity``
and, when the row's stage differs, moves through ``move_opportunity_stage``
with every guard — history only ever writes the past once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.enums import (
    ErrorCode,
    ImportKind,
    ImportOutcome,
    OpportunityStage,
    RecordType,
)
from domain.errors import RecordRef, Refusal, Refused
from domain.lifecycle.opportunity import (
    OpportunityFacts,
    StageMoveRequest,
    stage_effects,
)
from domain.records import Activity, Opportunity, User
from domain.rules.history import historical_path
from domain.rules.import_mapping import EXTERNAL_ID, original_value
from domain.rules.permissions import Actor
from domain.rules.validation import normalize_email
from domain.services.activities import log_activity
from domain.services.customers import follow_the_deal
from domain.services.ledger import record_transition
from domain.services.opportunities import create_opportunity, update_opportunity
from domain.services.opportunity_pipeline import STAGE_EVENT, move_opportunity_stage
from domain.services.outbox import emit
from domain.services.users import create_user, update_user
from domain.sqltypes import utcnow

if TYPE_CHECKING:
    from domain.services.imports import ImportOptions

HISTORY_IMPORTED = "OPPORTUNITY_HISTORY_IMPORTED"
HISTORY_KINDS = frozenset(
    {ImportKind.USER, ImportKind.OPPORTUNITY, ImportKind.ACTIVITY}
)
TYPE_NAMES = {
    ImportKind.USER: "User",
    ImportKind.OPPORTUNITY: "Opportunity",
    ImportKind.ACTIVITY: "Activity",
}
# Fields a matched user takes from its row (the email is the match).
USER_FIELDS = ("name", "role", "region")

# (outcome, record id, refusals) of one row; the caller makes the RowResult.
Decided = tuple[ImportOutcome, int | None, list[Refusal]]


def audit_note(options: ImportOptions, number: int, original: str | None) -> str:
    """The ledger's note of a historical step: file, row, original stage."""
    where = f"{options.file_name or 'the file'} row {number}"
    said = f", stage {original!r}" if original else ""
    return f"Historical import ({where}{said})."


async def history_row(
    number: int,
    row: Mapping[str, str | None],
    values: dict[str, Any],
    external_id: str | None,
    options: ImportOptions,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Decided:
    """Decide and write one row of a user, opportunity or activity import
    (``values``: typed, references resolved; the caller holds a savepoint)."""
    if options.kind is ImportKind.USER:
        return await _user_row(values, session=session, actor=actor)
    if options.kind is ImportKind.OPPORTUNITY:
        spec = options.mapping.fields.get("stage")
        original = original_value(spec, row) if spec is not None else None
        return await _opportunity_row(
            number,
            values,
            external_id,
            options,
            original,
            session=session,
            actor=actor,
        )
    return await _activity_row(
        values, external_id, options, session=session, actor=actor
    )


async def _user_row(
    values: dict[str, Any], *, session: AsyncSession, actor: Actor
) -> Decided:
    """A user matched by email takes the row's name, role and region
    (``update_user``); else ``create_user`` (both: ADMIN only)."""
    email = normalize_email(values.get("email"))
    found = (
        await session.scalar(select(User).where(col(User.email) == email))
        if email
        else None
    )
    if found is None:
        user = await create_user(values, session=session, actor=actor)
        return ImportOutcome.CREATED, user.id, []
    changes = {
        k: values[k]
        for k in USER_FIELDS
        if k in values and getattr(found, k) != values[k]
    }
    if not changes:
        return ImportOutcome.UNCHANGED, found.id, []
    assert found.id is not None
    await update_user(found.id, changes, session=session, actor=actor)
    return ImportOutcome.UPDATED, found.id, []


async def _opportunity_row(
    number: int,
    values: dict[str, Any],
    external_id: str | None,
    options: ImportOptions,
    original: str | None,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Decided:
    accepted_on: date | None = values.pop("sales_accepted_date", None)
    found = (
        await session.scalar(
            select(Opportunity).where(col(Opportunity.external_id) == external_id)
        )
        if external_id is not None
        else None
    )
    if found is not None:
        known = found.sales_accepted_date
        if accepted_on is not None and (known is None or known.date() != accepted_on):
            raise Refused.one(
                ErrorCode.INVALID_INPUT,
                "salesAcceptedDate: this deal was imported with another past; an "
                "import never rewrites it (move it with moveOpportunityStage).",
                "sales_accepted_date",
            )
        return await _matched_opportunity(
            found, values, number, options, session=session, actor=actor
        )
    if external_id is not None:
        values["external_id"] = external_id
        values["import_source"] = options.source
    if options.source is not None:
        values.setdefault("initial_source", options.source)
    if not options.historical:
        opp = await create_opportunity(values, session=session, actor=actor)
        return ImportOutcome.CREATED, opp.id, []
    stage = values.pop("stage", None) or OpportunityStage.PENDING_ACCEPTANCE
    now = utcnow()
    steps, refused = historical_path(
        stage, accepted_on=accepted_on, closed_on=values.get("close_date"), now=now
    )
    if refused:
        raise Refused(refused)
    first, created_at = steps[0]
    opp = await create_opportunity(
        {**values, "stage": first}, session=session, actor=actor, now=created_at
    )
    assert opp.id is not None
    note = audit_note(options, number, original)
    for to, at in steps[1:]:
        facts = OpportunityFacts(
            stage=opp.stage,
            now=at,
            type=opp.type,
            pipeline=opp.pipeline,
            sales_accepted_date=opp.sales_accepted_date,
            sales_qualified=opp.sales_qualified,
            incremental_acv=opp.incremental_acv,
        )
        record_transition(
            session,
            record_type=RecordType.OPPORTUNITY,
            record_id=opp.id,
            from_state=opp.stage.value,
            to_state=to.value,
            entered_from_at=opp.stage_changed_at,
            at=at,
            actor=actor,
            reason="historical import",
            note=note,
            event_kind=STAGE_EVENT,
        )
        from_stage = opp.stage
        for name, value in stage_effects(facts, to, at).items():
            setattr(opp, name, value)
        opp.stage, opp.stage_changed_at, opp.updated_at = to, at, at
        # The flush's hook stamps the funnel entry at ``stage_changed_at``.
        await session.flush()
        await follow_the_deal(
            session,
            opp,
            from_stage=from_stage,
            to=to,
            closed_at=None,
            actor=actor,
            now=at,
        )
    emit(
        session,
        HISTORY_IMPORTED,
        RecordType.OPPORTUNITY,
        opp.id,
        actor,
        file=options.file_name,
        row=number,
        original_stage=original,
        stage=opp.stage.value,
        sales_accepted_date=accepted_on.isoformat() if accepted_on else None,
        close_date=opp.close_date.isoformat() if opp.close_date else None,
    )
    await session.flush()
    return ImportOutcome.CREATED, opp.id, []


async def _matched_opportunity(
    opp: Opportunity,
    values: dict[str, Any],
    number: int,
    options: ImportOptions,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Decided:
    """A deal already here: its other fields by ``update_opportunity``, a new
    stage by ``move_opportunity_stage`` with every guard (the past is written
    once)."""
    assert opp.id is not None
    stage = values.pop("stage", None)
    values.pop("initial_source", None)  # D4: never changed by an import
    changes = {k: v for k, v in values.items() if getattr(opp, k) != v}
    if not changes and (stage is None or stage == opp.stage):
        return ImportOutcome.UNCHANGED, opp.id, []
    if changes:
        await update_opportunity(opp.id, changes, session=session, actor=actor)
    if stage is not None and stage != opp.stage:
        await move_opportunity_stage(
            opp.id,
            StageMoveRequest(
                to=stage,
                reason=f"import of {options.file_name or 'a file'} row {number}",
            ),
            fields={},
            session=session,
            actor=actor,
        )
    return ImportOutcome.UPDATED, opp.id, []


async def _activity_row(
    values: dict[str, Any],
    external_id: str | None,
    options: ImportOptions,
    *,
    session: AsyncSession,
    actor: Actor,
) -> Decided:
    """``log_activity``; one already imported (its external id) is UNCHANGED —
    or, when the row now says otherwise, a duplicate it names (activities are
    history: an import never rewrites one)."""
    if external_id is not None:
        found = await session.scalar(
            select(Activity).where(col(Activity.external_id) == external_id)
        )
        if found is not None:
            if all(getattr(found, k) == v for k, v in values.items()):
                return ImportOutcome.UNCHANGED, found.id, []
            return (
                ImportOutcome.SKIPPED_DUPLICATE,
                found.id,
                [
                    Refusal(
                        ErrorCode.DUPLICATE_RECORD,
                        "An activity was imported with this external id before, "
                        "with other values; an import never rewrites an activity.",
                        (EXTERNAL_ID,),
                        RecordRef("Activity", found.id),  # type: ignore[arg-type]
                    )
                ],
            )
        values["external_id"] = external_id
        values["import_source"] = options.source
    activity = await log_activity(values, session=session, actor=actor)
    return ImportOutcome.CREATED, activity.id, []
