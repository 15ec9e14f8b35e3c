"""The worker: claims jobs from the durable queue and runs the user's handlers on the stored events."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import httpx
import structlog
from sqlalchemy import select

from casehooks.errors import CasehooksError
from casehooks.events import Event
from casehooks.receiver.documents import DocumentPolicy, fetch_documents
from casehooks.receiver.handlers import Receiver, handler_name, run_handler
from casehooks.receiver.metrics import Metrics
from casehooks.store import Store
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from casehooks.store.files import StoredFile
from casehooks.store.notify import JobListener
from casehooks.store.tables import AttachmentRow, EventRow, JobAttemptRow, JobRow

log = structlog.get_logger("casehooks.worker")


class Worker:
    """Runs handlers for stored events, ``concurrency`` jobs at a time, with retries and a dead-letter state."""

    def __init__(
        self,
        store: Store,
        receiver: Receiver,
        metrics: Metrics,
        *,
        concurrency: int = 4,
        max_attempts: int = 8,
        lease: timedelta = timedelta(minutes=5),
        poll_interval: float = 1.0,
        listening_poll_interval: float = 15.0,
        retry_base: float = 2.0,
        documents: DocumentPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._receiver = receiver
        self._metrics = metrics
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._lease = lease
        self._poll_interval = poll_interval
        self._listening_poll_interval = max(poll_interval, listening_poll_interval)
        self._retry_base = retry_base
        self._gather = 0.05
        self._documents = documents
        self._client = httpx.Client(follow_redirects=False)
        self._rng = rng or random.Random()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._slots = asyncio.Semaphore(concurrency)

    def wake(self, _count: int = 0) -> None:
        """Tell the worker new jobs were committed; safe to call from any thread."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(self._concurrency)
        # With notifications, an idle worker only polls as a safety net; its own retries wake it when due.
        listener = JobListener.for_engine(self._store.engine, self.wake)
        log.info("worker_started", worker_id=self.worker_id, concurrency=self._concurrency, listening=bool(listener))
        try:
            await self._work(stop, listener)
        finally:
            if listener is not None:
                await anyio.to_thread.run_sync(listener.close)

    async def _work(self, stop: asyncio.Event, listener: JobListener | None) -> None:
        assert self._wakeup is not None
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            # Cleared before the claim, not after: a wake-up that arrives during the claim is not lost.
            self._wakeup.clear()
            free = self._concurrency - len(running)
            claimed: list[jobs.ClaimedJob] = []
            finished = 0
            if free > 0:
                try:
                    claimed, finished = await anyio.to_thread.run_sync(self._claim, free)
                except Exception as exc:  # the store may be down for a while; keep trying
                    log.error("claim_failed", error=type(exc).__name__)
            for job in claimed:
                task = asyncio.create_task(self._run_job(job))
                running.add(task)
                task.add_done_callback(running.discard)
            if (claimed or finished) and len(running) < self._concurrency:
                continue
            waiters: list[asyncio.Task[Any]] = [
                asyncio.create_task(self._wakeup.wait()),
                asyncio.create_task(stop.wait()),
            ]
            if running:
                waiters.append(asyncio.create_task(_first_done(running)))
            # While the listener is reconnecting, poll as often as without one.
            listening = listener is not None and listener.listening.is_set()
            poll_interval = self._listening_poll_interval if listening else self._poll_interval
            _, pending = await asyncio.wait(waiters, timeout=poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
            if self._wakeup.is_set() and not stop.is_set():
                # Under a stream of deliveries, let a few commits gather so one claim takes them all.
                await asyncio.sleep(self._gather)
        if running:
            await asyncio.wait(running)

    def close(self) -> None:
        self._client.close()

    async def drain(self) -> int:
        """Run every job that is due now, then return how many ran (for the CLI and tests)."""
        self._slots = asyncio.Semaphore(self._concurrency)
        count = 0
        while True:
            claimed, finished = await anyio.to_thread.run_sync(self._claim, self._concurrency)
            if not claimed and not finished:
                return count
            await asyncio.gather(*(self._run_job(job) for job in claimed))
            count += len(claimed)

    def _claim(self, limit: int) -> tuple[list[jobs.ClaimedJob], int]:
        """Claim due jobs. Jobs with nothing to do (no handler for their type, no document to fetch) are
        finished in the same transaction, so an event nobody handles costs no extra round trip."""
        with writer(self._store.engine).begin() as connection:
            now = self._store.clock()
            claimed = jobs.claim(connection, self.worker_id, now, min(256, limit * 8), self._lease)
            if not claimed:
                return [], 0
            ids = [job.event_id for job in claimed]
            types = dict(connection.execute(select(EventRow.id, EventRow.event_type).where(EventRow.id.in_(ids))).all())
            waiting = set(
                connection.execute(
                    select(AttachmentRow.event_id).where(
                        AttachmentRow.event_id.in_(ids), AttachmentRow.content_status == "pending"
                    )
                ).scalars()
            )
            idle = [
                job
                for job in claimed
                if job.event_id not in waiting and not self._receiver.handlers_for(types.get(job.event_id, ""))
            ]
            jobs.succeed_many(connection, idle, self.worker_id, now)
        return [job for job in claimed if job not in idle], len(idle)

    def _succeeded_handlers(self, job: jobs.ClaimedJob) -> set[str]:
        with self._store.engine.connect() as connection:
            rows = connection.execute(
                select(JobAttemptRow.handler).where(
                    JobAttemptRow.job_id == job.id, JobAttemptRow.outcome == "succeeded"
                )
            ).scalars()
            return set(rows)

    async def _run_job(self, job: jobs.ClaimedJob) -> None:
        async with self._slots:
            await self._run_claimed(job)

    async def _run_claimed(self, job: jobs.ClaimedJob) -> None:
        try:
            event = await anyio.to_thread.run_sync(self._store.load_event, job.event_id)
            if self._documents is not None and _awaits_download(event):
                received_at = await anyio.to_thread.run_sync(self._store.received_at, job.event_id)
                await anyio.to_thread.run_sync(
                    fetch_documents, self._store, event, received_at, self._documents, self._client
                )
                event = await anyio.to_thread.run_sync(self._store.load_event, job.event_id)
            done = await anyio.to_thread.run_sync(self._succeeded_handlers, job)
        except CasehooksError as exc:
            await self._finish(job, f"{type(exc).__name__} before the handlers")
            return
        failures: list[str] = []
        for handler in self._receiver.handlers_for(event.type):
            name = handler_name(handler)
            if name in done:
                continue
            started_at = self._store.clock()
            started = time.perf_counter()
            error: str | None = None
            try:
                await run_handler(handler, event)
            except Exception as exc:  # a handler's failure is recorded and retried, whatever it is
                # Only the type: an exception's message may quote patient data.
                error = type(exc).__name__
                failures.append(f"{name}: {error}")
                log.warning("handler_failed", handler=name, event_id=job.event_id, attempt=job.attempt, error=error)
            outcome = "failed" if error else "succeeded"
            self._metrics.handler_runs.labels(outcome).inc()
            await anyio.to_thread.run_sync(
                self._record, job, name, outcome, error, started_at, (time.perf_counter() - started) * 1000
            )
        await self._finish(job, "; ".join(failures) if failures else None)

    def _record(
        self, job: jobs.ClaimedJob, name: str, outcome: str, error: str | None, started_at: datetime, ms: float
    ) -> None:
        with writer(self._store.engine).begin() as connection:
            jobs.record_attempt(connection, job, name, outcome, error, started_at, ms)

    async def _finish(self, job: jobs.ClaimedJob, error: str | None) -> None:
        def finish() -> tuple[str, float]:
            with writer(self._store.engine).begin() as connection:
                now = self._store.clock()
                if error is None:
                    jobs.succeed(connection, job, self.worker_id, now)
                    return "succeeded", 0.0
                state = jobs.fail(
                    connection, job, self.worker_id, now, error, self._max_attempts, self._rng, self._retry_base
                )
                run_at = connection.execute(select(JobRow.run_at).where(JobRow.id == job.id)).scalar_one()
                return state, (run_at - now).total_seconds()

        state, retry_in = await anyio.to_thread.run_sync(finish)
        if state == "failed" and self._loop is not None:
            self._loop.call_later(max(0.0, retry_in), self.wake)
        if state == "dead":
            log.error("job_dead", job_id=job.id, event_id=job.event_id, attempts=job.attempt)


def _awaits_download(event: Event) -> bool:
    return any(
        attachment.document_url and not isinstance(attachment.content, StoredFile) for attachment in event.attachments()
    )


async def _first_done(tasks: set[asyncio.Task[None]]) -> None:
    await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
