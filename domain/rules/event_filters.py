"""Which outbox events a live subscriber asked for (issue 12 item 3): pure
predicates over an event's kind, record and payload."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

ASSIGNED_SUFFIX = "_ASSIGNED"


@dataclass(frozen=True)
class TransitionFilter:
    """Transition events of one kind (LEAD_STATUS_CHANGED, OPPORTUNITY_STAGE_CHANGED),
    optionally only of some records, from some states, to some states (each
    criterion given must hold; an empty one is not given)."""

    kind: str
    record_ids: Collection[int] = ()
    from_states: Collection[str] = ()
    to_states: Collection[str] = ()

    def matches(self, kind: str, record_id: int, payload: Mapping[str, Any]) -> bool:
        """Whether the event is one the subscriber asked for."""
        return (
            kind == self.kind
            and (not self.record_ids or record_id in self.record_ids)
            and (not self.from_states or payload.get("from_state") in self.from_states)
            and (not self.to_states or payload.get("to_state") in self.to_states)
        )


def is_assignment(kind: str, payload: Mapping[str, Any], to: int | None) -> bool:
    """An owner change (``<RECORD>_ASSIGNED``), to the user ``to`` when given."""
    return kind.endswith(ASSIGNED_SUFFIX) and (
        to is None or payload.get("owner_id") == to
    )
