"""Dry runs (issue 12): a use case rehearsed in a transaction that is rolled back.

The same service runs with the same guards and effects; ``rehearse`` keeps what
it returned and the events it would have emitted. The caller runs it inside
``write_transaction(commit=False)``, so nothing is written and nothing reaches
the outbox's readers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from domain.services.outbox import EmittedEvent, capture_emitted

T = TypeVar("T")


@dataclass
class Rehearsal(Generic[T]):
    """What a use case would do: its result and the events it would emit."""

    result: T
    would_emit: list[EmittedEvent]


async def rehearse(
    session: AsyncSession, run: Callable[[], Awaitable[T]]
) -> Rehearsal[T]:
    """Run ``run`` (a use case on ``session``) and note the events it emits."""
    with capture_emitted(session) as emitted:
        result = await run()
        await session.flush()
    return Rehearsal(result=result, would_emit=emitted.events())
