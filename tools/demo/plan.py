"""The plan of the demo data set: which status or stage each record ends in, and
the path (and time per step) that led it there.

The stage groups come from the opportunity machine (``PIPELINE_STAGES``,
``CLOSED_STAGES``, ``OUTCOME_STAGES``); what is decided here is how many
records end where, and how long each step takes.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.enums import LeadStatus, OpportunityStage, SalesQualificationSource
from domain.lifecycle.opportunity import (
    CLOSED_STAGES,
    PIPELINE_STAGES,
)
from tools.demo.draw import DAY, HOUR, quota

L = LeadStatus
S = OpportunityStage

LEAD_HISTORY_DAYS = 540  # leads are created over the last ~18 months

# Lead status mix and the paths (after RAW) that lead to each status.
LEAD_STATUS_WEIGHTS = {
    L.RAW: 22,
    L.INQUIRY: 25,
    L.NURTURE: 18,
    L.MQL: 8,
    L.ACCEPTED: 5,
    L.QUALIFYING: 4,
    L.QUALIFIED: 5,
    L.UNQUALIFIED: 7,
    L.BAD_DATA: 3,
    L.WEB_PORTAL_PURCHASE: 3,
}
LEAD_PATHS: dict[L, tuple[tuple[tuple[L, ...], float], ...]] = {
    L.RAW: (((), 0.95), ((L.BAD_DATA, L.RAW), 0.05)),
    L.INQUIRY: (((L.INQUIRY,), 0.9), ((L.INQUIRY, L.NURTURE, L.INQUIRY), 0.1)),
    L.MQL: (((L.INQUIRY, L.MQL), 1.0),),
    L.ACCEPTED: (
        ((L.INQUIRY, L.MQL, L.ACCEPTED), 0.9),
        ((L.INQUIRY, L.ACCEPTED), 0.1),
    ),
    L.QUALIFYING: (
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING), 0.92),
        ((L.INQUIRY, L.ACCEPTED, L.QUALIFYING), 0.08),
    ),
    L.QUALIFIED: (
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING, L.QUALIFIED), 0.95),
        ((L.INQUIRY, L.ACCEPTED, L.QUALIFYING, L.QUALIFIED), 0.05),
    ),
    L.NURTURE: (
        ((L.INQUIRY, L.NURTURE), 0.6),
        ((L.INQUIRY, L.MQL, L.NURTURE), 0.2),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.NURTURE), 0.15),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING, L.NURTURE), 0.05),
    ),
    L.UNQUALIFIED: (
        ((L.UNQUALIFIED,), 0.2),
        ((L.INQUIRY, L.UNQUALIFIED), 0.3),
        ((L.INQUIRY, L.MQL, L.UNQUALIFIED), 0.2),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.UNQUALIFIED), 0.2),
        ((L.INQUIRY, L.MQL, L.ACCEPTED, L.QUALIFYING, L.UNQUALIFIED), 0.1),
    ),
    L.BAD_DATA: (((L.BAD_DATA,), 0.6), ((L.INQUIRY, L.BAD_DATA), 0.4)),
    L.WEB_PORTAL_PURCHASE: (
        ((L.WEB_PORTAL_PURCHASE,), 0.3),
        ((L.INQUIRY, L.WEB_PORTAL_PURCHASE), 0.5),
        ((L.INQUIRY, L.MQL, L.WEB_PORTAL_PURCHASE), 0.2),
    ),
}
# seconds (low, high) spent before entering a status, drawn log-uniformly: most
# moves come soon, a few take weeks (the median is the geometric mean)
LEAD_STEP = {
    L.MQL: (2 * HOUR, 30 * DAY),  # from a first hand-raise to the one that crosses
    L.ACCEPTED: (2 * HOUR, 3 * DAY),
    L.QUALIFYING: (1 * DAY, 14 * DAY),
    L.QUALIFIED: (2 * DAY, 30 * DAY),
    L.UNQUALIFIED: (1 * DAY, 45 * DAY),
    L.NURTURE: (3 * DAY, 60 * DAY),
    L.BAD_DATA: (1 * HOUR, 10 * DAY),
    L.WEB_PORTAL_PURCHASE: (1 * DAY, 40 * DAY),
    L.RAW: (1 * DAY, 20 * DAY),
    L.INQUIRY: (5 * DAY, 90 * DAY),  # NURTURE -> INQUIRY on a new touch
}

# seconds (low, high, log-uniform) from a known lead's creation to its first
# hand-raise (INQUIRY); a form creates the lead at its first hand-raise this
# share of the time (the rest were known before: a list, a sign-up, a badge)
FIRST_HAND_RAISE = (1 * HOUR, 45 * DAY)
FORM_CREATES_LEAD = 0.35
# the share of MQL paths that raise a hand once before the one crossing the
# threshold (the others jump RAW → INQUIRY → MQL on a single request)
MQL_AFTER_WARM_UP = 0.7

OPP_STAGE_WEIGHTS = {
    S.PRE_OPPORTUNITY: 3,
    S.PENDING_ACCEPTANCE: 10,
    S.DISCOVERY: 10,
    S.SCOPING: 7,
    S.TECHNICAL_EVALUATION: 7,
    S.PROPOSAL: 6,
    S.NEGOTIATING: 5,
    S.AWAITING_SIGNATURE: 3,
    S.CLOSED_WON: 22,
    S.CLOSED_LOST: 18,
    S.UNQUALIFIED: 6,
    S.DUPLICATE: 3,
}
PIPE_POS = {stage: i for i, stage in enumerate(PIPELINE_STAGES)}
# days (low, high) spent before entering a stage
OPP_STEP = {
    S.PENDING_ACCEPTANCE: (1, 10),
    S.DISCOVERY: (1, 14),
    S.SCOPING: (5, 30),
    S.TECHNICAL_EVALUATION: (7, 40),
    S.PROPOSAL: (7, 45),
    S.NEGOTIATING: (5, 30),
    S.AWAITING_SIGNATURE: (3, 21),
    S.CLOSED_WON: (1, 14),
    S.CLOSED_LOST: (5, 60),
    S.UNQUALIFIED: (1, 20),
    S.DUPLICATE: (0.1, 3),
}
LOST_FROM_WEIGHTS = {
    S.DISCOVERY: 30,
    S.SCOPING: 25,
    S.TECHNICAL_EVALUATION: 20,
    S.PROPOSAL: 12,
    S.NEGOTIATING: 8,
    S.AWAITING_SIGNATURE: 5,
}


@dataclass(slots=True)
class Converted:
    """What a converted lead became, drawn before the contacts and opportunities."""

    lead_index: int
    email: str
    account: int  # account index
    converted_at: int
    owner_id: int
    campaign_id: int | None = None
    contact_id: int = 0
    opportunity_id: int = 0
    # the milestones its opportunity reached: (milestone, ts) and its SQS
    opportunity_moves: list[tuple[Any, int]] = field(default_factory=list)
    sales_qualification_source: SalesQualificationSource | None = None


@dataclass(slots=True)
class OppPlan:
    """An opportunity to write: when, where it ends, on which account."""

    created: int
    stage: S
    account: int
    lead: Converted | None = None
    duplicate_target: OppPlan | None = None
    opp_id: int = 0


def lead_statuses(
    rng: random.Random, n: int, now_ts: int
) -> tuple[list[LeadStatus], list[int]]:
    """The status each of ``n`` leads ends in and its creation time, oldest first."""
    rand = rng.random
    statuses = quota(LEAD_STATUS_WEIGHTS, n, rng)
    first_ts = now_ts - LEAD_HISTORY_DAYS * DAY
    span = LEAD_HISTORY_DAYS * DAY - HOUR
    created = [first_ts + int(span * ((i + rand()) / n) ** 0.8) for i in range(n)]
    # a converted lead needs weeks: recent ones trade status with older ones
    recent = bisect_right(created, now_ts - 30 * DAY)
    if recent:
        for i in range(recent, n):
            if statuses[i] is L.QUALIFIED:
                for _attempt in range(100):
                    j = int(rand() * recent)
                    if statuses[j] is not L.QUALIFIED:
                        statuses[i], statuses[j] = statuses[j], statuses[i]
                        break
    return statuses, created


def opportunity_plans(
    rng: random.Random,
    n_opps: int,
    converted: Mapping[int, Converted],
    acc_created: Sequence[int],
    now_ts: int,
) -> list[OppPlan]:
    """The opportunities to write, by creation time: one per converted lead (the
    oldest conversions got furthest), the rest created directly on an account."""
    rand = rng.random
    stages = quota(OPP_STAGE_WEIGHTS, n_opps, rng)
    converted = sorted(converted.values(), key=lambda c: c.converted_at)
    eligible = [s for s in stages if s not in (S.PRE_OPPORTUNITY, S.DUPLICATE)]
    conv_stages = eligible[: len(converted)]
    direct_stages = list(stages)
    for stage in conv_stages:
        direct_stages.remove(stage)
    # the oldest conversions got furthest
    conv_stages.sort(key=lambda s: typical_days(s) * (0.5 + rand()), reverse=True)
    plans = [
        OppPlan(created=c.converted_at, stage=stage, account=c.account, lead=c)
        for c, stage in zip(converted, conv_stages, strict=False)
    ]
    history = LEAD_HISTORY_DAYS
    direct: list[OppPlan] = []
    for stage in direct_stages:
        typical = typical_days(stage)
        if stage in (S.PRE_OPPORTUNITY, S.PENDING_ACCEPTANCE):
            ago = 1 + rand() * 40
        elif stage in CLOSED_STAGES:
            low = min(typical + 10, history - 1)
            ago = low + rand() * (history - low)
        else:
            ago = min(history, typical * (1 + rand() * 0.8) + rand() * 20)
        created = now_ts - int(ago * DAY)
        available = bisect_right(acc_created, created) or 1
        direct.append(
            OppPlan(created=created, stage=stage, account=int(rand() * available))
        )
    targets = [p for p in direct if p.stage is not S.DUPLICATE]
    for plan in direct:
        if plan.stage is S.DUPLICATE and targets:
            target = targets[int(rand() * len(targets))]
            plan.duplicate_target = target
            plan.account = target.account
            plan.created = min(
                target.created + HOUR + int(rand() * 5 * DAY), now_ts - 2 * HOUR
            )
            if plan.created <= target.created:
                plan.created = target.created + 1
    plans.extend(direct)
    plans.sort(key=lambda p: p.created)
    for k, plan in enumerate(plans, start=1):
        plan.opp_id = k
        if plan.lead is not None:
            plan.lead.opportunity_id = k
    return plans


def typical_days(stage: S) -> float:
    """Mean days from creation to reaching ``stage`` on the usual path."""

    def mean(s: S) -> float:
        lo, hi = OPP_STEP[s]
        return (lo + hi) / 2

    if stage in PIPE_POS:
        return sum(mean(s) for s in PIPELINE_STAGES[1 : PIPE_POS[stage] + 1])
    if stage is S.CLOSED_WON:
        return typical_days(S.AWAITING_SIGNATURE) + mean(S.CLOSED_WON)
    if stage is S.CLOSED_LOST:
        return typical_days(S.SCOPING) + mean(S.CLOSED_LOST)
    if stage in (S.UNQUALIFIED, S.DUPLICATE):
        return mean(stage)
    return 0.0
