"""Reading a webhook body before anything proves who sent it: memory follows the bytes that arrive.

A request is unauthenticated until its whole body is verified, so nothing is allocated from what a header
claims: the buffer grows with the chunks received, under a per-request deadline (a total that extends with
the bytes received at a minimum rate) and a process-wide budget of unverified bytes held at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import anyio
from starlette.requests import ClientDisconnect, Request

from casehooks.signing import BodyDigests
from casehooks.store.quarantine import Refusal


class ChunkSink(Protocol):
    """Where a spooled body's chunks go as they arrive (receiver/spool.py encrypts them to a file)."""

    def write(self, chunk: bytes) -> int: ...


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """How much and how slowly one unverified body may arrive."""

    max_bytes: int
    timeout: float = 30.0
    min_rate: float = 64 * 1024  # bytes a second that extend the deadline past ``timeout``


class UnverifiedBudget:
    """Bytes of unverified bodies held by this process; one event loop updates it, so no lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    @property
    def exhausted(self) -> bool:
        return self.held >= self.limit

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


@dataclass(frozen=True, slots=True)
class Received:
    """A body read to its end, or the refusal that stopped it; ``held`` bytes are owed to the budget."""

    body: bytes | None
    size: int
    refusal: Refusal | None
    held: int


BUSY_RETRY_AFTER_SECONDS = 5


def too_large(limit: int) -> Refusal:
    return Refusal("too_large", f"body over the limit of {limit} bytes", 413)


def too_slow() -> Refusal:
    return Refusal("body_timeout", "the body did not arrive in time", 408)


def busy() -> Refusal:
    return Refusal("busy", "too many unverified bytes in flight; retry later", 503)


def declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    return int(declared) if declared is not None and declared.isdigit() else None


async def read_body(
    request: Request,
    limits: BodyLimits,
    budget: UnverifiedBudget,
    spool: ChunkSink | None = None,
    digests: BodyDigests | None = None,
) -> Received:
    """Read the body chunk by chunk within ``limits`` and ``budget``.

    With a ``spool`` the chunks are written there as they arrive instead of kept (``body`` is then empty);
    they still count against the budget until the request is answered. ``digests`` are fed each chunk kept.

    Raises ``ClientDisconnect`` if the client goes away; the bytes it held are given back first.
    """
    declared = declared_length(request)
    if declared is not None and declared > limits.max_bytes:
        return Received(None, declared, too_large(limits.max_bytes), 0)
    if budget.exhausted:
        return Received(None, declared or 0, busy(), 0)
    first: bytes | None = None  # the common small body arrives as one chunk: kept as it is, no copy
    buffer = bytearray()  # larger ones grow in place (realloc), never sized from the header
    held = 0
    seen = 0  # bytes received, kept or not (a refusal records it)
    started = anyio.current_time()
    refusal: Refusal | None = None
    try:
        # One cancel scope for the whole body; its deadline moves on as bytes arrive at the minimum rate.
        with anyio.CancelScope(deadline=started + limits.timeout) as scope:
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = cast(bytes, message.get("body", b""))
                if chunk:
                    seen += len(chunk)
                    if held + len(chunk) > limits.max_bytes:
                        refusal = too_large(limits.max_bytes)
                        break
                    if not budget.take(len(chunk)):
                        refusal = busy()
                        break
                    held += len(chunk)
                    if digests is not None:
                        digests.update(chunk)
                    if spool is not None:
                        spool.write(chunk)
                    elif first is None and not buffer:
                        first = chunk
                    else:
                        if first is not None:
                            buffer += first
                            first = None
                        buffer += chunk
                if not message.get("more_body", False):
                    break
                scope.deadline = started + limits.timeout + held / limits.min_rate
        if scope.cancelled_caught:
            refusal = too_slow()
    except ClientDisconnect:
        budget.give_back(held)
        raise
    if refusal is not None:
        budget.give_back(held)
        return Received(None, seen, refusal, 0)
    body = first if first is not None else cast(bytes, buffer)  # only read downstream: no copy to bytes
    return Received(body, held, None, held)
