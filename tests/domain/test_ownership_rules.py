"""Ownership rules (D8) and who is told (D10): pure, no database."""

from __future__ import annotations

import pytest

from domain.enums import Region, Role
from domain.rules.notifications import (
    PROFESSIONAL_SERVICES_REQUEST,
    STRATEGIC_ACCOUNT_INBOUND,
    Person,
    Recipient,
    account_team_recipients,
    adoption_recipients,
    managers_of,
    owner_change_recipients,
)
from domain.rules.permissions import (
    Actor,
    Owner,
    is_adoption,
    may_change_lead_owner,
    may_update_lead,
    may_update_record,
)

BDR = Owner(1, Role.BDR)
PLACEHOLDER = Owner(2, Role.SALES_ADMIN)
AE_OWNER = Owner(3, Role.AE)


def codes(refusals):
    return [r.code.value for r in refusals]


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (Actor(1, Role.BDR), True),  # the owning BDR
        (Actor(9, Role.SALES_OPS), True),
        (Actor(9, Role.ADMIN), True),
        (Actor(9, Role.MARKETING_OPS), False),
        (Actor(9, Role.BDR), False),
        (Actor(9, Role.SDR), False),
        (Actor(9, Role.AE), False),
        (Actor(9, Role.SAL), False),
        (Actor(9, Role.SALES_ADMIN), False),
    ],
)
def test_a_bdrs_lead_changes_hands_only_by_that_bdr_or_sales_ops(actor, allowed):
    # Even taking it for oneself is no adoption.
    assert codes(may_change_lead_owner(actor, BDR, actor.id)) == (
        [] if allowed else ["FORBIDDEN"]
    )


def test_editing_a_bdrs_lead_without_changing_hands_follows_the_lead_rule():
    marketing = Actor(9, Role.MARKETING_OPS)
    ae = Actor(8, Role.AE)

    assert may_update_lead(marketing, BDR, None, changes_owner=False) == []
    assert codes(may_update_lead(ae, BDR, None, changes_owner=False)) == ["FORBIDDEN"]


@pytest.mark.parametrize("role", list(Role))
def test_anyone_may_adopt_a_sales_admin_lead_for_themselves(role):
    actor = Actor(9, role)

    assert may_change_lead_owner(actor, PLACEHOLDER, 9) == []
    assert may_update_record(actor, PLACEHOLDER, 9, "account", changes_owner=True) == []


def test_adopting_for_someone_else_needs_the_usual_rights():
    ae = Actor(9, Role.AE)
    ops = Actor(8, Role.SALES_OPS)

    assert codes(may_change_lead_owner(ae, PLACEHOLDER, 7)) == ["FORBIDDEN"]
    assert codes(
        may_update_record(ae, PLACEHOLDER, 7, "contact", changes_owner=True)
    ) == ["FORBIDDEN"]
    assert may_change_lead_owner(ops, PLACEHOLDER, 7) == []
    assert may_update_record(ops, PLACEHOLDER, 7, "contact", changes_owner=True) == []


def test_a_sales_admin_record_is_not_editable_without_adopting_it():
    ae = Actor(9, Role.AE)

    assert codes(may_update_lead(ae, PLACEHOLDER, None, changes_owner=False)) == [
        "FORBIDDEN"
    ]
    assert codes(
        may_update_record(ae, PLACEHOLDER, None, "account", changes_owner=False)
    ) == ["FORBIDDEN"]


def test_an_unowned_lead_is_adoptable_by_anyone_but_only_for_themselves():
    """002_91dd8e67a169a832.txt: "If LEAD or CONTACT is unowned or 'owned by Sales
    Admin' ..., this record is adoptable by anyone - change Record Owner to your
    name" (round 2: unowned leads no longer stay read-only for reps)."""
    assert may_change_lead_owner(Actor(9, Role.AE), None, 9) == []
    assert may_change_lead_owner(Actor(9, Role.BDR), None, 9) == []
    assert codes(may_change_lead_owner(Actor(9, Role.AE), None, 8)) == ["FORBIDDEN"]
    assert may_change_lead_owner(Actor(9, Role.MARKETING_OPS), None, 8) == []


def test_an_adoption_is_leaving_the_placeholder_for_a_user():
    assert is_adoption(PLACEHOLDER, 9)
    assert not is_adoption(PLACEHOLDER, None)
    assert not is_adoption(PLACEHOLDER, PLACEHOLDER.id)
    assert not is_adoption(AE_OWNER, 9)
    assert not is_adoption(None, 9)


def test_the_strategic_inbound_goes_to_the_active_sals_owner_first():
    owner = Person(1, Role.SAL)
    team = [
        Person(5, Role.SAL),
        Person(4, Role.SAL, active=False),
        Person(3, Role.SDR),
        Person(2, Role.SAL),
    ]

    assert account_team_recipients(STRATEGIC_ACCOUNT_INBOUND, owner, team) == [
        Recipient(1, "SAL"),
        Recipient(2, "SAL"),
        Recipient(5, "SAL"),
    ]


def test_an_owner_who_is_not_a_sal_is_not_told_as_one():
    owner = Person(1, Role.AE)

    assert account_team_recipients(STRATEGIC_ACCOUNT_INBOUND, owner, []) == []


def test_professional_services_go_to_the_sal_sdr_and_csm_each_once():
    owner = Person(1, Role.SAL)
    team = [
        Person(6, Role.CUSTOMER_SUCCESS),
        Person(5, Role.SDR),
        Person(1, Role.SDR),  # the owner, also on the team as SDR: told once
        Person(4, Role.AE),
        Person(3, Role.BDR),
    ]

    assert account_team_recipients(PROFESSIONAL_SERVICES_REQUEST, owner, team) == [
        Recipient(1, "SAL"),
        Recipient(5, "SDR"),
        Recipient(6, "CUSTOMER_SUCCESS"),
    ]


def test_an_adoption_alert_goes_to_active_sales_ops_but_the_adopter():
    people = [
        Person(3, Role.SALES_OPS),
        Person(1, Role.SALES_OPS),
        Person(2, Role.SALES_OPS, active=False),
        Person(4, Role.ADMIN),
    ]

    assert adoption_recipients(people, actor_id=3) == [Recipient(1, "SALES_OPS")]


@pytest.mark.parametrize(
    ("new", "previous", "actor", "expected"),
    [
        (5, 6, 7, [Recipient(5, "NEW_OWNER"), Recipient(6, "PREVIOUS_OWNER")]),
        (5, 6, 5, [Recipient(6, "PREVIOUS_OWNER")]),
        (5, 6, 6, [Recipient(5, "NEW_OWNER")]),
        (5, None, 7, [Recipient(5, "NEW_OWNER")]),
        (None, 6, 7, [Recipient(6, "PREVIOUS_OWNER")]),
        (5, 5, 5, []),
    ],
)
def test_an_owner_change_tells_both_owners_but_not_whoever_made_it(
    new, previous, actor, expected
):
    assert owner_change_recipients(new, previous, actor) == expected


def test_the_placeholder_is_nobody_to_tell():
    assert owner_change_recipients(5, 2, 7, previous_is_placeholder=True) == [
        Recipient(5, "NEW_OWNER")
    ]
    assert owner_change_recipients(2, 6, 7, new_is_placeholder=True) == [
        Recipient(6, "PREVIOUS_OWNER")
    ]


def test_a_field_sales_reps_manager_is_their_regions_rd_else_sales_ops():
    people = [
        Person(1, Role.SALES_OPS),
        Person(2, Role.RD, region=Region.EMEA),
        Person(3, Role.RD, active=False, region=Region.APAC),
        Person(4, Role.SALES_OPS, active=False),
    ]

    def ids(person):
        return [p.user_id for p in managers_of(person, people)]

    assert ids(Person(9, Role.AE, region=Region.EMEA)) == [2]
    assert ids(Person(9, Role.SAL, region=Region.APAC)) == [1]  # the RD is inactive
    assert ids(Person(9, Role.AM)) == [1]  # no region
    assert ids(Person(9, Role.BDR, region=Region.EMEA)) == [1]  # no team lead role
    assert ids(Person(9, Role.RD, region=Region.EMEA)) == [1]
