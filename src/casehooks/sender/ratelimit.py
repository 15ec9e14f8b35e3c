"""A token bucket for ``--rate``: pure arithmetic over a clock reading the caller passes in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up. ``reserve`` says how long to wait for one token.

    Reservations are handed out in order, so concurrent senders share the rate instead of racing for it.
    """

    rate: float
    burst: float = 1.0
    _tokens: float = field(init=False)
    _updated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("rate must be positive")
        self._tokens = self.burst

    def reserve(self, now: float) -> float:
        """Take one token; return the seconds until it is available (0 when available now)."""
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate
