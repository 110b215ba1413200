"""The leads of the demo data set: each drawn from its own random stream, with its
engagements, activities, status history and funnel entry (D11).

A lead enters INQUIRY on a hand-raise (D2: a kind of
``INQUIRY_ENGAGEMENT_KINDS``, the first engagement of its path; page visits only
after it) and comes back from NURTURE on a new one.
A lead's ``person_score`` is exactly its D6 demographic points plus the points
of its engagements (no same-day repeat visits, no careers visits), below the
MQL threshold unless its path went through MQL; a lead at the routing
threshold, or one that was accepted, has an owner: whom D8 routing
(``route_lead``, on everything the lead asked for, as ``routeLead`` decides)
names, or a working member of the pool it names; a lead routing leaves
unowned (passive, below the threshold) but that was accepted was taken by a
BDR of its region. Accepted leads have a first-touch activity, qualifying
ones a completed two-way activity before the change.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from typing import Any

from domain.enums import (
    ActivityChannel,
    ActivityDirection,
    ActivityKind,
    EngagementKind,
    LeadStatus,
    RecordType,
    Region,
    Role,
)
from domain.lifecycle.lead import INQUIRY_ENGAGEMENT_KINDS, MQL_THRESHOLD
from domain.rules.business_days import sla_due_at
from domain.rules.funnel import lead_stamps, milestone_of_status, reach
from domain.rules.matching import email_domain
from domain.rules.routing import (
    DEFAULT_ROUTING_TABLE,
    AccountFacts,
    RoutingFacts,
    route_lead,
)
from domain.rules.scoring import (
    DEFAULT_POINTS,
    DEFAULT_SCORING_TABLE,
    ENGAGEMENT_DESCRIPTIONS,
)
from domain.rules.scoring import score as score_profile
from domain.rules.segmentation import sales_segment_for
from domain.rules.timeouts import SEEDED_TIMEOUTS, lead_timeout_at
from tools.demo.catalog import (
    FIRST_NAMES,
    FREE_MAIL,
    LAST_NAMES,
    LEAD_TITLES,
    SOURCE_DEFS,
    SOURCE_INDEX,
    SOURCES_INQUIRY,
    SOURCES_MQL,
    SOURCES_NO_TOUCH,
    SOURCES_SALES_TOUCH,
    STREETS,
    email_local,
)
from tools.demo.directory import Company, Directory
from tools.demo.draw import DAY, HOUR, Picker, log_uniform, seconds_of, utc_of
from tools.demo.load import (
    ACTIVITIES,
    CHUNK,
    ENGAGEMENTS,
    FUNNEL_ENTRIES,
    LEADS,
    TRANSITIONS,
)
from tools.demo.plan import (
    FIRST_HAND_RAISE,
    FORM_CREATES_LEAD,
    LEAD_PATHS,
    LEAD_STEP,
    MQL_AFTER_WARM_UP,
    Converted,
    lead_statuses,
)
from tools.demo.run import Run

ROUTING_THRESHOLD = DEFAULT_SCORING_TABLE.routing_threshold

L = LeadStatus
K = EngagementKind

# Boosters added (in this order, first unused) until an MQL path reaches 90.
_BOOSTERS = (
    K.ENTERPRISE_TRIAL_PAGE_VISIT,
    K.HIGH_INTENT_ON_DEMAND_WATCHED,
    K.HIGH_INTENT_LIVE_ATTENDED,
    K.TRIAL_REQUEST,
)
# First hand-raises of an MQL path that did not cross the threshold at once:
# a content offer, a webcast registration, a trade-show meeting (D2).
_WARM_UPS = (K.GATED_ASSET_DOWNLOAD, K.WEBCAST_REGISTRATION, K.TRADESHOW_BOOTH_VISIT)
_HAND_RAISING = {K.TRIAL_REQUEST, K.HIGH_INTENT_LIVE_ATTENDED, K.WEB_CHAT}
_SLA_KINDS = {K.CONTACT_US_REQUEST, K.PROFESSIONAL_SERVICES_REQUEST}
_POINTS = {kind: DEFAULT_POINTS[kind] for kind in K}
_MOMENTS = {kind: ENGAGEMENT_DESCRIPTIONS[kind] for kind in K}

_LEAD_REASONS = {
    L.UNQUALIFIED: (
        "No budget and no project",
        "Student or personal use",
        "Spam form submission",
        "Works for a competitor",
        "Not a decision maker; no interest from the team",
        "Already a customer through a reseller",
    ),
    L.NURTURE: (
        "Not ready to buy now; revisit next quarter",
        "Evaluating in 6 to 12 months",
        "Budget only in the next fiscal year",
        "Went silent after first contact",
        "Happy with the current tool for now",
    ),
    L.BAD_DATA: (
        "Email bounced",
        "Fake name and company",
        "Phone number invalid",
        "Company cannot be identified",
    ),
}

_WEBCAST_KINDS = {
    K.WEBCAST_REGISTRATION,
    K.HIGH_INTENT_LIVE_ATTENDED,
    K.LOW_INTENT_LIVE_ATTENDED,
    K.HIGH_INTENT_ON_DEMAND_WATCHED,
    K.LOW_INTENT_ON_DEMAND_WATCHED,
    K.WEBCAST_EMAIL_OPT_IN,
}
_EVENT_KINDS = {
    K.TRADESHOW_BOOTH_VISIT,
    K.LIVE_EVENT_ATTENDED,
    K.LIVE_EVENT_EMAIL_OPT_IN,
}
_NEWSLETTER_KINDS = {K.NEWSLETTER_OPT_IN, K.SECURITY_NEWSLETTER_OPT_IN}


class Leads:
    """Draws the leads (the converted ones first) and writes them."""

    def __init__(self, run: Run, directory: Directory, scale: float) -> None:
        self.run = run
        self.directory = directory
        self.now_ts = run.now_ts
        self.progress = run.progress
        self.sink = run.sink
        self.n_leads = max(50, round(2_000 * scale))
        self.engagement_id = 0

    def plan_leads(self) -> dict[int, Converted]:
        """Each lead's status and creation time; the converted leads drawn ahead
        of the contacts and opportunities they became."""
        n = self.n_leads
        statuses, created = lead_statuses(self.run.rng("lead-plan"), n, self.now_ts)
        self.lead_status: list[L] = statuses
        self.lead_created = created
        self.lead_seed = (self.run.seed * 1_000_003 + 17) * 10_000_019
        self.lead_rng = random.Random()
        self._prepare_lead_tables()
        self.converted: dict[int, Converted] = {}
        self.converted_rows: dict[int, dict[str, Any]] = {}
        for i in range(n):
            if statuses[i] is L.QUALIFIED:
                row, _e, _a, transitions = self.draw_lead(i, None)
                self.converted[i] = Converted(
                    lead_index=i,
                    email=row["email"],
                    account=row["account_id"] - 1,
                    converted_at=transitions[-1][2],
                    owner_id=row["owner_id"],
                    campaign_id=row["campaign_id"],
                )
                self.converted_rows[i] = row
        return self.converted

    def _prepare_lead_tables(self) -> None:
        self.path_pickers = {
            status: Picker(list(paths)) for status, paths in LEAD_PATHS.items()
        }
        self.source_pickers = {
            name: Picker([(SOURCE_INDEX[s], w) for s, w in table.items()])
            for name, table in (
                ("none", SOURCES_NO_TOUCH),
                ("inquiry", SOURCES_INQUIRY),
                ("mql", SOURCES_MQL),
                ("sales", SOURCES_SALES_TOUCH),
            )
        }
        self.pick_title = Picker([(i, w) for i, (_t, w) in enumerate(LEAD_TITLES)])
        # the hand-raises (D2) among each source's lighter touches: what brings
        # a nurtured lead back to INQUIRY
        self.hand_raises = [
            tuple(kind for kind in low if kind in INQUIRY_ENGAGEMENT_KINDS)
            for _name, _form, low, _high in SOURCE_DEFS
        ]
        # D6 demographic points by title and by (company, free-mail) email
        self.demographic = [
            (
                score_profile(title, "someone@example-company.com", []).total,
                score_profile(title, "someone@gmail.com", []).total,
            )
            for title, _w in LEAD_TITLES
        ]
        # ... and the facts the score rests on (D6; demo leads visit no careers page)
        self.title_facts = [
            score_profile(title, None, []).facts for title, _w in LEAD_TITLES
        ]
        # routed leads went to a working member of the pool routing names; a
        # lead routing leaves unowned (passive, below the threshold) was taken
        # by a BDR of its region
        table = DEFAULT_ROUTING_TABLE
        active = {u.id for u in self.directory.users if u.active}
        self.pools = {
            key: [u for u in ids if u in active] or ids
            for key, ids in self.directory.pool_members.items()
        }
        self.bdr_pool = {
            r: table.bdr_pools.get(r, table.prequalification_pool)
            if r is not None
            else table.prequalification_pool
            for r in [*Region, None]
        }
        self.account_facts: dict[int, AccountFacts] = {}

    def _account_facts(self, comp: Company | None) -> AccountFacts | None:
        """The lead's account as routing sees it (read once per account)."""
        if comp is None or comp.account_id is None:
            return None
        facts = self.account_facts.get(comp.account_id)
        if facts is None:
            owner = self.directory.user_by_id.get(comp.owner_id or 0)
            facts = self.account_facts[comp.account_id] = AccountFacts(
                id=comp.account_id,
                owner_id=comp.owner_id,
                owner_role=owner.role if owner else None,
                owner_active=bool(owner and owner.active),
                owner_is_sales_admin=bool(owner and owner.role is Role.SALES_ADMIN),
                is_named=comp.named,
                name=comp.name,
            )
        return facts

    def campaign_for(
        self, kind: K, ts: int, source: str, first: bool, u: float
    ) -> int | None:
        """The campaign an engagement names: a webcast or event running then, the
        newsletter, or (first touch only) one of the source's campaigns."""
        if kind in _WEBCAST_KINDS and self.directory.webcasts:
            k = max(0, bisect_right(self.directory.webcasts, (ts, 1 << 30)) - 1)
            return self.directory.webcasts[k][1]
        if kind in _EVENT_KINDS and self.directory.events:
            k = max(0, bisect_right(self.directory.events, (ts, 1 << 30)) - 1)
            return self.directory.events[k][1]
        if kind in _NEWSLETTER_KINDS and self.directory.newsletter_campaigns:
            return self.directory.newsletter_campaigns[0]
        if first:
            ids = self.directory.campaign_for_source[source]
            if ids:
                return ids[int(u * len(ids))]
        return None

    def draw_lead(
        self, i: int, conv: Converted | None
    ) -> tuple[
        dict[str, Any],
        list[tuple[K, int]],
        list[tuple[Any, ...]],
        list[tuple[Any, ...]],
    ]:
        """Lead ``i``, from its own random stream.

        Returns (row, engagements, activities, transitions).

        Engagements are (kind, ts); activities (kind, channel, direction,
        subject, due ts, completed ts, disposition); transitions (from, to,
        ts, actor, reason, note). ``conv`` is given once the lead's contact
        and opportunity exist.
        """
        r = self.lead_rng
        r.seed(self.lead_seed + i)
        rand = r.random
        status = self.lead_status[i]
        created = self.lead_created[i]
        path = self.path_pickers[status](rand())
        has_inquiry = L.INQUIRY in path
        has_mql = L.MQL in path
        accepted = L.ACCEPTED in path
        if not has_inquiry:
            category = "none"
        elif has_mql:
            category = "mql"
        elif accepted:
            category = "sales"
        else:
            category = "inquiry"
        src = self.source_pickers[category](rand())
        source, form, low, high = SOURCE_DEFS[src]

        # who and where
        first = FIRST_NAMES[int(rand() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(rand() * len(LAST_NAMES))]
        style = rand()
        u = rand()
        free = False
        comp: Company | None
        if status is L.QUALIFIED or u < 0.35:
            available = bisect_right(self.directory.acc_created, created) or 1
            comp = self.directory.accounts[int(rand() * available)]
            domain = comp.domain
        elif u < 0.5:
            free = True
            domain = FREE_MAIL[int(rand() * len(FREE_MAIL))]
            comp = (
                self.directory.companies[int(rand() * len(self.directory.companies))]
                if rand() < 0.5
                else None
            )
        else:
            comp = self.directory.companies[int(rand() * len(self.directory.companies))]
            domain = comp.domain
        if comp is not None and rand() < 0.85:
            loc_i = comp.loc
        else:
            loc_i = self.directory.pick_loc(rand())
        loc = self.directory.locs[loc_i]
        if comp is not None:
            employees = comp.employees
            public = comp.public
            named = comp.named
            company: str | None = comp.name
        else:
            employees = None
            public = loc.is_us and rand() < 0.03
            named = False
            company = None
        segment = sales_segment_for(employees, is_named=named)
        region = loc.public_region if public else loc.region
        title_i = self.pick_title(rand())
        title = LEAD_TITLES[title_i][0]
        score = self.demographic[title_i][1 if free else 0]
        phone = (
            f"{loc.phone} {100 + int(rand() * 900)} {1000 + int(rand() * 9000)}"
            if rand() < 0.7
            else None
        )
        street = f"{1 + int(rand() * 9_900)} {STREETS[int(rand() * 20)]}"

        # the path, as offsets from creation
        known_before = True
        engagements: list[tuple[K, int]] = []
        steps: list[tuple[L, L, int]] = []  # (from, to, offset)
        t = 0
        current = L.RAW
        for state in path:
            if state is L.INQUIRY and not engagements:
                # Most people are known (a list, a sign-up, a scanned badge)
                # before they first raise a hand; a form may create the lead.
                if form and rand() < FORM_CREATES_LEAD:
                    known_before = False
                else:
                    lo, hi = FIRST_HAND_RAISE
                    t += int(log_uniform(rand(), lo, hi))
                warm_up: K | None = None
                if has_mql:
                    kinds = list(high)
                    total = score
                    if rand() < MQL_AFTER_WARM_UP:
                        # a first, lighter hand-raise; the MQL comes later
                        warm_up = next(
                            k
                            for k in (*low, *_WARM_UPS)
                            if k in _WARM_UPS and k not in kinds
                        )
                        total += _POINTS[warm_up]
                    crossed_at = -1
                    for k, kind in enumerate(kinds):
                        total += _POINTS[kind]
                        if total >= MQL_THRESHOLD:
                            crossed_at = k
                            break
                    if crossed_at < 0:
                        for kind in _BOOSTERS:
                            if kind in kinds and kind in (
                                K.ENTERPRISE_TRIAL_PAGE_VISIT,
                                K.TRIAL_REQUEST,
                            ):
                                continue
                            kinds.append(kind)
                            total += _POINTS[kind]
                            if total >= MQL_THRESHOLD:
                                break
                        crossed_at = len(kinds) - 1
                    kinds = kinds[: crossed_at + 1]
                    if warm_up is not None:
                        kinds.insert(0, warm_up)
                else:
                    # the source's hand-raise makes the Inquiry (D2), a web
                    # chat when that alone would cross the threshold; lighter
                    # touches follow
                    hand_raise = low[0]
                    if score + _POINTS[hand_raise] >= MQL_THRESHOLD:
                        hand_raise = K.WEB_CHAT
                    kinds = [hand_raise]
                    total = score + _POINTS[hand_raise]
                    for kind in low[1:]:
                        if rand() < 0.4:
                            continue
                        if total + _POINTS[kind] < MQL_THRESHOLD:
                            kinds.append(kind)
                            total += _POINTS[kind]
                for k, kind in enumerate(kinds):
                    if k == 1 and warm_up is not None:
                        lo, hi = LEAD_STEP[L.MQL]
                        t += int(log_uniform(rand(), lo, hi))
                    elif k:
                        t += HOUR + int(rand() * 6 * DAY)
                    engagements.append((kind, t))
                    if k == 0:
                        steps.append((current, L.INQUIRY, t))
                        current = L.INQUIRY
                score = total
                if has_mql:
                    steps.append((L.INQUIRY, L.MQL, t))
                    current = L.MQL
            elif state is L.MQL:
                continue  # reached with the engagement that crossed the threshold
            elif state is L.INQUIRY:  # back from NURTURE on a new hand-raise
                lo, hi = LEAD_STEP[L.INQUIRY]
                t += int(log_uniform(rand(), lo, hi))
                raises = self.hand_raises[src]
                kind = raises[int(rand() * len(raises))]
                if score + _POINTS[kind] >= MQL_THRESHOLD or kind in {
                    e[0] for e in engagements
                }:
                    kind = K.WEB_CHAT
                score += _POINTS[kind]
                engagements.append((kind, t))
                steps.append((current, L.INQUIRY, t))
                current = L.INQUIRY
            else:
                lo, hi = LEAD_STEP[state]
                t += int(log_uniform(rand(), lo, hi))
                steps.append((current, state, t))
                current = state

        # fit the history between creation and now
        available = self.now_ts - created - 60
        if t > available:
            factor = available / t
            engagements = [(kind, int(o * factor)) for kind, o in engagements]
            steps = [(a, b, int(o * factor)) for a, b, o in steps]

        # owner: routing (score at the routing threshold) or acceptance
        owner: int | None = None
        if accepted or score >= ROUTING_THRESHOLD:
            # D8 on everything the lead asked for, as ``routeLead`` decides
            decision = route_lead(
                RoutingFacts(
                    segment=segment,
                    region=region,
                    now=utc_of(created + (engagements[-1][1] if engagements else 0)),
                    is_public_sector=public,
                    country=loc.country,
                    initial_source=source,
                    person_score=score,
                    engagement_kinds=frozenset(kind for kind, _o in engagements),
                    account=self._account_facts(comp),
                )
            )
            owner = decision.assignee_user_id
            if owner is None:
                pool = self.pools[decision.pool or self.bdr_pool[region]]
                owner = pool[int(rand() * len(pool))]

        # activities (offsets) and transitions (absolute ts)
        activities: list[tuple[Any, ...]] = []
        transitions: list[tuple[Any, ...]] = []
        previous = 0
        touched_at: int | None = None
        for from_, to, offset in steps:
            ts = created + offset
            reason = note = None
            actor: int | None = None
            if to is L.ACCEPTED:
                actor = owner
                gap = min(DAY, max(60, self.now_ts - ts - 60))
                touched_at = ts + int(rand() * gap)
                channel = (
                    ActivityChannel.EMAIL if rand() < 0.6 else ActivityChannel.CALL
                )
                activities.append(
                    (
                        ActivityKind.TASK,
                        channel,
                        ActivityDirection.OUTBOUND,
                        "Intro email"
                        if channel is ActivityChannel.EMAIL
                        else "First call attempt",
                        touched_at,
                        touched_at,
                        "Sent"
                        if channel is ActivityChannel.EMAIL
                        else "Left voicemail",
                    )
                )
            elif to is L.QUALIFYING:
                actor = owner
                at = ts - int(rand() * min(2 * DAY, max(1, (offset - previous) // 2)))
                u2 = rand()
                if u2 < 0.4:
                    two_way = (
                        ActivityKind.EVENT,
                        ActivityChannel.MEETING,
                        ActivityDirection.OUTBOUND,
                        "Discovery meeting",
                    )
                elif u2 < 0.7:
                    two_way = (
                        ActivityKind.EVENT,
                        ActivityChannel.CALL,
                        ActivityDirection.OUTBOUND,
                        "Connected call",
                    )
                elif u2 < 0.9:
                    two_way = (
                        ActivityKind.TASK,
                        ActivityChannel.EMAIL,
                        ActivityDirection.INBOUND,
                        "Re: Intro email",
                    )
                else:
                    two_way = (
                        ActivityKind.EVENT,
                        ActivityChannel.WEB_CHAT,
                        ActivityDirection.INBOUND,
                        "Web chat",
                    )
                activities.append((*two_way, at, at, "Connected"))
            elif to is L.QUALIFIED:
                actor = owner
                note = "Converted (D7)"
            elif to in _LEAD_REASONS:
                actor = owner or self.directory.sales_ops_id
                reasons = _LEAD_REASONS[to]
                reason = reasons[int(rand() * len(reasons))]
            elif to is L.WEB_PORTAL_PURCHASE:
                note = f"Web store order WS-{100_000 + int(rand() * 900_000)}"
            elif to is L.RAW:
                actor = owner or self.directory.marketing_ops_id
                reason = "Contact data corrected"
            transitions.append((from_, to, ts, actor, reason, note, offset - previous))
            previous = offset
        last_change = created + (steps[-1][2] if steps else 0)
        if status in (L.ACCEPTED, L.QUALIFYING) and rand() < 0.6:
            due = self.now_ts + DAY + int(rand() * 10 * DAY)
            activities.append(
                (
                    ActivityKind.TASK,
                    ActivityChannel.CALL,
                    ActivityDirection.OUTBOUND,
                    "Follow-up call",
                    due,
                    None,
                    None,
                )
            )

        # SLA (D8): Contact Us and Professional Services requests
        sla_start = sla_due = sla_met = None
        timeout_at = None
        if owner is not None and engagements and engagements[0][0] in _SLA_KINDS:
            routed = created + engagements[0][1]
            sla_start = routed
            sla_due = seconds_of(sla_due_at(utc_of(routed)))
            if touched_at is None and rand() < 0.7:
                touched_at = routed + int(rand() * 1.6 * DAY)
                if touched_at < self.now_ts:
                    activities.append(
                        (
                            ActivityKind.TASK,
                            ActivityChannel.CALL,
                            ActivityDirection.OUTBOUND,
                            "Contact Us follow-up",
                            touched_at,
                            touched_at,
                            "Left voicemail",
                        )
                    )
                else:
                    touched_at = None
            if touched_at is not None:
                sla_met = touched_at

        # active until (D8), the last interesting moment, campaigns (D11: the
        # first engagement naming a campaign is the first touch; a lead without
        # engagements may come from a campaign's list)
        active_until = None
        moment = None
        eng_rows = []
        first_touch: int | None = None
        for k, (kind, offset) in enumerate(engagements):
            ts = created + offset
            campaign = self.campaign_for(kind, ts, source, k == 0, rand())
            if first_touch is None:
                first_touch = campaign
            eng_rows.append((kind, ts, campaign))
            if kind in _HAND_RAISING:
                until = ts + 60 * DAY
                if active_until is None or until > active_until:
                    active_until = until
            if _POINTS[kind] > 0:
                moment = _MOMENTS[kind]

        if not engagements and rand() < 0.5:  # imported from a campaign's list
            ids = self.directory.campaign_for_source[source]
            if ids:
                first_touch = ids[int(rand() * len(ids))]
        if conv is not None:
            email = conv.email
        else:
            email = self.run.emails.unique(email_local(first, last, style), domain)
        lead_source = source
        if rand() < 0.15:
            lead_source = SOURCE_DEFS[int(rand() * len(SOURCE_DEFS))][0]
        if form and not known_before:
            created_by = None
        elif source == "Outbound":
            created_by = owner
        else:
            created_by = self.directory.marketing_ops_id
        if status is L.ACCEPTED:
            # Its timeout (issue 14 item 4) under the seeded table: from the
            # acceptance or the last activity completed by now.
            done = [
                a[5] for a in activities if a[5] is not None and a[5] <= self.now_ts
            ]
            due = lead_timeout_at(
                SEEDED_TIMEOUTS,
                utc_of(last_change),
                utc_of(max(done)) if done else None,
            )
            timeout_at = seconds_of(due) if due is not None else None
        row = {
            "id": i + 1,
            "version": 1 + len(transitions),
            "created_at": created,
            "updated_at": last_change,
            "first_name": first,
            "last_name": last,
            "email": email,
            "company": company,
            "title": title,
            "phone": phone,
            "number_of_employees": employees,
            "street": street,
            "city": loc.city,
            "state": loc.state,
            "postal_code": loc.postal,
            "country": loc.country,
            "is_public_sector": public,
            "sales_segment": segment,
            "region": region,
            "initial_source": source,
            "lead_source": lead_source,
            "status": status,
            "status_changed_at": last_change,
            "person_score": score,
            "owner_id": owner,
            "account_id": comp.account_id if comp is not None else None,
            "active_until": active_until if active_until else None,
            "last_interesting_moment": moment,
            "sla_started_at": sla_start,
            "sla_due_at": sla_due,
            "sla_met_at": sla_met,
            "timeout_at": timeout_at,
            "converted_at": last_change if status is L.QUALIFIED else None,
            "converted_account_id": conv.account + 1 if conv else None,
            "converted_contact_id": conv.contact_id if conv else None,
            "converted_opportunity_id": conv.opportunity_id if conv else None,
            "campaign_id": first_touch,
            "created_by_id": created_by,
            # Demo leads carry no stored routing decision; routeLead makes one.
            "routing_rule": None,
            "routing_reason": None,
            "routing_pool": None,
            "routed_to_id": None,
            "routed_at": None,
            "score_title_seniority": self.title_facts[title_i].title_seniority,
            "score_title_blank_or_technical": (
                self.title_facts[title_i].title_blank_or_technical
            ),
            "score_email_domain": email_domain(email),
            "score_careers_penalties": 0,
        }
        return row, eng_rows, activities, transitions

    def make_leads(self) -> None:
        """Write every lead: engagements, activities, history, funnel entry."""
        n = self.n_leads
        converted = self.converted
        created_list = self.lead_created
        lead_rows: list[dict[str, Any]] = []
        engagement_rows: list[dict[str, Any]] = []
        activity_rows: list[dict[str, Any]] = []
        transition_rows: list[dict[str, Any]] = []
        entry_rows: list[dict[str, Any]] = []
        lead_type = RecordType.LEAD
        self.progress("leads", 0, n)
        for i in range(n):
            conv = converted.get(i)
            row, engagements, activities, transitions = self.draw_lead(i, conv)
            lead_rows.append(row)
            lead_id = i + 1
            contact_id = conv.contact_id if conv is not None else None
            source = row["initial_source"]
            owner = row["owner_id"]
            last_change = transitions[-1][2] if transitions else created_list[i]
            for kind, ts, campaign in engagements:
                self.engagement_id += 1
                engagement_rows.append(
                    {
                        "id": self.engagement_id,
                        "lead_id": lead_id,
                        "contact_id": contact_id,
                        "kind": kind,
                        "occurred_at": ts,
                        "campaign_id": campaign,
                        "created_at": ts,
                    }
                )
            for kind, channel, direction, subject, due, done, disposition in activities:
                activity_rows.append(
                    self.run.activity_row(
                        kind,
                        channel,
                        direction,
                        subject,
                        due,
                        done,
                        disposition,
                        owner,
                        "OUTREACH",
                        lead_id,
                        contact_id,
                        None,
                        None,
                        done if done is not None else last_change,
                    )
                )
            stamps = lead_stamps(created_list[i])
            for _from, to, ts, *_rest in transitions:
                stamps = reach(stamps, milestone_of_status(to), ts)
            if conv is not None and conv.opportunity_moves:
                for milestone, ts in conv.opportunity_moves:
                    stamps = reach(stamps, milestone, ts)
            entry_rows.append(
                self.run.entry_row(
                    stamps,
                    lead_id=lead_id,
                    opportunity_id=conv.opportunity_id
                    if conv is not None and conv.opportunity_moves
                    else None,
                    sales_segment=row["sales_segment"],
                    region=row["region"],
                    initial_source=source,
                    sales_qualification_source=conv.sales_qualification_source
                    if conv is not None
                    else None,
                    owner_id=owner,
                    campaign_id=row["campaign_id"],
                )
            )
            for from_, to, ts, actor, reason, note, seconds in transitions:
                self.run.transition_id += 1
                transition_rows.append(
                    {
                        "id": self.run.transition_id,
                        "record_type": lead_type,
                        "record_id": lead_id,
                        "from_state": from_.value,
                        "to_state": to.value,
                        "actor_id": actor,
                        "at": ts,
                        "reason": reason,
                        "note": note,
                        "override": False,
                        "seconds_in_from": seconds,
                    }
                )
            if len(lead_rows) >= CHUNK:
                self._flush_leads(
                    lead_rows,
                    engagement_rows,
                    activity_rows,
                    transition_rows,
                    entry_rows,
                )
                self.progress("leads", i + 1, n)
        self._flush_leads(
            lead_rows, engagement_rows, activity_rows, transition_rows, entry_rows
        )
        self.progress("leads", n, n)

    def _flush_leads(self, *lists: list[dict[str, Any]]) -> None:
        for table, rows in zip(
            (LEADS, ENGAGEMENTS, ACTIVITIES, TRANSITIONS, FUNNEL_ENTRIES),
            lists,
            strict=True,
        ):
            self.sink.insert(table, rows)
            rows.clear()
