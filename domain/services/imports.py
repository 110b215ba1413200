"""List import of leads, contacts and accounts (D12, issue 13 item 1).

One enforcement path: a row becomes the values a client would send, and goes
through the same use case as the API (``create_lead`` / ``update_lead``,
``create_contact``…), with the same validation, duplicate-email rule, initial
source rule (D4), derived segment and region (D5), scoring (D6) and routing
(D8). Nothing is written any other way.

A row is matched by its external id, else by email (leads, contacts) or by
name and domain (accounts), then: CREATED, UPDATED (only the fields whose
value differs; a blank cell never erases), UNCHANGED (a re-import of the same
file), SKIPPED_DUPLICATE (the email belongs to another record: it is named),
or REJECTED (every refusal: codes and fields). Each row runs in a savepoint: a
rejected row leaves no trace. Rows commit in batches; ``atomic`` writes the
whole file or nothing; ``dry_run`` runs everything in a transaction rolled
back at the end, so it reports exactly what a real run would (except the ids
of records it would create, which do not exist: left empty).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, text, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.db import among, sibling_session, write_transaction
from domain.enums import ErrorCode, ImportKind, ImportOutcome, RecordType
from domain.errors import RecordRef, Refusal, Refused, refuse_if
from domain.records import (
    Account,
    AccountDomain,
    Campaign,
    Contact,
    Lead,
    Opportunity,
    User,
)
from domain.rules.import_mapping import (
    EXTERNAL_ID,
    HISTORICAL_FIELDS,
    ColumnMapping,
    camel,
    header_refusals,
    mapped_texts,
    row_warnings,
    typed_values,
)
from domain.rules.matching import normalize_company_name, web_domain
from domain.rules.permissions import Actor, Operation, may_create, refusals
from domain.rules.validation import normalize_email
from domain.services.accounts import account_domains, create_account, update_account
from domain.services.bulk import copy_rows, insert_with_ids, same_columns
from domain.services.contacts import create_contact, update_contact
from domain.services.duplicates import people_by_email
from domain.services.history_imports import HISTORY_KINDS, history_row
from domain.services.import_files import ImportFile
from domain.services.leads import (
    LEAD_RULES,
    create_lead,
    new_lead_routes,
    new_lead_values,
    update_lead,
)
from domain.services.loading import check_values, load
from domain.services.match_keys import fill_match_keys
from domain.services.milestones import ENTRIES, LEADS, new_lead_entry
from domain.services.routing import routing_table
from domain.services.rule_tables import rule_tables
from domain.sqltypes import utcnow

# (global id text, the record type it must name, the input field) -> database id
Decode = Callable[[str, RecordType, str], int]
# Called with a batch's results inside the transaction that writes them, on its
# session (``import_file``).
Report = Callable[[list["RowResult"], AsyncSession], Awaitable[None]]

# Rows per batch (one transaction each). SQLite: a batch holds the database's
# write lock while it runs, so a small one keeps API writers waiting ~40 ms at
# most. PostgreSQL: a batch locks only its own rows and emails, and batches
# run two at a time (``_Pipeline``); larger ones halve the per-batch statements
# (measured with the pipeline at 20,000 rows: 3,107 rows/s at 200, 3,617 at
# 1,000).
BATCH_SIZE = 200
POSTGRESQL_BATCH_SIZE = 1_000
# Rows created before an import first refreshes the statistics (``_analyze``).
ANALYZE_FROM = 1_000
EXTERNAL_ID_MAX = 255

MODELS: dict[ImportKind, Any] = {
    ImportKind.LEAD: Lead,
    ImportKind.CONTACT: Contact,
    ImportKind.ACCOUNT: Account,
}
TYPE_NAMES = {
    ImportKind.LEAD: "Lead",
    ImportKind.CONTACT: "Contact",
    ImportKind.ACCOUNT: "Account",
    ImportKind.USER: "User",
    ImportKind.OPPORTUNITY: "Opportunity",
    ImportKind.ACTIVITY: "Activity",
}
# Reference fields -> the record type their value names.
REFERENCES: dict[str, RecordType] = {
    "owner_id": RecordType.USER,
    "account_id": RecordType.ACCOUNT,
    "campaign_id": RecordType.CAMPAIGN,
    "parent_account_id": RecordType.ACCOUNT,
    "lead_id": RecordType.LEAD,
    "contact_id": RecordType.CONTACT,
    "opportunity_id": RecordType.OPPORTUNITY,
}
REFERENCE_MODELS: dict[RecordType, Any] = {
    RecordType.USER: User,
    RecordType.ACCOUNT: Account,
    RecordType.CAMPAIGN: Campaign,
    RecordType.LEAD: Lead,
    RecordType.CONTACT: Contact,
    RecordType.OPPORTUNITY: Opportunity,
}
# Records a reference may also name by their external id.
BY_EXTERNAL_ID = frozenset(
    {RecordType.ACCOUNT, RecordType.LEAD, RecordType.CONTACT, RecordType.OPPORTUNITY}
)
# The kinds a historical import writes (issue 13 item 2).
HISTORICAL_KINDS = frozenset({ImportKind.OPPORTUNITY})


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file (given once for the whole file)."""

    kind: ImportKind
    mapping: ColumnMapping
    # The list's source: the initial source of the records it creates, unless
    # a row maps its own (D4).
    source: str | None = None
    # The list's campaign: the first-touch campaign of the leads it creates.
    campaign_id: int | None = None
    dry_run: bool = False
    atomic: bool = False
    # Default: ``BATCH_SIZE``, on PostgreSQL ``POSTGRESQL_BATCH_SIZE``.
    batch_size: int | None = None
    # A history import (SALES_OPS/ADMIN): closed deals and past stages.
    historical: bool = False
    # The file's name, for the ledger's audit of a historical import.
    file_name: str | None = None


@dataclass
class RowResult:
    """What happened to one row (a line of the row report)."""

    row_number: int
    outcome: ImportOutcome
    # The record created, updated, or the duplicate it names.
    record: RecordRef | None = None
    refusals: list[Refusal] = field(default_factory=list)
    # What the report says of the row besides (VALUE_CORRECTED, UNKNOWN_COUNTRY).
    warnings: list[Refusal] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The refusals' codes, then the warnings', in order."""
        return [r.code.value for r in (*self.refusals, *self.warnings)]

    @property
    def fields(self) -> list[str]:
        """The refusals' and warnings' fields (camelCase paths), once each."""
        seen: dict[str, None] = {}
        for r in (*self.refusals, *self.warnings):
            if r.field:
                seen[".".join(camel(f) for f in r.field)] = None
        return list(seen)

    @property
    def message(self) -> str | None:
        """The refusals' and warnings' messages, joined."""
        return " ".join(r.message for r in (*self.refusals, *self.warnings)) or None


@dataclass
class Tally:
    """Counts of an import so far."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0

    def add(self, results: list[RowResult]) -> None:
        """Count these rows."""
        for r in results:
            self.rows += 1
            name = counter_of(r.outcome)
            setattr(self, name, getattr(self, name) + 1)


COUNTERS = {
    ImportOutcome.CREATED: "created",
    ImportOutcome.UPDATED: "updated",
    ImportOutcome.UNCHANGED: "unchanged",
    ImportOutcome.SKIPPED_DUPLICATE: "skipped",
    ImportOutcome.REJECTED: "rejected",
}


def counter_of(outcome: ImportOutcome) -> str:
    """The count (``Tally`` field, ``ImportJob`` column) an outcome adds to."""
    return COUNTERS[outcome]


class _AtomicRejectedError(Exception):
    """An atomic import with a rejected row: roll the whole file back."""


def import_refusals(actor: Actor) -> list[Refusal]:
    """May this user import lists (``IMPORT_RECORDS``)?"""
    return refusals(actor, Operation.IMPORT_RECORDS)


def historical_refusals(options: ImportOptions, actor: Actor) -> list[Refusal]:
    """A historical import: SALES_OPS/ADMIN (``IMPORT_HISTORY``), of opportunities
    only; a field only history may set needs the flag."""
    if options.historical:
        if options.kind not in HISTORICAL_KINDS:
            return [
                Refusal.on(
                    "historical",
                    ErrorCode.INVALID_INPUT,
                    "historical is for opportunity imports (activities need no flag).",
                )
            ]
        return refusals(actor, Operation.IMPORT_HISTORY)
    return [
        Refusal(
            ErrorCode.INVALID_INPUT,
            f"{name} is set only by a historical import (historical).",
            ("mapping", name),
        )
        for name in sorted(HISTORICAL_FIELDS.get(options.kind, frozenset()))
        if name in options.mapping.fields
    ]


async def check_import(
    file: ImportFile, options: ImportOptions, *, session: AsyncSession, actor: Actor
) -> None:
    """Refuse the whole file before any row: permission, the mapping's columns
    missing from the header, an unknown campaign."""
    refuse_if(import_refusals(actor))
    refuse_if(historical_refusals(options, actor))
    refuse_if(header_refusals(options.mapping, file.header))
    if options.campaign_id is not None:
        await load(session, Campaign, options.campaign_id, field="campaignId")


async def import_file(
    file: ImportFile,
    options: ImportOptions,
    *,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
    report: Report,
) -> Tally:
    """Import every row of ``file``; ``report`` gets the row results batch by
    batch, inside the transaction that writes them (so what it records commits
    with the rows; for a dry or atomic run, after the whole file, each batch in
    a transaction of its own).
    Raises ``Refused`` when the whole file is refused (``check_import``)."""
    async with write_transaction(session, commit=False):
        await check_import(file, options, session=session, actor=actor)
    if options.batch_size is None:
        postgresql = session.get_bind().dialect.name == "postgresql"
        options = replace(
            options, batch_size=POSTGRESQL_BATCH_SIZE if postgresql else BATCH_SIZE
        )
    assert options.batch_size is not None
    batches = _batches(file.rows, options.batch_size)
    if not (options.dry_run or options.atomic):
        return await _Pipeline(options, session, actor, decode, report).run(batches)
    tally = Tally()
    held: list[RowResult] = []
    try:
        async with write_transaction(session, commit=not options.dry_run):
            for batch in batches:
                results = await _batch(batch, options, session, actor, decode, _Turn())
                _warn(batch, results, options)
                held += results
            if options.atomic and any(
                r.outcome is ImportOutcome.REJECTED for r in held
            ):
                raise _AtomicRejectedError
    except _AtomicRejectedError:
        pass
    written = not options.dry_run and not any(
        r.outcome is ImportOutcome.REJECTED for r in held
    )
    if not written:
        # Records it would create do not exist: no id to name, neither for the
        # row that would create one nor for a later row it would duplicate.
        provisional = {r.record for r in held if r.outcome is ImportOutcome.CREATED}
        for r in held:
            if r.record in provisional:
                r.record = None
    for start in range(0, len(held), options.batch_size):
        results = held[start : start + options.batch_size]
        async with write_transaction(session):
            await report(results, session)
        tally.add(results)
    return tally


def _warn(
    batch: list[tuple[int, dict[str, str | None]]],
    results: list[RowResult],
    options: ImportOptions,
) -> None:
    """Each row's warnings (``row_warnings``) on its result."""
    warned = {number: row_warnings(options.mapping, row) for number, row in batch}
    for r in results:
        r.warnings = warned.get(r.row_number, [])


async def _analyze(session: AsyncSession, kind: ImportKind) -> None:
    """PostgreSQL: refresh the planner's statistics of the tables a list import
    of leads, contacts or accounts fills (``ANALYZE``, as after any bulk load),
    in a transaction of its own. (A history import writes far fewer rows, each
    through the machines: none.)

    A plan made while a table was small stays cached: the foreign-key check of
    each new funnel entry (``lead_id``) kept scanning ``leads`` whole on a
    server whose autovacuum had not analyzed it yet (measured: 4 ms an entry at
    30,000 leads, 0.02 ms once analyzed). Done when the rows the import created
    reach ``ANALYZE_FROM``, then each time they double: about ten times for
    100,000 rows."""
    if session.get_bind().dialect.name != "postgresql" or kind not in MODELS:
        return
    tables = [MODELS[kind].__table__.name]
    if kind is ImportKind.LEAD:
        tables.append(ENTRIES.name)
    async with write_transaction(session):
        for name in tables:
            await session.execute(text(f"ANALYZE {name}"))


def _batches(
    rows: Iterator[tuple[int, dict[str, str | None]]], size: int
) -> Iterator[list[tuple[int, dict[str, str | None]]]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


class _ConflictError(Exception):
    """A batch's new leads were refused by the database after the batch said it
    takes no more locks: the pipeline runs it again alone."""


@dataclass(eq=False)
class _Turn:
    """A batch's place in a pipeline of batches (``_Pipeline``); a turn with no
    batch before it runs alone (a dry or atomic run, SQLite, a batch run again).
    """

    before: _Turn | None = None
    # The batch's emails and external ids, once it has read its rows.
    keys: set[str] = field(default_factory=set)
    # The batch's run, its transaction included (set by the pipeline).
    task: asyncio.Task[list[RowResult]] | None = None
    _decided: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def alone(self) -> bool:
        """No batch runs beside this one."""
        return self.before is None

    async def begin(self, keys: set[str] | None) -> None:
        """Wait until the batch may lock and read: once the batch before it has
        decided every row, or, when the two share an email or external id (or
        ``keys`` is None: a batch that decides and writes row by row), once
        that batch has committed."""
        self.keys = keys or set()
        before = self.before
        if before is None:
            return
        await before._decided.wait()
        if keys is None or keys & before.keys:
            await before.committed()

    def decided(self) -> None:
        """The batch has decided every row: it takes no more locks."""
        self._decided.set()

    async def committed(self) -> None:
        """Wait until the batch has committed (its error, if it failed)."""
        assert self.task is not None
        await asyncio.shield(self.task)


class _Pipeline:
    """A real (neither dry nor atomic) import: each batch in a transaction of its
    own, its row report inside it, batch after batch in the file's order.

    On PostgreSQL two batches are in flight, each on a connection of its own: while
    the server writes one batch's rows and commits them, the next batch reads and
    types its rows, locks and decides them — the client's work overlaps the server's
    (measured at 100,000 leads on a quiet 2-core machine, 1,000 rows a batch: 2,483
    rows/s one batch at a time, 3,414 so; then 5,987 with ``copy_rows`` and
    ``among``). The order of the file is kept: a batch locks and reads only once the
    batch before it has decided all its rows (and only once it has committed when
    the two share an email or external id), it takes no lock after saying so, and it
    reports and commits only after the batch before it committed. So every conflict
    — an email, an external id, a record both name, a routing pool's turn — is
    decided as one batch after the other decides it (and as a dry run does), and the
    rows done grow in order (a job taken over resumes after them). A batch whose new
    leads the database refuses after it said it takes no more locks (a concurrent
    writer of the same external id) is run again alone, with the batches after it
    (``_ConflictError``). SQLite writes one transaction at a time: one batch at a
    time there.
    """

    def __init__(
        self,
        options: ImportOptions,
        session: AsyncSession,
        actor: Actor,
        decode: Decode,
        report: Report,
    ) -> None:
        self.options = options
        self.session = session
        self.actor = actor
        self.decode = decode
        self.report = report
        self.depth = 2 if session.get_bind().dialect.name == "postgresql" else 1
        self.free = [session]
        self.tally = Tally()
        self.analyzed = 0

    async def run(self, batches: Iterator[list[Row]]) -> Tally:
        """Import every batch; the counts."""
        flight: deque[tuple[list[Row], _Turn, AsyncSession]] = deque()
        extra: list[AsyncSession] = []
        try:
            for batch in batches:
                if len(flight) == self.depth:
                    await self._finish(flight)
                if not self.free:
                    extra.append(sibling_session(self.session))
                    self.free.append(extra[-1])
                session = self.free.pop()
                turn = _Turn(before=flight[-1][1] if flight else None)
                turn.task = asyncio.create_task(self._commit(batch, turn, session))
                flight.append((batch, turn, session))
            while flight:
                await self._finish(flight)
        finally:
            # Batches still in flight end by themselves, never cut off in the
            # middle of a statement: one after a failed batch rolls back when
            # it reaches that batch's commit; one after a batch that committed
            # commits with its report.
            await asyncio.gather(
                *(t.task for _, t, _s in flight if t.task), return_exceptions=True
            )
            for session in extra:
                await session.close()
        return self.tally

    async def _commit(
        self, batch: list[Row], turn: _Turn, session: AsyncSession
    ) -> list[RowResult]:
        """One batch in its transaction, its report inside it."""
        try:
            async with write_transaction(session):
                results = await _batch(
                    batch, self.options, session, self.actor, self.decode, turn
                )
                turn.decided()
                _warn(batch, results, self.options)
                if turn.before is not None:
                    await turn.before.committed()
                await self.report(results, session)
            return results
        finally:
            turn.decided()  # a failed batch releases the one after it

    async def _finish(
        self, flight: deque[tuple[list[Row], _Turn, AsyncSession]]
    ) -> None:
        """Wait for the oldest batch in flight and count it."""
        batch, turn, session = flight.popleft()
        assert turn.task is not None
        try:
            results = await turn.task
        except _ConflictError:
            # Every later batch waits for this one's commit: it rolled back too.
            later = [flight.popleft() for _ in range(len(flight))]
            await asyncio.gather(
                *(t.task for _, t, _s in later if t.task), return_exceptions=True
            )
            self.free += [s for _, _t, s in later]
            for again in [batch, *(b for b, _t, _s in later)]:
                alone = _Turn()
                alone.task = asyncio.create_task(self._commit(again, alone, session))
                self.tally.add(await alone.task)
                await self._analyze(session)
            self.free.append(session)
            return
        self.tally.add(results)
        await self._analyze(session)
        self.free.append(session)

    async def _analyze(self, session: AsyncSession) -> None:
        """``_analyze`` when the rows created reach ``ANALYZE_FROM``, then each
        time they double."""
        if self.tally.created >= max(ANALYZE_FROM, 2 * self.analyzed):
            await _analyze(session, self.options.kind)
            self.analyzed = self.tally.created


Row = tuple[int, dict[str, str | None]]
# A kind's batch: its rows' results in order (every row decided by the kind's
# own use cases; a kind without a batch path takes ``_rows_one_by_one``).
BatchPath = Callable[
    [list[Row], ImportOptions, AsyncSession, Actor, Decode, "_Turn"],
    Awaitable[list[RowResult]],
]


async def _batch(
    batch: list[Row],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
    turn: _Turn,
) -> list[RowResult]:
    """The rows of one batch, in order, by the kind's batch path."""
    path = BATCH_PATHS.get(options.kind, _rows_one_by_one)
    return await path(batch, options, session, actor, decode, turn)


async def _rows_one_by_one(
    batch: list[Row],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
    turn: _Turn,
) -> list[RowResult]:
    """Every row through ``_row``, in order (after the batch before committed)."""
    await turn.begin(None)
    return [
        await _row(number, row, options, session, actor, decode)
        for number, row in batch
    ]


@dataclass
class _NewLead:
    """A row decided to create a lead by the batch path: its place in the batch,
    its file line and row, and the lead's columns (``new_lead_values``)."""

    index: int
    number: int
    row: dict[str, str | None]
    values: dict[str, Any]


async def _lead_batch(
    batch: list[Row],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
    turn: _Turn,
) -> list[RowResult]:
    """A batch of lead rows, in order. New leads that match nothing, name no
    owner or account and do not reach routing are decided by createLead's own
    checks and ``new_lead_values`` (the pure rules ``build_lead`` uses), then
    written together with a few set-based statements (``_write_new_leads``);
    every other row — and any row sharing an email or external id with an
    earlier row of the batch — goes through ``_row`` after them, so the order
    of the file is kept.

    Locks, in ``domain.services.locks``'s order: the rule tables, the existing
    leads the batch's external ids and emails name (one statement, id order),
    then the batch's emails (one statement) — the one-by-one rows later take
    only locks the batch already holds, or routing pools after them.

    In a pipeline (``_Pipeline``) the rows are read and typed first, then the
    batch waits for its turn (``_Turn.begin``) before it locks anything, and
    says when it has decided every row (``_Turn.decided``) before it writes
    its new leads, which then may not fall back row by row (``_ConflictError``)."""
    prepared = []
    for number, row in batch:
        values, found = typed_values(options.kind, mapped_texts(options.mapping, row))
        prepared.append((number, row, values, found))
    emails = {e for _, _, v, _ in prepared if (e := normalize_email(v.get("email")))}
    external = {v["external_id"] for _, _, v, _ in prepared if v.get("external_id")}
    await turn.begin(emails | external)
    tables = await rule_tables(session, lock=True)
    if session.get_bind().dialect.name == "postgresql":
        # The batch's lookups are the same statements batch after batch, which
        # psycopg prepares after five: a generic plan made while the table was
        # small (a first import into an empty database) kept scanning it whole
        # for each batch (measured: 2 s a batch at 23,000 leads). Planned with
        # the batch's values, they probe the indexes.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    taken = await _lock_named_leads(session, emails, external)
    taken |= set(await people_by_email(session, emails))
    creatable = may_create(actor, Operation.CREATE_LEAD, None)
    routing = routing_table(tables.scoring)
    results: list[RowResult | None] = [None] * len(batch)
    pending: list[_NewLead] = []
    seen: set[str] = set()
    now = utcnow()
    for i, (number, row, values, found) in enumerate(prepared):
        keys = {
            k
            for k in (normalize_email(values.get("email")), values.get("external_id"))
            if k
        }
        fast = (
            not found
            and not keys & (taken | seen)
            and not REFERENCES.keys() & values.keys()
            and "domains" not in values
            # Custom field values are checked by createLead (``_row``).
            and "custom_fields" not in values
            and len(values.get("external_id") or "") <= EXTERNAL_ID_MAX
        )
        seen |= keys
        if fast:
            data = dict(values)
            if data.get("external_id") is not None:
                data["import_source"] = options.source
            if options.source is not None:
                data.setdefault("initial_source", options.source)
            if options.campaign_id is not None:
                data["campaign_id"] = options.campaign_id
            try:
                check_values(data, LEAD_RULES, required_fields=("initial_source",))
                refuse_if(creatable)
            except Refused as refused:
                results[i] = RowResult(
                    number, ImportOutcome.REJECTED, refusals=refused.refusals
                )
                continue
            data["email"] = normalize_email(data.get("email"))
            lead = new_lead_values(
                data, actor=actor, tables=tables, account=None, now=now
            )
            if not new_lead_routes(lead.get("owner_id"), lead["person_score"], routing):
                pending.append(_NewLead(i, number, row, lead))
                continue
        await _write_new_leads(pending, results, options, session, actor, decode)
        pending = []
        results[i] = await _row(number, row, options, session, actor, decode)
    turn.decided()
    await _write_new_leads(
        pending, results, options, session, actor, decode, fallback=turn.alone
    )
    return [r for r in results if r is not None]


async def _history_rows(
    batch: list[Row],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
    turn: _Turn,
) -> list[RowResult]:
    """Every user, opportunity or activity row through ``_history_row``, in order
    (after the batch before committed)."""
    await turn.begin(None)
    return [
        await _history_row(number, row, options, session, actor, decode)
        for number, row in batch
    ]


BATCH_PATHS: dict[ImportKind, BatchPath] = {
    ImportKind.LEAD: _lead_batch,
    **dict.fromkeys(HISTORY_KINDS, _history_rows),
}


async def _lock_named_leads(
    session: AsyncSession, emails: set[str], external: set[str]
) -> set[str]:
    """Lock the existing leads having one of these emails or external ids (``FOR
    UPDATE``, in id order); the emails and external ids they have. Two
    statements at most: the leads found by either index (a union: an ``OR`` of
    the two lists, or a join of them with the lock, may walk the whole table on
    PostgreSQL while the table's statistics are young), then the lock by id
    (none when nothing matched, as for a new list)."""
    named = [
        select(col(Lead.id)).where(among(session, col(Lead.email), sorted(emails))),
        select(col(Lead.id)).where(
            among(session, col(Lead.external_id), sorted(external))
        ),
    ]
    ids = sorted({i for i in await session.scalars(union(*named)) if i is not None})
    if not ids:
        return set()
    rows = await session.execute(
        select(col(Lead.email), col(Lead.external_id))
        .where(among(session, col(Lead.id), ids))
        .order_by(col(Lead.id))
        .with_for_update()
    )
    return {key for keys in rows for key in keys if key is not None}


async def _write_new_leads(
    pending: list[_NewLead],
    results: list[RowResult | None],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
    *,
    fallback: bool = True,
) -> None:
    """Write the batch's new leads, their match keys and funnel entries with one
    INSERT per table (in a savepoint), as createLead's flush would write them;
    should the database refuse it (a concurrent import of the same external
    id), each row takes the one-by-one path instead — or, without
    ``fallback``, ``_ConflictError`` is raised (the batch has said it takes no more
    locks)."""
    if not pending:
        return
    rows = [new.values for new in pending]
    fill_match_keys(rows, contact=False)
    try:
        async with session.begin_nested():
            ids = await insert_with_ids(session, LEADS, same_columns(rows), drawn=True)
            # Null columns left out (``same_columns`` puts back what some row has).
            entries = [
                {k: v for k, v in entry.items() if v is not None}
                for row, i in zip(rows, ids, strict=True)
                for entry in (new_lead_entry({**row, "id": i}),)
            ]
            await copy_rows(session, ENTRIES, same_columns(entries))
    except IntegrityError as error:
        if not fallback:
            raise _ConflictError from error
        for new in pending:
            results[new.index] = await _row(
                new.number, new.row, options, session, actor, decode
            )
        return
    for new, lead_id in zip(pending, ids, strict=True):
        results[new.index] = RowResult(
            new.number, ImportOutcome.CREATED, RecordRef("Lead", lead_id)
        )


async def _row(
    number: int,
    row: Mapping[str, str | None],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
) -> RowResult:
    """Decide and write one row (in a savepoint: refused, it leaves nothing)."""
    kind = options.kind
    values, external_id, found = await _typed_row(row, options, session, decode)
    if found:
        return RowResult(number, ImportOutcome.REJECTED, refusals=found)
    domains = values.pop("domains", None)
    target, duplicate = await _match(session, kind, values, domains, external_id)
    if duplicate is not None:
        return RowResult(
            number,
            ImportOutcome.SKIPPED_DUPLICATE,
            record=duplicate,
            refusals=[_duplicate_refusal(duplicate, external_id)],
        )
    if external_id is not None:
        values["external_id"] = external_id
        values["import_source"] = options.source
    try:
        async with session.begin_nested():
            if target is None:
                record = await _create(kind, values, domains, options, session, actor)
                outcome = ImportOutcome.CREATED
            else:
                changes = _changes(target, values)
                if await same_domains(session, target.id, domains):
                    domains = None
                if not changes and domains is None:
                    return RowResult(
                        number,
                        ImportOutcome.UNCHANGED,
                        RecordRef(TYPE_NAMES[kind], target.id),
                    )
                record = await _update(kind, target, changes, domains, session, actor)
                outcome = ImportOutcome.UPDATED
    except Refused as refused:
        pointed = next(
            (
                r.record
                for r in refused.refusals
                if r.code is ErrorCode.DUPLICATE_RECORD and r.record is not None
            ),
            None,
        )
        if pointed is not None:
            return RowResult(
                number,
                ImportOutcome.SKIPPED_DUPLICATE,
                record=pointed,
                refusals=refused.refusals,
            )
        return RowResult(number, ImportOutcome.REJECTED, refusals=refused.refusals)
    return RowResult(number, outcome, RecordRef(TYPE_NAMES[kind], record.id))


async def _history_row(
    number: int,
    row: Mapping[str, str | None],
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
    decode: Decode,
) -> RowResult:
    """A user, opportunity or activity row (``history_imports``), in a savepoint."""
    values, external_id, found = await _typed_row(row, options, session, decode)
    if found:
        return RowResult(number, ImportOutcome.REJECTED, refusals=found)
    try:
        async with session.begin_nested():
            outcome, record_id, said = await history_row(
                number, row, values, external_id, options, session=session, actor=actor
            )
    except Refused as refused:
        return RowResult(number, ImportOutcome.REJECTED, refusals=refused.refusals)
    kind_name = TYPE_NAMES[options.kind]
    record = RecordRef(kind_name, record_id) if record_id is not None else None
    return RowResult(number, outcome, record, refusals=said)


async def _typed_row(
    row: Mapping[str, str | None],
    options: ImportOptions,
    session: AsyncSession,
    decode: Decode,
) -> tuple[dict[str, Any], str | None, list[Refusal]]:
    """A row's typed values (references resolved, in place), its external id,
    and every refusal found so far (a row of any kind)."""
    values, found = typed_values(options.kind, mapped_texts(options.mapping, row))
    external_id = values.pop("external_id", None)
    if external_id is not None and len(external_id) > EXTERNAL_ID_MAX:
        found.append(
            Refusal.on(
                EXTERNAL_ID,
                ErrorCode.INVALID_INPUT,
                f"externalId is longer than {EXTERNAL_ID_MAX} characters.",
            )
        )
    found += await _resolve_references(session, values, decode)
    return values, external_id, found


def _duplicate_refusal(record: RecordRef, external_id: str | None) -> Refusal:
    return Refusal(
        ErrorCode.DUPLICATE_RECORD,
        f"A {record.type.lower()} already has this email"
        + (" under another external id (recordId)." if external_id else "."),
        ("email",),
        record,
    )


async def _resolve_references(
    session: AsyncSession, values: dict[str, Any], decode: Decode
) -> list[Refusal]:
    """Global ids (or a user's email for ownerId, an account's external id for
    accountId/parentAccountId) -> database ids, in place."""
    found: list[Refusal] = []
    for name, record_type in REFERENCES.items():
        text = values.get(name)
        if not isinstance(text, str):
            continue
        field_name = camel(name)
        resolved: int | None = None
        if record_type is RecordType.USER and "@" in text:
            resolved = await session.scalar(
                select(col(User.id)).where(col(User.email) == normalize_email(text))
            )
        elif record_type in BY_EXTERNAL_ID:
            model = REFERENCE_MODELS[record_type]
            resolved = await session.scalar(
                select(col(model.id)).where(col(model.external_id) == text)
            )
        if resolved is None:
            try:
                resolved = decode(text, record_type, field_name)
            except Refused as refused:
                found += refused.refusals
                continue
            exists = await session.scalar(
                select(col(REFERENCE_MODELS[record_type].id)).where(
                    col(REFERENCE_MODELS[record_type].id) == resolved
                )
            )
            if exists is None:
                found.append(
                    Refusal.on(
                        field_name,
                        ErrorCode.NOT_FOUND,
                        f"{field_name}: no {record_type.value.lower()} {text!r}.",
                    )
                )
                continue
        values[name] = resolved
    return found


async def _match(
    session: AsyncSession,
    kind: ImportKind,
    values: Mapping[str, Any],
    domains: list[str] | None,
    external_id: str | None,
) -> tuple[Any | None, RecordRef | None]:
    """(the record this row updates, or the duplicate it must skip)."""
    model = MODELS[kind]
    if external_id is not None:
        found = await session.scalar(
            select(model).where(col(model.external_id) == external_id)
        )
        if found is not None:
            return found, None
    if kind is ImportKind.ACCOUNT:
        return await _match_account(session, values, domains), None
    email = normalize_email(values.get("email"))
    if email is None:
        return None, None
    found = await session.scalar(
        select(model).where(col(model.email) == email).order_by(col(model.id)).limit(1)
    )
    if found is None:
        return None, None
    if external_id is not None and found.external_id not in (None, external_id):
        return None, RecordRef(TYPE_NAMES[kind], found.id)
    return found, None


async def _match_account(
    session: AsyncSession, values: Mapping[str, Any], domains: list[str] | None
) -> Account | None:
    """The account of the same normalized name that has one of the row's domains
    (or any domain, when the row gives none)."""
    name = values.get("name")
    if not name:
        return None
    candidates = list(
        await session.scalars(
            select(Account)
            .where(col(Account.normalized_name) == normalize_company_name(name))
            .order_by(col(Account.id))
        )
    )
    if not candidates or not domains:
        return candidates[0] if candidates else None
    wanted = {web_domain(d.lstrip("@")) for d in domains} - {None}
    owned = set(
        await session.scalars(
            select(col(AccountDomain.account_id)).where(
                col(AccountDomain.domain).in_(wanted),
                col(AccountDomain.account_id).in_([a.id for a in candidates]),
            )
        )
    )
    return next((a for a in candidates if a.id in owned), None)


async def _create(
    kind: ImportKind,
    values: dict[str, Any],
    domains: list[str] | None,
    options: ImportOptions,
    session: AsyncSession,
    actor: Actor,
) -> Any:
    data = dict(values)
    if options.source is not None:
        data.setdefault("initial_source", options.source)
    if kind is ImportKind.LEAD:
        if options.campaign_id is not None:
            data.setdefault("campaign_id", options.campaign_id)
        return await create_lead(data, session=session, actor=actor)
    if kind is ImportKind.CONTACT:
        return await create_contact(data, session=session, actor=actor)
    data.pop("initial_source", None)
    return await create_account(
        data, session=session, actor=actor, domains=domains or ()
    )


def _changes(target: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The row's values that differ from the record's (campaign: first touch,
    never changed by an update)."""
    changes = {
        k: v
        for k, v in values.items()
        if k != "campaign_id" and getattr(target, k) != v
    }
    if "email" in changes and normalize_email(changes["email"]) == target.email:
        del changes["email"]
    return changes


async def _update(
    kind: ImportKind,
    target: Any,
    changes: dict[str, Any],
    domains: list[str] | None,
    session: AsyncSession,
    actor: Actor,
) -> Any:
    if kind is ImportKind.LEAD:
        return await update_lead(target.id, changes, session=session, actor=actor)
    if kind is ImportKind.CONTACT:
        return await update_contact(target.id, changes, session=session, actor=actor)
    return await update_account(
        target.id, changes, session=session, actor=actor, domains=domains
    )


async def same_domains(
    session: AsyncSession, account_id: int, domains: list[str] | None
) -> bool:
    """True when the row gives no domains or exactly the account's."""
    if domains is None:
        return True
    have = (await account_domains(session, [account_id])).get(account_id, [])
    wanted = {web_domain(d.lstrip("@")) or d for d in domains}
    return set(have) == wanted
