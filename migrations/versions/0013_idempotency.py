"""idempotency: keys are pruned by age

Every create and transition mutation accepts ``idempotencyKey``; keys are kept
24 hours and pruned by ``created_at``, which this index serves.

Revision ID: 0013_idempotency
Revises: 0012_webhooks
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_idempotency"
down_revision: str | None = "0012_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
