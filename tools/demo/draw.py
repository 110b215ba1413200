"""Random draws and whole-second times shared by every phase of the demo data set."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

DAY = 86_400
HOUR = 3_600
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_of(ts: int) -> datetime:
    """The UTC datetime of a timestamp (whole seconds since 1970)."""
    return datetime.fromtimestamp(ts, UTC)


def seconds_of(moment: datetime) -> int:
    """Whole seconds since 1970 of an aware datetime."""
    return int((moment - EPOCH).total_seconds())


class Picker:
    """A weighted choice by one uniform draw (bisect over cumulative weights)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, weighted: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _ in weighted]
        total = 0.0
        self.cum: list[float] = []
        for _, weight in weighted:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, u: float) -> Any:
        """The item for a uniform draw ``u`` in [0, 1)."""
        return self.items[bisect_right(self.cum, u * self.total)]


def quota(weights: Mapping[Any, float], n: int, rng: random.Random) -> list[Any]:
    """``n`` items in the proportions of ``weights`` (each at least once), shuffled."""
    total = sum(weights.values())
    exact = {item: w * n / total for item, w in weights.items()}
    counts = {item: int(x) for item, x in exact.items()}
    if n >= len(weights):
        for item in counts:
            counts[item] = max(counts[item], 1)
    short = n - sum(counts.values())
    by_remainder = sorted(weights, key=lambda i: exact[i] - int(exact[i]), reverse=True)
    while short > 0:
        for item in by_remainder:
            if short == 0:
                break
            counts[item] += 1
            short -= 1
    while short < 0:  # the minimums pushed us over: take from the largest
        largest = max(counts, key=lambda i: counts[i])
        counts[largest] -= 1
        short += 1
    items = [item for item, c in counts.items() for _ in range(c)]
    rng.shuffle(items)
    return items


def money(cents: int) -> Decimal:
    """Cents as a Decimal amount."""
    return Decimal(cents).scaleb(-2)


def log_uniform(rng_u: float, low: float, high: float) -> float:
    """A value in [low, high], uniform on a log scale, for a draw ``rng_u``."""
    return math.exp(math.log(low) + rng_u * (math.log(high) - math.log(low)))
