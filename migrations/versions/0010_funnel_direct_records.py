"""funnel: direct records enter at PENDING_ACCEPTANCE

Revision ID: 0010_funnel_direct
Revises: 0009_customer_since
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

It also gives every grouping of the funnel its index walks (issue 15): per
grouping column and milestone, an index ordered by the group then the seconds
(partial: the records that reached it), covering the segment and region
filters and whether the record is a lead; per grouping column, one of the
leads (counts at RAW); one of the direct records (counts at
PENDING_ACCEPTANCE). The per-milestone indexes of 0007 are widened alike.
"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

import domain.sqltypes

revision: str = "0010_funnel_direct"
down_revision: str | None = "0009_customer_since"
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
SECONDS = (
    "seconds_to_inquiry",
    "seconds_to_mql",
    "seconds_to_accepted",
    "seconds_to_qualifying",
    "seconds_to_pending_acceptance",
    "seconds_to_sao",
    "seconds_to_sqo",
    "seconds_to_won",
)
DIMENSIONS = {
    "region": "region",
    "owner": "owner_id",
    "source": "initial_source",
    "sqs": "sales_qualification_source",
    "campaign": "campaign_id",
}
COVERED = ("sales_segment", "region", "lead_id")


def _short(seconds: str) -> str:
    return seconds[len("seconds_to_") :]


def walk_indexes() -> Iterator[tuple[str, list[str], str]]:
    """(name, columns, partial condition) of every index this revision adds: the
    funnel's walks by group (see domain.reports.funnel at this revision)."""
    for name in SECONDS:
        yield f"ix_funnel_entries_{name}", [name, *COVERED], f"{name} IS NOT NULL"
        yield (
            f"ix_funnel_entries_segment_{_short(name)}",
            ["sales_segment", name, "region", "lead_id"],
            f"{name} IS NOT NULL",
        )
    yield "ix_funnel_entries_raw_at", ["raw_at"], "raw_at IS NOT NULL"
    yield (
        "ix_funnel_segment_raw",
        ["sales_segment", "region", "lead_id"],
        "raw_at IS NOT NULL",
    )
    yield (
        "ix_funnel_direct",
        ["pending_acceptance_at", "sales_segment", *DIMENSIONS.values()],
        "raw_at IS NULL",
    )
    for short, column in DIMENSIONS.items():
        rest = [c for c in COVERED if c != column]
        for name in SECONDS:
            yield (
                f"ix_funnel_{short}_{_short(name)}",
                [column, name, *rest],
                f"{name} IS NOT NULL",
            )
        yield f"ix_funnel_{short}_raw", [column, *rest], "raw_at IS NOT NULL"


def _replaced() -> Iterator[tuple[str, list[str], str | None]]:
    """The indexes of 0007 that this revision widens (or makes partial)."""
    yield "ix_funnel_entries_raw_at", ["raw_at"], None
    for name in SECONDS:
        yield (
            f"ix_funnel_entries_{name}",
            [name, "sales_segment"],
            f"{name} IS NOT NULL",
        )
        yield (
            f"ix_funnel_entries_segment_{_short(name)}",
            ["sales_segment", name],
            f"{name} IS NOT NULL",
        )


def _create(indexes: Iterator[tuple[str, list[str], str | None]]) -> None:
    for name, columns, where in indexes:
        partial = (
            {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}
            if where is not None
            else {}
        )
        op.create_index(name, "funnel_entries", columns, **partial)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("funnel_entries", schema=None) as batch_op:
        batch_op.alter_column("raw_at", existing_type=UTC_TIME, nullable=True)
    cleared = ", ".join(f"{name} = NULL" for name in (*LEAD_STAMPS, *LEAD_SECONDS))
    op.execute(f"UPDATE funnel_entries SET {cleared} WHERE lead_id IS NULL")
    for name, _columns, _where in _replaced():
        op.drop_index(name, table_name="funnel_entries")
    _create(walk_indexes())


def downgrade() -> None:
    """Revert this revision: the lead milestones stamped again at the
    opportunity's creation, with the seconds the old rule gave."""
    for name, _columns, _where in walk_indexes():
        op.drop_index(name, table_name="funnel_entries")
    _create(_replaced())
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
