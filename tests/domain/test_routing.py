"""D8 routing: every rule, their order, fallbacks, passive leads, round robin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from domain.enums import EngagementKind, Region, Role, SalesSegment
from domain.rules.routing import (
    DEFAULT_BDR_POOLS,
    DEFAULT_CUSTOMER_ADVOCATE_POOLS,
    DEFAULT_ROUTING_TABLE,
    DEFAULT_TRIAL_POOLS,
    POOLS,
    RULES,
    AccountFacts,
    MemberFacts,
    RoutingDecision,
    RoutingFacts,
    active_until_after,
    is_active,
    must_be_active,
    next_in_rotation,
    route_lead,
    routing_trigger,
)

K = EngagementKind
NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def lead(**overrides: Any) -> RoutingFacts:
    """A mid-market US East web lead with no engagement and no account."""
    values: dict[str, Any] = {
        "segment": SalesSegment.MID_MARKET,
        "region": Region.US_EAST,
        "now": NOW,
        "country": "US",
        "initial_source": "Web",
        "person_score": 0,
    }
    values.update(overrides)
    kinds = values.pop("kinds", ())
    return RoutingFacts(engagement_kinds=frozenset(kinds), **values)


def account(**overrides: Any) -> AccountFacts:
    """Account 10, owned by user 100, an active AE."""
    values: dict[str, Any] = {
        "id": 10,
        "owner_id": 100,
        "owner_role": Role.AE,
        "owner_active": True,
        "owner_is_sales_admin": False,
        "is_named": False,
    }
    values.update(overrides)
    return AccountFacts(**values)


def summary(decision: RoutingDecision) -> tuple[Any, ...]:
    """The observable parts of a decision, without the human reason."""
    return (
        decision.rule,
        decision.assignee_user_id,
        decision.pool,
        decision.sla_business_days,
        decision.notify,
        decision.trial_days,
    )


# --- precondition: passive GitLab.com leads -------------------------------------


@pytest.mark.parametrize("source", ["GitLab.com", "gitlab.com", " GITLAB.COM "])
def test_a_passive_gitlab_com_lead_is_not_routed(source: str) -> None:
    decision = route_lead(
        lead(initial_source=source, kinds=[K.CONTACT_US_REQUEST], person_score=100)
    )

    assert summary(decision) == ("NOT_ACTIVE", None, None, None, (), None)
    assert "not Active" in decision.reason
    assert decision.routed is False


def test_a_passive_gitlab_com_lead_is_not_routed_even_to_its_account_owner() -> None:
    decision = route_lead(
        lead(initial_source="GitLab.com", account=account(is_named=True))
    )

    assert decision.rule == "NOT_ACTIVE"


def test_an_active_gitlab_com_lead_is_routed() -> None:
    decision = route_lead(
        lead(
            initial_source="GitLab.com",
            active_until=NOW + timedelta(seconds=1),
            kinds=[K.CONTACT_US_REQUEST],
        )
    )

    assert summary(decision) == ("CONTACT_US", None, "BDR_US_EAST", 1, (), None)


def test_a_gitlab_com_lead_whose_activity_ends_now_is_passive() -> None:
    decision = route_lead(
        lead(initial_source="GitLab.com", active_until=NOW, person_score=60)
    )

    assert decision.rule == "NOT_ACTIVE"


@pytest.mark.parametrize(
    "kind", [K.TRIAL_REQUEST, K.HIGH_INTENT_LIVE_ATTENDED, K.WEB_CHAT]
)
def test_a_hand_raising_trigger_makes_a_gitlab_com_lead_active(
    kind: EngagementKind,
) -> None:
    decision = route_lead(
        lead(initial_source="GitLab.com", kinds=[kind], person_score=90)
    )

    assert decision.rule != "NOT_ACTIVE"
    assert decision.routed is True


def test_other_sources_are_routed_without_being_active() -> None:
    assert route_lead(lead(person_score=50)).rule == "SCORE_AT_LEAST_50"


# --- 1. owned account -------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AE, Role.SAL, Role.AM, Role.RD])
def test_a_lead_of_an_account_owned_by_active_field_sales_goes_to_the_owner(
    role: Role,
) -> None:
    decision = route_lead(lead(account=account(owner_role=role)))

    assert summary(decision) == ("OWNED_ACCOUNT", 100, None, None, (), None)


def test_a_lead_of_a_named_account_notifies_the_strategic_account_leader() -> None:
    decision = route_lead(lead(account=account(owner_role=Role.SAL, is_named=True)))

    assert summary(decision) == (
        "OWNED_ACCOUNT",
        100,
        None,
        None,
        ("STRATEGIC_ACCOUNT_INBOUND",),
        None,
    )


@pytest.mark.parametrize(
    "owner",
    [
        {"owner_active": False},
        {"owner_is_sales_admin": True},
        {"owner_role": Role.SALES_ADMIN},
        {"owner_role": Role.BDR},
        {"owner_role": Role.SDR},
        {"owner_role": None},
        {"owner_id": None},
    ],
)
def test_an_account_not_owned_by_active_field_sales_does_not_take_the_lead(
    owner: dict[str, Any],
) -> None:
    decision = route_lead(lead(account=account(**owner), person_score=60))

    assert summary(decision) == (
        "SCORE_AT_LEAST_50",
        None,
        "BDR_US_EAST",
        None,
        (),
        None,
    )


def test_owned_account_comes_before_every_other_rule() -> None:
    decision = route_lead(
        lead(
            region=Region.PUBLIC_SECTOR,
            is_public_sector=True,
            account=account(),
            kinds=[
                K.PROFESSIONAL_SERVICES_REQUEST,
                K.TRIAL_REQUEST,
                K.CONTACT_US_REQUEST,
            ],
            person_score=400,
        )
    )

    assert summary(decision) == (
        "OWNED_ACCOUNT",
        100,
        None,
        1,
        ("PROFESSIONAL_SERVICES_REQUEST",),
        30,
    )


# --- 2. public sector -------------------------------------------------------------


def test_a_public_sector_region_lead_goes_to_the_public_sector_sdr_pool() -> None:
    decision = route_lead(
        lead(region=Region.PUBLIC_SECTOR, is_public_sector=True, person_score=60)
    )

    assert summary(decision) == (
        "PUBLIC_SECTOR",
        None,
        "PUBLIC_SECTOR_SDR",
        None,
        (),
        None,
    )


@pytest.mark.parametrize("country", ["US", "United States", None])
def test_a_flagged_us_or_country_less_lead_is_public_sector_whatever_its_region(
    country: str | None,
) -> None:
    decision = route_lead(lead(is_public_sector=True, country=country))

    assert decision.rule == "PUBLIC_SECTOR"


def test_a_non_us_public_sector_lead_is_routed_by_its_region() -> None:
    decision = route_lead(
        lead(
            is_public_sector=True,
            country="DE",
            region=Region.EMEA,
            kinds=[K.CONTACT_US_REQUEST],
        )
    )

    assert summary(decision) == ("CONTACT_US", None, "BDR_EMEA", 1, (), None)


def test_public_sector_comes_before_professional_services_and_trials() -> None:
    decision = route_lead(
        lead(
            region=Region.PUBLIC_SECTOR,
            is_public_sector=True,
            kinds=[K.PROFESSIONAL_SERVICES_REQUEST, K.TRIAL_REQUEST],
        )
    )

    assert summary(decision) == (
        "PUBLIC_SECTOR",
        None,
        "PUBLIC_SECTOR_SDR",
        1,
        ("PROFESSIONAL_SERVICES_REQUEST",),
        30,
    )


# --- 3. professional services -----------------------------------------------------


def test_a_professional_services_request_goes_to_the_active_account_owner() -> None:
    decision = route_lead(
        lead(
            account=account(owner_role=Role.CUSTOMER_SUCCESS),
            kinds=[K.PROFESSIONAL_SERVICES_REQUEST],
        )
    )

    assert summary(decision) == (
        "PROFESSIONAL_SERVICES",
        100,
        None,
        1,
        ("PROFESSIONAL_SERVICES_REQUEST",),
        None,
    )


@pytest.mark.parametrize(
    ("facts", "pool"),
    [
        ({}, "BDR_US_EAST"),
        (
            {"segment": SalesSegment.SMB, "region": Region.EMEA},
            "CUSTOMER_ADVOCATE_EMEA",
        ),
        ({"segment": SalesSegment.UNKNOWN}, "BDR_PREQUALIFICATION"),
        ({"account": account(owner_is_sales_admin=True)}, "BDR_US_EAST"),
        ({"account": account(owner_active=False)}, "BDR_US_EAST"),
    ],
)
def test_a_professional_services_request_without_an_owner_is_routed_like_contact_us(
    facts: dict[str, Any], pool: str
) -> None:
    decision = route_lead(lead(kinds=[K.PROFESSIONAL_SERVICES_REQUEST], **facts))

    assert summary(decision) == (
        "PROFESSIONAL_SERVICES",
        None,
        pool,
        1,
        ("PROFESSIONAL_SERVICES_REQUEST",),
        None,
    )


def test_professional_services_comes_before_trial_and_contact_us() -> None:
    decision = route_lead(
        lead(
            kinds=[
                K.PROFESSIONAL_SERVICES_REQUEST,
                K.TRIAL_REQUEST,
                K.CONTACT_US_REQUEST,
            ]
        )
    )

    assert decision.rule == "PROFESSIONAL_SERVICES"


# --- 4. trial request -------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "pool"),
    [
        (Region.EMEA, "BDR_EMEA"),
        (Region.APAC, "BDR_US_APAC"),
        (Region.LATAM, "BDR_US_APAC"),
        (Region.US_EAST, "BDR_US_APAC"),
        (Region.US_WEST, "BDR_US_APAC"),
        (None, "BDR_PREQUALIFICATION"),
    ],
)
def test_a_trial_request_goes_to_the_bdr_round_robin_of_its_region(
    region: Region | None, pool: str
) -> None:
    decision = route_lead(lead(region=region, country=None, kinds=[K.TRIAL_REQUEST]))

    assert summary(decision) == ("TRIAL_REQUEST", None, pool, None, (), 30)


@pytest.mark.parametrize("segment", list(SalesSegment))
def test_a_trial_request_is_routed_regardless_of_segment(
    segment: SalesSegment,
) -> None:
    decision = route_lead(
        lead(segment=segment, region=Region.EMEA, kinds=[K.TRIAL_REQUEST])
    )

    assert decision.pool == "BDR_EMEA"


def test_us_federal_trials_map_to_the_us_apac_pool_in_the_trial_table() -> None:
    assert DEFAULT_TRIAL_POOLS[Region.PUBLIC_SECTOR] == "BDR_US_APAC"


def test_trial_request_comes_before_contact_us_and_keeps_its_sla() -> None:
    decision = route_lead(
        lead(region=Region.APAC, kinds=[K.CONTACT_US_REQUEST, K.TRIAL_REQUEST])
    )

    assert summary(decision) == ("TRIAL_REQUEST", None, "BDR_US_APAC", 1, (), 30)


# --- 5. contact us ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "region", "pool"),
    [
        (SalesSegment.STRATEGIC, Region.EMEA, "BDR_EMEA"),
        (SalesSegment.LARGE, Region.US_WEST, "BDR_US_WEST"),
        (SalesSegment.LARGE, Region.US_EAST, "BDR_US_EAST"),
        (SalesSegment.MID_MARKET, Region.APAC, "BDR_APAC"),
        (SalesSegment.MID_MARKET, Region.LATAM, "BDR_LATAM"),
        (SalesSegment.SMB, Region.EMEA, "CUSTOMER_ADVOCATE_EMEA"),
        (SalesSegment.SMB, Region.LATAM, "CUSTOMER_ADVOCATE_NCSA"),
        (SalesSegment.SMB, Region.US_EAST, "CUSTOMER_ADVOCATE_NCSA"),
        (SalesSegment.SMB, Region.US_WEST, "CUSTOMER_ADVOCATE_NCSA"),
        (SalesSegment.SMB, Region.APAC, "CUSTOMER_ADVOCATE_APAC"),
        (SalesSegment.UNKNOWN, Region.EMEA, "BDR_PREQUALIFICATION"),
        (SalesSegment.UNKNOWN, None, "BDR_PREQUALIFICATION"),
        (SalesSegment.MID_MARKET, None, "BDR_PREQUALIFICATION"),
        (SalesSegment.SMB, None, "BDR_PREQUALIFICATION"),
    ],
)
def test_a_contact_us_request_goes_to_the_pool_of_its_segment_and_region(
    segment: SalesSegment, region: Region | None, pool: str
) -> None:
    decision = route_lead(
        lead(
            segment=segment,
            region=region,
            country=None,
            kinds=[K.CONTACT_US_REQUEST],
        )
    )

    assert summary(decision) == ("CONTACT_US", None, pool, 1, (), None)


def test_a_named_account_without_an_active_owner_makes_the_lead_strategic() -> None:
    decision = route_lead(
        lead(
            segment=SalesSegment.SMB,
            region=Region.EMEA,
            account=account(owner_active=False, is_named=True),
            kinds=[K.CONTACT_US_REQUEST],
        )
    )

    assert summary(decision) == (
        "CONTACT_US",
        None,
        "BDR_EMEA",
        1,
        ("STRATEGIC_ACCOUNT_INBOUND",),
        None,
    )


def test_contact_us_comes_before_the_score_rule() -> None:
    decision = route_lead(lead(kinds=[K.CONTACT_US_REQUEST], person_score=150))

    assert decision.rule == "CONTACT_US"


# --- 6. score, else nurture -------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "pool"),
    [
        (Region.APAC, "BDR_APAC"),
        (Region.EMEA, "BDR_EMEA"),
        (Region.LATAM, "BDR_LATAM"),
        (Region.US_EAST, "BDR_US_EAST"),
        (Region.US_WEST, "BDR_US_WEST"),
        (None, "BDR_PREQUALIFICATION"),
    ],
)
def test_a_score_of_50_goes_to_the_bdr_pool_of_its_region(
    region: Region | None, pool: str
) -> None:
    decision = route_lead(
        lead(region=region, country=None, person_score=50, kinds=[K.WEB_CHAT])
    )

    assert summary(decision) == ("SCORE_AT_LEAST_50", None, pool, None, (), None)


def test_a_score_of_49_stays_unowned_in_nurture() -> None:
    decision = route_lead(lead(person_score=49, kinds=[K.PRICING_PAGE_VISIT]))

    assert summary(decision) == ("NURTURE", None, None, None, (), None)
    assert decision.routed is False
    assert "nurture" in decision.reason


def test_a_nurtured_lead_of_a_named_account_notifies_nobody() -> None:
    decision = route_lead(
        lead(person_score=10, account=account(owner_active=False, is_named=True))
    )

    assert summary(decision) == ("NURTURE", None, None, None, (), None)


def test_a_negative_score_is_nurture() -> None:
    assert route_lead(lead(person_score=-40)).rule == "NURTURE"


# --- the table is data ------------------------------------------------------------


def test_an_edited_threshold_and_pool_map_are_used() -> None:
    table = replace(
        DEFAULT_ROUTING_TABLE,
        score_threshold=60,
        bdr_pools=MappingProxyType({**DEFAULT_BDR_POOLS, Region.US_EAST: "BDR_NCSA"}),
    )

    assert route_lead(lead(person_score=55), table).rule == "NURTURE"
    assert route_lead(lead(person_score=60), table).pool == "BDR_NCSA"


def test_an_edited_sla_and_trial_length_are_used() -> None:
    table = replace(DEFAULT_ROUTING_TABLE, sla_business_days=2, trial_days=14)

    decision = route_lead(lead(kinds=[K.TRIAL_REQUEST, K.CONTACT_US_REQUEST]), table)

    assert (decision.sla_business_days, decision.trial_days) == (2, 14)


def test_every_pool_a_default_table_names_is_documented() -> None:
    named = {
        *DEFAULT_BDR_POOLS.values(),
        *DEFAULT_TRIAL_POOLS.values(),
        *DEFAULT_CUSTOMER_ADVOCATE_POOLS.values(),
        DEFAULT_ROUTING_TABLE.public_sector_pool,
        DEFAULT_ROUTING_TABLE.prequalification_pool,
    }

    assert named == set(POOLS)


def test_the_rule_ids_are_stable_and_in_order() -> None:
    assert RULES == (
        "NOT_ACTIVE",
        "OWNED_ACCOUNT",
        "PUBLIC_SECTOR",
        "PROFESSIONAL_SERVICES",
        "TRIAL_REQUEST",
        "CONTACT_US",
        "SCORE_AT_LEAST_50",
        "NURTURE",
    )


# --- active vs passive ------------------------------------------------------------


def test_a_trial_request_keeps_a_lead_active_for_the_trial_plus_30_days() -> None:
    assert active_until_after(None, K.TRIAL_REQUEST, NOW) == NOW + timedelta(days=60)


@pytest.mark.parametrize("kind", [K.HIGH_INTENT_LIVE_ATTENDED, K.WEB_CHAT])
def test_a_hand_raising_activity_keeps_a_lead_active_for_60_days(
    kind: EngagementKind,
) -> None:
    assert active_until_after(None, kind, NOW) == NOW + timedelta(days=60)


def test_other_engagements_leave_active_until_unchanged() -> None:
    later = NOW + timedelta(days=5)

    assert active_until_after(None, K.CONTACT_US_REQUEST, NOW) is None
    assert active_until_after(later, K.PRICING_PAGE_VISIT, NOW) == later


def test_active_until_never_moves_earlier() -> None:
    far = NOW + timedelta(days=400)

    assert active_until_after(far, K.WEB_CHAT, NOW) == far


def test_a_longer_trial_extends_active_until() -> None:
    table = replace(DEFAULT_ROUTING_TABLE, trial_days=45)

    assert active_until_after(None, K.TRIAL_REQUEST, NOW, table) == NOW + timedelta(
        days=75
    )


def test_is_active_compares_with_now() -> None:
    assert is_active(NOW + timedelta(minutes=1), NOW) is True
    assert is_active(NOW, NOW) is False
    assert is_active(None, NOW) is False
    assert is_active(None, NOW, frozenset({K.WEB_CHAT})) is True


def test_naive_times_are_a_bug() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_active(datetime(2024, 3, 5), NOW)


# --- round robin ------------------------------------------------------------------


def members(*ids: int) -> list[MemberFacts]:
    """Active, present members with the given user ids."""
    return [MemberFacts(user_id=i) for i in ids]


def test_the_first_turn_goes_to_the_first_member() -> None:
    assert next_in_rotation(members(1, 2, 3), None, NOW) == (1, 0)


def test_turns_go_in_fixed_order() -> None:
    pool = members(1, 2, 3)

    assert next_in_rotation(pool, 0, NOW) == (2, 1)
    assert next_in_rotation(pool, 1, NOW) == (3, 2)


def test_the_rotation_wraps_after_the_last_member() -> None:
    assert next_in_rotation(members(1, 2, 3), 2, NOW) == (1, 0)


def test_inactive_members_are_skipped() -> None:
    pool = [MemberFacts(1), MemberFacts(2, active=False), MemberFacts(3)]

    assert next_in_rotation(pool, 0, NOW) == (3, 2)


def test_out_of_office_members_are_skipped_until_they_return() -> None:
    back_tomorrow = MemberFacts(2, out_of_office_until=NOW + timedelta(days=1))
    back_now = MemberFacts(2, out_of_office_until=NOW)
    back_yesterday = MemberFacts(2, out_of_office_until=NOW - timedelta(days=1))

    assert next_in_rotation([MemberFacts(1), back_tomorrow], 0, NOW) == (1, 0)
    assert next_in_rotation([MemberFacts(1), back_now], 0, NOW) == (2, 1)
    assert next_in_rotation([MemberFacts(1), back_yesterday], 0, NOW) == (2, 1)


def test_skipping_wraps_around_the_end() -> None:
    pool = [MemberFacts(1), MemberFacts(2), MemberFacts(3, active=False)]

    assert next_in_rotation(pool, 1, NOW) == (1, 0)


def test_a_lone_available_member_takes_every_turn() -> None:
    pool = [MemberFacts(1, active=False), MemberFacts(2), MemberFacts(3, active=False)]

    assert next_in_rotation(pool, 1, NOW) == (2, 1)


def test_nobody_available_gives_none() -> None:
    pool = [
        MemberFacts(1, active=False),
        MemberFacts(2, out_of_office_until=NOW + timedelta(hours=1)),
    ]

    assert next_in_rotation(pool, None, NOW) is None
    assert next_in_rotation([], None, NOW) is None


def test_a_stored_position_beyond_a_shrunken_pool_is_taken_modulo_its_size() -> None:
    assert next_in_rotation(members(1, 2, 3), 7, NOW) == (3, 2)


def test_a_full_cycle_gives_each_available_member_one_turn() -> None:
    pool = [
        MemberFacts(1),
        MemberFacts(2, active=False),
        MemberFacts(3),
        MemberFacts(4),
    ]
    position: int | None = None
    turns = []
    for _ in range(6):
        result = next_in_rotation(pool, position, NOW)
        assert result is not None
        user_id, position = result
        turns.append(user_id)

    assert turns == [1, 3, 4, 1, 3, 4]


@pytest.mark.parametrize(
    ("source", "must"),
    [
        ("GitLab.com", True),
        (" gitlab.com ", True),
        ("GITLAB.COM", True),
        ("GitLab.com trial", False),
        ("Web Direct", False),
        (None, False),
    ],
)
def test_only_gitlab_com_leads_must_be_active(source, must) -> None:
    assert must_be_active(source) is must


def _trigger(**overrides: Any) -> frozenset[EngagementKind] | None:
    values: dict[str, Any] = {
        "owned": False,
        "last_rule": None,
        "kind": K.WEB_CHAT,
        "kinds_so_far": frozenset({K.CONTACT_US_REQUEST, K.WEB_CHAT}),
        "score_before": 10,
        "score_after": 20,
    }
    values.update(overrides)
    return routing_trigger(**values)


@pytest.mark.parametrize(
    ("overrides", "kinds"),
    [
        # a form that asks for sales routes on itself
        ({"kind": K.TRIAL_REQUEST}, frozenset({K.TRIAL_REQUEST})),
        ({"kind": K.CONTACT_US_REQUEST}, frozenset({K.CONTACT_US_REQUEST})),
        (
            {"kind": K.PROFESSIONAL_SERVICES_REQUEST},
            frozenset({K.PROFESSIONAL_SERVICES_REQUEST}),
        ),
        # a score crossing the routing threshold (50) routes on this engagement
        ({"score_before": 49, "score_after": 50}, frozenset({K.WEB_CHAT})),
        ({"score_before": 50, "score_after": 60}, None),
        ({"score_before": 10, "score_after": 49}, None),
        # a lead held NOT_ACTIVE that raises its hand: on all it asked so far
        (
            {"last_rule": "NOT_ACTIVE"},
            frozenset({K.CONTACT_US_REQUEST, K.WEB_CHAT}),
        ),
        ({"last_rule": "NOT_ACTIVE", "kind": K.PRICING_PAGE_VISIT}, None),
        # nothing else routes, and an owned lead is never routed by an engagement
        ({}, None),
        ({"owned": True, "kind": K.TRIAL_REQUEST}, None),
        ({"owned": True, "last_rule": "NOT_ACTIVE"}, None),
    ],
)
def test_which_engagements_route_an_unowned_lead(
    overrides: dict[str, Any], kinds: frozenset[EngagementKind] | None
) -> None:
    assert _trigger(**overrides) == kinds


def test_the_routing_trigger_uses_the_table_threshold() -> None:
    table = replace(DEFAULT_ROUTING_TABLE, score_threshold=30)
    assert _trigger(score_before=29, score_after=30, table=table) == frozenset(
        {K.WEB_CHAT}
    )
