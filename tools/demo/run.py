"""One run of the demo data set: its random streams, its clock, and the rows
several phases write alike (ids, activities, funnel entries)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from domain.enums import ActivityChannel, ActivityDirection, ActivityKind
from domain.services.milestones import SECONDS_COLUMNS, STAMP_COLUMNS
from tools.demo.catalog import Emails
from tools.demo.draw import EPOCH
from tools.demo.load import Progress, Sink


class Run:
    """What every phase of one run shares: the seed, now, the sink, emails, ids."""

    def __init__(
        self, sink: Sink, seed: int, now: datetime, progress: Progress | None
    ) -> None:
        self.sink = sink
        self.seed = seed
        self.now_ts = int((now - EPOCH).total_seconds())
        self.progress = progress or (lambda _phase, _done, _total: None)
        self.emails = Emails()
        self.transition_id = 0
        self.activity_id = 0
        self.entry_id = 0

    def rng(self, phase: str) -> random.Random:
        """The random stream of one phase (the same seed, the same draws)."""
        return random.Random(f"salesops-demo/{self.seed}/{phase}")

    def entry_row(self, stamps: Sequence[int | None], **values: Any) -> dict[str, Any]:
        """The next funnel entry (D11): stamps (seconds since 1970) and the
        seconds between them, with its dimensions."""
        self.entry_id += 1
        row = dict(zip(STAMP_COLUMNS, stamps, strict=True))
        row.update(
            zip(
                SECONDS_COLUMNS,
                [
                    None if b is None or a is None else max(0, b - a)
                    for a, b in pairwise(stamps)
                ],
                strict=True,
            )
        )
        row["id"] = self.entry_id
        row.update(values)
        return row

    def activity_row(
        self,
        kind: ActivityKind,
        channel: ActivityChannel,
        direction: ActivityDirection,
        subject: str,
        due: int | None,
        completed: int | None,
        disposition: str | None,
        owner: int | None,
        source_system: str,
        lead_id: int | None,
        contact_id: int | None,
        account_id: int | None,
        opportunity_id: int | None,
        created: int,
    ) -> dict[str, Any]:
        """The next activity (times in seconds since 1970)."""
        self.activity_id += 1
        at = created
        return {
            "id": self.activity_id,
            "version": 1,
            "created_at": at,
            "updated_at": at,
            "kind": kind,
            "channel": channel,
            "direction": direction,
            "subject": subject,
            "due_at": due if due is not None else None,
            "completed_at": completed if completed is not None else None,
            "disposition": disposition,
            "outcome": None,
            "owner_id": owner,
            "source_system": source_system,
            "lead_id": lead_id,
            "contact_id": contact_id,
            "account_id": account_id,
            "opportunity_id": opportunity_id,
        }
