"""Duplicates and merges on the API (D12; issue 13 items 3, 4).

``possibleDuplicates`` (root: the pairs of the newest finished scan;
``Lead.possibleDuplicates`` / ``Contact.possibleDuplicates``: live, by
indexed lookups), ``startDuplicateScan`` and ``duplicateScan``;
``mergeLeads``, ``mergeContacts``, ``mergeAccounts`` and ``undoMerge``, which
share one payload (``MergePayload``). The rules live in
``domain.services.possible_duplicates`` and ``domain.services.merges``.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from api.accounts import AccountNode
from api.contacts import ContactNode
from api.context import Info
from api.enums import DuplicateReasonGQL, DuplicateScanStatusGQL, MergeKindGQL
from api.errors import UserError, each_item
from api.events import NODE_OF
from api.inputs import mutate
from api.leads import LeadNode
from api.relay import (
    MAX_PAGE_SIZE,
    RecordNode,
    decode_id,
    decode_ids,
    encode_id,
    load_node,
    to_one,
)
from api.users import UserNode
from domain import records as rec
from domain.enums import ErrorCode, MergeKind, RecordType
from domain.errors import Refused
from domain.rules.permissions import DATA_STEWARDS, role_names
from domain.services import merges as merging
from domain.services import possible_duplicates as finding

NODE_OF_KIND: dict[MergeKind, type[RecordNode]] = {
    MergeKind.LEAD: LeadNode,
    MergeKind.CONTACT: ContactNode,
    MergeKind.ACCOUNT: AccountNode,
}
_RECORD_TYPE = {kind: RecordType(kind.value) for kind in MergeKind}
DEFAULT_CANDIDATES = 10


def _check_first(first: int) -> None:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise Refused.one(
            ErrorCode.INVALID_INPUT,
            f"`first` must be between 0 and {MAX_PAGE_SIZE} (got {first}).",
            "first",
        )


def _gid(kind: MergeKind, record_id: int) -> strawberry.ID:
    return strawberry.ID(encode_id(NODE_OF_KIND[kind], record_id))


async def _node(info: Info, kind: MergeKind, record_id: int) -> relay.Node | None:
    return await load_node(info, NODE_OF[_RECORD_TYPE[kind]], record_id)  # type: ignore[return-value]


@strawberry.type(description="A record that is likely the same person as another.")
class PossibleDuplicate:
    """One candidate, why it matches, and how sure."""

    kind: MergeKindGQL = strawberry.field(description="LEAD or CONTACT.")
    record_id: strawberry.ID = strawberry.field(
        description="Global id of the likely duplicate."
    )
    reason: DuplicateReasonGQL = strawberry.field(
        description="The strongest reason it matches."
    )
    reasons: list[DuplicateReasonGQL] = strawberry.field(
        description="Every reason it matches, strongest first."
    )
    score: int = strawberry.field(
        description="0 to 100: how sure (several reasons add up, never past 100)."
    )

    @strawberry.field(description="The likely duplicate (null if gone since).")
    async def record(self, info: Info) -> relay.Node | None:
        """The record."""
        kind = MergeKind(self.kind)
        return await _node(
            info, kind, decode_id(self.record_id, NODE_OF_KIND[kind], "recordId")
        )


def _candidate(found: finding.PossibleDuplicate) -> PossibleDuplicate:
    return PossibleDuplicate(
        kind=found.kind,
        record_id=_gid(found.kind, found.record_id),
        reason=found.reasons[0],
        reasons=list(found.reasons),
        score=found.score,
    )


async def duplicates_of(
    info: Info, kind: MergeKind, record_id: int, first: int
) -> list[PossibleDuplicate]:
    """A lead's or contact's likely duplicates (``Lead.possibleDuplicates``)."""
    _check_first(first)
    found = await info.context.read(
        lambda s: finding.possible_duplicates(s, kind, record_id, first=first)
    )
    return [_candidate(f) for f in found]


@strawberry.type(description="Two records a duplicate scan found alike.")
class DuplicatePair:
    """One pair of a scan: the older id first."""

    kind: MergeKindGQL = strawberry.field(description="LEAD or CONTACT.")
    first_id: strawberry.ID = strawberry.field(description="Global id of one record.")
    second_id: strawberry.ID = strawberry.field(
        description="Global id of the other (a larger id)."
    )
    reason: DuplicateReasonGQL = strawberry.field(description="The strongest reason.")
    reasons: list[DuplicateReasonGQL] = strawberry.field(
        description="Every reason, strongest first."
    )
    score: int = strawberry.field(description="0 to 100: how sure.")


def _pairs(scan: rec.DuplicateScan, first: int) -> list[DuplicatePair]:
    return [
        DuplicatePair(
            kind=scan.kind,
            first_id=_gid(scan.kind, a),
            second_id=_gid(scan.kind, b),
            reason=why[0],
            reasons=list(why),
            score=score,
        )
        for a, b, score, why in finding.scan_result(scan, first)
    ]


@strawberry.type(name="DuplicateScan", description="A full duplicate scan (a job).")
class DuplicateScanNode(RecordNode):
    """The scan's status and, once DONE, its pairs."""

    model = rec.DuplicateScan

    kind: MergeKindGQL = strawberry.field(description="LEAD or CONTACT.")
    status: DuplicateScanStatusGQL = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    started_at: datetime | None = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    pair_count: int = strawberry.field(
        description="How many pairs it found (all of them; `pairs` keeps the best "
        f"{finding.SCAN_PAIR_CAP:,})."
    )
    error: str | None = strawberry.field(description="Why it FAILED.")
    requested_by_id: strawberry.Private[int | None]
    pairs_found: strawberry.Private[list[Any]]

    @classmethod
    def from_row(cls, row: Any) -> DuplicateScanNode:
        """The node of a scan row (its pairs kept private)."""
        node = cls(
            kind=row.kind,
            status=row.status,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            pair_count=row.pair_count,
            error=row.error,
            requested_by_id=row.requested_by_id,
            pairs_found=row.pairs,
        )
        node.id = row.id
        return node

    @strawberry.field(description="The pairs found, best first.")
    def pairs(
        self,
        first: Annotated[
            int, strawberry.argument(description="How many pairs (1 to 500).")
        ] = 50,
    ) -> list[DuplicatePair]:
        """The first pairs."""
        _check_first(first)
        row = rec.DuplicateScan(
            kind=self.kind, status=self.status, pairs=self.pairs_found
        )
        return _pairs(row, first)

    requested_by = to_one(
        UserNode,
        "requested_by_id",
        description="Who requested it.",
    )


@strawberry.type(name="Merge", description="One merge of duplicates (D12).")
class MergeNode(RecordNode):
    """What merged into what, by whom, and whether it was undone."""

    model = rec.RecordMerge

    kind: MergeKindGQL = strawberry.field(description="What kind of records merged.")
    merged_at: datetime = strawberry.field(description="When.")
    undone_at: datetime | None = strawberry.field(
        description="When it was undone (null: in force)."
    )
    survivor_id: strawberry.Private[int]
    duplicate_ids: strawberry.Private[list[int]]
    actor_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> MergeNode:
        """The node of a merge row (its snapshot stays in the database)."""
        node = cls(
            kind=row.kind,
            merged_at=row.merged_at,
            undone_at=row.undone_at,
            survivor_id=row.survivor_id,
            duplicate_ids=list(row.duplicate_ids),
            actor_id=row.actor_id,
        )
        node.id = row.id
        return node

    @strawberry.field(name="survivorId", description="Global id of the survivor.")
    def survivor_global_id(self) -> strawberry.ID:
        """The survivor's global id."""
        return _gid(MergeKind(self.kind), self.survivor_id)

    @strawberry.field(
        name="duplicateIds", description="Global ids of the records merged away."
    )
    def duplicate_global_ids(self) -> list[strawberry.ID]:
        """The duplicates' global ids."""
        return [_gid(MergeKind(self.kind), i) for i in self.duplicate_ids]

    @strawberry.field(description="The surviving record.")
    async def survivor(self, info: Info) -> relay.Node | None:
        """The survivor."""
        return await _node(info, MergeKind(self.kind), self.survivor_id)

    @strawberry.field(description="Until when `undoMerge` may undo it.")
    def undo_deadline(self) -> datetime:
        """merged_at + 30 days."""
        return self.merged_at + merging.UNDO_WINDOW

    actor = to_one(
        UserNode,
        "actor_id",
        description="Who merged.",
    )


@strawberry.input(description="Take one field's value from one record of the merge.")
class FieldChoiceInput:
    """A field (camelCase, e.g. `email`) and the record whose value wins."""

    field: str = strawberry.field(
        description="The field, camelCase (e.g. `email`, `title`, `phone`)."
    )
    from_id: strawberry.ID = strawberry.field(
        description="The survivor or a duplicate: its value is kept."
    )


@strawberry.input(
    description="The fields of the three merge inputs (not in the schema)."
)
class MergeFields:
    """Survivor, duplicates, field choices."""

    survivor_id: strawberry.ID = strawberry.field(description="The record that stays.")
    duplicate_ids: list[strawberry.ID] = strawberry.field(
        description="The records merged into it (same kind; at most "
        f"{merging.MAX_DUPLICATES})."
    )
    field_choices: list[FieldChoiceInput] = strawberry.field(
        default_factory=list,
        description="Per field, whose value the survivor keeps; unnamed fields: the "
        'survivor\'s ("survivor wins"). initialSource is never chosen: the oldest '
        "record's is kept (D4).",
    )


@strawberry.input(description="mergeLeads input.")
class MergeLeadsInput(MergeFields):
    """Leads to merge."""


@strawberry.input(description="mergeContacts input.")
class MergeContactsInput(MergeFields):
    """Contacts to merge."""


@strawberry.input(description="mergeAccounts input.")
class MergeAccountsInput(MergeFields):
    """Accounts to merge."""


@strawberry.input(description="undoMerge input.")
class UndoMergeInput:
    """The merge to undo."""

    id: strawberry.ID = strawberry.field(
        description="The merge to undo (a `Merge` id)."
    )


@strawberry.input(description="startDuplicateScan input.")
class StartDuplicateScanInput:
    """What to scan."""

    kind: MergeKindGQL = strawberry.field(description="LEAD or CONTACT.")


@strawberry.type(
    description="Result of mergeLeads, mergeContacts, mergeAccounts and undoMerge."
)
class MergePayload:
    """The merge, or why not."""

    merge: MergeNode | None = strawberry.field(description="The merge (null: refused).")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of startDuplicateScan.")
class StartDuplicateScanPayload:
    """The scan, or why not."""

    scan: DuplicateScanNode | None = strawberry.field(description="The scan.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _choices(kind: MergeKind, data: MergeFields) -> list[merging.FieldChoice]:
    node = NODE_OF_KIND[kind]
    return each_item(
        data.field_choices,
        lambda c: merging.FieldChoice(
            field=_snake(c.field), from_id=decode_id(c.from_id, node, "fromId")
        ),
        "fieldChoices",
    )


async def _merge(info: Info, kind: MergeKind, data: MergeFields) -> MergePayload:
    actor = info.context.actor
    node = NODE_OF_KIND[kind]

    async def use_case(s: Any) -> rec.RecordMerge:
        return await merging.merge_records(
            kind,
            decode_id(data.survivor_id, node, "survivorId"),
            decode_ids(data.duplicate_ids, node, "duplicateIds"),
            _choices(kind, data),
            session=s,
            actor=actor,
        )

    row, errors = await mutate(info, use_case)
    return MergePayload(merge=row and MergeNode.from_row(row), user_errors=errors)


_WHO = role_names(DATA_STEWARDS)


@strawberry.type
class MergeQueries:
    """Root fields about duplicates and merges."""

    @strawberry.field(
        description="Likely duplicate pairs of leads or contacts, best first: the "
        "result of the newest finished `startDuplicateScan` of that kind (empty "
        "before the first). One record's: `Lead.possibleDuplicates`."
    )
    async def possible_duplicates(
        self,
        info: Info,
        kind: Annotated[
            MergeKindGQL, strawberry.argument(description="Leads or contacts.")
        ],
        first: Annotated[
            int, strawberry.argument(description="How many pairs (1 to 500).")
        ] = 50,
    ) -> list[DuplicatePair]:
        """The newest scan's first pairs."""
        _check_first(first)
        model_kind = MergeKind(kind)
        finding.model_of(model_kind)
        scan = await info.context.read(lambda s: finding.latest_scan(s, model_kind))
        return _pairs(scan, first) if scan is not None else []

    @strawberry.field(description="One duplicate scan by global id.")
    async def duplicate_scan(
        self, info: Info, id: strawberry.ID
    ) -> DuplicateScanNode | None:
        """A scan, or null."""
        return await load_node(
            info, DuplicateScanNode, decode_id(id, DuplicateScanNode, "id")
        )

    @strawberry.field(description="One merge by global id.")
    async def merge(self, info: Info, id: strawberry.ID) -> MergeNode | None:
        """A merge, or null."""
        return await load_node(info, MergeNode, decode_id(id, MergeNode, "id"))


@strawberry.type
class MergeMutations:
    """Root mutations about duplicates and merges."""

    @strawberry.mutation(
        description="Merge duplicate leads into a survivor (D12): activities, "
        "engagements and the rest move to it, it keeps the oldest initial source "
        "(D4), the duplicates are deleted, and `undoMerge` can restore them for 30 "
        f"days. A converted lead is never merged away. By {_WHO}."
    )
    async def merge_leads(self, info: Info, input: MergeLeadsInput) -> MergePayload:
        """Merge leads."""
        return await _merge(info, MergeKind.LEAD, input)

    @strawberry.mutation(
        description="Merge duplicate contacts into a survivor (D12): activities, "
        "engagements, contact roles and deal contacts move to it; undoable for 30 "
        f"days. By {_WHO}."
    )
    async def merge_contacts(
        self, info: Info, input: MergeContactsInput
    ) -> MergePayload:
        """Merge contacts."""
        return await _merge(info, MergeKind.CONTACT, input)

    @strawberry.mutation(
        description="Merge duplicate accounts into a survivor (D12): contacts, "
        "opportunities, activities, team members, child accounts and domains move "
        f"to it; undoable for 30 days. By {_WHO}."
    )
    async def merge_accounts(
        self, info: Info, input: MergeAccountsInput
    ) -> MergePayload:
        """Merge accounts."""
        return await _merge(info, MergeKind.ACCOUNT, input)

    @strawberry.mutation(
        description="Undo a merge within 30 days: the merged-away records come back "
        "and what moved moves back. Refused with CHANGED_SINCE_MERGE when the "
        f"survivor or a moved record changed since. By {_WHO}."
    )
    async def undo_merge(self, info: Info, input: UndoMergeInput) -> MergePayload:
        """Undo a merge."""
        actor = info.context.actor
        row, errors = await mutate(
            info,
            lambda s: merging.undo_merge(
                decode_id(input.id, MergeNode, "id"), session=s, actor=actor
            ),
        )
        return MergePayload(merge=row and MergeNode.from_row(row), user_errors=errors)

    @strawberry.mutation(
        description="Scan every lead or contact for likely duplicates (a job): "
        f"with up to {finding.INLINE_MAX_RECORDS:,} records of the kind the scan "
        "runs before the answer (DONE); a larger one is QUEUED for `salesops "
        "worker`. Follow it with `duplicateScan` (and `possibleDuplicates`). "
        f"By {_WHO}."
    )
    async def start_duplicate_scan(
        self, info: Info, input: StartDuplicateScanInput
    ) -> StartDuplicateScanPayload:
        """Start a scan (and run it, when small)."""
        actor = info.context.actor
        kind = MergeKind(input.kind)
        row, errors = await mutate(
            info,
            lambda s: finding.start_duplicate_scan(kind, session=s, actor=actor),
        )
        if row is None:
            return StartDuplicateScanPayload(scan=None, user_errors=errors)
        scan_id = row.id
        assert scan_id is not None
        if await info.context.read(lambda s: finding.scan_runs_inline(s, kind)):
            async with info.context.lock:
                await finding.run_duplicate_scan(
                    scan_id,
                    session=info.context.session,
                    worker=f"api:{socket.gethostname()}:{os.getpid()}",
                )
        done = await info.context.read(
            lambda s: s.get(rec.DuplicateScan, scan_id, populate_existing=True)
        )
        return StartDuplicateScanPayload(
            scan=DuplicateScanNode.from_row(done), user_errors=[]
        )
