"""The delivery worker: claims due outbox rows, POSTs them signed, records each attempt, retries on schedule.

Bodies are built at delivery from the stored event (the case snapshot of the moment it happened) with
documents as the endpoint wants them: inline base64, or a signed link generated now and valid 15 minutes.
The attempt log keeps time, status, latency and the masked shape of the start of the receiver's answer, never
the body sent nor the answer's text (sender/message.py builds the message, sender/recording.py records each
attempt and disables an endpoint that keeps failing). Disabling stops sending, not recording: its outbox rows
keep being written and flow when it is enabled again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from casehooks.errors import CryptoError
from casehooks.events.wire import stringify
from casehooks.logs import get_logger
from casehooks.sender import outbox
from casehooks.sender.documents import document_link
from casehooks.sender.full_case import case_history, with_full_case
from casehooks.sender.message import (
    EXCERPT_BYTES,
    Prepared,
    Result,
    delivery_headers,
    mask_excerpt,
    open_secret,
    pinned_target,
    signing_secret,
)
from casehooks.sender.outbox import Claimed
from casehooks.sender.payloads import fill_documents
from casehooks.sender.recording import record_attempts
from casehooks.sender.schedule import RetrySchedule, parse_retry_after
from casehooks.sender.sealing import SecretBox
from casehooks.sender.tables import activities, attachments, endpoints
from casehooks.sender.transport import Pool, TransportFailed
from casehooks.sender.urlpolicy import OutboundRefused, UrlPolicy

Clock = Callable[[], datetime]
Resolver = Callable[[str, int], Awaitable[list[str]]]

log = get_logger("casehooks.sandbox.delivery")


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the URL policy checks each one).

    An address literal is its own answer: asking the resolver would cost a thread hop a delivery."""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host.strip("[]")))]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """How the worker delivers; built from the settings at the edge."""

    public_url: str
    link_key: bytes = b""
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    policy: UrlPolicy = field(default_factory=UrlPolicy)
    lease_seconds: float = 60.0
    timeout: float = 10.0
    concurrency: int = 16
    poll_seconds: float = 0.25
    disable_after: int = 20
    disable_after_seconds: float = 5 * 86400.0
    box: SecretBox | None = None


class DeliveryWorker:
    """Delivers the outbox until stopped. Several workers (processes) may share one database."""

    def __init__(
        self,
        engine: Engine,
        config: DeliveryConfig,
        *,
        pool: Pool,
        clock: Clock,
        resolver: Resolver = resolve_host,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.pool = pool
        self.clock = clock
        self.resolver = resolver
        self.rng = rng or random.Random()
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._recording = 0

    def notify(self) -> None:
        """Wake the worker now (callable from any thread): new rows were committed."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    def stop(self) -> None:
        self._stopping = True
        self.notify()

    async def run(self) -> None:
        """Claim and deliver until ``stop``; in-flight deliveries finish, unclaimed rows wait for the next run.

        The loop keeps ``concurrency`` sends in flight. Each claim is one thread hop that leases a batch and
        builds its bodies on one connection; finished sends are recorded in batches, one transaction each, by a
        single recorder task. A send frees its slot when the answer arrives (holding it until its batch commits
        freed slots in bursts and measured slower); claiming pauses while a concurrency's worth of results waits
        to be recorded, so a slow database slows claiming instead of piling up results. A worker killed before recording
        leaves the row leased: it is sent again when the lease expires (at-least-once).
        """
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        busy: set[int] = set()
        results: list[tuple[Claimed, Result]] = []
        ready = asyncio.Event()
        recorder = asyncio.create_task(self._recorder(results, ready))
        sending: set[asyncio.Task[None]] = set()

        async def send(item: Claimed, prepared: Prepared | Result) -> None:
            try:
                results.append((item, await self._attempt(prepared)))
            finally:
                busy.discard(item.id)
                ready.set()
                self._wake_up()

        while not self._stopping:
            waiting = len(results) + self._recording
            free = self.config.concurrency - len(busy) if waiting < self.config.concurrency else 0
            batch: list[tuple[Claimed, Prepared | Result | None]] = []
            if free > 0:
                try:
                    batch = await asyncio.to_thread(self._claim_prepared, free)
                except SQLAlchemyError as exc:
                    log.warning("outbox claim failed", error=type(exc).__name__)
            for item, prepared in batch:
                if prepared is None:
                    continue  # not prepared: its lease expires and it is claimed again
                busy.add(item.id)
                task = asyncio.create_task(send(item, prepared))
                sending.add(task)
                task.add_done_callback(sending.discard)
            if not batch or len(busy) >= self.config.concurrency:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
                self._wake.clear()
        if sending:
            await asyncio.gather(*sending, return_exceptions=True)
        ready.set()
        self._stopping = True
        await recorder

    async def _recorder(self, results: list[tuple[Claimed, Result]], ready: asyncio.Event) -> None:
        """Record finished attempts in batches until the worker stops and nothing is left to record."""
        while True:
            await ready.wait()
            ready.clear()
            if not results:
                if self._stopping:
                    return
                continue
            batch = results[:]
            results.clear()
            self._recording = len(batch)
            try:
                await self._record_batch(batch)
            finally:
                self._recording = 0
            self._wake_up()

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _record_batch(self, batch: list[tuple[Claimed, Result]]) -> None:
        try:
            await asyncio.to_thread(self._record_many, batch)
        except SQLAlchemyError as exc:
            # The leases expire and the rows are claimed again; nothing else to do here.
            log.warning("delivery record failed", rows=len(batch), error=type(exc).__name__)

    async def run_once(self) -> int:
        """Claim what is due now and deliver it; returns how many rows were tried (for tests and tools)."""
        batch = await asyncio.to_thread(self._claim_prepared, self.config.concurrency)
        tried = [(item, prepared) for item, prepared in batch if prepared is not None]
        outcomes = await asyncio.gather(*(self._attempt(prepared) for _, prepared in tried))
        await self._record_batch([(item, result) for (item, _), result in zip(tried, outcomes, strict=True)])
        return len(batch)

    async def deliver(self, item: Claimed) -> None:
        """One attempt at one claimed row, recorded whatever happens."""
        try:
            prepared = await asyncio.to_thread(self._prepare_one, item)
        except SQLAlchemyError as exc:
            log.warning("delivery preparation failed", outbox_id=item.id, error=type(exc).__name__)
            return
        await self._record_batch([(item, await self._attempt(prepared))])

    async def _attempt(self, prepared: Prepared | Result) -> Result:
        """Send a prepared message; a refusal found while preparing is the attempt's result as it is."""
        if isinstance(prepared, Result):
            return prepared
        try:
            return await self._send(prepared)
        except OutboundRefused as exc:
            return Result(None, "refused", 0.0, exc.reason)

    def _claim(self, limit: int) -> list[Claimed]:
        with self.engine.begin() as conn:
            return outbox.claim(
                conn,
                now=self.clock().timestamp(),
                lease_seconds=self.config.lease_seconds,
                owner=self.owner,
                limit=limit,
            )

    def _claim_prepared(self, limit: int) -> list[tuple[Claimed, Prepared | Result | None]]:
        """Lease up to ``limit`` rows and build their messages on one connection (one thread hop a batch).

        ``None`` stands for a row whose preparation failed in the database: it is left to its lease."""
        claimed = self._claim(limit)
        if not claimed:
            return []
        endpoint_rows: dict[str, Any] = {}
        prepared: list[tuple[Claimed, Prepared | Result | None]] = []
        with self.engine.connect() as conn:
            stored_rows = {
                row.id: row
                for row in conn.execute(
                    select(activities.c.id, activities.c.event, activities.c.case_id, activities.c.created_at).where(
                        activities.c.id.in_(sorted({item.activity_id for item in claimed}))
                    )
                )
            }
            for item in claimed:
                try:
                    prepared.append((item, self._prepare(conn, item, endpoint_rows, stored_rows.get(item.activity_id))))
                except SQLAlchemyError as exc:
                    log.warning("delivery preparation failed", outbox_id=item.id, error=type(exc).__name__)
                    prepared.append((item, None))
        return prepared

    def _prepare_one(self, item: Claimed) -> Prepared | Result:
        with self.engine.connect() as conn:
            return self._prepare(conn, item, {}, None)

    def _prepare(
        self, conn: Connection, item: Claimed, endpoint_rows: dict[str, Any], stored: Any | None
    ) -> Prepared | Result:
        """The message for one row, or the refusal that stands for its attempt (URL policy, unopenable secret)."""
        endpoint = endpoint_rows.get(item.endpoint_id)
        if endpoint is None:
            endpoint = conn.execute(select(endpoints).where(endpoints.c.id == item.endpoint_id)).one()
            endpoint_rows[item.endpoint_id] = endpoint
        try:
            self.config.policy.check_url(endpoint.url)
            if stored is None:
                stored = conn.execute(
                    select(activities.c.event, activities.c.case_id, activities.c.created_at).where(
                        activities.c.id == item.activity_id
                    )
                ).one()
            event = stored.event
            if endpoint.case_data == "FULL":
                event = with_full_case(event, case_history(conn, stored.case_id, stored.created_at))

            def content_for(attachment_id: str) -> str:
                if endpoint.document_format == "URL":
                    return document_link(self.config.public_url, attachment_id, self.config.link_key, self.clock())
                data = conn.execute(select(attachments.c.data).where(attachments.c.id == attachment_id)).scalar_one()
                return base64.b64encode(data).decode("ascii")

            body = stringify(fill_documents(event, content_for))
            box = self.config.box
            secret = signing_secret(endpoint, box, self.clock().timestamp())
            auth = None
            if endpoint.auth_header_name:
                value = open_secret(box, endpoint.auth_header_value, endpoint.id, "auth_header_value")
                auth = (endpoint.auth_header_name, value or "")
        except OutboundRefused as exc:
            return Result(None, "refused", 0.0, exc.reason)
        except CryptoError:
            # A sealed secret that does not open (another key, a tampered row): never send unsigned.
            return Result(None, "refused", 0.0, "endpoint secret does not open")
        return Prepared(endpoint.url, body, delivery_headers(body, secret, auth))

    async def _send(self, prepared: Prepared) -> Result:
        parts = urlsplit(prepared.url)
        host = (parts.hostname or "").lower()
        try:
            addresses = await self.resolver(host, parts.port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError):
            return Result(None, "dns", 0.0)
        self.config.policy.check(prepared.url, addresses)
        # Connect to the address just checked, not to the name again: a resolver answering differently at
        # connect time (DNS rebinding) cannot steer the request elsewhere. TLS still verifies the name (SNI).
        target = pinned_target(parts, addresses[0])
        started = time.perf_counter()
        try:
            answer = await self.pool.post(
                target, prepared.headers, prepared.body, timeout=self.config.timeout, excerpt=EXCERPT_BYTES
            )
        except TransportFailed as exc:
            return Result(None, exc.kind, (time.perf_counter() - started) * 1000)
        latency = (time.perf_counter() - started) * 1000
        retry_after = parse_retry_after(answer.header(b"retry-after"))
        return Result(answer.status, None, latency, mask_excerpt(answer.start), retry_after)

    def _record_many(self, batch: list[tuple[Claimed, Result]]) -> None:
        now = self.clock().timestamp()
        record_attempts(self.engine, batch, owner=self.owner, now=now, config=self.config, rng=self.rng)
