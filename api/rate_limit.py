"""Per-token rate limit (issue 16 item 9): a token bucket per API token, per process.

Each token may make ``token_rate_limit`` requests a minute
(``SALESOPS_TOKEN_RATE_LIMIT``, default 60,000; 0: no limit): its bucket
holds that many, refills continuously at a sixtieth of it per second, and a
request takes one. An empty bucket answers HTTP 429 with ``Retry-After`` (whole
seconds until the next request is allowed) and a GraphQL error coded
``RATE_LIMITED``. Buckets live in each process: with ``--workers N`` a token
may make up to N times the limit (the kernel spreads connections, not tokens)
— the limit protects each process from one runaway client, cheaply, without a
shared store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

# Past this many buckets, the full ones are forgotten (a missing bucket is full).
MAX_BUCKETS = 10_000


class RateLimiter:
    """Token buckets by API token id."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # id → (level, at)

    @property
    def rate(self) -> float:
        """Requests regained per second."""
        return self.per_minute / 60.0

    def _level(self, level: float, at: float, now: float) -> float:
        return min(float(self.per_minute), level + (now - at) * self.rate)

    def retry_after(self, token_id: int) -> int | None:
        """Take one request from the token's bucket: None when allowed, else the
        whole seconds until one is."""
        if self.per_minute <= 0:
            return None
        now = self.clock()
        level, at = self._buckets.get(token_id, (float(self.per_minute), now))
        level = self._level(level, at, now)
        if level >= 1.0:
            if len(self._buckets) >= MAX_BUCKETS and token_id not in self._buckets:
                self._forget_full(now)
            self._buckets[token_id] = (level - 1.0, now)
            return None
        self._buckets[token_id] = (level, now)
        return max(1, math.ceil((1.0 - level) / self.rate))

    def _forget_full(self, now: float) -> None:
        self._buckets = {
            k: (level, at)
            for k, (level, at) in self._buckets.items()
            if self._level(level, at, now) < self.per_minute
        }
