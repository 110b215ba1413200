"""webhooks: subscriptions, deliveries and their attempts

Revision ID: 0012_webhooks
Revises: 0011_api_tokens
Create Date: 2026-12-03 07:40:00.000000

Issue 12 items 1 and 2: webhook subscriptions (a target URL, a secret, a
filter, a status, the worker's cursor and lease), the deliveries owed to each
(one row per event and subscription) and every attempt at them (the delivery
log). The events table is unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0012_webhooks"
down_revision: str | None = "0011_api_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = domain.sqltypes.UTCDateTime(timezone=True)


def _status(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=40)


def upgrade() -> None:
    """Create the three webhook tables."""
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            _status("webhookstatus", "ACTIVE", "PAUSED", "DISABLED"),
            nullable=False,
        ),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("record_types", sa.JSON(), nullable=False),
        sa.Column("from_states", sa.JSON(), nullable=False),
        sa.Column("to_states", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("cursor_event_id", sa.Integer(), nullable=False),
        sa.Column("retry_at", UTC_TIME, nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_webhook_subscriptions_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            _status("deliverystatus", "PENDING", "DELIVERED", "DEAD_LETTERED"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("redelivery", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("delivered_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_webhook_deliveries_event_id_events"),
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_status",
        "webhook_deliveries",
        ["subscription_id", "status", "id"],
    )
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["event_id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTC_TIME, nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(
        "ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "attempt"]
    )


def downgrade() -> None:
    """Drop the webhook tables (their deliveries and log with them)."""
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_event", table_name="webhook_deliveries")
    op.drop_index(
        "ix_webhook_deliveries_subscription_status", table_name="webhook_deliveries"
    )
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
