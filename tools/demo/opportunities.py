"""The opportunities of the demo data set: the stages each one went through, with
their D3 fields, contact roles, meetings and stage history.

Every stage an opportunity entered or passed over has its D3 fields filled;
entering a closed stage set ``closed_at``. A WEB_DIRECT opportunity created
directly in CLOSED_WON (D3 rule 1) has no transition; it counts as sales
accepted and qualified at creation (D11: a skipped milestone counts as
reached), so ``sales_accepted_date``, ``sales_qualified_date`` and
``initial_iacv`` are set. An opportunity created without a lead has a
campaign of its contact's initial source 70% of the time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from domain.enums import (
    AccountType,
    ActivityChannel,
    ActivityDirection,
    ActivityKind,
    ClosedLostReason,
    OpportunityStage,
    OpportunityType,
    Pipeline,
    RecordType,
    ReferenceableCustomer,
    RestrictedPartyScreening,
    Role,
    SalesQualificationSource,
    SalesSegment,
)
from domain.lifecycle.opportunity import (
    CLOSED_STAGES,
    LARGE_SEGMENTS,
    OUTCOME_STAGES,
    machine_for,
)
from domain.rules.funnel import milestone_of_stage, opportunity_stamps, reach
from domain.rules.pipelines import PIPELINES
from tools.demo.directory import Directory
from tools.demo.draw import DAY, Picker, log_uniform, money, utc_of
from tools.demo.load import (
    ACTIVITIES,
    CHUNK,
    CONTACT_ROLES,
    FUNNEL_ENTRIES,
    OPPORTUNITIES,
    TRANSITIONS,
)
from tools.demo.plan import (
    LOST_FROM_WEIGHTS,
    OPP_STEP,
    PIPE_POS,
    PIPELINE_STAGES,
    OppPlan,
)
from tools.demo.run import Run

S = OpportunityStage

_LOST_REASONS = {
    ClosedLostReason.LOST_TO_COMPETITOR: 25,
    ClosedLostReason.PRICING: 15,
    ClosedLostReason.NO_BUDGET: 15,
    ClosedLostReason.NO_DECISION_OR_PROJECT_CANCELLED: 20,
    ClosedLostReason.PRODUCT_FIT: 10,
    ClosedLostReason.TIMING: 10,
    ClosedLostReason.CONSOLIDATING_ORDER: 2,
    ClosedLostReason.OTHER: 3,
}
_LOST_DETAILS = {
    ClosedLostReason.LOST_TO_COMPETITOR: "Chose a competitor bundled with their cloud.",
    ClosedLostReason.PRICING: "Per-seat price above their budget line.",
    ClosedLostReason.NO_BUDGET: "Budget frozen for the rest of the year.",
    ClosedLostReason.NO_DECISION_OR_PROJECT_CANCELLED: (
        "Project cancelled after a reorganisation."
    ),
    ClosedLostReason.PRODUCT_FIT: "Needed an on-premises feature we do not offer.",
    ClosedLostReason.TIMING: "Revisit after their migration next year.",
    ClosedLostReason.CONSOLIDATING_ORDER: "Folded into the customer's larger order.",
    ClosedLostReason.MERGED_INTO_ANOTHER_OPPORTUNITY: (
        "Duplicate effort; merged into the main opportunity."
    ),
    ClosedLostReason.OTHER: "Champion left the company.",
}
_BUSINESS_PROBLEMS = (
    "Release cycle takes weeks; wants CI/CD in one platform.",
    "Toolchain sprawl: five tools to maintain, no single audit trail.",
    "Security scans run too late; needs shift-left DevSecOps.",
    "Migrating off a self-hosted legacy SCM before end of support.",
    "Compliance audit requires traceability from issue to deploy.",
    "Developers wait on shared runners; builds too slow.",
    "Needs value-stream metrics for the engineering leadership.",
    "Consolidating source control after an acquisition.",
    "Kubernetes rollout needs GitOps and environment promotion.",
    "Wants to cut CI spend by moving to autoscaling runners.",
)
_PURCHASING_PLANS = (
    "Legal review week 1, procurement sign-off week 2, PO by month end.",
    "Security questionnaire, then VP approval and card payment.",
    "Vendor onboarding, budget holder sign-off, signature by quarter end.",
    "Reseller quote, customer PO to reseller, order placed by reseller.",
)
_POC_NOTES = (
    "Two-week POC with three teams; pipelines migrated successfully.",
    "POC on the self-managed instance; SSO and runners validated.",
    "Security scanning POC on two repositories; findings reviewed with AppSec.",
)
_POC_CRITERIA = (
    "Build time halved; SAML SSO works; audit events exported.",
    "Pipelines for 3 services green; merge request approvals enforced.",
    "SAST and dependency scanning on every merge request.",
)
_WON_DETAILS = (
    "Won on platform consolidation; replaced three tools.",
    "Executive sponsor drove the decision; security features decisive.",
    "Won against the incumbent on CI performance and price.",
    "Expansion after a successful team rollout.",
)
_BACK_REASONS = (
    "Technical questions reopened by the security team",
    "New stakeholders asked for another evaluation",
    "Scope changed after the budget review",
)
_OPP_UNQUALIFIED_REASONS = (
    "No real project behind the request",
    "Existing customer request; routed to support",
    "Company too small for a sales-assisted deal",
)
_CONTACT_ROLES = (
    "Decision Maker",
    "Economic Buyer",
    "Champion",
    "Technical Buyer",
    "Evaluator",
    "Influencer",
)
_EDITIONS = ("Starter", "Premium", "Ultimate")
_TYPE_LABELS = {
    OpportunityType.NEW_BUSINESS: "New Business",
    OpportunityType.ADD_ON: "Add-On",
    OpportunityType.RENEWAL: "Renewal",
}
_IACV_RANGE = {  # USD
    SalesSegment.SMB: (1_000, 15_000),
    SalesSegment.MID_MARKET: (4_000, 60_000),
    SalesSegment.LARGE: (12_000, 150_000),
    SalesSegment.STRATEGIC: (30_000, 150_000),
    SalesSegment.UNKNOWN: (1_000, 30_000),
}


class Opportunities:
    """Writes the planned opportunities."""

    def __init__(self, run: Run, directory: Directory) -> None:
        self.run = run
        self.directory = directory
        self.rng = run.rng
        self.progress = run.progress
        self.sink = run.sink
        self.now_ts = run.now_ts

    def make_opportunities(self, plans: list[OppPlan]) -> None:
        """Write the planned opportunities with their contact roles, meetings,
        stage history and (created without a lead) funnel entry."""
        rng = self.rng("opportunities")
        rand = rng.random
        now_ts = self.now_ts
        total = len(plans)
        pick_lost_from = Picker(list(LOST_FROM_WEIGHTS.items()))
        pick_reason = Picker(list(_LOST_REASONS.items()))
        pick_sqs = Picker(
            [
                (SalesQualificationSource.AE_GENERATED, 65),
                (SalesQualificationSource.WEB_DIRECT, 12),
                (SalesQualificationSource.BDR_GENERATED, 13),
                (SalesQualificationSource.SDR_GENERATED, 10),
            ]
        )
        sqs_by_role = {
            Role.BDR: SalesQualificationSource.BDR_GENERATED,
            Role.SDR: SalesQualificationSource.SDR_GENERATED,
        }
        last_opp_on_account: dict[int, int] = {}
        rows: list[dict[str, Any]] = []
        role_rows: list[dict[str, Any]] = []
        activity_rows: list[dict[str, Any]] = []
        transition_rows: list[dict[str, Any]] = []
        entry_rows: list[dict[str, Any]] = []
        role_id = 0
        self.progress("opportunities", 0, total)
        for plan in plans:
            opp_id = plan.opp_id
            a = plan.account
            comp = self.directory.accounts[a]
            segment = self.directory.acc_segment[a]
            region = self.directory.acc_region[a]
            account_type = self.directory.acc_type[a]
            conv = plan.lead
            stage = plan.stage
            created = plan.created
            # who, what, how much
            if conv is not None:
                opp_type = OpportunityType.NEW_BUSINESS
                sqs = sqs_by_role.get(
                    self.directory.user_role[conv.owner_id],
                    SalesQualificationSource.AE_GENERATED,
                )
                primary = conv.contact_id
                initial_source = self.directory.contact_source[primary]
            else:
                u = rand()
                if account_type is AccountType.CUSTOMER:
                    opp_type = (
                        OpportunityType.RENEWAL
                        if u < 0.35
                        else OpportunityType.ADD_ON
                        if u < 0.7
                        else OpportunityType.NEW_BUSINESS
                    )
                else:
                    opp_type = (
                        OpportunityType.ADD_ON
                        if u < 0.05
                        else OpportunityType.NEW_BUSINESS
                    )
                sqs = (
                    SalesQualificationSource.AE_GENERATED
                    if opp_type is OpportunityType.RENEWAL
                    else pick_sqs(rand())
                )
                primary = self.directory.contact_start[a] + int(
                    rand() * self.directory.contact_count[a]
                )
                initial_source = self.directory.contact_source[primary]
            if comp.owner_id in self.directory.field_sales_active:
                owner = comp.owner_id
            else:
                pool = self.directory.pool((Role.AE,), region)
                owner = pool[int(rand() * len(pool))]
            low, high = _IACV_RANGE[segment]
            iacv_cents = int(log_uniform(rand(), low, high) * 100)
            if segment is SalesSegment.SMB:
                edition = _EDITIONS[0] if rand() < 0.4 else _EDITIONS[1]
            else:
                edition = _EDITIONS[1] if rand() < 0.55 else _EDITIONS[2]
            seats = max(
                5,
                iacv_cents
                // 100
                // (
                    228
                    if edition == "Premium"
                    else 1188
                    if edition == "Ultimate"
                    else 48
                ),
            )
            name = f"{comp.name} - {_TYPE_LABELS[opp_type]} - {edition} x{seats}"

            # the path through the stages
            direct_won = (
                stage is S.CLOSED_WON
                and conv is None
                and sqs is SalesQualificationSource.WEB_DIRECT
                and rand() < 0.6
            )
            start = (
                S.PRE_OPPORTUNITY
                if stage is S.PRE_OPPORTUNITY
                or (conv is None and not direct_won and rand() < 0.1)
                else S.PENDING_ACCEPTANCE
            )
            path: list[S]
            if direct_won:
                path = [S.CLOSED_WON]
            elif stage in (S.PRE_OPPORTUNITY, S.PENDING_ACCEPTANCE):
                path = [start] if start is stage else [start, stage]
            elif stage in (S.UNQUALIFIED, S.DUPLICATE):
                path = [start, stage]
                if start is S.PRE_OPPORTUNITY and rand() < 0.5:
                    path = [start, S.PENDING_ACCEPTANCE, stage]
            else:
                if stage is S.CLOSED_WON:
                    last = S.AWAITING_SIGNATURE
                elif stage is S.CLOSED_LOST:
                    last = pick_lost_from(rand())
                else:
                    last = stage
                path = list(PIPELINE_STAGES[: PIPE_POS[last] + 1])
                if start is S.PRE_OPPORTUNITY:
                    path.insert(0, start)
                if S.TECHNICAL_EVALUATION in path and rand() < 0.1:
                    path.remove(S.SCOPING)
                if S.NEGOTIATING in path and rand() < 0.08:
                    k = path.index(S.NEGOTIATING) + 1
                    path[k:k] = [S.TECHNICAL_EVALUATION, S.PROPOSAL, S.NEGOTIATING]
                if stage in OUTCOME_STAGES:
                    path.append(stage)
            offsets = [0]
            reached = -1
            for k in range(1, len(path)):
                to = path[k]
                prev = path[k - 1]
                back = (
                    to in PIPE_POS
                    and prev in PIPE_POS
                    and PIPE_POS[to] < PIPE_POS[prev]
                )
                if back:
                    days = 3 + rand() * 12
                else:
                    lo, hi = OPP_STEP[to]
                    days = lo + rand() * (hi - lo)
                offsets.append(offsets[-1] + int(days * DAY))
            available = now_ts - created - 60
            if offsets[-1] > available:
                factor = available / offsets[-1]
                offsets = [int(o * factor) for o in offsets]
            times = [created + o for o in offsets]

            accepted_at = qualified_at = None
            initial_iacv = None
            for k, state in enumerate(path):
                pos = PIPE_POS.get(state, 99 if state is S.CLOSED_WON else -1)
                reached = max(reached, pos)
                if accepted_at is None and pos >= PIPE_POS[S.DISCOVERY]:
                    accepted_at = times[k]
                if qualified_at is None and pos >= PIPE_POS[S.SCOPING]:
                    qualified_at = times[k]
            sales_qualified = qualified_at is not None
            if sales_qualified:
                initial_iacv = money(iacv_cents)
                if rand() < 0.3:  # the deal changed size after qualification
                    iacv_cents = int(iacv_cents * (0.7 + rand() * 0.7))
                    iacv_cents = min(max(iacv_cents, 100_000), 15_000_000)
            iacv = money(iacv_cents)
            is_closed = stage in CLOSED_STAGES
            closed_at = times[-1] if is_closed else None
            close_date = (
                utc_of(closed_at).date()
                if closed_at is not None
                else (utc_of(now_ts) + timedelta(days=10 + int(rand() * 140))).date()
            )
            others = [
                c
                for c in range(
                    self.directory.contact_start[a],
                    self.directory.contact_start[a] + self.directory.contact_count[a],
                )
                if c != primary
            ]
            has_problem = (
                start is not S.PRE_OPPORTUNITY or len(path) > 1 or rand() < 0.5
            )
            reached_proposal = reached >= PIPE_POS[S.PROPOSAL]
            reached_negotiating = reached >= PIPE_POS[S.NEGOTIATING]
            reached_signature = reached >= PIPE_POS[S.AWAITING_SIGNATURE]
            won = stage is S.CLOSED_WON
            poc = reached_proposal and rand() < 0.4
            po = reached_negotiating and rand() < 0.35
            bill_to = (
                (
                    others[int(rand() * len(others))]
                    if others and rand() < 0.5
                    else primary
                )
                if reached_negotiating
                else None
            )
            large = comp.named or segment in LARGE_SEGMENTS or iacv_cents >= 1_200_000
            reasons: list[str] = []
            detail = None
            merged_into = None
            if stage is S.CLOSED_LOST:
                earlier = last_opp_on_account.get(a)
                if earlier is not None and rand() < 0.05:
                    reason = ClosedLostReason.MERGED_INTO_ANOTHER_OPPORTUNITY
                    merged_into = earlier
                else:
                    reason = pick_reason(rand())
                reasons = [reason.value]
                if rand() < 0.25:
                    extra = pick_reason(rand())
                    if extra is not reason:
                        reasons.append(extra.value)
                detail = _LOST_DETAILS[reason]
            screening = (
                RestrictedPartyScreening.CLEARED
                if won
                else RestrictedPartyScreening.PENDING
                if reached_negotiating and stage is not S.CLOSED_LOST
                else RestrictedPartyScreening.NOT_STARTED
            )
            if direct_won:
                accepted_at = qualified_at = created
                sales_qualified = True
                initial_iacv = iacv
            # D11: the milestones each stage reached (the first reach is kept)
            moves = [
                (milestone_of_stage(state), times[k]) for k, state in enumerate(path)
            ]
            if conv is not None:
                campaign = conv.campaign_id
                conv.opportunity_moves = moves
                conv.sales_qualification_source = sqs
            else:
                sources = self.directory.campaign_for_source.get(initial_source) or []
                campaign = (
                    sources[int(rand() * len(sources))]
                    if sources and rand() < 0.7
                    else None
                )
                stamps = opportunity_stamps(created, path[0])
                for milestone, ts in moves:
                    stamps = reach(stamps, milestone, ts)
                entry_rows.append(
                    self.run.entry_row(
                        stamps,
                        lead_id=None,
                        opportunity_id=opp_id,
                        sales_segment=segment,
                        region=region,
                        initial_source=initial_source,
                        sales_qualification_source=sqs,
                        owner_id=owner,
                        campaign_id=campaign,
                    )
                )
            rows.append(
                {
                    "id": opp_id,
                    "version": len(path),
                    "created_at": created,
                    "updated_at": times[-1],
                    "name": name,
                    "account_id": a + 1,
                    "owner_id": owner,
                    "type": opp_type,
                    "pipeline": fitting_pipeline(opp_type, path),
                    "stage": stage,
                    "stage_changed_at": times[-1],
                    "close_date": close_date,
                    "currency": "USD",
                    "incremental_acv": iacv,
                    "initial_iacv": initial_iacv,
                    "sales_accepted_date": accepted_at if accepted_at else None,
                    "sales_qualified": sales_qualified,
                    "sales_qualified_date": qualified_at if qualified_at else None,
                    "sales_qualification_source": sqs,
                    "edition": edition,
                    "primary_contact_id": primary,
                    "initial_source": initial_source,
                    "lead_id": conv.lead_index + 1 if conv is not None else None,
                    "campaign_id": campaign,
                    "business_problem": _BUSINESS_PROBLEMS[
                        int(rand() * len(_BUSINESS_PROBLEMS))
                    ]
                    if has_problem
                    else None,
                    "technical_requirements_confirmed": reached_proposal
                    or (reached >= PIPE_POS[S.TECHNICAL_EVALUATION] and rand() < 0.3),
                    "poc_ran": poc,
                    "poc_notes": _POC_NOTES[int(rand() * 3)] if poc else None,
                    "poc_success_criteria": _POC_CRITERIA[int(rand() * 3)]
                    if poc
                    else None,
                    "bill_to_contact_id": bill_to,
                    "sold_to_contact_id": primary if reached_negotiating else None,
                    "po_will_be_issued": po if reached_negotiating else None,
                    "purchasing_plan": _PURCHASING_PLANS[int(rand() * 4)]
                    if reached_negotiating
                    else None,
                    "business_terms_agreed": reached_signature,
                    "referenceable_customer": (
                        ReferenceableCustomer.YES
                        if rand() < 0.4
                        else ReferenceableCustomer.LATER
                        if rand() < 0.5
                        else ReferenceableCustomer.NO
                    )
                    if reached_signature
                    else None,
                    "signed_order_form_received": won,
                    "po_received": won and po,
                    "restricted_party_screening": screening,
                    "finance_approved": won,
                    "closed_won_details": _WON_DETAILS[int(rand() * 4)]
                    if won and (large or rand() < 0.5)
                    else None,
                    "closed_lost_reasons": reasons,
                    "closed_lost_detail": detail,
                    "merged_into_id": merged_into,
                    "duplicate_of_id": plan.duplicate_target.opp_id
                    if plan.duplicate_target is not None
                    else None,
                    "lost_from_stage": path[-2] if stage is S.CLOSED_LOST else None,
                    "closed_at": closed_at if closed_at is not None else None,
                }
            )
            last_opp_on_account[a] = opp_id
            role_id += 1
            role_rows.append(
                {
                    "id": role_id,
                    "opportunity_id": opp_id,
                    "contact_id": primary,
                    "role": _CONTACT_ROLES[int(rand() * 3)],
                    "is_primary": True,
                    "created_at": created,
                }
            )
            if others and rand() < 0.5:
                role_id += 1
                role_rows.append(
                    {
                        "id": role_id,
                        "opportunity_id": opp_id,
                        "contact_id": others[int(rand() * len(others))],
                        "role": _CONTACT_ROLES[3 + int(rand() * 3)],
                        "is_primary": False,
                        "created_at": created,
                    }
                )
            # history
            for k in range(1, len(path)):
                from_, to = path[k - 1], path[k]
                reason_text = note = None
                if to is S.UNQUALIFIED:
                    reason_text = _OPP_UNQUALIFIED_REASONS[int(rand() * 3)]
                elif to is S.DUPLICATE and plan.duplicate_target is not None:
                    note = f"Duplicate of opportunity {plan.duplicate_target.opp_id}"
                elif to is S.CLOSED_LOST:
                    reason_text = detail
                elif (
                    to in PIPE_POS
                    and from_ in PIPE_POS
                    and PIPE_POS[to] < PIPE_POS[from_]
                ):
                    reason_text = _BACK_REASONS[int(rand() * 3)]
                self.run.transition_id += 1
                transition_rows.append(
                    {
                        "id": self.run.transition_id,
                        "record_type": RecordType.OPPORTUNITY,
                        "record_id": opp_id,
                        "from_state": from_.value,
                        "to_state": to.value,
                        "actor_id": owner,
                        "at": times[k],
                        "reason": reason_text,
                        "note": note,
                        "override": False,
                        "seconds_in_from": times[k] - times[k - 1],
                    }
                )
            # meetings along the way, and the next step of open deals
            meetings = []
            if accepted_at is not None and not direct_won:
                meetings.append(
                    (accepted_at, "Discovery call", ActivityChannel.MEETING)
                )
            if S.PROPOSAL in path:
                k = path.index(S.PROPOSAL)
                meetings.append(
                    (times[k], "Proposal walkthrough", ActivityChannel.MEETING)
                )
            for at, subject, channel in meetings:
                activity_rows.append(
                    self.run.activity_row(
                        ActivityKind.EVENT,
                        channel,
                        ActivityDirection.OUTBOUND,
                        subject,
                        at,
                        at,
                        "Held",
                        owner,
                        "GOOGLE_CALENDAR",
                        None,
                        primary,
                        a + 1,
                        opp_id,
                        at,
                    )
                )
            if not is_closed and rand() < 0.6:
                due = now_ts + DAY + int(rand() * 14 * DAY)
                activity_rows.append(
                    self.run.activity_row(
                        ActivityKind.TASK,
                        ActivityChannel.EMAIL,
                        ActivityDirection.OUTBOUND,
                        "Send recap and next steps",
                        due,
                        None,
                        None,
                        owner,
                        "SALESFORCE",
                        None,
                        primary,
                        a + 1,
                        opp_id,
                        times[-1] + int(rand() * (now_ts - times[-1])),
                    )
                )
            if len(rows) >= CHUNK:
                self._flush_opportunities(
                    rows, role_rows, activity_rows, transition_rows, entry_rows
                )
                self.progress("opportunities", opp_id, total)
        self._flush_opportunities(
            rows, role_rows, activity_rows, transition_rows, entry_rows
        )
        self.progress("opportunities", total, total)

    def _flush_opportunities(self, *lists: list[dict[str, Any]]) -> None:
        for table, rows in zip(
            (OPPORTUNITIES, CONTACT_ROLES, ACTIVITIES, TRANSITIONS, FUNNEL_ENTRIES),
            lists,
            strict=True,
        ):
            self.sink.insert(table, rows)
            rows.clear()


def fitting_pipeline(
    opp_type: OpportunityType, path: Sequence[OpportunityStage]
) -> Pipeline:
    """The pipeline named like the deal's type when every move of its path is
    one of that pipeline's (a renewal that never went through 2-Scoping),
    else NEW_BUSINESS, where every D3 path is valid."""
    named = Pipeline.__members__.get(opp_type.value, Pipeline.NEW_BUSINESS)
    machine = machine_for(named)
    if (
        path
        and path[0] in PIPELINES[named].start_stages
        and all(machine.rule(a, b) is not None for a, b in itertools.pairwise(path))
    ):
        return named
    return Pipeline.NEW_BUSINESS
