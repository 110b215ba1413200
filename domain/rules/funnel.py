"""The customer-lifecycle funnel's milestones (D11): which status or stage reaches
which milestone, and when a record reached each one (pure, no I/O).

A funnel record is a lead, or an opportunity created without one (a lead
converted into a new opportunity goes on as that opportunity). Its milestone
moments are nine stamps in funnel order, RAW … WON.

Decisions where D11 is silent:

* **First reach is kept.** A stamp, once set, never moves: a lead that goes
  NURTURE → INQUIRY again, an opportunity moved back (or, by a SALES_OPS
  override, back to 0-Pending Acceptance) or reopened keeps the moment it
  first got there.
* **Skipped milestones count as reached, at the moment they were skipped.**
  Reaching a milestone stamps every earlier milestone still unstamped with
  the same moment: RAW→MQL by scoring stamps INQUIRY and MQL together;
  converting an ACCEPTED lead stamps QUALIFYING at the conversion; an
  opportunity moved from 0-Pending Acceptance straight to 2-Scoping, or won
  without ever being sales qualified, is SAO (and SQO) at that move. Stamps
  are therefore never earlier than the stamp before them, and a skipped
  milestone takes 0 seconds from the previous one.
* **An opportunity created without a lead** (a *direct* record) enters the
  funnel at PENDING_ACCEPTANCE and is never stamped with lead milestones
  (D11, Decision round 2): RAW … QUALIFYING stay empty, so no lead-milestone
  median counts it as a zero-length step. It reaches PENDING_ACCEPTANCE when
  it is an opportunity: at creation, or, when created in 00-Pre Opportunity
  ("not yet an opportunity"), when it moves on to 0-Pending Acceptance. Its
  skipped milestones are filled from PENDING_ACCEPTANCE on, never before. A
  record is direct exactly when its RAW stamp is empty.
* Lead statuses: INQUIRY, MQL, ACCEPTED and QUALIFYING reach their
  milestone; QUALIFIED (conversion) reaches QUALIFYING. Stages: 0-Pending
  Acceptance reaches PENDING_ACCEPTANCE, 1-Discovery SAO, 2-Scoping …
  6-Awaiting Signature SQO (D3 rule 4: leaving Discovery forward), 7-Closed
  Won WON. Other statuses and stages (NURTURE, BAD_DATA, CLOSED_LOST, …)
  reach nothing.
* The median of an even number of durations is the mean of the two middle
  ones (so it may end in .5); of an odd number, the middle one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise

from domain.enums import FunnelMilestone, LeadStatus, OpportunityStage

M = FunnelMilestone
S = OpportunityStage

MILESTONES: tuple[FunnelMilestone, ...] = tuple(FunnelMilestone)
LEAD_MILESTONES: tuple[FunnelMilestone, ...] = MILESTONES[
    : MILESTONES.index(M.QUALIFYING) + 1
]
_INDEX = {milestone: i for i, milestone in enumerate(MILESTONES)}

# The stamps of one funnel record, in MILESTONES order (None: not reached).
Stamps = tuple[datetime | None, ...]

_STATUS_MILESTONE = {
    LeadStatus.INQUIRY: M.INQUIRY,
    LeadStatus.MQL: M.MQL,
    LeadStatus.ACCEPTED: M.ACCEPTED,
    LeadStatus.QUALIFYING: M.QUALIFYING,
    LeadStatus.QUALIFIED: M.QUALIFYING,
}
_STAGE_MILESTONE = {
    S.PENDING_ACCEPTANCE: M.PENDING_ACCEPTANCE,
    S.DISCOVERY: M.SAO,
    S.SCOPING: M.SQO,
    S.TECHNICAL_EVALUATION: M.SQO,
    S.PROPOSAL: M.SQO,
    S.NEGOTIATING: M.SQO,
    S.AWAITING_SIGNATURE: M.SQO,
    S.CLOSED_WON: M.WON,
}


def milestone_of_status(status: LeadStatus) -> FunnelMilestone | None:
    """The milestone a lead reaches by entering ``status`` (None: none)."""
    return _STATUS_MILESTONE.get(status)


def milestone_of_stage(stage: OpportunityStage) -> FunnelMilestone | None:
    """The milestone an opportunity reaches by entering ``stage`` (None: none)."""
    return _STAGE_MILESTONE.get(stage)


def previous(milestone: FunnelMilestone) -> FunnelMilestone | None:
    """The milestone before this one (None for RAW)."""
    i = _INDEX[milestone]
    return MILESTONES[i - 1] if i else None


def entry_milestone(stamps: Stamps) -> FunnelMilestone:
    """Where this record entered the funnel: RAW for a lead, PENDING_ACCEPTANCE
    for a direct record (no RAW stamp)."""
    return M.RAW if stamps[0] is not None else M.PENDING_ACCEPTANCE


def reach(stamps: Stamps, milestone: FunnelMilestone | None, at: datetime) -> Stamps:
    """The stamps after reaching ``milestone`` at ``at``: first reach kept, every
    earlier milestone not yet reached, from the record's entry milestone on,
    stamped ``at`` too (a direct record never reaches a lead milestone)."""
    if milestone is None:
        return stamps
    first = _INDEX[entry_milestone(stamps)]
    last = _INDEX[milestone] + 1
    if last <= first:
        return stamps
    middle = stamps[first:last]
    if None not in middle:
        return stamps
    filled = tuple(at if stamp is None else stamp for stamp in middle)
    return stamps[:first] + filled + stamps[last:]


def lead_stamps(created_at: datetime) -> Stamps:
    """A new lead: RAW at its creation."""
    return (created_at,) + (None,) * (len(MILESTONES) - 1)


def opportunity_stamps(created_at: datetime, stage: OpportunityStage) -> Stamps:
    """An opportunity created without a lead, in ``stage``: no lead milestone;
    the stage's own milestone (and those it skipped from PENDING_ACCEPTANCE on)
    at its creation."""
    return reach((None,) * len(MILESTONES), milestone_of_stage(stage), created_at)


def replay(
    stamps: Stamps, reached: Iterable[tuple[FunnelMilestone | None, datetime]]
) -> Stamps:
    """The stamps after a sequence of (milestone reached, moment)."""
    for milestone, at in reached:
        stamps = reach(stamps, milestone, at)
    return stamps


def seconds_between(stamps: Stamps) -> tuple[int | None, ...]:
    """Seconds from each milestone's previous one (INQUIRY … WON; None: not
    reached). Never negative: a stamp earlier than its previous one (a clock
    moved back) counts as 0."""
    return tuple(
        max(0, int((stamp - before).total_seconds()))
        if stamp is not None and before is not None
        else None
        for before, stamp in pairwise(stamps)
    )
