"""Merging duplicates and undoing a merge (D4, D12; issue 13 item 4).

``merge_records`` folds duplicates of one kind (leads, contacts or accounts)
into a survivor, in one transaction:

1. the rule tables are held (leads, accounts: the field choices may rescore or
   re-derive), then every record of the merge is locked ``FOR UPDATE`` in id
   order (``domain.services.locks``, kind 3): two merges touching one record
   run one after the other, and the second finds what the first left;
2. guards, every reason gathered: the records exist, no duplicate is the
   survivor, a converted lead is never merged away (it lives on as the contact
   it became: merge those), an account is not merged into its own child, and
   the field choices name choosable fields of records of the merge;
3. the snapshot: the survivor's row and every row about to disappear, whole;
4. every row pointing at a duplicate (through any foreign key of the schema:
   activities, engagements, contact roles, opportunities, team members, child
   accounts, domains, linked leads, hand-offs…) is moved to the survivor; a
   row that would then collide with the survivor's own under a unique key (the
   same contact role twice, a second funnel entry) is deleted instead, into
   the snapshot; the duplicates are deleted;
5. the survivor keeps the oldest initial source (D4: of the oldest record) and
   takes the chosen fields through its kind's update use case (so the same
   validation, scoring, derivation and permissions apply), then the funnel
   entries of what moved are copied again (a bulk write passes by the flush
   hook);
6. the ledger: a ``RecordMerge`` row (with the snapshot) and a RECORD_MERGED
   event on the survivor.

``undo_merge`` restores within ``UNDO_WINDOW``: the merged-away and displaced
rows are inserted again with their ids, what moved is moved back, and the
survivor's row (and a lead's funnel entry) is put back as it was. It refuses
with CHANGED_SINCE_MERGE when the survivor changed after the merge, a moved
row points elsewhere now or is gone, or a merged-away id was taken — anything
else would lose a later change.

Decisions where the spec is silent: moved rows keep their version (they were
re-pointed, not edited), so an undo leaves every row as it was before the merge,
the survivor's version included; the merge and its undo stay in the ledger
(``record_merges``, events). A lead moved onto a survivor account keeps its
own segment and region until it is next updated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    Table,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.enums import ErrorCode, MergeKind, RecordType
from domain.errors import RecordRef, Refusal, Refused, refuse_if
from domain.records import (
    Account,
    Contact,
    FunnelEntry,
    Lead,
    Opportunity,
    RecordMerge,
)
from domain.rules.permissions import Actor, Operation, refusals
from domain.services.accounts import update_account
from domain.services.contacts import update_contact
from domain.services.leads import update_lead
from domain.services.loading import load
from domain.services.milestones import refresh_entries
from domain.services.outbox import emit
from domain.services.rule_tables import rule_tables
from domain.sqltypes import as_utc, utcnow

UNDO_WINDOW = timedelta(days=30)
MAX_DUPLICATES = 20

MODELS: dict[MergeKind, Any] = {
    MergeKind.LEAD: Lead,
    MergeKind.CONTACT: Contact,
    MergeKind.ACCOUNT: Account,
}
RECORD_TYPES = {
    MergeKind.LEAD: RecordType.LEAD,
    MergeKind.CONTACT: RecordType.CONTACT,
    MergeKind.ACCOUNT: RecordType.ACCOUNT,
}
# The fields a merge may take from a duplicate (snake_case), by kind: the
# profile a person or organization has, not its state, owner or derivations.
CHOOSABLE: dict[MergeKind, tuple[str, ...]] = {
    MergeKind.LEAD: (
        "first_name", "last_name", "email", "company", "title", "phone",
        "number_of_employees", "street", "city", "state", "postal_code", "country",
        "is_public_sector", "lead_source",
    ),
    MergeKind.CONTACT: (
        "first_name", "last_name", "email", "title", "phone", "mailing_street",
        "mailing_city", "mailing_state", "mailing_postal_code", "mailing_country",
        "lead_source",
    ),
    MergeKind.ACCOUNT: (
        "name", "number_of_employees", "billing_street", "billing_city",
        "billing_state", "billing_postal_code", "billing_country",
        "is_public_sector", "industry", "annual_revenue", "account_source",
    ),
}  # fmt: skip
UPDATES = {
    MergeKind.LEAD: update_lead,
    MergeKind.CONTACT: update_contact,
    MergeKind.ACCOUNT: update_account,
}


@dataclass(frozen=True, slots=True)
class FieldChoice:
    """Take ``field`` (snake_case) from record ``from_id`` of the merge."""

    field: str
    from_id: int


# --- snapshot values: rows as JSON, and back ------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$m": str(value)}
    if isinstance(value, Enum):
        return value.value
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$t":
            return as_utc(datetime.fromisoformat(text))
        if tag == "$d":
            return date.fromisoformat(text)
        if tag == "$m":
            return Decimal(text)
    return value


def _row_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _encode(value) for name, value in row.items()}


def _row_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _decode(value) for name, value in data.items()}


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _references(target: Table) -> list[tuple[Table, str]]:
    """Every (table, column) with a foreign key to ``target``, in a stable order."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in sorted(table.foreign_keys, key=lambda f: str(f.parent.name)):
            if fk.column.table is target:
                found.append((table, fk.parent.name))
    return found


def _unique_sets(table: Table, column: str) -> list[tuple[str, ...]]:
    """The unique keys of ``table`` that include ``column``."""
    sets = [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    sets += [
        tuple(c.name for c in index.columns) for index in table.indexes if index.unique
    ]
    sets += [(c.name,) for c in table.columns if c.unique]
    return [s for s in sets if column in s]


async def _rows(
    session: AsyncSession, table: Table, where: Any
) -> list[dict[str, Any]]:
    result = await session.execute(select(table).where(where).order_by(table.c.id))
    return [dict(row._mapping) for row in result]


# --- merge -------------------------------------------------------------------------


def _choice_refusals(
    kind: MergeKind, choices: Sequence[FieldChoice], ids: set[int]
) -> list[Refusal]:
    found = []
    for n, choice in enumerate(choices):
        path = ("field_choices", str(n))
        if choice.field == "initial_source":
            found.append(
                Refusal(
                    code=ErrorCode.IMMUTABLE_FIELD,
                    message="The survivor keeps the oldest initial source (D4); it is "
                    "not chosen.",
                    field=(*path, "field"),
                )
            )
        elif choice.field not in CHOOSABLE[kind]:
            found.append(
                Refusal(
                    code=ErrorCode.INVALID_INPUT,
                    message=f"{choice.field!r} is not a field a merge of "
                    f"{kind.value.lower()}s chooses.",
                    field=(*path, "field"),
                )
            )
        if choice.from_id not in ids:
            found.append(
                Refusal(
                    code=ErrorCode.INVALID_INPUT,
                    message="fromId must be the survivor or one of the duplicates.",
                    field=(*path, "from_id"),
                )
            )
    if len({c.field for c in choices}) != len(choices):
        found.append(
            Refusal(
                code=ErrorCode.INVALID_INPUT,
                message="A field is chosen at most once.",
                field=("field_choices",),
            )
        )
    return found  # fmt: skip


def _guard_refusals(
    kind: MergeKind,
    survivor_id: int,
    duplicate_ids: Sequence[int],
    records: dict[int, Any],
) -> list[Refusal]:
    found = []
    if not duplicate_ids:
        found.append(
            Refusal(
                ErrorCode.INVALID_INPUT,
                "Name at least one duplicate.",
                ("duplicate_ids",),
            )
        )
    if len(duplicate_ids) > MAX_DUPLICATES:
        found.append(
            Refusal(
                ErrorCode.INVALID_INPUT,
                f"At most {MAX_DUPLICATES} duplicates per merge.",
                ("duplicate_ids",),
            )
        )
    if survivor_id in duplicate_ids or len(set(duplicate_ids)) != len(duplicate_ids):
        found.append(
            Refusal(
                ErrorCode.INVALID_INPUT,
                "Each record appears once: the survivor is no duplicate.",
                ("duplicate_ids",),
            )
        )
    for n, record_id in enumerate([survivor_id, *duplicate_ids]):
        field = ("survivor_id",) if n == 0 else ("duplicate_ids", str(n - 1))
        ref = RecordRef(MODELS[kind].__name__, record_id)
        if record_id not in records:
            found.append(Refusal(ErrorCode.NOT_FOUND, f"No such record: {ref}.", field))
        elif (
            n and kind is MergeKind.LEAD and records[record_id].converted_at is not None
        ):
            found.append(
                Refusal(
                    ErrorCode.ALREADY_CONVERTED,
                    f"Lead {ref} was converted: it lives on as a contact, so it is not "
                    "merged into another lead (merge the contacts).",
                    field,
                )
            )
    survivor = records.get(survivor_id)
    if (
        kind is MergeKind.ACCOUNT
        and survivor is not None
        and survivor.parent_account_id in duplicate_ids
    ):
        found.append(
            Refusal(
                ErrorCode.INVALID_INPUT,
                "The survivor is a child of one of the duplicates: merge the other "
                "way.",
                ("survivor_id",),
            )
        )
    return found  # fmt: skip


async def merge_records(
    kind: MergeKind,
    survivor_id: int,
    duplicate_ids: Sequence[int],
    choices: Sequence[FieldChoice] = (),
    *,
    session: AsyncSession,
    actor: Actor,
) -> RecordMerge:
    """Merge ``duplicate_ids`` into ``survivor_id`` (see the module docstring)."""
    refuse_if(refusals(actor, Operation.MERGE_RECORDS))
    model = MODELS[kind]
    table: Table = model.__table__
    ids = sorted({survivor_id, *duplicate_ids})
    refuse_if(_choice_refusals(kind, choices, set(ids)))
    if kind is not MergeKind.CONTACT:
        await rule_tables(session, lock=True)
    locked = (
        await session.execute(
            select(model).where(model.id.in_(ids)).order_by(model.id).with_for_update()
        )
    ).scalars()
    records = {r.id: r for r in locked}
    refuse_if(_guard_refusals(kind, survivor_id, duplicate_ids, records))
    survivor = records[survivor_id]
    dups = [records[i] for i in sorted(duplicate_ids)]

    snapshot: dict[str, Any] = {
        "survivor": _row_json(
            (await _rows(session, table, table.c.id == survivor_id))[0]
        ),
        "deleted": [],
        "moved": [],
        # Rows the survivor's own changes touch through hooks (its funnel
        # entry: a chosen email may rescore and move it), put back whole.
        "restore": [],
    }
    if kind is MergeKind.LEAD:
        entries = _table(FunnelEntry.__tablename__)
        snapshot["restore"].append(
            {
                "table": entries.name,
                "rows": [
                    _row_json(r)
                    for r in await _rows(
                        session, entries, entries.c.lead_id == survivor_id
                    )
                ],
            }
        )
    dup_ids = [d.id for d in dups]
    snapshot["deleted"].append(
        {"table": table.name, "rows": [
            _row_json(r) for r in await _rows(session, table, table.c.id.in_(dup_ids))
        ]}
    )  # fmt: skip
    moved_opportunities: list[int] = []
    for ref_table, column in _references(table):
        moved = await _move(
            session, ref_table, column, survivor_id, dup_ids, snapshot, table
        )
        if ref_table.name == Opportunity.__tablename__:
            moved_opportunities += moved
    await session.execute(delete(table).where(table.c.id.in_(dup_ids)))

    # D4: the oldest record's initial source lives on in the survivor.
    if kind is not MergeKind.ACCOUNT:
        oldest = min([survivor, *dups], key=lambda r: (as_utc(r.created_at), r.id))
        if oldest.initial_source != survivor.initial_source:
            survivor.initial_source = oldest.initial_source
            await session.flush()
    values = {
        c.field: getattr(records[c.from_id], c.field)
        for c in choices
        if getattr(records[c.from_id], c.field) != getattr(survivor, c.field)
    }
    if values:
        update_use_case: Any = UPDATES[kind]
        extra = {} if kind is MergeKind.ACCOUNT else {"allow_duplicate": True}
        await update_use_case(
            survivor_id, values, session=session, actor=actor, **extra
        )
    await session.flush()
    await session.run_sync(
        lambda s: refresh_entries(
            s,
            lead_ids=[survivor_id] if kind is MergeKind.LEAD else [],
            opportunity_ids=moved_opportunities,
        )
    )
    version = (
        await session.execute(select(table.c.version).where(table.c.id == survivor_id))
    ).scalar_one()
    merge = RecordMerge(
        kind=kind,
        survivor_id=survivor_id,
        duplicate_ids=dup_ids,
        actor_id=actor.id,
        survivor_version=version,
        snapshot=snapshot,
    )
    session.add(merge)
    await session.flush()
    emit(
        session,
        "RECORD_MERGED",
        RECORD_TYPES[kind],
        survivor_id,
        actor,
        merge_id=merge.id,
        duplicate_ids=dup_ids,
        fields=sorted(values),
    )
    return merge


async def _move(
    session: AsyncSession,
    ref: Table,
    column: str,
    survivor_id: int,
    dup_ids: list[int],
    snapshot: dict[str, Any],
    target: Table,
) -> list[int]:
    """Point ``ref.column`` from the duplicates at the survivor; rows that would
    collide under a unique key are deleted into the snapshot. The moved ids."""
    col = ref.c[column]
    where: Any = col.in_(dup_ids)
    if ref is target:  # a duplicate's own parent link goes with it
        where = where & ref.c.id.not_in(dup_ids)
    rows = await _rows(session, ref, where)
    if not rows:
        return []
    taken: set[tuple[Any, ...]] = set()
    uniques = _unique_sets(ref, column)
    if uniques:
        for key in uniques:
            others = [ref.c[c] for c in key]
            existing = await session.execute(select(*others).where(col == survivor_id))
            taken |= {(key, *r) for r in existing}
    moved, displaced = [], []
    for row in rows:
        keys = [
            (key, *(survivor_id if c == column else row[c] for c in key))
            for key in uniques
        ]
        if any(k in taken for k in keys):
            displaced.append(row)
        else:
            taken.update(keys)
            moved.append(row["id"])
    if displaced:
        snapshot["deleted"].append(
            {"table": ref.name, "rows": [_row_json(r) for r in displaced]}
        )
        await session.execute(
            delete(ref).where(ref.c.id.in_([r["id"] for r in displaced]))
        )
    if moved:
        snapshot["moved"].append(
            {
                "table": ref.name,
                "column": column,
                "from": {str(r["id"]): r[column] for r in rows if r["id"] in moved},
            }
        )
        await session.execute(
            update(ref).where(ref.c.id.in_(moved)).values({column: survivor_id})
        )
    return moved


# --- undo --------------------------------------------------------------------------


def _changed(message: str) -> Refused:
    return Refused.one(ErrorCode.CHANGED_SINCE_MERGE, message, "id")


async def undo_merge(
    merge_id: int, *, session: AsyncSession, actor: Actor, now: datetime | None = None
) -> RecordMerge:
    """Undo a merge within ``UNDO_WINDOW`` (see the module docstring)."""
    refuse_if(refusals(actor, Operation.MERGE_RECORDS))
    # The lock order (domain.services.locks): the rule tables, then the rows.
    await rule_tables(session, lock=True)
    merge = await load(session, RecordMerge, merge_id, lock=True, field="id")
    now = now or utcnow()
    if merge.undone_at is not None:
        raise Refused.one(
            ErrorCode.ALREADY_UNDONE, "This merge was undone already.", "id"
        )
    if now - as_utc(merge.merged_at) > UNDO_WINDOW:
        raise Refused.one(
            ErrorCode.UNDO_WINDOW_PASSED,
            f"Merges are undone within {UNDO_WINDOW.days} days; this one is older.",
            "id",
        )
    kind = merge.kind
    model = MODELS[kind]
    table: Table = model.__table__
    snapshot = merge.snapshot
    current = (
        await session.execute(
            select(table.c.version)
            .where(table.c.id == merge.survivor_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if current != merge.survivor_version:
        raise _changed(
            f"The survivor {kind.value.lower()} "
            f"{RecordRef(model.__name__, merge.survivor_id)} changed since the "
            "merge (or is gone): undoing would lose that change."
        )
    for entry in snapshot["moved"]:
        ref = _table(entry["table"])
        ids = [int(i) for i in entry["from"]]
        still = (
            await session.execute(
                select(func.count())
                .select_from(ref)
                .where(ref.c.id.in_(ids), ref.c[entry["column"]] == merge.survivor_id)
            )
        ).scalar_one()
        if still != len(ids):
            raise _changed(
                f"{len(ids) - still} {entry['table']} row(s) moved to the survivor "
                "have moved again or are gone since the merge."
            )
    for entry in snapshot["deleted"]:
        ref = _table(entry["table"])
        ids = [r["id"] for r in entry["rows"]]
        taken = (
            await session.execute(
                select(func.count()).select_from(ref).where(ref.c.id.in_(ids))
            )
        ).scalar_one()
        if taken:
            raise _changed(
                f"An id of a merged-away {entry['table']} row is taken since the merge."
            )
    for entry in snapshot["deleted"]:
        ref = _table(entry["table"])
        await session.execute(
            insert(ref).values([_row_values(r) for r in entry["rows"]])
        )
    moved_opportunities: list[int] = []
    for entry in snapshot["moved"]:
        ref = _table(entry["table"])
        column = ref.c[entry["column"]]
        by_old: dict[int, list[int]] = {}
        for rid, old in entry["from"].items():
            by_old.setdefault(old, []).append(int(rid))
        for old, rids in by_old.items():
            await session.execute(
                update(ref).where(ref.c.id.in_(rids)).values({column.name: old})
            )
        if ref.name == Opportunity.__tablename__:
            moved_opportunities += [int(i) for i in entry["from"]]
    before = _row_values(snapshot["survivor"])
    await session.execute(
        update(table).where(table.c.id == merge.survivor_id).values(before)
    )
    for entry in snapshot.get("restore", []):
        ref = _table(entry["table"])
        for row in entry["rows"]:
            await session.execute(
                update(ref).where(ref.c.id == row["id"]).values(_row_values(row))
            )
    await session.run_sync(
        lambda s: refresh_entries(s, lead_ids=[], opportunity_ids=moved_opportunities)
    )
    merge.undone_at = now
    merge.undone_by_id = actor.id
    await session.flush()
    emit(
        session,
        "MERGE_UNDONE",
        RECORD_TYPES[kind],
        merge.survivor_id,
        actor,
        merge_id=merge.id,
        duplicate_ids=list(merge.duplicate_ids),
    )
    return merge


def undo_deadline(merge: RecordMerge) -> datetime:
    """Until when the merge may be undone."""
    return as_utc(merge.merged_at) + UNDO_WINDOW
