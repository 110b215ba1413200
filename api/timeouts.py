"""Timeouts on the API (issue 14 item 4): the table (`timeouts`, its history,
updateTimeouts) and `timeoutPreview`, what the scheduler's next tick would do.

The scheduler itself runs in ``salesops worker`` (every ``--tick-interval``
seconds) or as ``salesops tick`` from cron; the rules are
``domain.rules.timeouts``'s.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Annotated

import strawberry

from api.context import Info, refused
from api.dry_runs import DryRunEvent
from api.enums import OpportunityStageGQL, RecordTypeGQL, register_enum
from api.errors import UserError, client_message
from api.inputs import given_twice, mutate
from api.relay import encode_id, to_one
from api.scoring import MAX_HISTORY, table_history, table_version
from api.users import UserNode
from domain.enums import ErrorCode
from domain.errors import Refusal, Refused, refuse_if
from domain.rules import timeouts as rules
from domain.rules.permissions import RULE_TABLE_EDITORS, may_preview_timeouts, role_list
from domain.services import timeouts as service
from domain.sqltypes import utcnow

LeadTimeoutActionGQL = register_enum(
    rules.LeadTimeoutAction,
    "LeadTimeoutAction",
    "Where an accepted lead nobody works goes when its timeout passes.",
    {
        "ROUTING_POOL": "Back to the routing pool: to MQL while its score makes it "
        "one, else to INQUIRY, then routed again (D8); unowned if routing finds "
        "nobody.",
        "NURTURE": "To NURTURE, keeping its owner.",
    },
)
TimeoutKindGQL = register_enum(
    service.TimeoutKind,
    "TimeoutKind",
    "What fell due.",
    {
        "LEAD_TIMEOUT": "An ACCEPTED lead went without a completed activity for the "
        "table's business days (a move with the reason TIMEOUT).",
        "SLA_ESCALATION": "A lead's follow-up SLA was breached: LEAD_SLA_BREACHED "
        "to its owner and their manager (once).",
        "OPPORTUNITY_STALE": "An open opportunity went without a completed activity "
        "for its stage's days: staleSince is set, OPPORTUNITY_STALE to its owner.",
    },
)


@strawberry.type(description="How many days an open stage may go without activity.")
class StaleAfter:
    """A stage's stale days."""

    stage: OpportunityStageGQL = strawberry.field(description="The stage.")  # type: ignore[valid-type]
    days: int = strawberry.field(description="Days (calendar) without activity.")


@strawberry.type(
    name="Timeouts",
    description="A version of the timeouts table: what happens when time passes "
    "and nobody works a record. Applied by the scheduler (`salesops worker`, "
    "`salesops tick`) through the machines: same guards, ledger and events.",
)
class TimeoutsNode:
    """A version of the table."""

    version: int = strawberry.field(description="Its version (1: seeded).")
    accepted_lead_business_days: int | None = strawberry.field(
        description="Business days (Mon-Fri, UTC) an ACCEPTED lead may go without "
        "a completed activity (null: accepted leads never time out)."
    )
    accepted_lead_action: LeadTimeoutActionGQL = strawberry.field(  # type: ignore[valid-type]
        description="Where such a lead goes."
    )
    escalate_sla_breaches: bool = strawberry.field(
        description="Whether a breached follow-up SLA is escalated (an event)."
    )
    stale_after_days: list[StaleAfter] = strawberry.field(
        description="Per open stage, the days an opportunity may stay in it "
        "without a completed activity (a stage not listed never goes stale)."
    )
    changed_at: datetime = strawberry.field(description="When this version was made.")
    note: str | None = strawberry.field(description="Why it was changed, if given.")
    changed_by_id: strawberry.Private[int | None]

    changed_by = to_one(
        UserNode, "changed_by_id", description="Who made this version (null: seeded)."
    )

    @classmethod
    def from_stored(cls, stored: service.StoredTimeouts) -> TimeoutsNode:
        """Stored version -> GraphQL object."""
        table, row = stored.table, stored.version
        return cls(
            version=row.version,
            accepted_lead_business_days=table.accepted_lead_business_days,
            accepted_lead_action=table.accepted_lead_action,
            escalate_sla_breaches=table.escalate_sla_breaches,
            stale_after_days=[
                StaleAfter(stage=stage, days=days)
                for stage, days in table.stale_after_days.items()
            ],
            changed_at=row.changed_at,
            note=row.note,
            changed_by_id=row.changed_by_id,
        )


@strawberry.type(description="A timeout the tick applied, or (preview) would apply.")
class TimeoutOutcome:
    """One applied timeout."""

    kind: TimeoutKindGQL = strawberry.field(description="What fell due.")  # type: ignore[valid-type]
    record_type: RecordTypeGQL = strawberry.field(description="The record's kind.")  # type: ignore[valid-type]
    due_at: datetime = strawberry.field(
        description="When it fell due (a lead's timeoutAt or slaDueAt; the "
        "moment an opportunity went stale)."
    )
    from_state: str | None = strawberry.field(
        name="from", description="The status or stage before."
    )
    to_state: str | None = strawberry.field(
        name="to", description="The status or stage after."
    )
    record_id: strawberry.Private[int]
    previous_owner_id: strawberry.Private[int | None]
    owner_id: strawberry.Private[int | None]

    previous_owner = to_one(
        UserNode, "previous_owner_id", description="The owner before."
    )
    owner = to_one(UserNode, "owner_id", description="The owner after.")

    @strawberry.field(name="recordId", description="Global id of the record.")
    def record_global_id(self) -> strawberry.ID:
        """The record's global id."""
        from api.events import NODE_OF

        return strawberry.ID(encode_id(NODE_OF[self.record_type], self.record_id))

    @classmethod
    def of(cls, applied: service.Applied) -> TimeoutOutcome:
        """Domain outcome -> GraphQL object."""
        return cls(
            kind=applied.kind,
            record_type=applied.record_type,  # type: ignore[arg-type]
            due_at=applied.due_at,
            from_state=applied.from_state,
            to_state=applied.to_state,
            record_id=applied.record_id,
            previous_owner_id=applied.previous_owner_id,
            owner_id=applied.owner_id,
        )


@strawberry.type(description="What the scheduler's tick would do: nothing was written.")
class TimeoutPreview:
    """A rehearsed tick."""

    at: datetime = strawberry.field(description="The moment it was rehearsed at.")
    outcomes: list[TimeoutOutcome] = strawberry.field(
        description="Every timeout it would apply, in order."
    )
    would_emit: list[DryRunEvent] = strawberry.field(
        description="The events it would emit, in order."
    )


@strawberry.type
class TimeoutQueries:
    """Root fields about timeouts."""

    @strawberry.field(
        description="The timeouts table: the version in force, or the given one "
        "(null when there is no such version)."
    )
    async def timeouts(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(description="A past version (default: in force)."),
        ] = None,
    ) -> TimeoutsNode | None:
        """One version of the table."""
        return await table_version(
            info,
            version,
            service.TIMEOUTS_TABLE,
            service.timeouts_versions,
            TimeoutsNode.from_stored,
        )

    @strawberry.field(description="The versions of the timeouts table, newest first.")
    async def timeouts_history(
        self,
        info: Info,
        first: Annotated[
            int,
            strawberry.argument(description=f"How many versions (1 to {MAX_HISTORY})."),
        ] = 50,
    ) -> list[TimeoutsNode]:
        """The history of the table."""
        return await table_history(
            info, first, service.timeouts_versions, TimeoutsNode.from_stored
        )

    @strawberry.field(
        description="What the scheduler's next tick would do at `at` (default: now) "
        f"— rehearsed and rolled back ({role_list(RULE_TABLE_EDITORS)}): the moves, "
        "escalations and stale flags, with the events and their recipients."
    )
    async def timeout_preview(
        self,
        info: Info,
        at: Annotated[
            datetime | None,
            strawberry.argument(description="The moment to rehearse (default: now)."),
        ] = None,
        first: Annotated[
            int,
            strawberry.argument(
                description="At most this many of each kind "
                f"(1 to {service.TICK_LIMIT})."
            ),
        ] = 100,
    ) -> TimeoutPreview:
        """A rehearsed tick."""
        try:
            refuse_if(may_preview_timeouts(info.context.actor))
        except Refused as exc:
            raise refused(
                ErrorCode.FORBIDDEN, client_message(exc.refusals[0].message)
            ) from exc
        if not 1 <= first <= service.TICK_LIMIT:
            raise refused(
                ErrorCode.INVALID_INPUT,
                f"first must be 1 to {service.TICK_LIMIT}, not {first}.",
                "first",
            )
        now = at or utcnow()
        async with info.context.write(dry_run=True) as session:
            report = await service.preview(session, now=now, limit=first)
        return TimeoutPreview(
            at=now,
            outcomes=[TimeoutOutcome.of(a) for a in report.applied],
            would_emit=[DryRunEvent.of(e) for e in report.would_emit],
        )


@strawberry.input(description="One open stage's stale days, as given to an edit.")
class StaleAfterInput:
    """A stage's stale days."""

    stage: OpportunityStageGQL = strawberry.field(description="An open stage.")  # type: ignore[valid-type]
    days: int = strawberry.field(description=f"1 to {rules.MAX_STALE_DAYS} days.")


@strawberry.input(description="The whole timeouts table as it should be.")
class UpdateTimeoutsInput:
    """An edit of the table."""

    expected_version: int = strawberry.field(
        description="The version this edit was made on (else STALE_VERSION)."
    )
    accepted_lead_business_days: int | None = strawberry.field(
        description=f"1 to {rules.MAX_BUSINESS_DAYS} business days; null: accepted "
        "leads never time out."
    )
    accepted_lead_action: LeadTimeoutActionGQL = strawberry.field(  # type: ignore[valid-type]
        description="Where a timed-out accepted lead goes."
    )
    escalate_sla_breaches: bool = strawberry.field(
        description="Escalate breached follow-up SLAs."
    )
    stale_after_days: list[StaleAfterInput] = strawberry.field(
        description="Per open stage, its stale days (a stage left out never goes "
        "stale; a stage given twice is refused)."
    )
    note: str | None = strawberry.field(default=None, description="Why.")

    def table(self) -> rules.Timeouts:
        """Input -> domain table (validated by the service)."""
        refuse_if(
            given_twice(
                "staleAfterDays", [s.stage.value for s in self.stale_after_days]
            )
        )
        return rules.Timeouts(
            accepted_lead_business_days=self.accepted_lead_business_days,
            accepted_lead_action=self.accepted_lead_action,
            escalate_sla_breaches=self.escalate_sla_breaches,
            stale_after_days=MappingProxyType(
                {s.stage: s.days for s in self.stale_after_days}
            ),
        )


def input_path(refusal: Refusal, given: UpdateTimeoutsInput) -> Refusal:
    """A refusal of a stage's stale days (the stage named) pointing into the
    input instead: ``staleAfterDays.2`` for the third entry given."""
    path = refusal.field
    if len(path) != 2 or path[0] != "staleAfterDays":
        return refusal
    stages = [s.stage.value for s in given.stale_after_days]
    if path[1] not in stages:
        return refusal
    return replace(refusal, field=(path[0], str(stages.index(path[1]))))


@strawberry.type(description="Result of updateTimeouts.")
class UpdateTimeoutsPayload:
    """The new version, or why not."""

    timeouts: TimeoutsNode | None = strawberry.field(
        description="The version now in force (null when refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class TimeoutMutations:
    """Root mutations about timeouts."""

    @strawberry.mutation(
        description=f"Edit the timeouts table ({role_list(RULE_TABLE_EDITORS)}): a "
        "new version, in force at once — every accepted lead's timeoutAt is "
        "recomputed under it, and the next tick applies it."
    )
    async def update_timeouts(
        self, info: Info, input: UpdateTimeoutsInput
    ) -> UpdateTimeoutsPayload:
        """Make a new version of the timeouts table."""
        actor = info.context.actor

        async def use_case(s):  # type: ignore[no-untyped-def]
            return await service.update_timeouts(
                input.table(),
                session=s,
                actor=actor,
                expected_version=input.expected_version,
                note=input.note,
            )

        stored, errors = await mutate(
            info,
            use_case,
            refusals_as=lambda found: [input_path(r, input) for r in found],
        )
        return UpdateTimeoutsPayload(
            timeouts=TimeoutsNode.from_stored(stored) if stored is not None else None,
            user_errors=errors,
        )
