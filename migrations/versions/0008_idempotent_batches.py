"""idempotent batches: the first answer of a batch mutation is a list of records

``idempotency_keys.record_ids`` keeps the ids of a batch's records in input
order (``recordEngagements``), so a repeated batch answers with the same
records; single-record mutations keep using ``record_id``.

Revision ID: 0008_idempotent_batches
Revises: 0007_funnel
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_idempotent_batches"
down_revision: str | None = "0007_funnel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("record_ids")
