"""Group commit: callers submit one item each and wait; a single writer commits everything waiting in one
transaction, in one thread hop.

While a batch is being written the next one gathers, so under load each commit (SQLite's fsync, a PostgreSQL
round trip) is shared by as many items as arrived meanwhile, and at low load an item is written at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Batches ``submit`` calls into calls of ``write(items)``, run in a worker thread one at a time."""

    def __init__(self, write: Callable[[list[T]], None]) -> None:
        self._write = write
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Return once ``item`` is committed; raise what the write raised (for the whole batch)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._write, [item for item, _ in batch])
            except Exception as exc:  # handed to every waiter, who decides; the writer keeps going
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
