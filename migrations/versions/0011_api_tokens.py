"""api tokens: scopes, expiry and the auth generation counter

Revision ID: 0011_api_tokens
Revises: 0010_funnel_direct
Create Date: 2026-12-03 07:30:00.000000

Issue 15 item 3: each API process keeps the tokens it checked in memory for
a short while. ``auth_generation`` is one row whose counter grows in the same
transaction as every change that must end a cached token at once (a token
revoked, a user changed or deactivated); a process re-reads it at most every
second and drops its cache when it moved.

Issue 16 item 9: tokens carry scopes (READ, WRITE, ADMIN: independent flags;
existing tokens keep all three, as the CLI's session tokens do) and an
optional expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

SCOPES = ("scope_read", "scope_write", "scope_admin")

revision: str = "0011_api_tokens"
down_revision: str | None = "0010_funnel_direct"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    generation = op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_generation")),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        for name in SCOPES:
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False)
            )
        batch_op.add_column(
            sa.Column(
                "expires_at",
                domain.sqltypes.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        for name in (*SCOPES, "expires_at"):
            batch_op.drop_column(name)
    op.drop_table("auth_generation")
