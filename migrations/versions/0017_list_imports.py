"""list imports: external ids on leads, contacts, accounts; mappings; import jobs

Revision ID: 0017_list_imports
Revises: 0016_export_jobs
Create Date: 2026-12-03 14:00:00.000000

D12 (issue 13 item 1): a record written by a list import keeps its id in the
file's system (``external_id``, unique per kind) and the import source that
set it; a re-import matches on it. ``import_mappings`` are the column mappings
saved by name; ``import_jobs`` and ``import_rows`` are the jobs and their row
reports.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0017_list_imports"
down_revision: str | None = "0016_export_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = domain.sqltypes.UTCDateTime(timezone=True)
RECORDS = ("accounts", "contacts", "leads")


def upgrade() -> None:
    for name in RECORDS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("external_id", sa.String(255), nullable=True))
            batch_op.add_column(
                sa.Column("import_source", sa.String(120), nullable=True)
            )
        op.create_index(f"ix_{name}_external_id", name, ["external_id"], unique=True)
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["saved_by_id"], ["users.id"], name="fk_import_mappings_saved_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_mappings"),
        sa.UniqueConstraint("name", name="uq_import_mappings_name"),
    )
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(120), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("atomic", sa.Boolean(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("unmapped", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name="fk_import_jobs_campaign_id_campaigns",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name="fk_import_jobs_requested_by_id_users",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_jobs"),
    )
    op.create_index("ix_import_jobs_status_id", "import_jobs", ["status", "id"])
    op.create_table(
        "import_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("record_type", sa.String(40), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["import_jobs.id"], name="fk_import_rows_job_id_import_jobs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_rows"),
    )
    op.create_index("ix_import_rows_job_row", "import_rows", ["job_id", "row_number"])


def downgrade() -> None:
    op.drop_index("ix_import_rows_job_row", table_name="import_rows")
    op.drop_table("import_rows")
    op.drop_index("ix_import_jobs_status_id", table_name="import_jobs")
    op.drop_table("import_jobs")
    op.drop_table("import_mappings")
    for name in reversed(RECORDS):
        op.drop_index(f"ix_{name}_external_id", table_name=name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("import_source")
            batch_op.drop_column("external_id")
