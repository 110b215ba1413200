"""Refusals: the values that say why something may not happen (D9).

Guards and validators return ``list[Refusal]``; an empty list means "yes".
A service that must abort its transaction raises ``Refused`` carrying the
list, and the API edge turns it into ``userErrors`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.enums import ErrorCode


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reason an action is refused: a stable code, the field(s), a message."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()
    # (record type, id) of an existing record the refusal points at, e.g. the
    # lead that already has this email (DUPLICATE_RECORD).
    record: tuple[str, int] | None = None

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
        super().__init__("; ".join(r.message for r in self.refusals))

    @classmethod
    def one(cls, code: ErrorCode, message: str, field: str | None = None) -> Refused:
        """Refuse for a single reason."""
        return cls([Refusal.on(field, code, message)])


def refuse_if(refusals: Iterable[Refusal]) -> None:
    """Abort the use case (raise ``Refused``) when there is any refusal."""
    found = list(refusals)
    if found:
        raise Refused(found)
