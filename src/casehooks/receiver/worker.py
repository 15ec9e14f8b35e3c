"""The worker: claims jobs from the durable queue and runs the user's handlers on the stored events."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from casehooks.errors import CasehooksError
from casehooks.events import Event
from casehooks.logs import get_logger
from casehooks.receiver.documents import DocumentPolicy, fetch_documents
from casehooks.receiver.handlers import Delivery, Receiver, handler_name, run_handler
from casehooks.receiver.metrics import Metrics
from casehooks.store import Store, registry
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from casehooks.store.files import StoredFile
from casehooks.store.notify import JobListener, notify_jobs
from casehooks.store.tables import JobAttemptRow, JobRow

log = get_logger("casehooks.worker")


T = TypeVar("T")


class Worker:
    """Runs handlers for stored events, ``concurrency`` jobs at a time, with retries and a dead-letter state.

    It claims only jobs that name one of its own handlers (or wait for dispatch or a document download), holds
    each under a short lease that its heartbeat renews while the handler runs, and records every outcome before
    it lets a job go, retrying the store until it can.
    """

    def __init__(
        self,
        store: Store,
        receiver: Receiver,
        metrics: Metrics,
        *,
        concurrency: int = 4,
        max_attempts: int = 8,
        lease: timedelta = timedelta(seconds=30),
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
        # Expired leases send no notification: even a listening worker looks at least once a lease, so a dead
        # worker's jobs run again within two leases (its last heartbeat's lease, then one look).
        self._listening_poll_interval = max(poll_interval, min(listening_poll_interval, lease.total_seconds()))
        self._retry_base = retry_base
        self._gather = 0.05
        self._documents = documents
        self._client = httpx.Client(follow_redirects=False)
        self._rng = rng or random.Random()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._held: set[int] = set()
        self._registrations = receiver.registrations()
        self._names = sorted(self._registrations)
        self._ordered = {name: self._registrations[name] for name in receiver.ordered_names()}
        self._plain_types = sorted(
            {kind for name, kinds in self._registrations.items() if name not in self._ordered for kind in kinds}
        )
        self._registered = False

    def wake(self, _count: int = 0) -> None:
        """Tell the worker new jobs were committed; safe to call from any thread."""
        if self._loop is not None and self._wakeup is not None:
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(self._concurrency)
        await self._register(stop)
        # With notifications, an idle worker only polls as a safety net; its own retries wake it when due.
        listener = JobListener.for_engine(self._store.engine, self.wake)
        log.info(
            "worker_started",
            worker_id=self.worker_id,
            concurrency=self._concurrency,
            listening=bool(listener),
            handlers=len(self._names),
            lease_seconds=self._lease.total_seconds(),
        )
        beat = asyncio.create_task(self._heartbeat(stop))
        try:
            await self._work(stop, listener)
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            await self._sign_off()
            if listener is not None:
                await anyio.to_thread.run_sync(listener.close)

    async def _register(self, stop: asyncio.Event | None = None) -> None:
        def register() -> registry.HandlerReport:
            with writer(self._store.engine).begin() as connection:
                now = self._store.clock()
                registry.register(connection, self.worker_id, self._registrations, now, self._ordered)
                return registry.report(connection, now, self._lease * 3)

        report = await self._persist(register, stop)
        self._registered = True
        if report is not None and not report.ok:
            log.warning("handler_sets_differ", worker_id=self.worker_id, **report.to_dict())

    async def _sign_off(self) -> None:
        def sign_off() -> None:
            with writer(self._store.engine).begin() as connection:
                jobs.release(connection, sorted(self._held), self.worker_id, self._store.clock())
                registry.forget(connection, self.worker_id)

        try:
            await anyio.to_thread.run_sync(sign_off)
        except (SQLAlchemyError, CasehooksError) as exc:  # leases expire on their own
            log.warning("worker_sign_off_failed", error=type(exc).__name__)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Renew the leases of running jobs and this worker's liveness, a few times per lease."""
        interval = max(0.2, self._lease.total_seconds() / 3)

        def beat() -> None:
            with writer(self._store.engine).begin() as connection:
                now = self._store.clock()
                jobs.renew(connection, sorted(self._held), self.worker_id, now + self._lease)
                registry.heartbeat(connection, self.worker_id, now)

        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            try:
                await anyio.to_thread.run_sync(beat)
            except (SQLAlchemyError, CasehooksError) as exc:
                log.warning("heartbeat_failed", error=type(exc).__name__)

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
                except (SQLAlchemyError, CasehooksError) as exc:  # the store may be down for a while; keep trying
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
                waiters.append(asyncio.create_task(_first_done(set(running))))
            # While the listener is reconnecting, poll as often as without one.
            listening = listener is not None and listener.listening.is_set()
            poll_interval = self._listening_poll_interval if listening else self._poll_interval
            _, pending = await asyncio.wait(waiters, timeout=poll_interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
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
        if not self._registered:
            await self._register()
        count = 0
        try:
            while True:
                claimed, finished = await anyio.to_thread.run_sync(self._claim, self._concurrency)
                if not claimed and not finished:
                    return count
                await asyncio.gather(*(self._run_job(job) for job in claimed))
                count += len(claimed)
        finally:
            await self._sign_off()

    def _claim(self, limit: int) -> tuple[list[jobs.ClaimedJob], int]:
        """Claim as many due jobs as there are free slots, dispatch the new ones against the registry, and
        settle at once those this worker has nothing to run for: finished when no handler is left, handed back
        when only other workers' handlers are."""
        with writer(self._store.engine).begin() as connection:
            now = self._store.clock()
            claimed = jobs.claim(
                connection, self.worker_id, now, limit, self._lease, self._names, self._ordered, self._plain_types
            )
            if not claimed:
                return [], 0
            # Only a worker with handlers dispatches: it has registered them, so the registry is never empty then.
            if self._names and any(job.pending is None for job in claimed):
                claimed = jobs.dispatch(connection, claimed, jobs.registry(connection), self.worker_id)
            if self._ordered:
                claimed = jobs.order_runs(connection, claimed, self._ordered)
            mine = set(self._names)
            runnable: list[jobs.ClaimedJob] = []
            done: list[jobs.ClaimedJob] = []
            for job in claimed:
                pending = job.pending or ()
                if job.needs_documents or mine.intersection(pending).difference(job.held):
                    runnable.append(job)
                elif not pending:
                    done.append(job)
                else:
                    jobs.hand_back(connection, job, self.worker_id, now, pending)
            jobs.succeed_many(connection, done, self.worker_id, now)
            self._held.update(job.id for job in runnable)
        return runnable, len(claimed) - len(runnable)

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
            try:
                await self._run_claimed(job)
            finally:
                self._held.discard(job.id)

    async def _run_claimed(self, job: jobs.ClaimedJob) -> None:
        pending = list(job.pending or ())
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
            await self._finish(job, f"{type(exc).__name__} before the handlers", pending, documents_left=True)
            return
        failures: list[str] = []
        ran_ordered = False
        for handler in self._receiver.handlers_for(event.type):
            name = handler_name(handler)
            if name not in pending or name in job.held:
                continue  # held: an earlier job of the case still needs it; it stays pending
            if name in done:
                pending.remove(name)
                continue
            late = name in job.late
            ran_ordered = ran_ordered or name in self._ordered
            delivery = Delivery(job.id, job.event_id, job.attempt, ordered=name in self._ordered, late=late)
            if late:
                log.info("handler_late", handler=name, event_id=job.event_id, job_id=job.id)
            started_at = self._store.clock()
            started = time.perf_counter()
            error: str | None = None
            detail: str | None = None
            try:
                await run_handler(handler, event, delivery)
            except asyncio.CancelledError as exc:
                if _being_cancelled():
                    raise  # the worker itself is stopping: the lease is given back at sign-off
                error, detail = _describe(exc)
            except BaseException as exc:
                error, detail = _describe(exc)
            if error is None:
                pending.remove(name)
            else:
                # Only the type is plain: the message and traceback may quote patient data, so they are sealed.
                failures.append(f"{name}: {error}")
                log.warning("handler_failed", handler=name, event_id=job.event_id, attempt=job.attempt, error=error)
            outcome = "failed" if error else "succeeded"
            self._metrics.handler_runs.labels(outcome).inc()
            elapsed = (time.perf_counter() - started) * 1000
            record = partial(self._record, job, name, outcome, error, detail, started_at, elapsed, late=late)
            await self._persist(record)
        await self._finish(job, "; ".join(failures) if failures else None, pending, wake_others=ran_ordered)

    def _record(
        self,
        job: jobs.ClaimedJob,
        name: str,
        outcome: str,
        error: str | None,
        detail: str | None,
        started_at: datetime,
        ms: float,
        *,
        late: bool = False,
    ) -> None:
        sealed = None
        if detail is not None:
            aad = f"job_attempts:{job.id}:{job.attempt}:{name}".encode()
            sealed = self._store.vault.seal(detail.encode("utf-8", "replace"), aad)
        with writer(self._store.engine).begin() as connection:
            jobs.record_attempt(connection, job, name, outcome, error, started_at, ms, sealed, late=late)

    async def _persist(self, work: Callable[[], T], stop: asyncio.Event | None = None) -> T | None:
        """Run a store write until it succeeds: an outcome that is not recorded would strand its job.

        Gives up only when the worker is stopping; the job's lease then expires and it runs again.
        """
        delay = 0.1
        while True:
            try:
                return await anyio.to_thread.run_sync(work)
            except (SQLAlchemyError, CasehooksError) as exc:
                if stop is not None and stop.is_set():
                    return None
                log.warning("store_write_retried", error=type(exc).__name__, retry_in=round(delay, 2))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _finish(
        self,
        job: jobs.ClaimedJob,
        error: str | None,
        pending: list[str],
        *,
        documents_left: bool = False,
        wake_others: bool = False,
    ) -> None:
        def finish() -> tuple[str, float]:
            with writer(self._store.engine).begin() as connection:
                now = self._store.clock()
                if wake_others and error is None:
                    # The case's next job may run now, perhaps in another worker: wake the listening ones.
                    notify_jobs(connection)
                if error is not None:
                    state = jobs.fail(
                        connection,
                        job,
                        self.worker_id,
                        now,
                        error,
                        self._max_attempts,
                        self._rng,
                        self._retry_base,
                        pending=pending,
                    )
                    run_at = connection.execute(select(JobRow.run_at).where(JobRow.id == job.id)).scalar_one()
                    return state, (run_at - now).total_seconds()
                if job.pending is not None and not pending:
                    jobs.succeed(connection, job, self.worker_id, now)
                    return "succeeded", 0.0
                # Other workers' handlers are left, or the job still waits for dispatch (this worker, with no
                # handler of its own, only fetched its document).
                left = None if job.pending is None else pending
                jobs.hand_back(connection, job, self.worker_id, now, left, needs_documents=documents_left)
                return "queued", 0.0

        result = await self._persist(finish)
        assert result is not None
        state, retry_in = result
        if state == "failed" and self._loop is not None:
            self._loop.call_later(max(0.0, retry_in), self.wake)
        if state == "dead":
            log.error("job_dead", job_id=job.id, event_id=job.event_id, attempts=job.attempt)


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _describe(exc: BaseException) -> tuple[str, str]:
    """The plain error (the exception's type) and the sealed detail (message and traceback)."""
    return type(exc).__name__, "".join(traceback.format_exception(exc))


def _awaits_download(event: Event) -> bool:
    return any(
        attachment.document_url and not isinstance(attachment.content, StoredFile) for attachment in event.attachments()
    )


async def _first_done(tasks: set[asyncio.Task[None]]) -> None:
    if tasks:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
