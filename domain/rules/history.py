"""A CRM's history (issue 13 item 2): the way a deal went before it was imported.

Pure. A historical opportunity row gives the stage it is in and the days it
knows — when it was sales-accepted ("engaged") and when it closed — and this
decides the stages it passed, each with its moment. The import then writes
them one by one through the same effects (``stage_effects``) and milestone
stamps as the machine's moves, so the ledger, stage velocity and the funnel
see the deal as if it had moved here; the entry requirements of those past
stages are not checked again.

Decisions where the issue is silent:

* A deal starts in 0-Pending Acceptance (00-Pre Opportunity when that is where
  it is) at its first known day: the sales-accepted day, else the close day,
  else the moment of the import (a deal still prospecting has no day).
* A sales-accepted deal (1-Discovery and on, won or lost) passed 1-Discovery
  on its sales-accepted day (a deal won or lost without one was accepted, or
  not, by its close as the machine decides); a stage between 2-Scoping and
  6-Awaiting Signature was entered that day too (the file knows no later
  day). A closed deal (won, lost, unqualified, duplicate) closed on its close
  day.
* Days are midnight UTC.
* A stage from 1-Discovery to 6-Awaiting Signature needs the sales-accepted
  day; a closed stage the close day; the close never comes before the
  acceptance, nor after the import.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from domain.enums import ErrorCode, OpportunityStage
from domain.errors import Refusal
from domain.lifecycle.opportunity import (
    ACTIVE_STAGES,
    CLOSED_STAGES,
    OUTCOME_STAGES,
    PRE_ACCEPTANCE_STAGES,
)

Stage = OpportunityStage
# One step of a deal's past: the stage entered and when.
Step = tuple[Stage, datetime]


def day_start(day: date) -> datetime:
    """Midnight UTC of a day."""
    return datetime.combine(day, time(), tzinfo=UTC)


def historical_path(
    stage: Stage,
    *,
    accepted_on: date | None,
    closed_on: date | None,
    now: datetime,
) -> tuple[list[Step], list[Refusal]]:
    """The stages a deal in ``stage`` passed, first one first (its creation),
    or every reason the row cannot say (fields ``salesAcceptedDate``,
    ``closeDate``)."""
    found: list[Refusal] = []
    if stage in ACTIVE_STAGES and accepted_on is None:
        found.append(
            Refusal.on(
                "sales_accepted_date",
                ErrorCode.MISSING_FIELD,
                "salesAcceptedDate is required for a deal past 0-Pending "
                "Acceptance (when it was sales-accepted).",
            )
        )
    if stage in CLOSED_STAGES and closed_on is None:
        found.append(
            Refusal.on(
                "close_date",
                ErrorCode.MISSING_FIELD,
                "closeDate is required for a closed deal (when it closed).",
            )
        )
    if accepted_on is not None and stage in PRE_ACCEPTANCE_STAGES:
        found.append(
            Refusal.on(
                "sales_accepted_date",
                ErrorCode.INVALID_INPUT,
                f"A deal in {stage.value} was never sales-accepted: no "
                "salesAcceptedDate.",
            )
        )
    if accepted_on is not None and closed_on is not None and closed_on < accepted_on:
        found.append(
            Refusal.on(
                "close_date",
                ErrorCode.INVALID_INPUT,
                "closeDate is before salesAcceptedDate.",
            )
        )
    if stage in CLOSED_STAGES and closed_on is not None and day_start(closed_on) > now:
        found.append(
            Refusal.on(
                "close_date",
                ErrorCode.INVALID_INPUT,
                "closeDate of a closed deal is in the future.",
            )
        )
    if found:
        return [], found
    accepted = day_start(accepted_on) if accepted_on is not None else None
    closed = day_start(closed_on) if closed_on is not None else None
    start = accepted or closed or now
    if stage is Stage.PRE_OPPORTUNITY:
        return [(Stage.PRE_OPPORTUNITY, start)], []
    steps: list[Step] = [(Stage.PENDING_ACCEPTANCE, start)]
    if accepted is not None and (stage in ACTIVE_STAGES or stage in OUTCOME_STAGES):
        steps.append((Stage.DISCOVERY, accepted))
    if stage in CLOSED_STAGES:
        steps.append((stage, closed or start))
    elif stage not in (Stage.PENDING_ACCEPTANCE, Stage.DISCOVERY):
        steps.append((stage, accepted or start))
    return steps, []
