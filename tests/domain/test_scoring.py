"""D6 MQL scoring: every row of the table, the decisions, mixed profiles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest

from domain.enums import EngagementKind, ErrorCode
from domain.rules.scoring import (
    DEFAULT_POINTS,
    DEFAULT_SCORING_TABLE,
    RULE_IDS,
    EngagementFact,
    ScoreFacts,
    ScoreResult,
    ScoringTableEdit,
    crossed,
    score,
    validate_scoring_table,
)

K = EngagementKind
MONDAY = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    """A moment counted from Monday 4 March 2024, 12:00 UTC."""
    return MONDAY + timedelta(days=days, hours=hours)


def fact(
    kind: EngagementKind, when: datetime = MONDAY, id: int | None = 1
) -> EngagementFact:
    """An engagement as scoring sees it."""
    return EngagementFact(id=id, kind=kind, occurred_at=when)


def facts(*pairs: tuple[EngagementKind, datetime]) -> list[EngagementFact]:
    """Engagements numbered 1, 2, 3… in the order given."""
    return [fact(kind, when, i) for i, (kind, when) in enumerate(pairs, start=1)]


def assert_consistent(result: ScoreResult) -> None:
    """The breakdown sums to the total, and the parts add up."""
    assert sum(line.points for line in result.breakdown) == result.total
    assert result.demographic + result.behaviour == result.total


# --- every row of the D6 table -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "points"),
    [
        (K.TRIAL_REQUEST, 100),
        (K.CONTACT_US_REQUEST, 100),
        (K.PROFESSIONAL_SERVICES_REQUEST, 100),
        (K.HIGH_INTENT_LIVE_ATTENDED, 90),
        (K.ENTERPRISE_TRIAL_PAGE_VISIT, 50),
        (K.HIGH_INTENT_ON_DEMAND_WATCHED, 45),
        (K.TRADESHOW_BOOTH_VISIT, 30),
        (K.LIVE_EVENT_ATTENDED, 30),
        (K.GATED_ASSET_DOWNLOAD, 30),
        (K.WEBCAST_REGISTRATION, 15),
        (K.LOW_INTENT_LIVE_ATTENDED, 15),
        (K.LOW_INTENT_ON_DEMAND_WATCHED, 15),
        (K.NEWSLETTER_OPT_IN, 10),
        (K.SECURITY_NEWSLETTER_OPT_IN, 10),
        (K.WEBCAST_EMAIL_OPT_IN, 10),
        (K.LIVE_EVENT_EMAIL_OPT_IN, 10),
        (K.PRICING_PAGE_VISIT, 10),
        (K.FEATURES_PAGE_VISIT, 10),
        (K.INSTALLATION_PAGE_VISIT, 2),
        (K.EMAIL_UNSUBSCRIBE, -25),
        (K.CAREERS_PAGE_VISIT, 0),
        (K.WEB_CHAT, 0),
    ],
)
def test_each_engagement_kind_scores_its_row_of_the_table(
    kind: EngagementKind, points: int
) -> None:
    result = score("Analyst", None, [fact(kind, id=7)])

    assert result.behaviour == points
    assert result.total == points
    lines = [(line.rule, line.points, line.engagement_id) for line in result.breakdown]
    assert lines == ([] if points == 0 else [(kind.value, points, 7)])


def test_every_engagement_kind_has_default_points() -> None:
    assert set(DEFAULT_POINTS) == set(EngagementKind)
    assert DEFAULT_SCORING_TABLE.engagement_points is DEFAULT_POINTS


def test_default_thresholds_are_90_for_mql_and_50_for_routing() -> None:
    assert DEFAULT_SCORING_TABLE.mql_threshold == 90
    assert DEFAULT_SCORING_TABLE.routing_threshold == 50
    assert DEFAULT_SCORING_TABLE.version == 1


@pytest.mark.parametrize(
    ("title", "points"),
    [
        ("VP Engineering", 50),
        ("vp of sales", 50),
        ("Vice President, Marketing", 50),
        ("Vice-President", 50),
        ("IT Manager", 50),
        ("Director of IT", 50),
        ("Senior Analyst", 50),
        ("Head of Infrastructure", 50),
        ("HEAD OF PLATFORM", 50),
        ("Analyst", 0),
        ("CEO", 0),
        ("SVP Sales", 0),
        ("Managers", 0),
        ("Management Consultant", 0),
        ("Headhunter", 0),
        ("Seniority Officer", 0),
    ],
)
def test_title_seniority_matches_whole_words_case_insensitively(
    title: str, points: int
) -> None:
    assert score(title, None, []).demographic == points


@pytest.mark.parametrize(
    ("title", "points"),
    [
        (None, -10),
        ("", -10),
        ("   ", -10),
        ("12345", -10),
        ("42 - 7", -10),
        ("Developer", -10),
        ("Software Engineer", -10),
        ("software ENGINEER II", -10),
        ("Developer Advocate", -10),
        ("Engineering Lead", 0),
        ("Developers Relations", 0),
        ("Reengineer", 0),
        ("Analyst 2", 0),
    ],
)
def test_title_blank_numeric_or_technical_costs_ten_points(
    title: str | None, points: int
) -> None:
    assert score(title, None, []).demographic == points


def test_senior_developer_gets_both_title_rules() -> None:
    result = score("Senior Developer", None, [])

    assert result.total == 40
    assert [(line.rule, line.points) for line in result.breakdown] == [
        ("TITLE_SENIORITY", 50),
        ("TITLE_BLANK_OR_TECHNICAL", -10),
    ]


def test_head_of_engineering_is_senior_but_not_technical() -> None:
    assert score("Head of Engineering", None, []).total == 50


def test_engineering_manager_is_senior_and_engineer_manager_is_both() -> None:
    assert score("Engineering Manager", None, []).total == 50
    assert score("Engineer / Manager", None, []).total == 40


def test_seniority_counts_once_however_many_words_match() -> None:
    assert score("Senior Director, Head of VP Office", None, []).demographic == 50


@pytest.mark.parametrize(
    ("email", "rule", "points"),
    [
        ("jane@acme.com", "COMPANY_EMAIL", 5),
        ("  Jane.Doe@Acme.COM ", "COMPANY_EMAIL", 5),
        ("jane@mail.acme.co.uk", "COMPANY_EMAIL", 5),
        ("jane@gmail.com", "FREE_MAIL", -5),
        ("JANE@HOTMAIL.COM", "FREE_MAIL", -5),
        ("jane@yahoo.com", "FREE_MAIL", -5),
        ("jane@aol.com", "FREE_MAIL", -5),
        ("jane@outlook.com", "FREE_MAIL", -5),
        ("jane@gmx.de", "FREE_MAIL", -5),
        ("jane@proton.me", "FREE_MAIL", -5),
        ("jane@qq.com", "FREE_MAIL", -5),
    ],
)
def test_email_gives_five_for_company_and_minus_five_for_free_mail(
    email: str, rule: str, points: int
) -> None:
    result = score("Analyst", email, [])

    assert result.demographic == points
    assert [(line.rule, line.points) for line in result.breakdown] == [(rule, points)]


@pytest.mark.parametrize("email", [None, "", "   ", "jane", "jane@", "@acme.com"])
def test_missing_or_invalid_email_gives_neither_email_rule(email: str | None) -> None:
    assert score("Analyst", email, []).breakdown == ()


def test_invalid_email_at_a_free_mail_domain_gives_nothing() -> None:
    assert score("Analyst", "ja ne@gmail.com", []).total == 0


# --- page visits count once per calendar day ------------------------------------


def test_same_page_visited_twice_on_one_day_counts_once() -> None:
    result = score(
        "Analyst",
        None,
        facts((K.PRICING_PAGE_VISIT, at(0)), (K.PRICING_PAGE_VISIT, at(0, 3))),
    )

    assert result.total == 10
    assert [(line.rule, line.engagement_id) for line in result.breakdown] == [
        ("PRICING_PAGE_VISIT", 1)
    ]


def test_the_earliest_visit_of_the_day_is_the_one_counted() -> None:
    result = score(
        "Analyst",
        None,
        [
            fact(K.FEATURES_PAGE_VISIT, at(0, 5), 1),
            fact(K.FEATURES_PAGE_VISIT, at(0, 1), 2),
        ],
    )

    assert [line.engagement_id for line in result.breakdown] == [2]


def test_same_page_on_two_calendar_days_counts_twice_even_an_hour_apart() -> None:
    late_monday = datetime(2024, 3, 4, 23, 30, tzinfo=UTC)
    early_tuesday = datetime(2024, 3, 5, 0, 30, tzinfo=UTC)

    result = score(
        "Analyst",
        None,
        facts(
            (K.PRICING_PAGE_VISIT, late_monday), (K.PRICING_PAGE_VISIT, early_tuesday)
        ),
    )

    assert result.total == 20


def test_calendar_days_are_utc_days() -> None:
    late_monday_utc = datetime(2024, 3, 4, 23, 30, tzinfo=UTC)
    tuesday_in_paris_but_monday_in_utc = datetime(
        2024, 3, 5, 0, 30, tzinfo=timezone(timedelta(hours=2))
    )

    result = score(
        "Analyst",
        None,
        facts(
            (K.PRICING_PAGE_VISIT, late_monday_utc),
            (K.PRICING_PAGE_VISIT, tuesday_in_paris_but_monday_in_utc),
        ),
    )

    assert result.total == 10


@pytest.mark.parametrize(
    ("kind", "points"),
    [
        (K.ENTERPRISE_TRIAL_PAGE_VISIT, 50),
        (K.PRICING_PAGE_VISIT, 10),
        (K.FEATURES_PAGE_VISIT, 10),
        (K.INSTALLATION_PAGE_VISIT, 2),
    ],
)
def test_every_page_visit_kind_counts_once_per_day(
    kind: EngagementKind, points: int
) -> None:
    three_same_day = facts((kind, at(0)), (kind, at(0, 1)), (kind, at(0, 2)))

    assert score("Analyst", None, three_same_day).total == points


def test_different_pages_on_the_same_day_each_count() -> None:
    result = score(
        "Analyst",
        None,
        facts(
            (K.PRICING_PAGE_VISIT, at(0)),
            (K.FEATURES_PAGE_VISIT, at(0, 1)),
            (K.INSTALLATION_PAGE_VISIT, at(0, 2)),
        ),
    )

    assert result.total == 22


def test_non_page_engagements_count_every_time() -> None:
    result = score(
        "Analyst",
        None,
        facts(
            (K.EMAIL_UNSUBSCRIBE, at(0)),
            (K.EMAIL_UNSUBSCRIBE, at(0, 1)),
            (K.WEBCAST_REGISTRATION, at(0, 2)),
            (K.WEBCAST_REGISTRATION, at(0, 3)),
        ),
    )

    assert result.total == -20


# --- careers-page penalty -----------------------------------------------------


def careers(*days: float) -> list[EngagementFact]:
    """Careers-page visits on the given days after Monday noon, ids 1, 2, 3…"""
    return facts(*((K.CAREERS_PAGE_VISIT, at(d)) for d in days))


def test_a_single_careers_visit_costs_nothing() -> None:
    assert score("Analyst", None, careers(0)).breakdown == ()


def test_two_careers_visits_six_days_apart_cost_25() -> None:
    result = score("Analyst", None, careers(0, 6))

    assert result.total == -25
    assert [
        (line.rule, line.points, line.engagement_id) for line in result.breakdown
    ] == [("CAREERS_PAGE_VISITS", -25, 2)]


def test_two_careers_visits_just_under_seven_days_apart_cost_25() -> None:
    assert score("Analyst", None, careers(0, 7 - 1 / 24)).total == -25


def test_two_careers_visits_exactly_seven_days_apart_cost_nothing() -> None:
    assert score("Analyst", None, careers(0, 7)).total == 0


def test_two_careers_visits_eight_days_apart_cost_nothing() -> None:
    assert score("Analyst", None, careers(0, 8)).total == 0


def test_two_careers_visits_on_the_same_day_cost_25() -> None:
    """D6 round 2: "Multiple career page visits in 7 days" (seed
    002_91dd8e67a169a832.txt) — the same day is within 7 days; once a day is for
    positive page-visit points only."""
    result = score("Analyst", None, careers(0, 0.25))

    assert result.total == -25
    assert [
        (line.rule, line.points, line.engagement_id) for line in result.breakdown
    ] == [("CAREERS_PAGE_VISITS", -25, 2)]
    assert result.facts.careers_penalties == 1


def test_four_careers_visits_on_one_day_cost_25_twice() -> None:
    result = score("Analyst", None, careers(0, 0.1, 0.2, 0.3))

    assert result.total == -50
    assert [line.engagement_id for line in result.breakdown] == [2, 4]


def test_a_same_day_repeat_of_a_positive_page_visit_still_earns_nothing() -> None:
    result = score(
        "Analyst",
        None,
        facts(
            (K.PRICING_PAGE_VISIT, at(0)),
            (K.PRICING_PAGE_VISIT, at(0.1)),
            (K.CAREERS_PAGE_VISIT, at(0.2)),
            (K.CAREERS_PAGE_VISIT, at(0.3)),
        ),
    )

    assert [(line.rule, line.engagement_id) for line in result.breakdown] == [
        ("PRICING_PAGE_VISIT", 1),
        ("CAREERS_PAGE_VISITS", 4),
    ]
    assert result.total == 10 - 25


def test_three_careers_visits_in_one_week_cost_25_once() -> None:
    assert score("Analyst", None, careers(0, 1, 2)).total == -25


def test_four_careers_visits_on_consecutive_days_cost_25_twice() -> None:
    result = score("Analyst", None, careers(0, 1, 2, 3))

    assert result.total == -50
    assert [line.engagement_id for line in result.breakdown] == [2, 4]


def test_a_stale_careers_visit_gives_way_to_a_new_window() -> None:
    result = score("Analyst", None, careers(0, 8, 10))

    assert result.total == -25
    assert [line.engagement_id for line in result.breakdown] == [3]


def test_careers_visits_are_scanned_in_time_order_whatever_the_input_order() -> None:
    shuffled = [
        fact(K.CAREERS_PAGE_VISIT, at(10), 3),
        fact(K.CAREERS_PAGE_VISIT, at(0), 1),
        fact(K.CAREERS_PAGE_VISIT, at(8), 2),
    ]

    assert [line.engagement_id for line in score("A", None, shuffled).breakdown] == [3]


# --- no cap, mixed profiles -----------------------------------------------------


def test_the_score_is_not_capped_below_zero() -> None:
    result = score(
        None,
        "kid@gmail.com",
        facts((K.EMAIL_UNSUBSCRIBE, at(0)), (K.EMAIL_UNSUBSCRIBE, at(1))),
    )

    assert result.total == -65
    assert (result.demographic, result.behaviour) == (-15, -50)
    assert_consistent(result)


def test_the_score_is_not_capped_above_one_hundred() -> None:
    result = score(
        "VP Engineering",
        "cto@acme.com",
        facts(
            (K.TRIAL_REQUEST, at(0)),
            (K.CONTACT_US_REQUEST, at(1)),
            (K.HIGH_INTENT_LIVE_ATTENDED, at(2)),
        ),
    )

    assert result.total == 345
    assert_consistent(result)


def test_senior_developer_at_a_company_who_browsed_and_registered() -> None:
    result = score(
        "Senior Developer",
        "dev@acme.io",
        facts(
            (K.PRICING_PAGE_VISIT, at(0)),
            (K.PRICING_PAGE_VISIT, at(0, 2)),
            (K.FEATURES_PAGE_VISIT, at(0, 3)),
            (K.WEBCAST_REGISTRATION, at(1)),
            (K.WEB_CHAT, at(2)),
        ),
    )

    assert (result.total, result.demographic, result.behaviour) == (80, 45, 35)
    assert [
        (line.rule, line.points, line.engagement_id) for line in result.breakdown
    ] == [
        ("TITLE_SENIORITY", 50, None),
        ("TITLE_BLANK_OR_TECHNICAL", -10, None),
        ("COMPANY_EMAIL", 5, None),
        ("PRICING_PAGE_VISIT", 10, 1),
        ("FEATURES_PAGE_VISIT", 10, 3),
        ("WEBCAST_REGISTRATION", 15, 4),
    ]
    assert_consistent(result)


def test_gmail_engineer_job_hunting_ends_negative() -> None:
    result = score(
        "Software Engineer",
        "me@gmail.com",
        facts(
            (K.GATED_ASSET_DOWNLOAD, at(0)),
            (K.CAREERS_PAGE_VISIT, at(1)),
            (K.CAREERS_PAGE_VISIT, at(3)),
            (K.EMAIL_UNSUBSCRIBE, at(4)),
        ),
    )

    assert (result.total, result.demographic, result.behaviour) == (-35, -15, -20)
    assert_consistent(result)


def test_director_with_trial_request_reaches_mql() -> None:
    result = score("Director of IT", "boss@acme.com", facts((K.TRIAL_REQUEST, at(0))))

    assert result.total == 155
    assert result.total >= DEFAULT_SCORING_TABLE.mql_threshold
    assert_consistent(result)


def test_manager_visiting_the_enterprise_trial_page_enters_routing_not_mql() -> None:
    result = score(
        "IT Manager",
        "it@acme.com",
        facts(
            (K.ENTERPRISE_TRIAL_PAGE_VISIT, at(0)),
            (K.ENTERPRISE_TRIAL_PAGE_VISIT, at(0, 1)),
        ),
    )

    assert result.total == 105
    assert result.total >= DEFAULT_SCORING_TABLE.routing_threshold


def test_analyst_with_newsletter_and_installation_stays_below_routing() -> None:
    result = score(
        "Analyst",
        "a@acme.com",
        facts((K.NEWSLETTER_OPT_IN, at(0)), (K.INSTALLATION_PAGE_VISIT, at(1))),
    )

    assert result.total == 17
    assert_consistent(result)


def test_unsaved_engagements_score_and_come_after_saved_ones_at_the_same_time() -> None:
    result = score(
        "Analyst",
        None,
        [
            fact(K.WEBCAST_REGISTRATION, at(0), None),
            fact(K.NEWSLETTER_OPT_IN, at(0), 9),
        ],
    )

    assert [line.engagement_id for line in result.breakdown] == [9, None]
    assert result.total == 25


def test_naive_engagement_time_is_a_bug() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        score("Analyst", None, [fact(K.WEB_CHAT, datetime(2024, 3, 4, 12))])


# --- the table is data ----------------------------------------------------------


def test_an_edited_table_changes_points_free_mail_and_words() -> None:
    table = replace(
        DEFAULT_SCORING_TABLE,
        engagement_points=MappingProxyType({**DEFAULT_POINTS, K.WEB_CHAT: 20}),
        free_mail_domains=frozenset({"acme.com"}),
        seniority_words=("chief",),
        version=2,
    )

    result = score("Chief Manager", "x@acme.com", [fact(K.WEB_CHAT)], table)

    assert result.total == 50 - 5 + 20
    assert score("Chief Manager", "x@acme.com", [fact(K.WEB_CHAT)]).total == 55


def test_an_edited_careers_window_moves_the_edge() -> None:
    table = replace(DEFAULT_SCORING_TABLE, careers_window=timedelta(days=10))

    assert score("Analyst", None, careers(0, 8), table).total == -25


def test_the_default_table_lists_every_rule_once() -> None:
    rules = [row.rule for row in DEFAULT_SCORING_TABLE.rules()]

    assert len(rules) == len(set(rules)) == len(EngagementKind) + 5
    assert {"TITLE_SENIORITY", "TITLE_BLANK_OR_TECHNICAL", "COMPANY_EMAIL"} <= set(
        rules
    )
    assert {"FREE_MAIL", "CAREERS_PAGE_VISITS"} <= set(rules)
    points = {row.rule: row.points for row in DEFAULT_SCORING_TABLE.rules()}
    assert points["TITLE_SENIORITY"] == 50
    assert points["COMPANY_EMAIL"] == 5
    assert points["FREE_MAIL"] == -5
    assert points["TITLE_BLANK_OR_TECHNICAL"] == -10
    assert points["CAREERS_PAGE_VISITS"] == -25
    assert points["EMAIL_UNSUBSCRIBE"] == -25


def test_the_default_table_is_valid() -> None:
    assert validate_scoring_table(DEFAULT_SCORING_TABLE) == []


def test_a_table_with_routing_above_mql_and_zero_threshold_is_refused() -> None:
    table = replace(DEFAULT_SCORING_TABLE, mql_threshold=0, routing_threshold=60)

    refusals = validate_scoring_table(table)

    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.INVALID_INPUT, ("mql_threshold",)),
        (ErrorCode.INVALID_INPUT, ("routing_threshold",)),
    ]


# --- crossing a threshold -------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (40, 50, True),
        (49, 90, True),
        (0, 100, True),
        (50, 60, False),
        (40, 49, False),
        (60, 40, False),
        (50, 50, False),
    ],
)
def test_crossed_means_from_below_to_at_or_above(
    before: int, after: int, expected: bool
) -> None:
    assert crossed(before, after, 50) is expected


# --- the facts a score rests on ---------------------------------------------------


@pytest.mark.parametrize(
    ("title", "email", "expected"),
    [
        ("Senior Developer", "Jane@Acme.COM", ScoreFacts(True, True, "acme.com", 0)),
        ("VP Sales", "x@gmail.com", ScoreFacts(True, False, "gmail.com", 0)),
        (None, None, ScoreFacts(False, True, None, 0)),
        ("Analyst", "not an email", ScoreFacts(False, False, None, 0)),
    ],
)
def test_a_score_carries_the_facts_of_its_profile(title, email, expected) -> None:
    assert score(title, email, []).facts == expected


def test_careers_penalties_are_counted_even_when_the_penalty_is_zero() -> None:
    table = replace(DEFAULT_SCORING_TABLE, careers_visits_points=0)
    visits = facts(*((K.CAREERS_PAGE_VISIT, at(d)) for d in (0, 1, 2, 3, 20)))

    result = score("Analyst", None, visits, table)

    assert result.total == 0
    assert result.breakdown == ()
    assert result.facts.careers_penalties == 2
    assert score("Analyst", None, visits).facts.careers_penalties == 2


def test_a_demographic_rule_set_to_zero_is_a_fact_and_no_line() -> None:
    table = DEFAULT_SCORING_TABLE.with_points({"TITLE_SENIORITY": 0})

    result = score("Director", "d@acme.com", [], table)

    assert [(line.rule, line.points) for line in result.breakdown] == [
        ("COMPANY_EMAIL", 5)
    ]
    assert result.facts.title_seniority is True


# --- editing the table --------------------------------------------------------------


def test_points_by_rule_names_every_rule_once_in_table_order() -> None:
    points = DEFAULT_SCORING_TABLE.points_by_rule()

    assert tuple(points) == RULE_IDS
    assert len(RULE_IDS) == len(EngagementKind) + 5


def test_with_points_changes_kinds_and_demographic_rules() -> None:
    table = DEFAULT_SCORING_TABLE.with_points(
        {"TRIAL_REQUEST": 80, "FREE_MAIL": -15, "CAREERS_PAGE_VISITS": -30}
    )

    assert table.points_for(K.TRIAL_REQUEST) == 80
    assert (table.free_mail_points, table.careers_visits_points) == (-15, -30)
    assert table.points_for(K.CONTACT_US_REQUEST) == 100
    assert DEFAULT_SCORING_TABLE.points_for(K.TRIAL_REQUEST) == 100
    assert score("Analyst", "a@gmail.com", [fact(K.TRIAL_REQUEST)], table).total == 65


def test_an_edit_makes_the_next_version_and_keeps_what_it_does_not_give() -> None:
    edit = ScoringTableEdit(
        points=(("WEB_CHAT", 3), ("COMPANY_EMAIL", 8)),
        mql_threshold=80,
        free_mail_domains=(" Corp-Mail.example. ", "gmail.com"),
    )

    assert edit.refusals() == []
    table = edit.applied_to(DEFAULT_SCORING_TABLE)
    assert table.version == 2
    assert (table.mql_threshold, table.routing_threshold) == (80, 50)
    assert table.free_mail_domains == frozenset({"corp-mail.example", "gmail.com"})
    assert table.points_for(K.WEB_CHAT) == 3
    assert table.company_email_points == 8
    assert table.points_for(K.PRICING_PAGE_VISIT) == 10
    result = score("Analyst", "x@hotmail.com", [fact(K.WEB_CHAT)], table)
    assert result.total == 8 + 3  # hotmail is company mail in this list
    assert validate_scoring_table(table) == []


def test_an_invalid_edit_lists_every_reason() -> None:
    edit = ScoringTableEdit(
        points=(("NOPE", 1), ("WEB_CHAT", -1001), ("WEB_CHAT", 2)),
        free_mail_domains=("gmail.com", "@gmail.com", ""),
    )

    refusals = edit.refusals()

    assert [(r.code, r.field) for r in refusals] == [
        (ErrorCode.INVALID_INPUT, ("points", "0", "rule")),
        (ErrorCode.INVALID_INPUT, ("points", "1", "points")),
        (ErrorCode.INVALID_INPUT, ("points", "2", "rule")),
        (ErrorCode.INVALID_INPUT, ("free_mail_domains", "1")),
        (ErrorCode.INVALID_INPUT, ("free_mail_domains", "2")),
    ]


def test_an_empty_edit_is_refused() -> None:
    refusals = ScoringTableEdit().refusals()

    assert [(r.code, r.field) for r in refusals] == [(ErrorCode.INVALID_INPUT, ())]


def test_thresholds_above_ten_thousand_are_refused() -> None:
    table = replace(DEFAULT_SCORING_TABLE, mql_threshold=10_001)

    assert [(r.code, r.field) for r in validate_scoring_table(table)] == [
        (ErrorCode.INVALID_INPUT, ("mql_threshold",))
    ]
