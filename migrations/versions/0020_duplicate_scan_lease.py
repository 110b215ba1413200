"""duplicate scans: the worker running one and its heartbeat (a job like the others)

Revision ID: 0020_duplicate_scan_lease
Revises: 0019_import_job_lease
Create Date: 2026-12-04 16:40:00.000000

Like export jobs (0016) and list imports (0019): ``claimed_by`` and
``heartbeat_at``, so that a scan too large to run inside its request is QUEUED
for ``salesops worker``, and a RUNNING scan whose worker died is claimed again
once its heartbeat is older than the lease (``domain.services.jobs``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0020_duplicate_scan_lease"
down_revision: str | None = "0019_import_job_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("duplicate_scans") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch.add_column(
            sa.Column(
                "heartbeat_at",
                domain.sqltypes.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("duplicate_scans") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("claimed_by")
