"""``trigger``'s fast engine for plain ``http://`` targets: keep-alive connections as asyncio protocols writing
pre-built, pre-signed request bytes and reading only each response's status and framing.

One Python process with a full HTTP client spends ~20 times a native generator's CPU per request; here a request
costs one ``write`` and one framing pass over the answer. Every request's bytes are built before the clock
starts (up to ``PREBUILT_BYTES``; past that they are built as they go).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from casehooks.errors import FramingError
from casehooks.sender.http1 import ResponseReader, encode_request, request_target
from casehooks.sender.ratelimit import TokenBucket
from casehooks.sender.stats import Outcome, TriggerSummary

#: Requests built before the clock starts, in bytes (the rest are built while sending).
PREBUILT_BYTES = 512 * 1024 * 1024

BodySource = Callable[[int], tuple[bytes, str]]
HeaderSource = Callable[[bytes], dict[str, str]]


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request ready to write, with what ``--verify`` needs of it."""

    data: bytes
    body_bytes: int
    activity_id: str
    body_sha256: str


class PreparedRequests:
    """The requests of a run, in order; the first ones built up front, so building is outside the timed part."""

    def __init__(self, url: str, count: int, body: BodySource, headers: HeaderSource, *, digests: bool) -> None:
        self.host, self.port, self._target, self._host_header = request_target(url)
        self._body, self._headers, self._digests = body, headers, digests
        self._built: list[Prepared] = []
        size = 0
        while len(self._built) < count and size < PREBUILT_BYTES:
            prepared = self._build(len(self._built))
            self._built.append(prepared)
            size += len(prepared.data)

    def _build(self, index: int) -> Prepared:
        body, activity_id = self._body(index)
        data = encode_request(self._target, self._host_header, self._headers(body), body)
        digest = hashlib.sha256(body).hexdigest() if self._digests else ""
        return Prepared(data, len(body), activity_id, digest)

    def get(self, index: int) -> Prepared:
        # Indices arrive in order, so past the prebuilt ones each is built exactly once, when first asked for.
        if index < len(self._built):
            return self._built[index]
        return self._build(index)


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending one request at a time."""

    __slots__ = ("_handle", "_index", "_prepared", "_reader", "_run", "started", "transport")

    def __init__(self, run: _Run) -> None:
        self._run = run
        self._reader = ResponseReader()
        self.transport: asyncio.Transport | None = None
        self._index = -1
        self._prepared: Prepared | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.started = 0.0

    @property
    def in_flight(self) -> bool:
        return self._index >= 0 and self._handle is None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports do not derive from asyncio's classes.
        self.transport = cast(asyncio.Transport, transport)
        self._run.connecting -= 1
        self._run.connections.add(self)
        self._run.send_next(self)

    def send(self, index: int, prepared: Prepared, delay: float) -> None:
        self._index, self._prepared = index, prepared
        self.started = time.perf_counter()  # a paced request lost before it is written is timed from here
        if delay > 0:
            self._handle = asyncio.get_running_loop().call_later(delay, self._write)
        else:
            self._write()

    def _write(self) -> None:
        self._handle = None
        assert self.transport is not None
        assert self._prepared is not None
        self.started = time.perf_counter()
        self.transport.write(self._prepared.data)

    def data_received(self, data: bytes) -> None:
        try:
            responses = self._reader.feed(data)
        except FramingError:
            self.fail("protocol")
            return
        if not responses:
            return
        if not self.in_flight:  # an answer to nothing asked
            self.fail("protocol")
            return
        status, keep_alive = responses[0]
        self._complete(status, None)
        assert self.transport is not None
        if len(responses) > 1 or not keep_alive:
            self.transport.close()
        else:
            self._run.send_next(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._run.connections.discard(self)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._index >= 0:
            try:
                response = self._reader.feed_eof()
            except FramingError:
                response = None
            if response is not None:
                self._complete(response[0], None)
            else:
                self._complete(None, "protocol" if exc is None else "transport")
        self._run.reconnect()

    def fail(self, kind: str) -> None:
        """Count the request in flight as failed with ``kind`` and drop the connection (a new one replaces it)."""
        if self._index >= 0:
            self._complete(None, kind)
        if self.transport is not None:
            self.transport.abort()

    def _complete(self, status: int | None, error: str | None) -> None:
        index, prepared = self._index, self._prepared
        self._index, self._prepared = -1, None
        assert prepared is not None
        self._run.record(index, prepared, status, error, time.perf_counter() - self.started)


class _Run:
    """The shared state of one process's run: the next index, the summary, the live connections."""

    def __init__(
        self,
        requests: PreparedRequests,
        count: int,
        concurrency: int,
        timeout: float,
        rate: float | None,
        keep_accepted: bool,
        on_outcome: Callable[[Outcome], None] | None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.requests, self.count, self.concurrency, self.timeout = requests, count, concurrency, timeout
        self.bucket = TokenBucket(rate, burst=1.0) if rate else None
        self.keep_accepted, self.on_outcome = keep_accepted, on_outcome
        self.summary = TriggerSummary()
        self.next = 0
        self.finished = 0
        self.connections: set[_Connection] = set()
        self.connecting = 0
        self.done = self.loop.create_future()
        if count == 0:
            self.done.set_result(None)

    def send_next(self, connection: _Connection) -> None:
        if self.next >= self.count:
            if connection.transport is not None:
                connection.transport.close()
            return
        index = self.next
        self.next += 1
        delay = self.bucket.reserve(self.loop.time()) if self.bucket is not None else 0.0
        connection.send(index, self.requests.get(index), delay)

    def record(self, index: int, prepared: Prepared, status: int | None, error: str | None, seconds: float) -> None:
        outcome = Outcome(status, error, seconds, prepared.body_bytes)
        self.summary.add(outcome)
        if self.keep_accepted and status is not None and 200 <= status < 300:
            self.summary.accepted[prepared.activity_id] = prepared.body_sha256
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        self.finished += 1
        if self.finished >= self.count and not self.done.done():
            self.done.set_result(None)

    def reconnect(self) -> None:
        """Open a connection in place of one that closed, while requests remain to be sent."""
        if self.next < self.count and len(self.connections) + self.connecting < self.concurrency:
            self.connecting += 1
            self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        # ``connecting`` counts this attempt until ``connection_made`` moves it to ``connections``.
        while self.next < self.count:
            made: list[_Connection] = []

            def connection(made: list[_Connection] = made) -> _Connection:
                made.append(_Connection(self))
                return made[-1]

            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.timeout):
                    await self.loop.create_connection(connection, self.requests.host, self.requests.port)
                return
            except (OSError, TimeoutError) as exc:
                if made and made[-1].transport is not None:
                    return  # connected just as the timeout fired: that connection carries on
                # No connection: the request it would have carried fails, as a client's would.
                index = self.next
                self.next += 1
                kind = "timeout" if isinstance(exc, TimeoutError) else "connect"
                self.record(index, self.requests.get(index), None, kind, time.perf_counter() - started)
        self.connecting -= 1

    async def watch_timeouts(self) -> None:
        """Fail requests that have waited longer than the timeout (a slow or silent server)."""
        interval = min(self.timeout / 4, 0.5)
        while not self.done.done():
            await asyncio.sleep(interval)
            now = time.perf_counter()
            for connection in list(self.connections):
                if connection.in_flight and now - connection.started > self.timeout:
                    connection.fail("timeout")


async def run_fast(
    requests: PreparedRequests,
    *,
    count: int,
    concurrency: int,
    timeout: float,
    rate: float | None = None,
    keep_accepted: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> TriggerSummary:
    """Send ``count`` prepared requests over ``concurrency`` connections; the clock runs from the first connect
    to the last answer."""
    started = time.perf_counter()
    run = _Run(requests, count, concurrency, timeout, rate, keep_accepted, on_outcome)
    for _ in range(min(concurrency, max(1, count))):
        run.reconnect()
    watchdog = asyncio.create_task(run.watch_timeouts())
    try:
        await run.done
    finally:
        watchdog.cancel()
        for connection in list(run.connections):
            if connection.transport is not None:
                connection.transport.close()
        await asyncio.sleep(0)  # let the closed connections finish closing before the loop may end
    run.summary.elapsed = time.perf_counter() - started
    return run.summary
