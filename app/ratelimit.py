"""A small in-process rate limiter for anonymous public endpoints (certificate verification).

Deliberately per process: it blunts scraping from one address without a write per lookup
(verification is the most read endpoint and must stay fast). With N processes an address gets
at most N times the budget, which is still a budget.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from app.errors import TooManyRequests
from app.i18n import gettext as _

MAX_TRACKED = 50_000


class SlidingWindow:
    """At most `limit` hits per `window` seconds per key."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self.hits: OrderedDict[str, list[float]] = OrderedDict()
        self.lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count a hit for `key`; TooManyRequests (with Retry-After) past the limit."""
        now = time.monotonic()
        with self.lock:
            stamps = [t for t in self.hits.pop(key, []) if now - t < self.window]
            if len(stamps) >= self.limit:
                self.hits[key] = stamps
                wait = max(1, int(self.window - (now - stamps[0])) + 1)
                raise TooManyRequests(_("Too many look-ups from your address. Try again in "
                                        "{seconds} seconds.").format(seconds=wait),
                                      retry_after=wait)
            stamps.append(now)
            self.hits[key] = stamps
            while len(self.hits) > MAX_TRACKED:
                self.hits.popitem(last=False)
