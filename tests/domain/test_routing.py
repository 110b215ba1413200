"""D8 routing: every rule, their order, fallbacks, passive leads, round robin."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from domain.enums import EngagementKind, Region, Role, SalesSegment
from domain.rules.notifications import Person, Recipient
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
    account_owner_recipients,
    active_until_after,
    is_active,
    must_be_active,
    next_in_rotation,
    route_lead,
    routing_trigger,
    score_check_routes,
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


def test_a_hand_raise_does_not_make_a_gitlab_com_lead_active_by_itself() -> None:
    """D8 round 2: Active is computed from when the hand-raise happened (the
    caller's ``active_until``), not from the kinds that trigger this run."""
    for kind in (K.TRIAL_REQUEST, K.HIGH_INTENT_LIVE_ATTENDED, K.WEB_CHAT):
        decision = route_lead(
            lead(initial_source="GitLab.com", kinds=[kind], person_score=90)
        )
        assert decision.rule == "NOT_ACTIVE"


def test_a_hand_raise_70_days_ago_leaves_a_gitlab_com_lead_passive() -> None:
    """Seed 002_91dd8e67a169a832.txt: "'Active' for a minimum of 60 days from the
    date of the handraising activity"."""
    long_ago = NOW - timedelta(days=70)
    until = active_until_after(None, K.WEB_CHAT, long_ago)
    decision = route_lead(
        lead(
            initial_source="GitLab.com",
            active_until=until,
            kinds=[K.WEB_CHAT],
            person_score=90,
        )
    )

    assert until == NOW - timedelta(days=10)
    assert decision.rule == "NOT_ACTIVE"


def test_other_sources_are_routed_without_being_active() -> None:
    assert route_lead(lead(person_score=50)).rule == "SCORE_AT_LEAST_50"


# --- the rules in order: one table --------------------------------------------------
#
# Seed 002_91dd8e67a169a832.txt, "Lead Routing": Contact Us by segment ("`Strategic`,
# `Large` and `Mid-Market` Segments: Routed to BDR for qualification"), trials
# "routed to the BDR team based on `Region`, regardless of sales segment" (APAC,
# NCSA, "US Federal and Government: US/APAC BDR Round Robin"), Professional Services
# "routed following `Global Account Ownership` rules"; seeds 000/001: "if a lead
# from a named account is created, it will be routed directly to the owner of the
# named account".

AE = account()  # owned by an active AE, not named
NAMED = account(owner_role=Role.SAL, is_named=True)
PS = K.PROFESSIONAL_SERVICES_REQUEST
TRIAL = K.TRIAL_REQUEST
CONTACT = K.CONTACT_US_REQUEST
FED = {"region": Region.PUBLIC_SECTOR, "is_public_sector": True}
STRATEGIC = ("STRATEGIC_ACCOUNT_INBOUND",)
OWNER = ("OWNED_ACCOUNT_INBOUND",)
PS_NOTE = ("PROFESSIONAL_SERVICES_REQUEST",)

ROUTING_TABLE: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
    # 1. named account: its field-sales owner, whatever the request
    ("named, trial", {"account": NAMED, "kinds": [TRIAL]},
     ("NAMED_ACCOUNT", 100, None, None, STRATEGIC, 30)),
    ("named, contact us", {"account": NAMED, "kinds": [CONTACT]},
     ("NAMED_ACCOUNT", 100, None, 1, STRATEGIC, None)),
    ("named, public sector", {"account": NAMED, "kinds": [CONTACT], **FED},
     ("NAMED_ACCOUNT", 100, None, 1, STRATEGIC, None)),
    ("named, no request, low score", {"account": NAMED, "person_score": 10},
     ("NAMED_ACCOUNT", 100, None, None, STRATEGIC, None)),
    ("named, every request", {"account": NAMED, "kinds": [PS, TRIAL, CONTACT]},
     ("NAMED_ACCOUNT", 100, None, 1, (*STRATEGIC, *PS_NOTE), 30)),
    ("named, owner inactive: contact us as STRATEGIC",
     {"account": account(owner_active=False, is_named=True),
      "segment": SalesSegment.SMB, "region": Region.EMEA, "kinds": [CONTACT]},
     ("CONTACT_US", None, "BDR_EMEA", 1, STRATEGIC, None)),
    # 2. Professional Services: the owner of the account (global ownership)
    ("PS, owned account", {"account": AE, "kinds": [PS]},
     ("PROFESSIONAL_SERVICES", 100, None, 1, PS_NOTE, None)),
    ("PS, CS-owned account", {"account": account(owner_role=Role.CUSTOMER_SUCCESS),
                              "kinds": [PS]},
     ("PROFESSIONAL_SERVICES", 100, None, 1, PS_NOTE, None)),
    ("PS before trial", {"account": AE, "kinds": [PS, TRIAL, CONTACT]},
     ("PROFESSIONAL_SERVICES", 100, None, 1, PS_NOTE, 30)),
    ("PS, no account: like contact us", {"kinds": [PS]},
     ("PROFESSIONAL_SERVICES", None, "BDR_US_EAST", 1, PS_NOTE, None)),
    ("PS, no account, public sector: like contact us", {"kinds": [PS], **FED},
     ("PROFESSIONAL_SERVICES", None, "PUBLIC_SECTOR_SDR", 1, PS_NOTE, None)),
    ("PS, no account, SMB EMEA: like contact us",
     {"kinds": [PS], "segment": SalesSegment.SMB, "region": Region.EMEA},
     ("PROFESSIONAL_SERVICES", None, "CUSTOMER_ADVOCATE_EMEA", 1, PS_NOTE, None)),
    ("PS, no account, UNKNOWN segment: like contact us",
     {"kinds": [PS], "segment": SalesSegment.UNKNOWN},
     ("PROFESSIONAL_SERVICES", None, "BDR_PREQUALIFICATION", 1, PS_NOTE, None)),
    ("PS, Sales Admin account: like contact us",
     {"kinds": [PS], "account": account(owner_is_sales_admin=True)},
     ("PROFESSIONAL_SERVICES", None, "BDR_US_EAST", 1, PS_NOTE, None)),
    ("PS, inactive owner: like contact us",
     {"kinds": [PS], "account": account(owner_active=False)},
     ("PROFESSIONAL_SERVICES", None, "BDR_US_EAST", 1, PS_NOTE, None)),
    # 3. trials: BDR by region, regardless of segment, ownership, public sector
    ("trial, US public sector", {"kinds": [TRIAL], **FED},
     ("TRIAL_REQUEST", None, "BDR_US_APAC", None, (), 30)),
    ("trial, owned account", {"account": AE, "kinds": [TRIAL], "person_score": 155},
     ("TRIAL_REQUEST", None, "BDR_US_APAC", None, OWNER, 30)),
    ("trial, EMEA SMB", {"segment": SalesSegment.SMB, "region": Region.EMEA,
                         "kinds": [TRIAL]},
     ("TRIAL_REQUEST", None, "BDR_EMEA", None, (), 30)),
    ("trial before contact us", {"region": Region.APAC, "kinds": [CONTACT, TRIAL]},
     ("TRIAL_REQUEST", None, "BDR_US_APAC", 1, (), 30)),
    # 4. Contact Us: public sector, else by segment, even for an owned account
    ("contact us, US public sector", {"kinds": [CONTACT], **FED},
     ("CONTACT_US", None, "PUBLIC_SECTOR_SDR", 1, (), None)),
    ("contact us, owned account, LARGE",
     {"account": AE, "segment": SalesSegment.LARGE, "kinds": [CONTACT]},
     ("CONTACT_US", None, "BDR_US_EAST", 1, OWNER, None)),
    ("contact us, SAL-owned account, MID_MARKET",
     {"account": account(owner_role=Role.SAL), "kinds": [CONTACT]},
     ("CONTACT_US", None, "BDR_US_EAST", 1, OWNER, None)),
    ("contact us, Sales Admin account: nobody to tell",
     {"account": account(owner_is_sales_admin=True), "kinds": [CONTACT]},
     ("CONTACT_US", None, "BDR_US_EAST", 1, (), None)),
    ("contact us, public sector outside the US",
     {"kinds": [CONTACT], "is_public_sector": True, "country": "DE",
      "region": Region.EMEA},
     ("CONTACT_US", None, "BDR_EMEA", 1, (), None)),
    ("contact us before the score", {"kinds": [CONTACT], "person_score": 150},
     ("CONTACT_US", None, "BDR_US_EAST", 1, (), None)),
    # 5. anything else with score >= 50: the owner of an owned account
    ("score 50, owned account", {"account": AE, "person_score": 50},
     ("OWNED_ACCOUNT", 100, None, None, (), None)),
    ("score 50, owned account, public sector",
     {"account": AE, "person_score": 50, **FED},
     ("OWNED_ACCOUNT", 100, None, None, (), None)),
    ("score 49, owned account", {"account": AE, "person_score": 49},
     ("NURTURE", None, None, None, (), None)),
    # 6. other US public sector with score >= 50
    ("score 60, public sector", {"person_score": 60, **FED},
     ("PUBLIC_SECTOR", None, "PUBLIC_SECTOR_SDR", None, (), None)),
    ("score 60, flagged, country-less", {"person_score": 60, "is_public_sector": True,
                                         "country": None},
     ("PUBLIC_SECTOR", None, "PUBLIC_SECTOR_SDR", None, (), None)),
    ("score 60, flagged, United States", {"person_score": 60, "is_public_sector": True,
                                          "country": "United States"},
     ("PUBLIC_SECTOR", None, "PUBLIC_SECTOR_SDR", None, (), None)),
    ("score 60, flagged outside the US",
     {"person_score": 60, "is_public_sector": True, "country": "DE",
      "region": Region.EMEA},
     ("SCORE_AT_LEAST_50", None, "BDR_EMEA", None, (), None)),
    # 7. anything else: the region's BDR pool at 50, nurture below
    ("score 50", {"person_score": 50},
     ("SCORE_AT_LEAST_50", None, "BDR_US_EAST", None, (), None)),
    ("score 49", {"person_score": 49, "kinds": [K.PRICING_PAGE_VISIT]},
     ("NURTURE", None, None, None, (), None)),
    ("negative score", {"person_score": -40},
     ("NURTURE", None, None, None, (), None)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "expected"),
    [(facts, expected) for _, facts, expected in ROUTING_TABLE],
    ids=[name for name, _, _ in ROUTING_TABLE],
)
def test_the_first_matching_rule_routes_the_lead(
    facts: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    assert summary(route_lead(lead(**facts))) == expected


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
    for named in (False, True):
        decision = route_lead(
            lead(account=account(is_named=named, **owner), person_score=60)
        )
        assert (decision.rule, decision.assignee_user_id, decision.pool) == (
            "SCORE_AT_LEAST_50",
            None,
            "BDR_US_EAST",
        )


@pytest.mark.parametrize("role", [Role.AE, Role.SAL, Role.AM, Role.RD])
def test_every_field_sales_role_owns_for_rules_1_and_5(role: Role) -> None:
    named = route_lead(lead(account=account(owner_role=role, is_named=True)))
    owned = route_lead(lead(account=account(owner_role=role), person_score=50))

    assert (named.rule, named.assignee_user_id) == ("NAMED_ACCOUNT", 100)
    assert (owned.rule, owned.assignee_user_id) == ("OWNED_ACCOUNT", 100)


@pytest.mark.parametrize(
    ("region", "pool"),
    [
        (Region.EMEA, "BDR_EMEA"),
        (Region.APAC, "BDR_US_APAC"),
        (Region.LATAM, "BDR_US_APAC"),
        (Region.US_EAST, "BDR_US_APAC"),
        (Region.US_WEST, "BDR_US_APAC"),
        (Region.PUBLIC_SECTOR, "BDR_US_APAC"),
        (None, "BDR_PREQUALIFICATION"),
    ],
)
def test_a_trial_request_goes_to_the_bdr_round_robin_of_its_region(
    region: Region | None, pool: str
) -> None:
    decision = route_lead(
        lead(
            region=region,
            country=None,
            is_public_sector=region is Region.PUBLIC_SECTOR,
            kinds=[K.TRIAL_REQUEST],
        )
    )

    assert summary(decision) == ("TRIAL_REQUEST", None, pool, None, (), 30)


@pytest.mark.parametrize("segment", list(SalesSegment))
def test_a_trial_request_is_routed_regardless_of_segment(
    segment: SalesSegment,
) -> None:
    decision = route_lead(
        lead(segment=segment, region=Region.EMEA, kinds=[K.TRIAL_REQUEST])
    )

    assert decision.pool == "BDR_EMEA"


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

    assert decision.routed is False
    assert "nurture" in decision.reason


def test_a_nurtured_lead_of_a_named_account_notifies_nobody() -> None:
    decision = route_lead(
        lead(person_score=10, account=account(owner_active=False, is_named=True))
    )

    assert summary(decision) == ("NURTURE", None, None, None, (), None)


def test_us_federal_trials_map_to_the_us_apac_pool_in_the_trial_table() -> None:
    assert DEFAULT_TRIAL_POOLS[Region.PUBLIC_SECTOR] == "BDR_US_APAC"


def test_the_owner_of_the_account_hears_of_its_lead_routed_to_a_pool() -> None:
    assert account_owner_recipients(Person(7, Role.AE)) == [
        Recipient(7, "ACCOUNT_OWNER")
    ]
    assert account_owner_recipients(Person(7, Role.AE, active=False)) == []
    assert account_owner_recipients(None) == []


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
        "NAMED_ACCOUNT",
        "PROFESSIONAL_SERVICES",
        "TRIAL_REQUEST",
        "CONTACT_US",
        "OWNED_ACCOUNT",
        "PUBLIC_SECTOR",
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
        # a score that changes at or above the routing threshold (50) routes on
        # this engagement: "every time a `Person Score` is updated, LeanData will
        # run a check" (seed 002_91dd8e67a169a832.txt)
        ({"score_before": 49, "score_after": 50}, frozenset({K.WEB_CHAT})),
        ({"score_before": 50, "score_after": 60}, frozenset({K.WEB_CHAT})),
        ({"score_before": 90, "score_after": 65}, frozenset({K.WEB_CHAT})),
        ({"score_before": 60, "score_after": 60}, None),
        ({"score_before": 60, "score_after": 49}, None),
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


@pytest.mark.parametrize(
    ("owned", "before", "after", "routes"),
    [
        (False, None, 55, True),  # created at 55: routed at creation
        (False, None, 50, True),
        (False, None, 49, False),
        (False, 40, 55, True),
        (False, 55, 60, True),
        (False, 60, 55, True),
        (False, 55, 55, False),  # unchanged: nothing to check
        (False, 55, 45, False),
        (True, None, 100, False),  # owned: routing is what owns it
        (True, 40, 100, False),
    ],
)
def test_every_score_set_or_changed_at_or_above_50_routes_an_unowned_lead(
    owned: bool, before: int | None, after: int, routes: bool
) -> None:
    assert (
        score_check_routes(owned=owned, score_before=before, score_after=after)
        is routes
    )
