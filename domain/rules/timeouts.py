"""Timeouts as data (issue "rules a sales-ops team edits itself", item 4): what
happens when time passes and nobody works a record.

A *timeouts table* is versioned data, edited by sales ops like the scoring
and region tables (``updateTimeouts``); this module holds its shape, its
validation and the pure arithmetic of when each timeout falls due. The
scheduler (``domain.services.timeouts``, run by ``salesops worker`` or
``salesops tick``) applies what is due through the machines.

Three timeouts:

- **An accepted lead nobody works.** An ACCEPTED lead with no completed
  activity for ``accepted_lead_business_days`` business days (the clock starts
  on acceptance and restarts with every completed activity logged on the
  lead) times out: with ``ROUTING_POOL`` it goes back to the routing pool — to
  MQL when its score still reaches the MQL threshold, else to INQUIRY — and
  is routed again (D8): a pool's turn passes over the rep who let it time out
  while another member is available, and a lead routing gives nobody is left
  unowned; with ``NURTURE`` it goes to NURTURE and keeps its owner. Either
  way the ledger records the reason ``TIMEOUT`` (and a note: the business
  days, the due time, the table version), and an event ``LEAD_TIMED_OUT``
  tells the owner it left and the one it went to.
- **A breached follow-up SLA** (D8: a Contact Us or Professional Services
  lead without a follow-up within one business day) is escalated once: an
  event ``LEAD_SLA_BREACHED`` to the lead's owner and the owner's manager
  (``domain.rules.notifications.owner_and_manager``; a pool's BDR/SDR has no
  team lead role, so SALES_OPS stands in).
- **A stale opportunity.** An open opportunity with no completed activity for
  ``stale_after_days[stage]`` days in its stage (the clock starts on entering
  the stage and restarts with every completed activity logged on it) is
  flagged: ``stale_since`` is set and an event ``OPPORTUNITY_STALE`` tells its
  owner. A stage move or a completed activity clears the flag.

Decisions where the handbook is silent (its pages set SLAs, not timeouts):

- Seeded: an accepted lead times out after 5 business days (a working week
  of no contact) and goes back to the routing pool; SLA breaches escalate;
  opportunities go stale after 14 days in 0-Pending Acceptance (acceptance is
  meant to be quick) and 30 days in every later open stage. 00-Pre
  Opportunity never goes stale (it is a BDR's qualification notebook).
- Business days are D8's (Mon-Fri UTC, ``business_days.sla_due_at``); the
  opportunity timeout counts calendar days, as the issue states it.
- An activity counts when it is completed and its completion time is not in
  the future; any kind and channel counts (working the record is what is
  measured, not reaching the person: that is the SLA's business).
- A table edit applies at once to every clock running: the leads' stored
  ``timeout_at`` are recomputed by the edit, and staleness is decided by each
  tick from the table in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from domain.enums import ErrorCode, LeadStatus, OpportunityStage
from domain.errors import Refusal
from domain.rules.business_days import require_utc, sla_due_at

# The reason every move a timeout makes is recorded with.
TIMEOUT_REASON = "TIMEOUT"
SLA_BREACHED_EVENT = "LEAD_SLA_BREACHED"
STALE_EVENT = "OPPORTUNITY_STALE"

# The bounds an edit must respect (a year of business days; ten years).
MAX_BUSINESS_DAYS = 260
MAX_STALE_DAYS = 3650

# The stages a stale flag may be declared for: the open ones.
STALE_STAGES: tuple[OpportunityStage, ...] = (
    OpportunityStage.PRE_OPPORTUNITY,
    OpportunityStage.PENDING_ACCEPTANCE,
    OpportunityStage.DISCOVERY,
    OpportunityStage.SCOPING,
    OpportunityStage.TECHNICAL_EVALUATION,
    OpportunityStage.PROPOSAL,
    OpportunityStage.NEGOTIATING,
    OpportunityStage.AWAITING_SIGNATURE,
)


class LeadTimeoutAction(StrEnum):
    """Where an accepted lead nobody works goes."""

    ROUTING_POOL = "ROUTING_POOL"
    NURTURE = "NURTURE"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """One version of the timeouts table."""

    # Business days an ACCEPTED lead may go without a completed activity
    # (None: accepted leads never time out).
    accepted_lead_business_days: int | None
    accepted_lead_action: LeadTimeoutAction
    # Whether a breached follow-up SLA is escalated (an event).
    escalate_sla_breaches: bool
    # Days an open opportunity may stay in a stage without a completed
    # activity; a stage not listed never goes stale.
    stale_after_days: Mapping[OpportunityStage, int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    version: int = 0


SEEDED_TIMEOUTS = Timeouts(
    accepted_lead_business_days=5,
    accepted_lead_action=LeadTimeoutAction.ROUTING_POOL,
    escalate_sla_breaches=True,
    stale_after_days=MappingProxyType(
        {
            OpportunityStage.PENDING_ACCEPTANCE: 14,
            **{
                stage: 30
                for stage in STALE_STAGES
                if stage
                not in (
                    OpportunityStage.PRE_OPPORTUNITY,
                    OpportunityStage.PENDING_ACCEPTANCE,
                )
            },
        }
    ),
    version=1,
)


def _invalid(path: tuple[str, ...], message: str) -> Refusal:
    return Refusal(ErrorCode.INVALID_INPUT, message, path)


def validate(table: Timeouts) -> list[Refusal]:
    """Every invalid entry of ``table``, each naming it (empty: valid)."""
    found: list[Refusal] = []
    days = table.accepted_lead_business_days
    if days is not None and not 1 <= days <= MAX_BUSINESS_DAYS:
        found.append(
            _invalid(
                ("acceptedLeadBusinessDays",),
                f"An accepted lead's timeout is 1 to {MAX_BUSINESS_DAYS} business "
                f"days (or null: none), not {days}.",
            )
        )
    for stage, stale_days in table.stale_after_days.items():
        path = ("staleAfterDays", stage.value)
        if stage not in STALE_STAGES:
            found.append(
                _invalid(
                    path,
                    f"{stage.value} is closed: only an open stage can go stale.",
                )
            )
        elif not 1 <= stale_days <= MAX_STALE_DAYS:
            found.append(
                _invalid(
                    path,
                    f"{stage.value} goes stale after 1 to {MAX_STALE_DAYS} days, "
                    f"not {stale_days}.",
                )
            )
    return found


def clock_start(started_at: datetime, last_activity_at: datetime | None) -> datetime:
    """When a timeout's clock last (re)started: the later of the state's start
    and the last completed activity."""
    start = require_utc(started_at, "started_at")
    if last_activity_at is None:
        return start
    return max(start, require_utc(last_activity_at, "last_activity_at"))


def lead_timeout_at(
    table: Timeouts, accepted_at: datetime, last_activity_at: datetime | None
) -> datetime | None:
    """When an ACCEPTED lead times out (None: never, under this table)."""
    days = table.accepted_lead_business_days
    if days is None:
        return None
    return sla_due_at(clock_start(accepted_at, last_activity_at), days)


def timeout_on_entering(
    table: Timeouts, status: LeadStatus, now: datetime
) -> datetime | None:
    """A lead's ``timeout_at`` once it enters ``status`` at ``now``: the clock
    starts on acceptance; any other status has none."""
    if status is not LeadStatus.ACCEPTED:
        return None
    return lead_timeout_at(table, now, None)


def stale_from(
    table: Timeouts,
    stage: OpportunityStage,
    stage_changed_at: datetime,
    last_activity_at: datetime | None,
) -> datetime | None:
    """When an opportunity in ``stage`` goes stale (None: never in this stage)."""
    days = table.stale_after_days.get(stage)
    if days is None:
        return None
    return clock_start(stage_changed_at, last_activity_at) + timedelta(days=days)


def stale_cutoffs(table: Timeouts, now: datetime) -> dict[OpportunityStage, datetime]:
    """Per stage that can go stale: a clock started at or before this moment
    has run out at ``now``."""
    at = require_utc(now, "now")
    return {
        stage: at - timedelta(days=days)
        for stage, days in table.stale_after_days.items()
    }


def timeout_note(table: Timeouts, due_at: datetime) -> str:
    """The ledger note of a lead timeout: why, when it fell due, which version."""
    return (
        f"No completed activity for {table.accepted_lead_business_days} business "
        f"days, due {require_utc(due_at):%Y-%m-%d %H:%M} UTC "
        f"(timeouts v{table.version})."
    )


def to_document(table: Timeouts) -> dict[str, Any]:
    """The table as stored (a JSON document; ``version`` is the row's)."""
    return {
        "acceptedLeadBusinessDays": table.accepted_lead_business_days,
        "acceptedLeadAction": table.accepted_lead_action.value,
        "escalateSlaBreaches": table.escalate_sla_breaches,
        "staleAfterDays": {
            stage.value: days
            for stage, days in sorted(
                table.stale_after_days.items(), key=lambda i: STALE_STAGES.index(i[0])
            )
        },
    }


def from_document(data: Mapping[str, Any], version: int) -> Timeouts:
    """A stored document as a table."""
    return Timeouts(
        accepted_lead_business_days=data["acceptedLeadBusinessDays"],
        accepted_lead_action=LeadTimeoutAction(data["acceptedLeadAction"]),
        escalate_sla_breaches=bool(data["escalateSlaBreaches"]),
        stale_after_days=MappingProxyType(
            {
                OpportunityStage(stage): int(days)
                for stage, days in data["staleAfterDays"].items()
            }
        ),
        version=version,
    )
