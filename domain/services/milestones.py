"""Milestones (D11): every funnel record's ``FunnelEntry``, kept by the unit of work.

Design. The funnel counts *funnel records*: each lead, and each opportunity
created without a lead (a *direct* record: it enters at PENDING_ACCEPTANCE,
its lead milestones stay empty, D11 round 2). A lead converted into a new
opportunity goes on as that opportunity ("the lead is duplicated to an
opportunity", D7), in the same entry. One row per record, holding its nine
milestone moments, the seconds between consecutive milestones and its
dimensions, makes the funnel one aggregate over one narrow table: counts are a
GROUP BY, and each median walks an index on ``(seconds_to_<milestone>,
sales_segment)`` to its middle row instead of sorting (see
``domain.reports.funnel``). Stamps on the leads and opportunities themselves
would have split every milestone over two wide tables (a union and a sort for
each median; measured on SQLite at 1,000,000 leads: a GROUP BY over ``leads``
5 s, one window median 1 s, one index walk 5 ms).

How it stays true. An ``after_flush`` hook (``follow_records``) looks at every
lead, opportunity and account the flush wrote: a new lead or opportunity gets
its entry, a status or stage change stamps the milestone it reaches
(``domain.rules.funnel``: first reach kept, skipped milestones stamped with
it), a changed dimension is copied. Whatever path moves a record through the
ORM (transitionLead, automatic moves on engagements, convertLead,
createOpportunity, moveOpportunityStage with overrides or back moves), the
same flush keeps the entry, in the same transaction. Status moves are stamped
at the record's ``status_changed_at`` / ``stage_changed_at``, creations at
``created_at``.

The hook is installed where sessions are made, never by importing this module:
the API, the CLI and the tests build their sessions with
``domain.services.sessions.make_sessions``, which installs it. A bulk statement
(``UPDATE leads …`` of a table edit, an import, a merge) is no flush: it never
reaches the hook, so whoever writes records in bulk calls ``refresh_entries``
in the same transaction, which copies the dimensions again with set-based SQL.

Dimensions (decisions where D11 is silent): an entry is grouped by what the
record it started as says: a lead's sales segment, region, initial source,
owner and first-touch campaign (a converted lead is read-only, so its values
are final at conversion and stay with the opportunity it became); an
opportunity created without a lead by its account's segment and region and
its own owner, initial source and primary campaign. The sales qualification
source is the opportunity's (none while the record is a lead). A lead
converted onto an existing opportunity (a contact role) stops at QUALIFYING:
that opportunity is counted in its own entry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Update,
    bindparam,
    event,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from domain.enums import FunnelMilestone
from domain.records import Account, FunnelEntry, Lead, Opportunity
from domain.rules.funnel import (
    MILESTONES,
    Stamps,
    lead_stamps,
    milestone_of_stage,
    milestone_of_status,
    opportunity_stamps,
    reach,
    seconds_between,
)

ENTRIES = FunnelEntry.__table__  # type: ignore[attr-defined]
LEADS = Lead.__table__  # type: ignore[attr-defined]
OPPORTUNITIES = Opportunity.__table__  # type: ignore[attr-defined]
ACCOUNTS = Account.__table__  # type: ignore[attr-defined]
STAMP_COLUMNS = tuple(f"{m.value.lower()}_at" for m in MILESTONES)
SECONDS_COLUMNS = tuple(f"seconds_to_{m.value.lower()}" for m in MILESTONES[1:])

LEAD_DIMENSIONS = (
    "sales_segment",
    "region",
    "initial_source",
    "owner_id",
    "campaign_id",
)
# A direct opportunity's own dimensions (segment and region come from its account).
OPPORTUNITY_DIMENSIONS = ("owner_id", "initial_source", "campaign_id")
# Every column of a lead, opportunity or account that an entry copies: a bulk
# write of any of them must call ``refresh_entries``.
COPIED_COLUMNS = frozenset(
    (
        *LEAD_DIMENSIONS,
        *OPPORTUNITY_DIMENSIONS,
        "account_id",
        "sales_qualification_source",
    )
)


def stamp_values(stamps: Stamps) -> dict[str, Any]:
    """The entry columns for these stamps: the moments and the seconds between."""
    return dict(zip(STAMP_COLUMNS, stamps, strict=True)) | dict(
        zip(SECONDS_COLUMNS, seconds_between(stamps), strict=True)
    )


def stamp_changes(before: Stamps, after: Stamps) -> dict[str, Any]:
    """The entry columns whose value differs between two sets of stamps: all an
    UPDATE needs to set (every index holding a column set is rewritten)."""
    old, new = stamp_values(before), stamp_values(after)
    return {name: value for name, value in new.items() if old[name] != value}


def stamp_columns() -> list[Any]:
    """The entry's milestone moments, in milestone order (to read with a record)."""
    return [ENTRIES.c[name] for name in STAMP_COLUMNS]


def reached_changes(
    stamps: Stamps, milestone: FunnelMilestone | None, at: datetime
) -> dict[str, Any]:
    """The entry columns that change when stored ``stamps`` reach ``milestone``
    at ``at`` (``reach``); empty when nothing does."""
    return stamp_changes(stamps, reach(stamps, milestone, at))


def reached_update(
    key: Any, stamps: Stamps, milestone: FunnelMilestone | None, at: datetime
) -> Update | None:
    """The UPDATE of the entry ``key`` (``ENTRIES.c.lead_id == 7``) whose stored
    ``stamps`` reach ``milestone`` at ``at`` (``reach``), setting only the
    columns that change; None when nothing does."""
    changed = reached_changes(stamps, milestone, at)
    return update(ENTRIES).where(key).values(**changed) if changed else None


def _changed(record: Any, *names: str) -> bool:
    # ``get_history`` per name: ``inspect(record).attrs`` builds a state for
    # every attribute of the record (measured: a fifth of a batch's walk).
    return any(get_history(record, name).has_changes() for name in names)


def _lead_dimensions(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in LEAD_DIMENSIONS}


def _account_dimensions(session: Session, account_id: int) -> dict[str, Any]:
    segment, region = session.execute(
        select(Account.sales_segment, Account.region).where(Account.id == account_id)  # type: ignore[call-overload]
    ).one()
    return {"sales_segment": segment, "region": region}


def _opportunity_dimensions(session: Session, opp: Opportunity) -> dict[str, Any]:
    return {
        **{name: getattr(opp, name) for name in OPPORTUNITY_DIMENSIONS},
        **_account_dimensions(session, opp.account_id),
    }


def _stamps(session: Session, where: Any) -> Stamps | None:
    row = session.execute(
        select(*(ENTRIES.c[name] for name in STAMP_COLUMNS)).where(where)
    ).one_or_none()
    return tuple(row) if row is not None else None


def _stamp(session: Session, where: Any, stamps: Stamps, **values: Any) -> None:
    session.execute(
        update(ENTRIES).where(where).values(**stamp_values(stamps), **values)
    )


def _lead_entry(session: Session, lead: Lead) -> Stamps:
    """The lead's stamps; an entry is made if the lead has none yet."""
    where = ENTRIES.c.lead_id == lead.id
    stamps = _stamps(session, where)
    if stamps is None:
        stamps = lead_stamps(lead.created_at)
        session.execute(
            insert(ENTRIES).values(
                lead_id=lead.id, **stamp_values(stamps), **_lead_dimensions(lead)
            )
        )
    return stamps


# The lead's columns its new entry is made from.
NEW_ENTRY_SOURCES = (
    "id",
    "created_at",
    "status",
    "status_changed_at",
    *LEAD_DIMENSIONS,
)


def new_lead_entry(lead: Mapping[str, Any]) -> dict[str, Any]:
    """The funnel entry of a lead just written (its columns by name: its id,
    moments and status at least; a dimension not named is null): RAW at its
    creation, and the milestone its status reaches at its status moment."""
    stamps = reach(
        lead_stamps(lead["created_at"]),
        milestone_of_status(lead["status"]),
        lead["status_changed_at"],
    )
    return {
        "lead_id": lead["id"],
        **stamp_values(stamps),
        **{name: lead.get(name) for name in LEAD_DIMENSIONS},
    }


def entry_changes(lead: Lead, before: Stamps) -> tuple[Stamps, dict[str, Any]]:
    """A changed lead's funnel entry, whose stamps were ``before``: its stamps
    now (the milestone a changed status reaches) and the entry columns that
    change (stamps and the dimensions set since the lead was loaded). Asks the
    lead's attribute history: call it before its changes are committed."""
    stamps = before
    if _changed(lead, "status"):
        stamps = reach(before, milestone_of_status(lead.status), lead.status_changed_at)
    changed = stamp_changes(before, stamps) | {
        name: value
        for name, value in _lead_dimensions(lead).items()
        if _changed(lead, name)
    }
    return stamps, changed


def follow_leads(session: Session, leads: list[Lead], *, new: bool) -> None:
    """The entries of new (or changed) leads, in a bounded number of statements
    however many leads a flush wrote (a batch of engagements moves hundreds).

    An entry's UPDATE sets only the columns whose value changes, and none is
    sent when nothing does (a move reaching no milestone): every index holding
    a column set is rewritten (funnel_entries has one per milestone and
    grouping), so a column set for nothing costs index writes. Leads changed
    alike share one UPDATE (one per distinct set of changed columns)."""
    if not new:
        leads = [lead for lead in leads if _changed(lead, "status", *LEAD_DIMENSIONS)]
    if not leads:
        return
    # A lead this flush inserted has no entry yet: nothing to read; nor for a
    # lead whose stamps were read with its row's lock (``remember_stamps``).
    known = known_stamps(session)
    stored: dict[int | None, Stamps] = {
        lead.id: known[lead.id] for lead in leads if lead.id in known
    }
    unread = [lead.id for lead in leads if lead.id not in stored]
    if unread and not new:
        stored |= {
            row[0]: tuple(row[1:])
            for row in session.execute(
                select(ENTRIES.c.lead_id, *stamp_columns()).where(
                    ENTRIES.c.lead_id.in_(unread)
                )
            )
        }
    inserts: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for lead in leads:
        if new:
            sources = {name: getattr(lead, name) for name in NEW_ENTRY_SOURCES}
            inserts.append(new_lead_entry(sources))
            continue
        before = stored.get(lead.id)
        if before is None:
            stamps, _ = entry_changes(lead, lead_stamps(lead.created_at))
            values = {**stamp_values(stamps), **_lead_dimensions(lead)}
            inserts.append({"lead_id": lead.id, **values})
            continue
        stamps, changed = entry_changes(lead, before)
        if lead.id in known:
            known[lead.id] = stamps
        if changed:
            updates.setdefault(tuple(changed), []).append(
                {"entry_lead_id": lead.id, **changed}
            )
    if inserts:
        session.execute(insert(ENTRIES), inserts)
    for columns, rows in updates.items():
        session.execute(
            update(ENTRIES)
            .where(ENTRIES.c.lead_id == bindparam("entry_lead_id"))
            .values({name: bindparam(name) for name in columns}),
            rows,
        )


_STAMPS = "salesops.funnel_stamps"


def remember_stamps(session: Session, stamps: dict[int, Stamps]) -> None:
    """The stamps of these leads' entries, read in this transaction with their
    rows' lock (so no one else changes them): the flush hook uses them instead
    of reading them again, and keeps them up to date as it writes."""
    transaction = session.get_transaction()
    memo = session.info.get(_STAMPS)
    if memo is None or memo[0] is not transaction:
        memo = session.info[_STAMPS] = (transaction, dict[int, Stamps]())
    memo[1].update(stamps)


def known_stamps(session: Session) -> dict[int, Stamps]:
    """``remember_stamps``'s stamps of the current transaction (empty: none);
    whoever writes an entry past the flush hook keeps them up to date."""
    memo = session.info.get(_STAMPS)
    if memo is None or memo[0] is not session.get_transaction():
        return {}
    return memo[1]  # type: ignore[no-any-return]


def _new_opportunity(session: Session, opp: Opportunity) -> None:
    reached = milestone_of_stage(opp.stage)
    # The lead's entry is stamped below, past ``follow_leads``.
    known_stamps(session).pop(opp.lead_id, None)  # type: ignore[arg-type]
    if opp.lead_id is None:
        stamps = opportunity_stamps(opp.created_at, opp.stage)
        session.execute(
            insert(ENTRIES).values(
                opportunity_id=opp.id,
                sales_qualification_source=opp.sales_qualification_source,
                **stamp_values(stamps),
                **_opportunity_dimensions(session, opp),
            )
        )
        return
    # The converted lead goes on as this opportunity, in the lead's entry.
    lead = session.get(Lead, opp.lead_id)
    assert lead is not None, f"opportunity {opp.id} names a missing lead"
    stamps = reach(_lead_entry(session, lead), reached, opp.stage_changed_at)
    _stamp(
        session,
        ENTRIES.c.lead_id == opp.lead_id,
        stamps,
        opportunity_id=opp.id,
        sales_qualification_source=opp.sales_qualification_source,
    )


def _changed_opportunity(session: Session, opp: Opportunity) -> None:
    where = ENTRIES.c.opportunity_id == opp.id
    if _changed(opp, "stage"):
        stamps = _stamps(session, where)
        if stamps is not None:
            stamping = reached_update(
                where, stamps, milestone_of_stage(opp.stage), opp.stage_changed_at
            )
            if stamping is not None:
                session.execute(stamping)
    if _changed(
        opp, "sales_qualification_source", "account_id", *OPPORTUNITY_DIMENSIONS
    ):
        refresh_entries(session, lead_ids=(), opportunity_ids=[opp.id])


def _changed_account(session: Session, account: Account) -> None:
    if _changed(account, "sales_segment", "region"):
        refresh_entries(
            session,
            lead_ids=(),
            opportunity_ids=select(OPPORTUNITIES.c.id).where(
                OPPORTUNITIES.c.account_id == account.id
            ),
        )


Ids = Collection[int | None] | Select[Any]  # ids, or a SELECT of ids


def _narrowed(column: Any, ids: Ids | None) -> Any:
    return column.is_not(None) if ids is None else column.in_(ids)


def _copy(
    session: Session, where: list[Any], values: dict[str, Any], ids: Ids | None
) -> int:
    """One UPDATE … FROM: the entries matched get ``values`` where they differ."""
    if ids is not None and not isinstance(ids, Select) and not ids:
        return 0
    differs = or_(*(ENTRIES.c[name].is_distinct_from(v) for name, v in values.items()))
    result = session.execute(update(ENTRIES).where(*where, differs).values(values))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def refresh_entries(
    session: Session,
    *,
    lead_ids: Ids | None = None,
    opportunity_ids: Ids | None = None,
) -> int:
    """Copy the dimensions of funnel entries again from their records; how many
    entries changed.

    For writes that pass by the flush hook: a bulk UPDATE of leads or accounts
    (a table edit's re-derivation), an import, a merge. Set-based: at most
    three UPDATE … FROM statements whatever the number of records, in the
    caller's transaction, writing only entries whose copy differs — a lead's
    entry from the lead, a direct opportunity's from the opportunity and its
    account, the sales qualification source from the opportunity.
    ``lead_ids`` / ``opportunity_ids`` (ids, or a SELECT of ids) narrow the
    records looked at; None looks at every record, an empty list at none.
    From async code: ``await session.run_sync(refresh_entries, ...)``.
    """
    opp, account = OPPORTUNITIES.c, ACCOUNTS.c
    return (
        _copy(
            session,
            [ENTRIES.c.lead_id == LEADS.c.id, _narrowed(LEADS.c.id, lead_ids)],
            {name: LEADS.c[name] for name in LEAD_DIMENSIONS},
            lead_ids,
        )
        + _copy(
            session,
            [
                ENTRIES.c.lead_id.is_(None),
                ENTRIES.c.opportunity_id == opp.id,
                account.id == opp.account_id,
                _narrowed(opp.id, opportunity_ids),
            ],
            {
                "sales_segment": account.sales_segment,
                "region": account.region,
                **{name: opp[name] for name in OPPORTUNITY_DIMENSIONS},
            },
            opportunity_ids,
        )
        + _copy(
            session,
            [ENTRIES.c.opportunity_id == opp.id, _narrowed(opp.id, opportunity_ids)],
            {"sales_qualification_source": opp.sales_qualification_source},
            opportunity_ids,
        )
    )


def install(session_class: type[Session]) -> None:
    """Keep funnel entries in step with every flush of sessions of this class."""
    event.listen(session_class, "after_flush", follow_records)


def follow_records(session: Session, _context: Any) -> None:
    """Keep the funnel entries of what this flush wrote (see the module docstring)."""
    # After a flush the new/dirty sets and attribute histories are still the
    # flush's own: exactly what was written.
    new = list(session.new)
    dirty = [r for r in session.dirty if session.is_modified(r)]
    follow_leads(session, [r for r in new if isinstance(r, Lead)], new=True)
    for record in new:
        if isinstance(record, Opportunity):
            _new_opportunity(session, record)
    follow_leads(session, [r for r in dirty if isinstance(r, Lead)], new=False)
    for record in dirty:
        if isinstance(record, Opportunity):
            _changed_opportunity(session, record)
        elif isinstance(record, Account):
            _changed_account(session, record)
