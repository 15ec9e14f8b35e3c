"""The request path: authenticate the raw bytes, parse, store files, commit, and only then answer.

Every refusal is recorded in the quarantine with its reason before it is answered, so a genuine event refused
by a misconfiguration can be reprocessed. Work on bytes runs in threads; the event loop only waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import structlog

from casehooks.errors import SchemaError, SignatureError, StoreUnavailable
from casehooks.events import Event, parse_event
from casehooks.receiver.metrics import Metrics
from casehooks.signing import Authenticator
from casehooks.store import Store
from casehooks.store.ingest import Prepared
from casehooks.store.quarantine import Refusal

log = structlog.get_logger("casehooks.receiver")


@dataclass(frozen=True, slots=True)
class Answer:
    """What to answer the platform: a status code and a small JSON body."""

    status_code: int
    body: dict[str, Any]


def check(authenticator: Authenticator, body: bytes, headers: Mapping[str, str]) -> Event | Refusal:
    """Authenticate and parse a request; a ``Refusal`` says why it cannot be accepted."""
    try:
        authenticator.authenticate(body, headers)
    except SignatureError as exc:
        return Refusal(f"auth_{exc.reason.replace(' ', '_')}", f"authentication failed: {exc.reason}", 401)
    try:
        return parse_event(body)
    except SchemaError as exc:
        return Refusal("schema", f"{exc.path}: {exc.reason}", 400)


class Intake:
    """Turns one webhook request into an answer, storing what must be stored first."""

    def __init__(self, store: Store, authenticator: Authenticator, metrics: Metrics) -> None:
        self._store = store
        self._authenticator = authenticator
        self._metrics = metrics
        self._writer = store.start_writer()
        static = authenticator.static_header
        self._secret_names = frozenset({static.name.lower()}) if static else frozenset()

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        started = time.perf_counter()
        self._metrics.received.inc()
        try:
            prepared = await anyio.to_thread.run_sync(self._check_and_prepare, body, headers)
            if isinstance(prepared, Refusal):
                return await self.refuse(prepared, body, len(body), headers)
            accepted = await _wait(self._writer.submit(prepared))
        except StoreUnavailable as exc:
            self._metrics.unavailable.inc()
            log.error("store_unavailable", error=str(exc))
            return Answer(503, {"status": "unavailable", "error": "the event could not be stored; retry later"})
        except Exception as exc:  # a fault of ours, not of the input: keep the body, ask for a retry
            log.exception("intake_failed", error=type(exc).__name__)
            refusal = Refusal("internal_error", f"the receiver failed ({type(exc).__name__}); retry later", 503)
            return await self.refuse(refusal, body, len(body), headers)
        self._metrics.ingest_seconds.observe(time.perf_counter() - started)
        if accepted:
            self._metrics.count_accepted(prepared.event_type)
            log.info(
                "event_accepted", event_id=prepared.event_id, event_type=prepared.event_type, case_id=prepared.case_id
            )
            return Answer(200, {"status": "accepted", "id": prepared.event_id})
        self._metrics.duplicates.inc()
        log.info("event_duplicate", event_id=prepared.event_id)
        return Answer(200, {"status": "duplicate", "id": prepared.event_id})

    def _check_and_prepare(self, body: bytes, headers: Mapping[str, str]) -> Prepared | Refusal:
        # One trip to a worker thread for all the work on bytes: authenticate, parse, store files, seal.
        checked = check(self._authenticator, body, headers)
        if isinstance(checked, Refusal):
            return checked
        try:
            return self._store.prepare(checked, body)
        except StoreUnavailable:
            raise
        except SchemaError as exc:
            return Refusal("schema", f"{exc.path}: {exc.reason}", 400)
        except Exception as exc:
            # 5xx means "retry later", and this body would fail the same way forever: refuse it (held for
            # reprocessing) and name only the error's type, never its message (it may quote the body).
            log.warning("event_unprocessable", error=type(exc).__name__)
            return Refusal("unprocessable", f"the event could not be stored as read ({type(exc).__name__})", 422)

    async def refuse(self, refusal: Refusal, body: bytes | None, size: int, headers: Mapping[str, str]) -> Answer:
        """Quarantine a refused request, then answer its status with the reason."""
        self._metrics.count_refused(refusal.reason)
        try:
            record_id = await anyio.to_thread.run_sync(
                self._store.hold, refusal, body, size, headers, self._secret_names
            )
        except StoreUnavailable:
            record_id = None
            log.error("quarantine_unavailable", reason=refusal.reason)
        log.warning("request_refused", reason=refusal.reason, detail=refusal.detail, quarantine_id=record_id)
        return Answer(
            refusal.status_code,
            {"status": "refused", "reason": refusal.reason, "error": refusal.detail, "quarantine_id": record_id},
        )


async def _wait(future: Future[bool]) -> bool:
    return bool(await asyncio.wrap_future(future))  # type: ignore[arg-type]
