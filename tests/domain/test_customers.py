"""Customers (D1, D10 round 2): a won NEW_BUSINESS deal makes a customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import AccountType, OpportunityType
from domain.rules.customers import customer_on_win, type_on_reopen

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("deal", "account", "since", "becomes"),
    [
        (OpportunityType.NEW_BUSINESS, AccountType.PROSPECT, None, True),
        (OpportunityType.NEW_BUSINESS, AccountType.PROSPECT_CE_USER, None, True),
        (OpportunityType.NEW_BUSINESS, AccountType.FORMER_CUSTOMER, None, True),
        (OpportunityType.NEW_BUSINESS, AccountType.CUSTOMER, None, True),
        (OpportunityType.NEW_BUSINESS, AccountType.CUSTOMER, NOW, False),
        (OpportunityType.NEW_BUSINESS, AccountType.RESELLER, None, False),
        (OpportunityType.ADD_ON, AccountType.PROSPECT, None, False),
        (OpportunityType.RENEWAL, AccountType.PROSPECT, None, False),
    ],
)
def test_which_wins_make_a_customer(deal, account, since, becomes):
    assert customer_on_win(deal, account, since) is becomes


@pytest.mark.parametrize(
    ("made_from", "other_won", "days_ago", "restored"),
    [
        (AccountType.PROSPECT, False, 30, AccountType.PROSPECT),  # day 30 included
        (AccountType.FORMER_CUSTOMER, False, 1, AccountType.FORMER_CUSTOMER),
        (AccountType.PROSPECT, False, 31, None),
        (AccountType.PROSPECT, True, 1, None),
        (None, False, 1, None),  # this deal did not make the customer
    ],
)
def test_reopening_a_win_reverts_only_early_and_alone(
    made_from, other_won, days_ago, restored
):
    assert (
        type_on_reopen(
            made_customer_from=made_from,
            account_type=AccountType.CUSTOMER,
            other_won_deal=other_won,
            closed_at=NOW - timedelta(days=days_ago),
            now=NOW,
            window_days=30,
        )
        is restored
    )
