"""MQL lead scoring (D6): a profile and engagements in, a score with its breakdown out.

The points, word lists, free-mail domains and thresholds live in a
``ScoringTable``: immutable data that sales ops may replace with an edited copy
(``dataclasses.replace(DEFAULT_SCORING_TABLE, mql_threshold=80, version=2)``).
The points of every rule, the free-mail list and the two thresholds are stored
in the database as a versioned table (``domain.services.scoring_table``); a
``ScoringTableEdit`` says what a sales-ops edit changes. The word lists, the
careers window and the once-a-day kinds are the D6 decisions below, kept in
code.

Besides its breakdown, a score carries its ``ScoreFacts``: what it rests on
apart from the points (which title rules and email domain apply, how many
careers penalties the visits earn). They are stored on the lead, so that an
edited table can rescore every lead in SQL from the facts and a GROUP BY over
the engagements, without this function running once per lead.

Decisions where the spec is silent (the spec's own D6 decisions are applied
as written):

- Title words are whole words, compared casefolded; a title is split on
  anything that is not a letter or digit, so "Sr.Director" and "Vice-President"
  are words too. No stemming: "Engineering", "Developers", "Managers" do not
  match "engineer", "developer", "manager" ("Head of Engineering" is senior,
  not technical). "Vice President" is a seniority phrase (it spells out VP);
  "SVP", "EVP" and "Sr" are not in the default list.
- A title with no letter at all (missing, blank, "12345", "--") is "blank or
  numeric" and scores -10.
- +5 needs a syntactically valid email outside the free-mail list, -5 a valid
  one inside it; no email or an invalid one gives neither.
- Page visits (enterprise trial, pricing, features, installation, careers)
  count once per kind per UTC calendar day: the earliest visit of the day
  counts, later ones that day are left out of the breakdown.
- Careers ("-25 pts: Multiple career page visits in 7 days", seed
  002_91dd8e67a169a832.txt; D6 round 2): every careers visit is scanned in
  time order, same-day repeats included (the once-a-day rule above is for
  positive points only). A visit less than 7 days (``< 168 h``) after the
  pending visit gives -25 once and clears the pending visit, so the next
  visit opens a new window; a visit 7 days or more after the pending one
  becomes the new pending visit. Two visits the same day or 6 days apart
  score -25, 7 or 8 days apart score nothing, four visits on four
  consecutive days (or on one day) score -25 twice.
- Every other engagement counts every time it happens (two unsubscribes are
  -50, two trial requests +200).
- The score is not capped, upwards or downwards: it may be negative.
- The breakdown lists only lines that change the score: zero-point kinds
  (WEB_CHAT, a single careers visit) and same-day repeat visits are left out.
  Demographic lines come first (title, then email), then engagement lines in
  time order; the careers penalty line carries the visit that triggered it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType

from domain.enums import EngagementKind, ErrorCode
from domain.errors import Refusal
from domain.rules.business_days import require_utc
from domain.rules.matching import (
    DEFAULT_FREE_MAIL_DOMAINS,
    email_domain,
    is_free_mail,
    web_domain,
)

# Stable ids of the demographic and derived rules (engagement rules use the
# EngagementKind value as their id).
TITLE_SENIORITY = "TITLE_SENIORITY"
TITLE_BLANK_OR_TECHNICAL = "TITLE_BLANK_OR_TECHNICAL"
COMPANY_EMAIL = "COMPANY_EMAIL"
FREE_MAIL = "FREE_MAIL"
CAREERS_PAGE_VISITS = "CAREERS_PAGE_VISITS"
DEMOGRAPHIC_RULES: tuple[str, ...] = (
    TITLE_SENIORITY,
    TITLE_BLANK_OR_TECHNICAL,
    COMPANY_EMAIL,
    FREE_MAIL,
)
# Every rule id, in the order the table lists them (demographic, kinds, careers).
RULE_IDS: tuple[str, ...] = (
    *DEMOGRAPHIC_RULES,
    *(kind.value for kind in EngagementKind),
    CAREERS_PAGE_VISITS,
)
# Bounds of an edit (D6's own values range from -25 to +100).
MAX_POINTS = 1_000
MAX_THRESHOLD = 10_000
MAX_FREE_MAIL_DOMAINS = 10_000

_K = EngagementKind

DEFAULT_POINTS: Mapping[EngagementKind, int] = MappingProxyType(
    {
        _K.TRIAL_REQUEST: 100,
        _K.CONTACT_US_REQUEST: 100,
        _K.PROFESSIONAL_SERVICES_REQUEST: 100,
        _K.HIGH_INTENT_LIVE_ATTENDED: 90,
        _K.ENTERPRISE_TRIAL_PAGE_VISIT: 50,
        _K.HIGH_INTENT_ON_DEMAND_WATCHED: 45,
        _K.TRADESHOW_BOOTH_VISIT: 30,
        _K.LIVE_EVENT_ATTENDED: 30,
        _K.GATED_ASSET_DOWNLOAD: 30,
        _K.WEBCAST_REGISTRATION: 15,
        _K.LOW_INTENT_LIVE_ATTENDED: 15,
        _K.LOW_INTENT_ON_DEMAND_WATCHED: 15,
        _K.NEWSLETTER_OPT_IN: 10,
        _K.SECURITY_NEWSLETTER_OPT_IN: 10,
        _K.WEBCAST_EMAIL_OPT_IN: 10,
        _K.LIVE_EVENT_EMAIL_OPT_IN: 10,
        _K.PRICING_PAGE_VISIT: 10,
        _K.FEATURES_PAGE_VISIT: 10,
        _K.INSTALLATION_PAGE_VISIT: 2,
        _K.EMAIL_UNSUBSCRIBE: -25,
        # The careers penalty comes from CAREERS_PAGE_VISITS, not each visit.
        _K.CAREERS_PAGE_VISIT: 0,
        # Hand-raising for routing (D8), no points.
        _K.WEB_CHAT: 0,
    }
)

ENGAGEMENT_DESCRIPTIONS: Mapping[EngagementKind, str] = MappingProxyType(
    {
        _K.TRIAL_REQUEST: "Completed a self-managed or SaaS trial request form",
        _K.CONTACT_US_REQUEST: "Completed a Contact Us form",
        _K.PROFESSIONAL_SERVICES_REQUEST: (
            "Completed a Professional Services request form"
        ),
        _K.HIGH_INTENT_LIVE_ATTENDED: (
            "Attended a high-intent live webcast, livestream or demo"
        ),
        _K.ENTERPRISE_TRIAL_PAGE_VISIT: (
            "Visited the Enterprise trial page without completing the form"
        ),
        _K.HIGH_INTENT_ON_DEMAND_WATCHED: (
            "Watched a high-intent on-demand webcast, livestream or demo"
        ),
        _K.TRADESHOW_BOOTH_VISIT: "Visited a booth at a trade show",
        _K.LIVE_EVENT_ATTENDED: "Attended an in-person live event",
        _K.GATED_ASSET_DOWNLOAD: "Downloaded a gated asset",
        _K.WEBCAST_REGISTRATION: "Registered for a livestream, webcast or demo",
        _K.LOW_INTENT_LIVE_ATTENDED: "Attended a low-intent live webcast",
        _K.LOW_INTENT_ON_DEMAND_WATCHED: "Watched a low-intent on-demand webcast",
        _K.NEWSLETTER_OPT_IN: "Opted into the newsletter",
        _K.SECURITY_NEWSLETTER_OPT_IN: "Opted into the security newsletter",
        _K.WEBCAST_EMAIL_OPT_IN: "Opted into webcast emails",
        _K.LIVE_EVENT_EMAIL_OPT_IN: "Opted into live event emails",
        _K.PRICING_PAGE_VISIT: "Visited the pricing page",
        _K.FEATURES_PAGE_VISIT: "Visited the features page",
        _K.INSTALLATION_PAGE_VISIT: "Visited the installation page",
        _K.EMAIL_UNSUBSCRIBE: "Unsubscribed from email",
        _K.CAREERS_PAGE_VISIT: "Visited the careers page",
        _K.WEB_CHAT: "Started a web chat",
    }
)

DEFAULT_DAILY_ONCE_KINDS: frozenset[EngagementKind] = frozenset(
    {
        _K.ENTERPRISE_TRIAL_PAGE_VISIT,
        _K.PRICING_PAGE_VISIT,
        _K.FEATURES_PAGE_VISIT,
        _K.INSTALLATION_PAGE_VISIT,
        _K.CAREERS_PAGE_VISIT,
    }
)

# Whole words or phrases, lowercase; a phrase matches consecutive title words.
DEFAULT_SENIORITY_WORDS: tuple[str, ...] = (
    "vp",
    "vice president",
    "manager",
    "director",
    "senior",
    "head",
)
DEFAULT_TECHNICAL_WORDS: tuple[str, ...] = ("developer", "engineer")


@dataclass(frozen=True, slots=True)
class ScoringRule:
    """One row of the scoring table: a stable rule id, its points, what it means."""

    rule: str
    points: int
    description: str


# The default thresholds (D6): a score at or above the first makes a lead an MQL,
# at or above the second routes an unowned lead (D8 rule 6).
MQL_THRESHOLD = 90
ROUTING_THRESHOLD = 50


@dataclass(frozen=True, slots=True)
class ScoringTable:
    """The scoring model as data: points, word lists, free mail, thresholds."""

    engagement_points: Mapping[EngagementKind, int] = field(
        default_factory=lambda: DEFAULT_POINTS
    )
    title_seniority_points: int = 50
    company_email_points: int = 5
    free_mail_points: int = -5
    title_blank_or_technical_points: int = -10
    careers_visits_points: int = -25
    careers_window: timedelta = timedelta(days=7)
    seniority_words: tuple[str, ...] = DEFAULT_SENIORITY_WORDS
    technical_words: tuple[str, ...] = DEFAULT_TECHNICAL_WORDS
    free_mail_domains: frozenset[str] = DEFAULT_FREE_MAIL_DOMAINS
    daily_once_kinds: frozenset[EngagementKind] = DEFAULT_DAILY_ONCE_KINDS
    mql_threshold: int = MQL_THRESHOLD
    routing_threshold: int = ROUTING_THRESHOLD
    version: int = 1

    def points_for(self, kind: EngagementKind) -> int:
        """Points of one engagement kind; a kind missing from the table is 0."""
        return self.engagement_points.get(kind, 0)

    def points_by_rule(self) -> dict[str, int]:
        """Rule id -> points, for every rule of the table."""
        return {row.rule: row.points for row in self.rules()}

    def with_points(self, points: Mapping[str, int]) -> ScoringTable:
        """A copy with these rules' points (rule ids of ``RULE_IDS``) changed."""
        kinds = {k.value: k for k in EngagementKind}
        engagement = dict(self.engagement_points)
        scalars: dict[str, int] = {}
        for rule, value in points.items():
            if rule in kinds:
                engagement[kinds[rule]] = value
            else:
                scalars[_SCALAR_FIELDS[rule]] = value
        return replace(
            self,
            engagement_points=MappingProxyType(engagement),
            **scalars,  # type: ignore[arg-type]
        )

    def rules(self) -> tuple[ScoringRule, ...]:
        """Every row of the table, demographic rules first, for display."""
        demographic = (
            ScoringRule(
                TITLE_SENIORITY,
                self.title_seniority_points,
                "Title contains " + _word_list(self.seniority_words),
            ),
            ScoringRule(
                TITLE_BLANK_OR_TECHNICAL,
                self.title_blank_or_technical_points,
                "Title blank, numeric only, or contains "
                + _word_list(self.technical_words),
            ),
            ScoringRule(
                COMPANY_EMAIL, self.company_email_points, "Valid company email"
            ),
            ScoringRule(
                FREE_MAIL, self.free_mail_points, "Email at a free-mail domain"
            ),
        )
        behaviour = tuple(
            ScoringRule(kind.value, self.points_for(kind), _describe(kind))
            for kind in EngagementKind
        )
        careers = ScoringRule(
            CAREERS_PAGE_VISITS,
            self.careers_visits_points,
            f"Multiple careers-page visits within {self.careers_window.days} days",
        )
        return (*demographic, *behaviour, careers)


DEFAULT_SCORING_TABLE = ScoringTable()

# The rules that are fields of the table rather than engagement kinds.
_SCALAR_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        TITLE_SENIORITY: "title_seniority_points",
        TITLE_BLANK_OR_TECHNICAL: "title_blank_or_technical_points",
        COMPANY_EMAIL: "company_email_points",
        FREE_MAIL: "free_mail_points",
        CAREERS_PAGE_VISITS: "careers_visits_points",
    }
)


def _word_list(words: Iterable[str]) -> str:
    """Human list of title words: "VP, Manager or Head"."""
    shown = [w.upper() if len(w) <= 3 else w.title() for w in words]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def _describe(kind: EngagementKind) -> str:
    """Human description of an engagement kind."""
    return ENGAGEMENT_DESCRIPTIONS.get(kind, kind.value)


def validate_scoring_table(table: ScoringTable) -> list[Refusal]:
    """Reasons an edited scoring table may not be used (empty when it may)."""
    refusals: list[Refusal] = []
    if table.mql_threshold <= 0:
        refusals.append(
            Refusal.on(
                "mql_threshold",
                ErrorCode.INVALID_INPUT,
                "The MQL threshold must be positive.",
            )
        )
    if table.routing_threshold <= 0:
        refusals.append(
            Refusal.on(
                "routing_threshold",
                ErrorCode.INVALID_INPUT,
                "The routing threshold must be positive.",
            )
        )
    for name, value in (
        ("mql_threshold", table.mql_threshold),
        ("routing_threshold", table.routing_threshold),
    ):
        if value > MAX_THRESHOLD:
            refusals.append(
                Refusal.on(
                    name,
                    ErrorCode.INVALID_INPUT,
                    f"A threshold may not be above {MAX_THRESHOLD:,}.",
                )
            )
    if table.routing_threshold > table.mql_threshold:
        refusals.append(
            Refusal.on(
                "routing_threshold",
                ErrorCode.INVALID_INPUT,
                "The routing threshold may not be above the MQL threshold.",
            )
        )
    if table.careers_window <= timedelta(0):
        refusals.append(
            Refusal.on(
                "careers_window",
                ErrorCode.INVALID_INPUT,
                "The careers-visit window must be positive.",
            )
        )
    return refusals


def normalize_free_mail_domain(domain: str) -> str:
    """A free-mail domain as it is compared: trimmed, lowercased, no final dot."""
    return domain.strip().lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class ScoringTableEdit:
    """What a sales-ops edit of the table changes; what is not given stays.

    ``points`` are (rule id, points) pairs, rule ids as in ``RULE_IDS``;
    ``free_mail_domains`` replaces the whole list when given.
    """

    points: tuple[tuple[str, int], ...] = ()
    mql_threshold: int | None = None
    routing_threshold: int | None = None
    free_mail_domains: tuple[str, ...] | None = None

    def refusals(self) -> list[Refusal]:
        """Every reason the edit itself is invalid (unknown rule, bad value…)."""
        found: list[Refusal] = []
        if (
            not self.points
            and self.mql_threshold is None
            and self.routing_threshold is None
            and self.free_mail_domains is None
        ):
            found.append(
                Refusal.on(
                    None,
                    ErrorCode.INVALID_INPUT,
                    "Nothing to change: give points, a threshold or free-mail domains.",
                )
            )
        seen: set[str] = set()
        for i, (rule, points) in enumerate(self.points):
            if rule not in RULE_IDS:
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=f"{rule!r} is not a scoring rule; the rules are "
                        + ", ".join(RULE_IDS)
                        + ".",
                        field=("points", str(i), "rule"),
                    )
                )
            elif rule in seen:
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=f"{rule} is listed twice.",
                        field=("points", str(i), "rule"),
                    )
                )
            seen.add(rule)
            if not -MAX_POINTS <= points <= MAX_POINTS:
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=f"Points must be between -{MAX_POINTS:,} and "
                        f"{MAX_POINTS:,}; {rule} was given {points:,}.",
                        field=("points", str(i), "points"),
                    )
                )
        for i, domain in enumerate(self.free_mail_domains or ()):
            clean = normalize_free_mail_domain(domain)
            if web_domain(clean) != clean:
                found.append(
                    Refusal(
                        code=ErrorCode.INVALID_INPUT,
                        message=f"{domain!r} is not an email domain (e.g. gmail.com).",
                        field=("free_mail_domains", str(i)),
                    )
                )
        if len(self.free_mail_domains or ()) > MAX_FREE_MAIL_DOMAINS:
            found.append(
                Refusal.on(
                    "free_mail_domains",
                    ErrorCode.INVALID_INPUT,
                    f"At most {MAX_FREE_MAIL_DOMAINS:,} free-mail domains.",
                )
            )
        return found

    def applied_to(self, table: ScoringTable) -> ScoringTable:
        """The next version of ``table`` with this (valid) edit applied."""
        edited = table.with_points(dict(self.points))
        domains = (
            table.free_mail_domains
            if self.free_mail_domains is None
            else frozenset(
                normalize_free_mail_domain(d) for d in self.free_mail_domains
            )
        )
        return replace(
            edited,
            mql_threshold=(
                table.mql_threshold
                if self.mql_threshold is None
                else self.mql_threshold
            ),
            routing_threshold=(
                table.routing_threshold
                if self.routing_threshold is None
                else self.routing_threshold
            ),
            free_mail_domains=domains,
            version=table.version + 1,
        )


@dataclass(frozen=True, slots=True)
class EngagementFact:
    """One engagement as scoring sees it: id (None before it is stored), kind, when."""

    id: int | None
    kind: EngagementKind
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One line of a score's breakdown: which rule, how many points, from what."""

    rule: str
    points: int
    engagement_id: int | None
    description: str


@dataclass(frozen=True, slots=True)
class ScoreFacts:
    """What a score rests on apart from the points of the table.

    The title rules that apply, the domain of a valid email (free mail or not
    is the table's list to say) and how many careers penalties the visits
    earn. None of them changes when sales ops edit points, thresholds or the
    free-mail list, so they are stored on the lead and an edited table
    rescores every lead from them (with the engagements counted by kind).
    """

    title_seniority: bool = False
    title_blank_or_technical: bool = False
    email_domain: str | None = None
    careers_penalties: int = 0


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A score and its breakdown; the lines sum to ``total``."""

    total: int
    demographic: int
    behaviour: int
    breakdown: tuple[ScoreLine, ...] = field(default=())
    facts: ScoreFacts = field(default_factory=ScoreFacts)


_WORD = re.compile(r"[^\W_]+")


def _title_words(title: str) -> tuple[str, ...]:
    """Casefolded whole words (letters and digits) of a title."""
    return tuple(_WORD.findall(title.casefold()))


def _first_phrase(words: tuple[str, ...], phrases: Iterable[str]) -> str | None:
    """The first phrase whose words appear consecutively in ``words``, if any."""
    for phrase in phrases:
        wanted = tuple(phrase.casefold().split())
        size = len(wanted)
        if size and any(
            words[i : i + size] == wanted for i in range(len(words) - size + 1)
        ):
            return phrase
    return None


@lru_cache(maxsize=4096)
def _title_phrases(
    title: str | None,
    seniority_words: tuple[str, ...],
    technical_words: tuple[str, ...],
) -> tuple[str | None, str | None]:
    """(the title's first seniority phrase, its first technical phrase); titles
    repeat down a list, so each is read once (measured: half a list import's
    scoring)."""
    words = _title_words(title or "")
    return (
        _first_phrase(words, seniority_words),
        _first_phrase(words, technical_words),
    )


def _title_lines(title: str | None, table: ScoringTable) -> list[ScoreLine]:
    """Title rules: seniority and blank/numeric/technical may both apply."""
    senior, technical = _title_phrases(
        title, table.seniority_words, table.technical_words
    )
    lines: list[ScoreLine] = []
    if senior is not None:
        lines.append(
            ScoreLine(
                TITLE_SENIORITY,
                table.title_seniority_points,
                None,
                f"Title contains {_word_list([senior])}",
            )
        )
    if not any(c.isalpha() for c in title or ""):
        lines.append(
            ScoreLine(
                TITLE_BLANK_OR_TECHNICAL,
                table.title_blank_or_technical_points,
                None,
                "Title is blank or numeric",
            )
        )
    elif technical is not None:
        lines.append(
            ScoreLine(
                TITLE_BLANK_OR_TECHNICAL,
                table.title_blank_or_technical_points,
                None,
                f"Title contains {_word_list([technical])}",
            )
        )
    return lines


def _email_lines(email: str | None, table: ScoringTable) -> list[ScoreLine]:
    """Email rules: +company email or -free mail; nothing without a valid email."""
    domain = email_domain(email)
    if domain is None:
        return []
    if is_free_mail(domain, table.free_mail_domains):
        return [
            ScoreLine(
                FREE_MAIL, table.free_mail_points, None, f"Free-mail domain {domain}"
            )
        ]
    return [
        ScoreLine(
            COMPANY_EMAIL, table.company_email_points, None, f"Company email {domain}"
        )
    ]


def _in_time_order(engagements: Iterable[EngagementFact]) -> list[EngagementFact]:
    """Engagements by time, then id (unsaved ones last), for a stable breakdown."""
    return sorted(
        engagements,
        key=lambda e: (
            require_utc(e.occurred_at, "occurred_at"),
            e.id is None,
            e.id or 0,
        ),
    )


def _behaviour_lines(
    engagements: Iterable[EngagementFact], table: ScoringTable
) -> tuple[list[ScoreLine], int]:
    """Engagement points with same-day visits counted once and the careers rule.

    Also returns how many times the careers rule applies, whatever its points.
    """
    lines: list[ScoreLine] = []
    penalties = 0
    seen_days: set[tuple[EngagementKind, date]] = set()
    pending_careers_visit: datetime | None = None
    for engagement in _in_time_order(engagements):
        at = require_utc(engagement.occurred_at, "occurred_at")
        repeat_today = False
        if engagement.kind in table.daily_once_kinds:
            day_key = (engagement.kind, at.date())
            repeat_today = day_key in seen_days
            seen_days.add(day_key)
        points = table.points_for(engagement.kind)
        # Once a day is for positive page-visit points only: a same-day repeat
        # earns nothing but still counts towards the careers penalty (D6).
        if points and not repeat_today:
            lines.append(
                ScoreLine(
                    engagement.kind.value,
                    points,
                    engagement.id,
                    _describe(engagement.kind),
                )
            )
        if engagement.kind is not EngagementKind.CAREERS_PAGE_VISIT:
            continue
        if (
            pending_careers_visit is not None
            and at - pending_careers_visit < table.careers_window
        ):
            pending_careers_visit = None
            penalties += 1
            if table.careers_visits_points:
                lines.append(
                    ScoreLine(
                        CAREERS_PAGE_VISITS,
                        table.careers_visits_points,
                        engagement.id,
                        "Multiple careers-page visits within "
                        f"{table.careers_window.days} days",
                    )
                )
        else:
            pending_careers_visit = at
    return lines, penalties


def score(
    title: str | None,
    email: str | None,
    engagements: Iterable[EngagementFact],
    table: ScoringTable = DEFAULT_SCORING_TABLE,
) -> ScoreResult:
    """The person score of a profile and its engagements, with the breakdown."""
    title_lines = _title_lines(title, table)
    # A rule whose points sales ops set to 0 is a fact, not a line.
    demographic = [
        line for line in (*title_lines, *_email_lines(email, table)) if line.points
    ]
    behaviour, careers_penalties = _behaviour_lines(engagements, table)
    demographic_points = sum(line.points for line in demographic)
    behaviour_points = sum(line.points for line in behaviour)
    title_rules = {line.rule for line in title_lines}
    return ScoreResult(
        total=demographic_points + behaviour_points,
        demographic=demographic_points,
        behaviour=behaviour_points,
        breakdown=(*demographic, *behaviour),
        facts=ScoreFacts(
            title_seniority=TITLE_SENIORITY in title_rules,
            title_blank_or_technical=TITLE_BLANK_OR_TECHNICAL in title_rules,
            email_domain=email_domain(email),
            careers_penalties=careers_penalties,
        ),
    )


def crossed(before: int, after: int, threshold: int) -> bool:
    """True when a score went from below the threshold to at or above it."""
    return before < threshold <= after
