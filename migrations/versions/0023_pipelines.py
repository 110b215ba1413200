"""several pipelines on one mechanism: opportunities.pipeline (issue 14, item 2)

Revision ID: 0023_pipelines
Revises: 0022_timeouts
Create Date: 2026-12-05 00:15:00.000000

Every opportunity already there is in NEW_BUSINESS, the pipeline of every D3
stage, whatever its type: its stages and history stay valid, and a sales-ops
team moves renewals and add-ons with changeOpportunityPipeline.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_pipelines"
down_revision: str | None = "0022_timeouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pipeline",
                sa.Enum(
                    "NEW_BUSINESS",
                    "RENEWAL",
                    "ADD_ON",
                    name="pipeline",
                    native_enum=False,
                    length=40,
                ),
                nullable=False,
                server_default="NEW_BUSINESS",
            )
        )
        batch_op.create_index(
            "ix_opportunities_pipeline_stage", ["pipeline", "stage"], unique=False
        )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.alter_column("pipeline", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index("ix_opportunities_pipeline_stage")
        batch_op.drop_column("pipeline")
