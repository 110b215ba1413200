"""Customers (D1, D10 round 2): when a won deal makes an account a CUSTOMER.

The handbook's customer lifecycle: "Customer | [Opportunity] | 6-Closed Won"
(7-Closed Won in today's numbering, D3). Decisions:

- A NEW_BUSINESS opportunity entering CLOSED_WON (moved there, or created
  there as a WEB_DIRECT purchase) makes a PROSPECT, PROSPECT_CE_USER or
  FORMER_CUSTOMER account a CUSTOMER, and ``customer_since`` records the
  moment. A CUSTOMER keeps its date (a CUSTOMER typed by hand without one
  takes the first win's); partners, resellers and integrators keep their type.
  ADD_ON and RENEWAL deals are sold to customers already: they change nothing.
- Reopening that deal (leaving CLOSED_WON, a SALES_OPS override, D3 rule 7)
  within the reopen window (30 days from the close, day 30 included) reverts
  the account to the type it had before — only when this deal is the one
  that made it a customer and no other won deal (of any type) remains on the
  account; ``customer_since`` is cleared. After the window the account stays
  a customer: the relationship has begun.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.enums import AccountType, OpportunityType

# The account types a won NEW_BUSINESS deal turns into CUSTOMER.
BECOMES_CUSTOMER = frozenset(
    {AccountType.PROSPECT, AccountType.PROSPECT_CE_USER, AccountType.FORMER_CUSTOMER}
)


def customer_on_win(
    deal_type: OpportunityType,
    account_type: AccountType,
    customer_since: datetime | None,
) -> bool:
    """Whether winning this deal makes (or dates) the account a customer."""
    if deal_type is not OpportunityType.NEW_BUSINESS:
        return False
    return account_type in BECOMES_CUSTOMER or (
        account_type is AccountType.CUSTOMER and customer_since is None
    )


def type_on_reopen(
    *,
    made_customer_from: AccountType | None,
    account_type: AccountType,
    other_won_deal: bool,
    closed_at: datetime | None,
    now: datetime,
    window_days: int,
) -> AccountType | None:
    """The type to restore when a won deal is reopened, or None to keep it.

    ``made_customer_from`` is the type the account had before this deal made
    it a CUSTOMER (None when this deal did not).
    """
    if made_customer_from is None or account_type is not AccountType.CUSTOMER:
        return None
    if other_won_deal or closed_at is None:
        return None
    if now - closed_at > timedelta(days=window_days):
        return None
    return made_customer_from
