"""export jobs: one row per `exportRecords` request (issue 13 item 5)

Revision ID: 0016_export_jobs
Revises: 0015_merges
Create Date: 2026-12-03 14:00:00.000000

``export_jobs`` holds what to export (kind, the list filter as JSON), who asked,
where it stands (QUEUED → RUNNING → DONE/FAILED, rows written of how many) and
the file it wrote. The worker claims QUEUED jobs with FOR UPDATE SKIP LOCKED.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0016_export_jobs"
down_revision: str | None = "0015_merges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = domain.sqltypes.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("claimed_by", sa.String(120), nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=True),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name="fk_export_jobs_requested_by_id_users",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_export_jobs"),
    )
    op.create_index("ix_export_jobs_status_id", "export_jobs", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_export_jobs_status_id", table_name="export_jobs")
    op.drop_table("export_jobs")
