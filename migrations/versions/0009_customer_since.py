"""customer since: a won NEW_BUSINESS deal makes its account a CUSTOMER

``accounts.customer_since`` records when (D1, D10 round 2). Accounts that
already have a won NEW_BUSINESS opportunity are brought in step: the date of
their first such win, and PROSPECT / PROSPECT_CE_USER / FORMER_CUSTOMER
become CUSTOMER (the values are copied here, frozen: a migration never
imports live rules).

Revision ID: 0009_customer_since
Revises: 0008_idempotent_batches
Create Date: 2026-12-02 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0009_customer_since"
down_revision: str | None = "0008_idempotent_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BECOME_CUSTOMER = ("PROSPECT", "PROSPECT_CE_USER", "FORMER_CUSTOMER")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "customer_since",
                domain.sqltypes.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.Integer),
        sa.column("type", sa.String),
        sa.column("customer_since", domain.sqltypes.UTCDateTime(timezone=True)),
    )
    opportunities = sa.table(
        "opportunities",
        sa.column("account_id", sa.Integer),
        sa.column("type", sa.String),
        sa.column("stage", sa.String),
        sa.column("closed_at", domain.sqltypes.UTCDateTime(timezone=True)),
    )
    first_win = (
        sa.select(sa.func.min(opportunities.c.closed_at))
        .where(
            opportunities.c.account_id == accounts.c.id,
            opportunities.c.type == "NEW_BUSINESS",
            opportunities.c.stage == "CLOSED_WON",
        )
        .scalar_subquery()
    )
    won = sa.exists().where(
        opportunities.c.account_id == accounts.c.id,
        opportunities.c.type == "NEW_BUSINESS",
        opportunities.c.stage == "CLOSED_WON",
    )
    op.execute(accounts.update().where(won).values(customer_since=first_win))
    op.execute(
        accounts.update()
        .where(won, accounts.c.type.in_(BECOME_CUSTOMER))
        .values(type="CUSTOMER")
    )


def downgrade() -> None:
    """Revert this revision (types set by the upgrade stay CUSTOMER)."""
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("customer_since")
