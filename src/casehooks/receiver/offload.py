"""A large body's chunks, hashed and spooled by a thread of its own while the event loop reads the next ones.

For a 50 MiB body, hashing it twice (its SHA-256 and the signature's HMAC), encrypting it and writing it to the
spool cost the event loop more than reading it from the socket. hashlib, the cipher and the file write all let go
of the interpreter lock, so a thread does them beside the loop, in arrival order. At most ``backlog`` bytes wait
for that thread; past it, the request waits (the event loop does not) until the thread has caught up by half.

Threads are few (``Offload``): a client that opens many slow large bodies gets the rest fed inline, on the event
loop as they arrive, never a thread each.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Sequence

import anyio

BACKLOG_BYTES = 4 << 20
THREADS = 4
Consumers = Sequence[Callable[[bytes], object]]


class Offload:
    """Feeds for large bodies: a ``ChunkThread`` while fewer than ``threads`` are running, else inline.

    Used from one event loop only (the counter takes no lock)."""

    def __init__(self, threads: int = THREADS) -> None:
        self._free = threads

    @property
    def free(self) -> int:
        return self._free

    @contextlib.asynccontextmanager
    async def feeding(self, consumers: Consumers) -> AsyncIterator[ChunkThread | Inline]:
        """A feed for one body's chunks. On leaving, every chunk written has been fed; an error a consumer
        raised is raised here (unless another is already on its way out)."""
        if self._free == 0:
            yield Inline(consumers)
            return
        self._free -= 1
        feed = ChunkThread(consumers)
        try:
            yield feed
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(feed.close)
            self._free += 1
        feed.raise_error()


class Inline:
    """Feeds each chunk to every consumer on the caller's thread, as it is written."""

    def __init__(self, consumers: Consumers) -> None:
        self._consumers = tuple(consumers)

    async def write(self, chunk: bytes) -> None:
        for consume in self._consumers:
            consume(chunk)


class ChunkThread:
    """Feeds each chunk written to every consumer, in order, on a thread of its own.

    ``close`` (blocking) waits for the chunks handed over; an error a consumer raised is raised to the writer,
    at its next ``write`` or by ``raise_error``; chunks after it are dropped.
    """

    def __init__(self, consumers: Consumers, backlog: int = BACKLOG_BYTES) -> None:
        self._consumers = tuple(consumers)
        self._backlog = backlog
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._pending = 0
        self._caught_up = threading.Condition()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="casehooks-body", daemon=True)
        self._thread.start()

    async def write(self, chunk: bytes) -> None:
        self.raise_error()
        if not chunk:
            return
        chunk = bytes(chunk)  # a no-op for bytes; a server that reuses a buffer gets a copy to hand over
        with self._caught_up:
            self._pending += len(chunk)
            behind = self._pending > self._backlog
        self._queue.put(chunk)
        if behind:
            await anyio.to_thread.run_sync(self._wait_for_room)
            self.raise_error()

    @property
    def pending(self) -> int:
        """Bytes handed over that the thread has not yet fed."""
        return self._pending

    def close(self) -> None:
        """Wait until every chunk handed over is fed (or dropped after an error), and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _wait_for_room(self) -> None:
        with self._caught_up:
            self._caught_up.wait_for(lambda: self._pending <= self._backlog // 2 or not self._thread.is_alive())

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    for consume in self._consumers:
                        consume(chunk)
                except BaseException as error:  # raised to the writer, never lost
                    self._error = error
            with self._caught_up:
                self._pending -= len(chunk)
                self._caught_up.notify_all()
