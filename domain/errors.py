"""Refusals: the values that say why something may not happen (D9).

Guards and validators return ``list[Refusal]``; an empty list means "yes".
A service that must abort its transaction raises ``Refused`` carrying the
list, and the API edge turns it into ``userErrors`` unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from domain.enums import ErrorCode

# How a RecordRef sits in a message until the edge renders it: a marker no
# sentence contains, naming the record's class and database id.
_REF = re.compile(r"\u27e6([A-Za-z_][A-Za-z0-9_]*):(\d+)\u27e7")


def camel(name: str) -> str:
    """A field's name as clients spell it: snake_case -> camelCase (idempotent on
    camelCase); messages name fields so, never by their column names."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True, slots=True)
class RecordRef:
    """An existing record a message names, kept neutral: the domain knows its
    record class's name (``"Lead"``) and database id; the edge renders it as its
    clients know it (a global id). Put it in a message with an f-string:
    ``f"Lead {RecordRef.to(lead)} ..."``."""

    type: str
    id: int

    @classmethod
    def to(cls, row: Any) -> RecordRef:
        """The reference to a loaded record."""
        return cls(type(row).__name__, row.id)

    def __str__(self) -> str:
        return f"\u27e6{self.type}:{self.id}\u27e7"


def render_refs(message: str, render: Callable[[str, int], str]) -> str:
    """``message`` with every RecordRef marker replaced by ``render(class name,
    id)`` (the edge passes its global-id encoder)."""
    return _REF.sub(lambda m: render(m.group(1), int(m.group(2))), message)


def plain_refs(message: str) -> str:
    """``message`` with its RecordRefs as ``<class> <id>``, for logs and the CLI."""
    return render_refs(message, lambda name, record_id: f"{name} {record_id}")


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reason an action is refused: a stable code, the field(s), a message."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()
    # An existing record the refusal points at, e.g. the lead that already has
    # this email (DUPLICATE_RECORD): the API shows it as ``recordId``.
    record: RecordRef | None = None

    @classmethod
    def on(cls, field: str | None, code: ErrorCode, message: str) -> Refusal:
        """Build a refusal about one input field (or none)."""
        return cls(code=code, message=message, field=(field,) if field else ())

    def under(self, *path: str) -> Refusal:
        """The same refusal, its field nested under ``path`` (e.g. the index of
        an item in a list input: ``engagements.3.kind``)."""
        return Refusal(self.code, self.message, (*path, *self.field), self.record)


class Refused(Exception):  # noqa: N818 - it reads as what happened: "Refused"
    """Raised by a service to abort its transaction with the reasons why."""

    def __init__(self, refusals: Iterable[Refusal]) -> None:
        self.refusals = list(refusals)
        if not self.refusals:
            raise ValueError("Refused needs at least one refusal")
        super().__init__("; ".join(plain_refs(r.message) for r in self.refusals))

    @classmethod
    def one(cls, code: ErrorCode, message: str, field: str | None = None) -> Refused:
        """Refuse for a single reason."""
        return cls([Refusal.on(field, code, message)])


def refuse_if(refusals: Iterable[Refusal]) -> None:
    """Abort the use case (raise ``Refused``) when there is any refusal."""
    found = list(refusals)
    if found:
        raise Refused(found)
