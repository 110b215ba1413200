"""The support hand-off decision (D13) as a pure rule: facts in, decision out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import (
    ErrorCode,
    EscalationReason,
    HandOffRule,
    Region,
    Role,
    SalesSegment,
    SupportTicketKind,
)
from domain.rules.permissions import Actor
from domain.rules.support import (
    AccountFacts,
    HandOffTable,
    OwnerFacts,
    RenewalFacts,
    TicketFacts,
    age_seconds,
    decide_hand_off,
    hand_off_refusals,
    may_resolve_hand_off,
    normalize_reasons,
    territory,
    why_owner_cannot_take,
)

NEW = SupportTicketKind.NEW_BUSINESS
RENEWAL = SupportTicketKind.RENEWAL
AE = OwnerFacts(user_id=7, role=Role.AE)
ADMIN_PLACEHOLDER = OwnerFacts(user_id=1, role=Role.SALES_ADMIN)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def account(owner: OwnerFacts | None = AE, **values: object) -> AccountFacts:
    base: dict[str, object] = {
        "id": 3,
        "name": "Acme",
        "segment": SalesSegment.MID_MARKET,
        "region": Region.EMEA,
        "owner": owner,
    }
    return AccountFacts(**{**base, **values})  # type: ignore[arg-type]


def ticket(kind: SupportTicketKind = NEW, **values: object) -> TicketFacts:
    return TicketFacts(kind=kind, domain="acme.example", free_mail=False, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("owner", "why"),
    [
        (None, "has no owner"),
        (ADMIN_PLACEHOLDER, "is owned by the Sales Admin placeholder"),
        (
            OwnerFacts(2, Role.AE, active=False, name="Pat Doe"),
            "is owned by an inactive user (Pat Doe)",
        ),
        (
            OwnerFacts(2, Role.SALES_OPS),
            "is owned by a user with role SALES_OPS, not a sales rep",
        ),
        (
            OwnerFacts(2, Role.MARKETING_OPS),
            "is owned by a user with role MARKETING_OPS, not a sales rep",
        ),
        (
            OwnerFacts(2, Role.ADMIN),
            "is owned by a user with role ADMIN, not a sales rep",
        ),
    ]
    + [
        (OwnerFacts(2, role), None)
        for role in (
            Role.SDR,
            Role.BDR,
            Role.AE,
            Role.SAL,
            Role.AM,
            Role.RD,
            Role.CUSTOMER_ADVOCATE,
            Role.CUSTOMER_SUCCESS,
        )
    ],
)
def test_who_counts_as_a_sales_rep_owner(owner, why):
    assert why_owner_cannot_take(owner) == why


def test_the_selling_roles_are_data():
    table = HandOffTable(selling_roles=frozenset({Role.SAL}))

    assert (
        why_owner_cannot_take(AE, table)
        == "is owned by a user with role AE, not a sales rep"
    )


@pytest.mark.parametrize(
    ("segment", "region", "pool"),
    [
        (SalesSegment.SMB, Region.EMEA, "CUSTOMER_ADVOCATE_EMEA"),
        (SalesSegment.SMB, Region.US_WEST, "CUSTOMER_ADVOCATE_NCSA"),
        (SalesSegment.SMB, Region.LATAM, "CUSTOMER_ADVOCATE_NCSA"),
        (SalesSegment.SMB, Region.APAC, "CUSTOMER_ADVOCATE_APAC"),
        (SalesSegment.SMB, None, "BDR_PREQUALIFICATION"),
        (SalesSegment.MID_MARKET, Region.US_EAST, "BDR_US_EAST"),
        (SalesSegment.LARGE, Region.APAC, "BDR_APAC"),
        (SalesSegment.STRATEGIC, Region.EMEA, "BDR_EMEA"),
        (SalesSegment.UNKNOWN, Region.EMEA, "BDR_PREQUALIFICATION"),
        (SalesSegment.SMB, Region.PUBLIC_SECTOR, "PUBLIC_SECTOR_SDR"),
        (SalesSegment.LARGE, Region.PUBLIC_SECTOR, "PUBLIC_SECTOR_SDR"),
    ],
)
def test_a_territory_maps_to_the_pool_a_contact_us_request_would_go_to(
    segment, region, pool
):
    assert territory(segment, region)[0] == pool


def test_new_business_decisions_for_each_kind_of_account():
    owned = decide_hand_off(ticket(account=account()))
    unowned = decide_hand_off(ticket(account=account(owner=None)))
    none = decide_hand_off(ticket())
    free = decide_hand_off(
        TicketFacts(kind=NEW, domain="gmail.com", free_mail=True, account=None)
    )

    assert (owned.rule, owned.assignee_user_id, owned.pool, owned.account_id) == (
        HandOffRule.ACCOUNT_OWNER,
        7,
        None,
        3,
    )
    assert (unowned.rule, unowned.assignee_user_id, unowned.pool) == (
        HandOffRule.TERRITORY,
        None,
        "BDR_EMEA",
    )
    assert unowned.reason == (
        "Prospect account 'Acme', found by the domain acme.example, has no owner: its "
        "territory decides, MID_MARKET segment in EMEA: the region's BDR pool."
    )
    assert (none.rule, none.new_sales_quote, none.account_id) == (
        HandOffRule.NEW_SALES_QUOTE,
        True,
        None,
    )
    assert free.reason.startswith("gmail.com is a free-mail domain")


def test_renewal_decisions_in_order():
    renewal = RenewalFacts(opportunity_id=11, owner=OwnerFacts(9, Role.AM))
    placeholder_renewal = RenewalFacts(opportunity_id=11, owner=ADMIN_PLACEHOLDER)

    to_owner = decide_hand_off(ticket(RENEWAL, account=account(), renewal=renewal))
    to_smb = decide_hand_off(
        ticket(RENEWAL, account=account(), renewal=placeholder_renewal)
    )
    to_account_owner = decide_hand_off(ticket(RENEWAL, account=account()))
    no_one = decide_hand_off(
        ticket(RENEWAL, account=account(owner=ADMIN_PLACEHOLDER, region=None))
    )

    assert (to_owner.rule, to_owner.assignee_user_id, to_owner.opportunity_id) == (
        HandOffRule.RENEWAL_OWNER,
        9,
        11,
    )
    # The account's own owner does not step in for a placeholder-owned renewal.
    assert (
        to_smb.rule,
        to_smb.assignee_user_id,
        to_smb.pool,
        to_smb.opportunity_id,
    ) == (
        HandOffRule.SMB_TERRITORY,
        None,
        "CUSTOMER_ADVOCATE_EMEA",
        11,
    )
    assert (to_account_owner.rule, to_account_owner.assignee_user_id) == (
        HandOffRule.RENEWAL_ACCOUNT_OWNER,
        7,
    )
    assert (no_one.rule, no_one.pool, no_one.opportunity_id) == (
        HandOffRule.SMB_TERRITORY,
        "BDR_PREQUALIFICATION",
        None,
    )


def test_only_a_renewal_without_an_account_is_refused():
    refused = hand_off_refusals(ticket(RENEWAL))

    assert [(r.code, r.field) for r in refused] == [
        (ErrorCode.NOT_FOUND, ("requester_email",))
    ]
    assert hand_off_refusals(ticket(NEW)) == []
    assert hand_off_refusals(ticket(RENEWAL, account=account())) == []


def test_reasons_are_kept_once_in_the_enums_order():
    refund, po = (
        EscalationReason.CANCELLATION_OR_REFUND,
        EscalationReason.PURCHASE_ORDER,
    )

    assert normalize_reasons([refund, po, refund]) == [po, refund]
    assert normalize_reasons([]) == []


def test_the_age_runs_until_resolved_and_never_below_zero():
    assert age_seconds(T0, None, T0 + timedelta(days=2, seconds=5)) == 172_805
    assert age_seconds(T0, T0 + timedelta(hours=1), T0 + timedelta(days=9)) == 3600
    assert age_seconds(T0, None, T0 - timedelta(hours=1)) == 0
    with pytest.raises(ValueError):
        age_seconds(T0.replace(tzinfo=None), None, T0)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (Actor(5, Role.CUSTOMER_SUCCESS), True),  # passed it
        (Actor(6, Role.AE), True),  # assignee
        (Actor(8, Role.SALES_OPS), True),
        (Actor(8, Role.ADMIN), True),
        (Actor(8, Role.SDR), False),
        (Actor(8, Role.SALES_ADMIN), False),
    ],
)
def test_who_may_resolve_a_hand_off(actor, allowed):
    refusals = may_resolve_hand_off(actor, passed_by_id=5, assignee_id=6)

    assert [r.code for r in refusals] == ([] if allowed else [ErrorCode.FORBIDDEN])
