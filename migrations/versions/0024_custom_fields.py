"""custom fields on leads, accounts and opportunities (issue 14, item 3)

Revision ID: 0024_custom_fields
Revises: 0023_pipelines
Create Date: 2026-12-05 00:45:00.000000

``custom_field_definitions`` holds what sales ops define (one record type,
a camelCase key, a label, a type, choices); each record keeps its values in
one JSON column ``custom_fields`` (``domain.rules.custom_fields``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0024_custom_fields"
down_revision: str | None = "0023_pipelines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("leads", "accounts", "opportunities")


def upgrade() -> None:
    op.create_table(
        "custom_field_definitions",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "record_type",
            sa.Enum(
                "LEAD",
                "CONTACT",
                "ACCOUNT",
                "OPPORTUNITY",
                "USER",
                "CAMPAIGN",
                name="recordtype",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "TEXT",
                "NUMBER",
                "MONEY",
                "DATE",
                "BOOLEAN",
                "CHOICE",
                name="customfieldtype",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "archived_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_custom_field_definitions_created_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_field_definitions")),
        sa.UniqueConstraint(
            "record_type",
            "key",
            name=op.f("uq_custom_field_definitions_record_type_key"),
        ),
    )
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("custom_fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("custom_fields")
    op.drop_table("custom_field_definitions")
