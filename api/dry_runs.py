"""Dry runs on the API (issue 12): ``dryRun: true`` on a transition mutation.

The mutation's own service runs in a transaction that is rolled back
(``Context.write(dry_run=True)``); the payload shows the record as it would be,
the refusals as they would be, and ``dryRun`` lists the events it would emit.
Nothing is written; no idempotency key is read or kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from api.context import Info
from api.enums import RecordTypeGQL
from api.errors import UserError
from api.inputs import mutate
from domain.errors import Refusal
from domain.services.dry_runs import Rehearsal, rehearse
from domain.services.outbox import EmittedEvent

if TYPE_CHECKING:
    from api.engagements import ScoreLineNode
    from api.events import EventRecipientNode

T = TypeVar("T")


def dry_run_field() -> Any:
    """The optional ``dryRun`` field of a transition input."""
    return strawberry.field(
        default=False,
        description="true: decide and compute everything, then roll back — nothing "
        "is written and no event is emitted; the payload shows the record as it "
        "would be, the refusals, and `dryRun` what would be emitted. "
        "idempotencyKey is ignored.",
    )


def dry_run_outcome() -> Any:
    """The ``dryRun`` field of a payload whose input may ask for a dry run."""
    return strawberry.field(
        default=None,
        description="What the dry run found (null unless the input asked for one).",
    )


@strawberry.type(
    name="DryRunEvent",
    description="An event the mutation would emit (none was: a dry run).",
)
class DryRunEvent:
    """An event that would be written."""

    kind: str = strawberry.field(
        name="type", description="What would happen, as Event.type."
    )
    record_type: RecordTypeGQL = strawberry.field(
        description="The kind of record it is about."
    )
    payload: JSON = strawberry.field(
        description="The details, as they would be stored (snake_case keys, "
        "database ids)."
    )
    record_id: strawberry.Private[int]
    addressed: strawberry.Private[list[tuple[int, str]]]

    @strawberry.field(
        name="recordId",
        description="Global id of the record; a record the dry run would create "
        "has a provisional id, which a real call may not give it.",
    )
    def record_global_id(self) -> strawberry.ID:
        """The record's global id; a record the dry run would create has a
        provisional one (a real call may give it another)."""
        from api.events import NODE_OF
        from api.relay import encode_id

        return strawberry.ID(encode_id(NODE_OF[self.record_type], self.record_id))

    @strawberry.field(description="The users it would be addressed to, in order.")
    def recipients(
        self,
    ) -> list[Annotated[EventRecipientNode, strawberry.lazy("api.events")]]:
        """Addressees."""
        from api.events import EventRecipientNode

        return [
            EventRecipientNode(capacity=capacity, user_id=user_id)
            for user_id, capacity in self.addressed
        ]

    @classmethod
    def of(cls, event: EmittedEvent) -> DryRunEvent:
        """A captured event -> GraphQL object."""
        return cls(
            kind=event.kind,
            record_type=event.record_type,  # type: ignore[arg-type]
            payload=event.payload,
            record_id=event.record_id,
            addressed=event.recipients,
        )


@strawberry.type(
    description="What a dry run found: nothing was written. Null unless the input "
    "asked for dryRun."
)
class DryRun:
    """The outcome of a rehearsal."""

    would_emit: list[DryRunEvent] = strawberry.field(
        description="The events the mutation would emit, in order (empty when refused)."
    )
    score_breakdown: (
        list[Annotated[ScoreLineNode, strawberry.lazy("api.engagements")]] | None
    ) = strawberry.field(
        default=None,
        description="The lead's score lines as they would be (recordEngagement; "
        "null elsewhere).",
    )


async def rehearsable(
    info: Info,
    dry_run: bool,
    use_case: Callable[[AsyncSession], Awaitable[T]],
    real: Callable[[], Awaitable[tuple[T | None, list[UserError]]]],
    *,
    score_breakdown: Callable[[AsyncSession, T], Awaitable[list[Any]]] | None = None,
    refusals_as: Callable[[list[Refusal]], list[Refusal]] = list,
) -> tuple[T | None, list[UserError], DryRun | None]:
    """``real()`` (the mutation as usual), or with ``dry_run`` the same
    ``use_case`` rehearsed and rolled back: (result, userErrors, dryRun);
    ``refusals_as`` as for ``mutate``."""
    if not dry_run:
        result, errors = await real()
        return result, errors, None

    async def rehearsed(s: AsyncSession) -> tuple[Rehearsal[T], list[Any] | None]:
        rehearsal = await rehearse(s, lambda: use_case(s))
        lines = (
            await score_breakdown(s, rehearsal.result)
            if score_breakdown is not None
            else None
        )
        return rehearsal, lines

    done, errors = await mutate(info, rehearsed, dry_run=True, refusals_as=refusals_as)
    if done is None:
        return None, errors, DryRun(would_emit=[])
    rehearsal, lines = done
    return (
        rehearsal.result,
        errors,
        DryRun(
            would_emit=[DryRunEvent.of(e) for e in rehearsal.would_emit],
            score_breakdown=lines,
        ),
    )
