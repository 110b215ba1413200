"""funnel: direct records enter at PENDING_ACCEPTANCE

Revision ID: 0009_funnel_direct
Revises: 0008_idempotent_batches
Create Date: 2026-12-02 15:20:00.000000

D11 (Decision, round 2): an opportunity created without a lead enters the
funnel at PENDING_ACCEPTANCE and is never stamped with lead milestones. Until
this revision such an entry had RAW … QUALIFYING stamped at the
opportunity's creation, with zero seconds between them. This revision makes
``raw_at`` nullable and clears, for every entry without a lead, the lead
milestones and the seconds into them and into PENDING_ACCEPTANCE (there is no
previous milestone). Its stamps from PENDING_ACCEPTANCE on are unchanged: the
old rule stamped them exactly as the new one does. Downgrading stamps the
lead milestones back at the opportunity's creation (the old rule).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0009_funnel_direct"
down_revision: str | None = "0008_idempotent_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEAD_STAMPS = ("raw_at", "inquiry_at", "mql_at", "accepted_at", "qualifying_at")
LEAD_SECONDS = (
    "seconds_to_inquiry",
    "seconds_to_mql",
    "seconds_to_accepted",
    "seconds_to_qualifying",
    "seconds_to_pending_acceptance",
)
UTC_TIME = domain.sqltypes.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("funnel_entries", schema=None) as batch_op:
        batch_op.alter_column("raw_at", existing_type=UTC_TIME, nullable=True)
    cleared = ", ".join(f"{name} = NULL" for name in (*LEAD_STAMPS, *LEAD_SECONDS))
    op.execute(f"UPDATE funnel_entries SET {cleared} WHERE lead_id IS NULL")


def downgrade() -> None:
    """Revert this revision: the lead milestones stamped again at the
    opportunity's creation, with the seconds the old rule gave."""
    entries = sa.table(
        "funnel_entries",
        sa.column("id", sa.Integer()),
        sa.column("lead_id", sa.Integer()),
        sa.column("opportunity_id", sa.Integer()),
        sa.column("pending_acceptance_at", UTC_TIME),
        *(sa.column(name, UTC_TIME) for name in LEAD_STAMPS),
        *(sa.column(name, sa.Integer()) for name in LEAD_SECONDS),
    )
    opportunities = sa.table(
        "opportunities",
        sa.column("id", sa.Integer()),
        sa.column("created_at", UTC_TIME),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            entries.c.id, opportunities.c.created_at, entries.c.pending_acceptance_at
        )
        .select_from(entries)
        .join(opportunities, opportunities.c.id == entries.c.opportunity_id)
        .where(entries.c.lead_id.is_(None))
    ).all()
    for entry_id, created, pending in rows:
        values = {name: created for name in LEAD_STAMPS}
        values |= {name: 0 for name in LEAD_SECONDS[:-1]}
        values["seconds_to_pending_acceptance"] = (
            max(0, int((pending - created).total_seconds()))
            if pending is not None
            else None
        )
        bind.execute(entries.update().where(entries.c.id == entry_id).values(values))
    with op.batch_alter_table("funnel_entries", schema=None) as batch_op:
        batch_op.alter_column("raw_at", existing_type=UTC_TIME, nullable=False)
