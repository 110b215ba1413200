"""Editing the D6 scoring table, and rescoring every lead in bulk (updateScoringTable).

An edit writes a new version (who, when, why; the old ones stay readable) and,
in the same transaction, recomputes every lead's ``person_score`` with set-based
SQL: behaviour points are a GROUP BY over the engagements joined with the new
points (page visits counted once per kind and UTC day, as the pure rule does),
demographic points come from the facts stored on each lead (title rules, email
domain against the new free-mail list, careers penalties). Only leads whose
score changes are written (``version`` + 1), whatever the number of leads: no
statement runs per lead.

Decisions where the spec is silent:

- SALES_OPS and ADMIN edit the table; ``expectedVersion`` is required (two
  people editing the same table must not overwrite each other silently).
- Every lead is rescored, converted and closed ones included: the score is
  derived data and ``scoreBreakdown`` always explains it with the current
  table, so the two stay equal.
- The rescore changes scores only. It does not move any lead to MQL and does
  not route anyone: moving thousands of leads to MQL (and into BDR queues) as a
  side effect of a table edit is not what a sales-ops team expects. A lead
  whose new score is at or above the MQL threshold becomes MQL on its next
  scoring event (an engagement or a profile change: scoring moves a RAW,
  INQUIRY or NURTURE lead at or above the threshold), or by ``transitionLead``
  (whose guard reads the current threshold). The payload says how many open
  leads are in that position, and how many unowned ones are at or above the
  routing threshold (``routeLead`` routes them); ``leads(filter: {status:
  [RAW, INQUIRY, NURTURE], scoreAtLeast: N})`` lists them. An MQL lead whose
  score falls below a raised threshold stays MQL (a status is history).
- The rescore writes no LEAD_SCORE_CHANGED event per lead (a burst of up to a
  million outbox rows); the new version, with the number of leads rescored,
  is the record of the change.
- Funnel entries need no refresh: the rescore writes ``person_score`` (and
  ``version``, ``updated_at``) only, and no entry copies a score
  (``milestones.COPIED_COLUMNS``); the sales segment an entry copies comes
  from the number of employees, not from the score, and no status moves. The
  shared pipeline (``domain.services.versioned_table``) checks this from
  ``SCORING_TABLE.derives``: a re-derivation that one day writes a copied
  column gets its entries refreshed in the same transaction.

The steps every versioned table shares (permission, head lock, version check,
version row, head) are ``domain.services.versioned_table``'s; this module holds
what is the scoring table's own: thresholds, points, free mail, the rescore.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, case, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from domain.errors import refuse_if
from domain.lifecycle.lead import MQL_SOURCES, OPEN_STATUSES
from domain.records import (
    Engagement,
    Lead,
    ScoringFreeMailDomain,
    ScoringTablePoints,
    ScoringTableVersion,
)
from domain.rules.permissions import Actor
from domain.rules.scoring import (
    DEFAULT_SCORING_TABLE,
    RULE_IDS,
    ScoringTable,
    ScoringTableEdit,
    validate_scoring_table,
)
from domain.services.rule_tables import (
    SCORING,
)
from domain.services.versioned_table import VersionedTable, edit_table, version_rows


@dataclass(frozen=True, slots=True)
class ScoringTableChange:
    """A new version of the table and what its rescore found."""

    version: ScoringTableVersion
    leads_rescored: int
    leads_at_mql_threshold: int
    unowned_leads_at_routing_threshold: int


SCORING_TABLE: VersionedTable[ScoringTable] = VersionedTable(
    head=SCORING,
    field="scoring",
    title="the scoring table",
    record=ScoringTableVersion,
    derives=frozenset({"person_score"}),
)


async def update_scoring_table(
    edit: ScoringTableEdit,
    *,
    session: AsyncSession,
    actor: Actor,
    expected_version: int,
    note: str | None = None,
    now: datetime | None = None,
) -> ScoringTableChange:
    """Write the next version of the scoring table and rescore every lead."""

    def apply(current: ScoringTable) -> ScoringTable:
        refuse_if(edit.refusals())
        table = edit.applied_to(current)
        refuse_if(validate_scoring_table(table))
        return table

    row = await edit_table(
        SCORING_TABLE,
        session=session,
        actor=actor,
        expected_version=expected_version,
        note=note,
        now=now,
        apply=apply,
        version_values=lambda table: {
            "mql_threshold": table.mql_threshold,
            "routing_threshold": table.routing_threshold,
        },
        write_rows=_write_rows,
        rederive=_rederive,
    )
    return ScoringTableChange(
        version=row,
        leads_rescored=row.leads_rescored,
        leads_at_mql_threshold=await _count(
            session,
            Lead.status.in_(MQL_SOURCES),  # type: ignore[attr-defined]
            Lead.person_score >= row.mql_threshold,
        ),
        unowned_leads_at_routing_threshold=await _count(
            session,
            Lead.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
            Lead.owner_id.is_(None),  # type: ignore[union-attr]
            Lead.person_score >= row.routing_threshold,
        ),
    )


async def _write_rows(
    session: AsyncSession, table: ScoringTable, current: ScoringTable
) -> None:
    """The points of every rule (descriptions carried over) and the free-mail list."""
    descriptions: dict[str, str] = dict(
        (
            await session.execute(
                select(
                    col(ScoringTablePoints.rule), col(ScoringTablePoints.description)
                ).where(col(ScoringTablePoints.version) == current.version)
            )
        ).all()
    )
    defaults = {row.rule: row.description for row in DEFAULT_SCORING_TABLE.rules()}
    session.add_all(
        ScoringTablePoints(
            version=table.version,
            rule=rule,
            points=points,
            description=descriptions.get(rule) or defaults[rule],
        )
        for rule, points in table.points_by_rule().items()
    )
    session.add_all(
        ScoringFreeMailDomain(version=table.version, domain=d)
        for d in sorted(table.free_mail_domains)
    )


async def _rederive(
    session: AsyncSession, table: ScoringTable, now: datetime
) -> dict[str, int]:
    return {"leads_rescored": await rescore_all_leads(session, table, now=now)}


async def _count(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    return int(
        (
            await session.execute(select(func.count()).select_from(Lead).where(*where))
        ).scalar_one()
    )


def _utc_day(session: AsyncSession, at: ColumnElement[datetime]) -> ColumnElement:
    """The UTC calendar day of a stored time (SQLite stores naive UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", at))
    return func.date(at)


async def rescore_all_leads(
    session: AsyncSession, table: ScoringTable, *, now: datetime
) -> int:
    """Recompute every lead's score with ``table`` in SQL; how many changed.

    Equal to ``domain.rules.scoring.score`` for each lead: per engagement kind,
    its points times the number of engagements (of distinct UTC days for the
    once-a-day kinds), plus the demographic rules and careers penalties of the
    lead's stored facts.
    """
    e = Engagement
    daily = [k.value for k in table.daily_once_kinds]
    # One row per engagement that counts: every engagement of the other kinds,
    # one per (lead, kind, UTC day) of the once-a-day kinds.
    counted = union_all(
        select(col(e.lead_id), col(e.kind)).where(
            col(e.lead_id).is_not(None), col(e.kind).not_in(daily)
        ),
        select(col(e.lead_id), col(e.kind))
        .where(col(e.lead_id).is_not(None), col(e.kind).in_(daily))
        .group_by(e.lead_id, e.kind, _utc_day(session, e.occurred_at)),  # type: ignore[arg-type]
    ).subquery("counted")
    p = ScoringTablePoints
    behaviour = (
        select(counted.c.lead_id, func.sum(p.points).label("points"))
        .join(p, (col(p.rule) == counted.c.kind) & (col(p.version) == table.version))
        .group_by(counted.c.lead_id)
        .subquery("behaviour")
    )
    lead = Lead.__table__.alias("l")  # type: ignore[attr-defined]
    free_mail = select(col(ScoringFreeMailDomain.domain)).where(
        col(ScoringFreeMailDomain.version) == table.version
    )
    demographic = (
        case((lead.c.score_title_seniority, table.title_seniority_points), else_=0)
        + case(
            (
                lead.c.score_title_blank_or_technical,
                table.title_blank_or_technical_points,
            ),
            else_=0,
        )
        + case(
            (lead.c.score_email_domain.is_(None), 0),
            (lead.c.score_email_domain.in_(free_mail), table.free_mail_points),
            else_=table.company_email_points,
        )
        + lead.c.score_careers_penalties * table.careers_visits_points
    )
    rescored = (
        select(
            lead.c.id,
            (demographic + func.coalesce(behaviour.c.points, 0))
            .cast(Integer)
            .label("score"),
        )
        .select_from(lead.outerjoin(behaviour, behaviour.c.lead_id == lead.c.id))
        .subquery("rescored")
    )
    result = await session.execute(
        update(Lead)
        .where(Lead.id == rescored.c.id, Lead.person_score != rescored.c.score)  # type: ignore[arg-type]
        .values(
            person_score=rescored.c.score,
            version=Lead.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StoredScoringTable:
    """One stored version as the API shows it: the version row, rules, free mail."""

    version: ScoringTableVersion
    rules: list[ScoringTablePoints]
    free_mail_domains: list[str]


async def scoring_table_versions(
    session: AsyncSession, *, version: int | None = None, limit: int | None = None
) -> list[StoredScoringTable]:
    """Stored versions, newest first: one ``version``, or the ``limit`` newest."""
    rows = await version_rows(session, SCORING_TABLE, version=version, limit=limit)
    numbers = [r.version for r in rows]
    order = {rule: i for i, rule in enumerate(RULE_IDS)}
    rules: dict[int, list[ScoringTablePoints]] = {n: [] for n in numbers}
    for point in (
        await session.execute(
            select(ScoringTablePoints).where(
                col(ScoringTablePoints.version).in_(numbers)
            )
        )
    ).scalars():
        rules[point.version].append(point)
    domains: dict[int, list[str]] = {n: [] for n in numbers}
    for n, domain in await session.execute(
        select(col(ScoringFreeMailDomain.version), col(ScoringFreeMailDomain.domain))
        .where(col(ScoringFreeMailDomain.version).in_(numbers))
        .order_by(ScoringFreeMailDomain.domain)
    ):
        domains[n].append(domain)
    return [
        StoredScoringTable(
            version=r,
            rules=sorted(
                rules[r.version], key=lambda p: (order.get(p.rule, len(order)), p.rule)
            ),
            free_mail_domains=domains[r.version],
        )
        for r in rows
    ]
