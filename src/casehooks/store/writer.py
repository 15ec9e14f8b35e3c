"""Group commit: events accepted at the same moment share one transaction and one statement per table.

A durable commit (fsync) costs the same for one event as for fifty; under concurrent deliveries the writer
thread takes whatever is waiting and commits it together, so throughput grows with load while every request
still waits for its own commit before it is answered.

A request waits for its commit a bounded time (receiver/intake.py) and cancels its future when it gives up:
the writer skips an event whose request was answered already, and whatever it commits purges the bodies that
the quarantine holds for the same events (a refusal whose commit landed late, or whose retry arrives now).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from casehooks.errors import StoreUnavailable, Unstorable
from casehooks.logs import get_logger
from casehooks.store.engine import writer
from casehooks.store.group_commit import RowTaken, commit_batch
from casehooks.store.ingest import Prepared, commit_event
from casehooks.store.notify import notify_jobs
from casehooks.store.quarantine import purge_stored

log = get_logger("casehooks.store")

_STOP = object()


class BatchWriter:
    """A thread that commits prepared events in batches; ``submit`` returns a future of accepted/duplicate."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        max_batch: int = 128,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = writer(engine)
        self._clock = clock
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="casehooks-writer", daemon=True)
        self._thread.start()

    def submit(self, prepared: Prepared) -> Future[bool]:
        future: Future[bool] = Future()
        self._queue.put((prepared, future))
        return future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _commit(self, batch: list[tuple[Prepared, Future[bool]]]) -> None:
        # A future its request cancelled (it waited too long and answered 503) is not committed now.
        batch = [(prepared, future) for prepared, future in batch if future.set_running_or_notify_cancel()]
        if not batch:
            return
        results: list[tuple[Future[bool], bool | BaseException]] = []
        accepted = 0
        stored_ids: list[str] = []
        try:
            with self._engine.begin() as connection:
                now = self._clock()
                together = self._together(connection, batch, now)
                for (prepared, future), stored in zip(batch, together or (), strict=False):
                    accepted += stored
                    stored_ids.append(prepared.event_id)
                    results.append((future, stored))
                for prepared, future in batch if together is None else ():
                    try:
                        with connection.begin_nested():
                            stored = commit_event(connection, prepared, now)
                    except SQLAlchemyError as exc:
                        log.error("event_commit_failed", event_id=prepared.event_id, error=type(exc).__name__)
                        results.append((future, StoreUnavailable("the event could not be stored")))
                        continue
                    except (ValueError, TypeError) as exc:
                        # One event's value the driver cannot bind fails that event alone, for good (422).
                        log.error("event_unstorable", event_id=prepared.event_id, error=type(exc).__name__)
                        results.append((future, Unstorable(type(exc).__name__)))
                        continue
                    accepted += stored
                    stored_ids.append(prepared.event_id)
                    results.append((future, stored))
                if stored_ids:
                    self._purge(connection, stored_ids)
                if accepted:
                    notify_jobs(connection)
        except Exception as exc:  # whatever stopped the commit, every waiting request must get an answer
            log.error("batch_commit_failed", events=len(batch), error=type(exc).__name__)
            for _, future in batch:
                future.set_exception(StoreUnavailable("the store could not commit"))
            return
        for future, outcome in results:
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        if accepted and self._on_commit is not None:
            self._on_commit(accepted)

    @staticmethod
    def _together(
        connection: Connection, batch: list[tuple[Prepared, Future[bool]]], now: datetime
    ) -> list[bool] | None:
        # The whole batch in one savepoint, a statement per table (store/group_commit.py); None when anything
        # failed, and then each event is committed alone in its own savepoint below.
        try:
            with connection.begin_nested():
                return commit_batch(connection, [prepared for prepared, _ in batch], now)
        except (SQLAlchemyError, ValueError, TypeError, RowTaken) as exc:
            log.info("batch_committed_one_by_one", events=len(batch), error=type(exc).__name__)
            return None

    @staticmethod
    def _purge(connection: Connection, event_ids: list[str]) -> None:
        # In its own savepoint: a purge that fails leaves the held bodies to the next commit or to reprocess,
        # and never costs the events their commit.
        try:
            with connection.begin_nested():
                purged = purge_stored(connection, event_ids)
        except SQLAlchemyError as exc:
            log.warning("quarantine_purge_failed", error=type(exc).__name__)
            return
        if purged:
            log.info("quarantine_purged", rows=purged)
