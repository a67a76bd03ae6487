"""A small in-memory rate limiter: a sliding window of hits per key.

It protects one gate process (per client address, per email) from bursts; the limits
that must hold across processes or Lambda instances (access-code lockout, one link
email per address per interval) live in storage instead.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 10_000  # forget the oldest keys beyond this: memory stays bounded
# Decisions and comments together: (hits, window in seconds), per contact and per customer
ACTIONS_PER_CONTACT = (10, 10 * 60)
ACTIONS_PER_CUSTOMER = (30, 10 * 60)


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: float) -> bool:
        """Count one hit; False when `key` already had `limit` hits in the last `window` s."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= MAX_KEYS:
                    self._hits.pop(next(iter(self._hits)))
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True
