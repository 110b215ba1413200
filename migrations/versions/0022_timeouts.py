"""timeouts as data and the scheduler's columns (issue 14, item 4)

Revision ID: 0022_timeouts
Revises: 0021_stage_requirements
Create Date: 2026-12-04 23:40:00.000000

``timeouts_versions`` holds each version of the timeouts table as one
document (``domain.rules.timeouts``); the ``TIMEOUTS`` row of
``rule_table_heads`` names the version in force. Version 1 is the seeded
table, frozen here (``tests/test_migrations.py`` checks it equals
``SEEDED_TIMEOUTS``).

Leads gain ``timeout_at`` (when an ACCEPTED lead times out) and
``sla_escalated_at``; opportunities ``stale_since``. The leads already
ACCEPTED get a full timeout from the upgrade on: the same UTC time on the 5th
weekday after today (``business_days.sla_due_at`` as it was when this was
written). An upgrade does not time out at once leads accepted before anyone
was told of timeouts.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0022_timeouts"
down_revision: str | None = "0021_stage_requirements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEEDED = {
    "acceptedLeadBusinessDays": 5,
    "acceptedLeadAction": "ROUTING_POOL",
    "escalateSlaBreaches": True,
    "staleAfterDays": {
        "PENDING_ACCEPTANCE": 14,
        "DISCOVERY": 30,
        "SCOPING": 30,
        "TECHNICAL_EVALUATION": 30,
        "PROPOSAL": 30,
        "NEGOTIATING": 30,
        "AWAITING_SIGNATURE": 30,
    },
}


def _weekdays_after(start: datetime, days: int) -> datetime:
    """The same time on the ``days``-th weekday after ``start``'s date (frozen
    copy of ``domain.rules.business_days.sla_due_at`` without holidays)."""
    moment = start
    while days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def upgrade() -> None:
    versions = op.create_table(
        "timeouts_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "changed_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_timeouts_versions_changed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_timeouts_versions")),
    )
    now = domain.sqltypes.utcnow()
    op.bulk_insert(
        versions,
        [{"version": 1, "document": SEEDED, "changed_at": now, "note": None}],
    )
    op.bulk_insert(
        sa.table(
            "rule_table_heads",
            sa.column("name", sa.String),
            sa.column("version", sa.Integer),
            sa.column("changed_at", domain.sqltypes.UTCDateTime(timezone=True)),
        ),
        [{"name": "TIMEOUTS", "version": 1, "changed_at": now}],
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sla_escalated_at",
                domain.sqltypes.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "timeout_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_leads_timeout_at", ["timeout_at"], unique=False)
        batch_op.create_index("ix_leads_sla_due_at", ["sla_due_at"], unique=False)
    leads = sa.table(
        "leads",
        sa.column("status", sa.String),
        sa.column("timeout_at", domain.sqltypes.UTCDateTime(timezone=True)),
    )
    op.execute(
        leads.update()
        .where(leads.c.status == "ACCEPTED")
        .values(timeout_at=_weekdays_after(now, SEEDED["acceptedLeadBusinessDays"]))
    )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "stale_since", domain.sqltypes.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "ix_opportunities_stage_stage_changed_at",
            ["stage", "stage_changed_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_opportunities_stale_since", ["stale_since"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index("ix_opportunities_stale_since")
        batch_op.drop_index("ix_opportunities_stage_stage_changed_at")
        batch_op.drop_column("stale_since")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_sla_due_at")
        batch_op.drop_index("ix_leads_timeout_at")
        batch_op.drop_column("timeout_at")
        batch_op.drop_column("sla_escalated_at")
    op.execute("DELETE FROM rule_table_heads WHERE name = 'TIMEOUTS'")
    op.drop_table("timeouts_versions")
