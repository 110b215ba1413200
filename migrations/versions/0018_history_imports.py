"""history imports: external ids on opportunities and activities; historical jobs

Revision ID: 0018_history_imports
Revises: 0017_list_imports
Create Date: 2026-12-03 17:00:00.000000

Issue 13 item 2: an opportunity or an activity written by an import keeps its
id in the file's system (``external_id``, unique per kind) and the import
source that set it, so a re-import matches it; ``import_jobs.historical`` marks
a history import (closed deals, past stages).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_history_imports"
down_revision: str | None = "0017_list_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDS = ("activities", "opportunities")


def upgrade() -> None:
    for name in RECORDS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("external_id", sa.String(255), nullable=True))
            batch_op.add_column(
                sa.Column("import_source", sa.String(120), nullable=True)
            )
        op.create_index(f"ix_{name}_external_id", name, ["external_id"], unique=True)
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "historical", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("historical")
    for name in reversed(RECORDS):
        op.drop_index(f"ix_{name}_external_id", table_name=name)
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("import_source")
            batch_op.drop_column("external_id")
