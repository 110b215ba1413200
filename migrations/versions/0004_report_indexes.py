"""report indexes: SAO/SQO dates and closed deals by stage and close time (D11)

Revision ID: 0003_report_indexes
Revises: 0003_support
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_report_indexes"
down_revision: str | None = "0003_support"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_opportunities_sales_accepted_date": ["sales_accepted_date"],
    "ix_opportunities_sales_qualified_date": ["sales_qualified_date"],
    "ix_opportunities_stage_closed_at": ["stage", "closed_at"],
}


def upgrade() -> None:
    """Index the columns the D11 reports select windows on."""
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
