"""When to try a failed delivery again: exponential backoff with full jitter, capped. Pure.

Attempt ``n`` (1-based) that fails is retried after a delay drawn uniformly from ``[0, min(cap, base * 2**(n-1))]``;
after ``max_attempts`` attempts the message is given up (dead) and waits for a manual redelivery. With the
defaults (base 2 s, cap 1 h, 12 attempts) the ceilings are 2, 4, 8, ... 2048, 3600 s: about two hours of retries
at worst, an hour on average. A ``Retry-After`` from the receiver is honoured as a lower bound.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """The retry policy of the delivery worker."""

    base_seconds: float = 2.0
    cap_seconds: float = 3600.0
    max_attempts: int = 12

    def ceiling(self, attempt: int) -> float:
        """The longest delay after failed attempt ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        # 2**exponent would overflow long before the cap matters; clamp the exponent first.
        return min(self.cap_seconds, self.base_seconds * 2.0 ** min(attempt - 1, 64))

    def next_delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None when ``attempt`` was the last one allowed."""
        if attempt >= self.max_attempts:
            return None
        delay = rng.uniform(0.0, self.ceiling(attempt))
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, self.cap_seconds)
        return delay


def is_retryable(status: int | None, error: str | None) -> bool:
    """Timeouts, connection errors, 5xx and 429 are retried; other answers are final."""
    if error is not None:
        return True
    assert status is not None
    return status == 429 or status >= 500


def parse_retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` in seconds (the HTTP-date form is ignored: the jittered schedule applies)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
