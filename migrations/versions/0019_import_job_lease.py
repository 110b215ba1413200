"""import jobs: the worker running one and its heartbeat (taken over when it dies)

Revision ID: 0019_import_job_lease
Revises: 0018_history_imports
Create Date: 2026-12-03 17:00:00.000000

Like export jobs (0016): ``claimed_by`` and ``heartbeat_at``, so that a RUNNING
import whose worker died is claimed again once its heartbeat is older than the
lease, and resumes after the rows it reported (``domain.services.jobs``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0019_import_job_lease"
down_revision: str | None = "0018_history_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
        batch.add_column(
            sa.Column(
                "heartbeat_at",
                domain.sqltypes.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("claimed_by")
