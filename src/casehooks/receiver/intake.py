"""The request path: authenticate the raw bytes, parse, store files, commit, and only then answer.

Every refusal is recorded in the quarantine with its reason before it is answered, so a genuine event refused
by a misconfiguration can be reprocessed. Work on bytes runs in threads; the event loop only waits.

Every wait on the database is bounded by its timeout (``CASEHOOKS_DATABASE_TIMEOUT_SECONDS``): a request whose
commit does not land in time answers 503 and holds its body (reason ``store_unavailable``); recording that
refusal is bounded the same way. A hung database thus costs a request a few timeouts, never as long as it hangs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from casehooks.errors import SchemaError, SignatureError, StoreUnavailable, Unstorable
from casehooks.events import Event, parse_event
from casehooks.logs import get_logger
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.spool import prepare_spooled, read_all
from casehooks.signing import Authenticator, BodyDigests
from casehooks.store import Store
from casehooks.store.engine import database_timeout
from casehooks.store.ingest import Prepared
from casehooks.store.quarantine import Refusal

log = get_logger("casehooks.receiver")

# Authenticating, parsing and storing an event's files may upload tens of MB to the blob store, so it is bounded
# more loosely than a database wait; it still ends when the database it reads hangs.
PREPARE_TIMEOUT_FACTOR = 6
MIN_PREPARE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Answer:
    """What to answer the platform: a status code and a small JSON body."""

    status_code: int
    body: dict[str, Any]
    retry_after: int | None = None


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
        self._timeout = database_timeout(store.engine)
        self._prepare_timeout = max(MIN_PREPARE_TIMEOUT_SECONDS, PREPARE_TIMEOUT_FACTOR * self._timeout)
        self._secret_names = authenticator.secret_header_names

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        async def held() -> bytes:
            return body

        return await self._receive(lambda: self._check_and_prepare(body, headers), held, len(body), headers)

    def digests(self) -> BodyDigests:
        """What to feed a spooled body's chunks as they arrive (``receive_spooled`` then authenticates it)."""
        return self._authenticator.digests()

    async def receive_spooled(
        self, path: Path, headers: Mapping[str, str], digests: BodyDigests | None = None
    ) -> Answer:
        """``receive`` for a body spooled to ``path`` (receiver/spool.py): its files stream out of the file."""

        async def held() -> bytes:
            # A refused large body is held whole, as any other (read only on this path).
            return await anyio.to_thread.run_sync(read_all, path)

        def work() -> Prepared | Refusal:
            try:
                prepared = prepare_spooled(self._store, self._authenticator, path, headers, digests)
            except StoreUnavailable:
                raise
            except SchemaError as exc:
                return Refusal("schema", f"{exc.path}: {exc.reason}", 400)
            except SQLAlchemyError as exc:
                raise StoreUnavailable("the store could not prepare the event") from exc
            except Exception as exc:
                log.warning("event_unprocessable", error=type(exc).__name__)
                return Refusal("unprocessable", f"the event could not be stored as read ({type(exc).__name__})", 422)
            return prepared if prepared is not None else self._check_and_prepare(read_all(path), headers)

        return await self._receive(work, held, path.stat().st_size, headers)

    async def _receive(
        self,
        work: Callable[[], Prepared | Refusal],
        held: Callable[[], Awaitable[bytes]],
        size: int,
        headers: Mapping[str, str],
    ) -> Answer:
        started = time.perf_counter()
        self._metrics.received.inc()
        prepared: Prepared | Refusal | None = None
        try:
            with anyio.fail_after(self._prepare_timeout):
                prepared = await anyio.to_thread.run_sync(self._with_headers, work, headers, abandon_on_cancel=True)
            if isinstance(prepared, Refusal):
                return await self.refuse(prepared, await held(), size, headers)
            accepted = await self._commit(prepared)
        except (StoreUnavailable, TimeoutError) as exc:
            self._metrics.unavailable.inc()
            log.error("store_unavailable", error=type(exc).__name__)
            event_id = prepared.event_id if isinstance(prepared, Prepared) else None
            refusal = Refusal("store_unavailable", "the event could not be stored now; retry later", 503, event_id)
            return await self.refuse(refusal, await held(), size, headers)
        except Unstorable as exc:
            log.warning("event_unprocessable", error=exc.error)
            return await self.refuse(Refusal("unprocessable", str(exc), 422), await held(), size, headers)
        except Exception as exc:  # a fault of ours, not of the input: keep the body, ask for a retry
            log.exception("intake_failed", error=type(exc).__name__)
            refusal = Refusal("internal_error", f"the receiver failed ({type(exc).__name__}); retry later", 503)
            return await self.refuse(refusal, await held(), size, headers)
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

    async def _commit(self, prepared: Prepared) -> bool:
        # Waiting no longer than the timeout cancels the future: the writer then skips the event if it has not
        # started on it, and if the commit lands late anyway the event is stored and its held body purged.
        future = self._writer.submit(prepared)
        with anyio.fail_after(self._timeout):
            return await _wait(future)

    def _with_headers(self, work: Callable[[], Prepared | Refusal], headers: Mapping[str, str]) -> Prepared | Refusal:
        # The event keeps the headers it came with, sealed beside its body, credentials left out.
        prepared = work()
        if isinstance(prepared, Refusal):
            return prepared
        try:
            return self._store.with_headers(prepared, headers, self._secret_names)
        except SQLAlchemyError as exc:
            raise StoreUnavailable("the store could not prepare the event") from exc

    def _check_and_prepare(self, body: bytes, headers: Mapping[str, str]) -> Prepared | Refusal:
        # One trip to a worker thread for all the work on bytes: authenticate, parse, store files, seal.
        checked = check(self._authenticator, body, headers)
        if isinstance(checked, Refusal):
            return checked
        try:
            return self._store.prepare(checked, body)
        except StoreUnavailable:
            raise
        except SQLAlchemyError as exc:
            # The database failed (a data key could not be written, a lookup timed out): retry later, never 4xx.
            raise StoreUnavailable("the store could not prepare the event") from exc
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
        record_id: str | None = None
        try:
            # A hung database would hold the answer as long as it hangs: the recording is abandoned after the
            # timeout (it may still land later) and the refusal is answered all the same.
            with anyio.fail_after(self._timeout):
                record_id = await anyio.to_thread.run_sync(
                    self._store.hold, refusal, body, size, headers, self._secret_names, abandon_on_cancel=True
                )
        except (StoreUnavailable, TimeoutError) as exc:
            self._metrics.quarantine_unrecorded.inc()
            log.error("quarantine_unavailable", reason=refusal.reason, error=type(exc).__name__)
        log.warning("request_refused", reason=refusal.reason, detail=refusal.detail, quarantine_id=record_id)
        return Answer(
            refusal.status_code,
            {"status": "refused", "reason": refusal.reason, "error": refusal.detail, "quarantine_id": record_id},
            retry_after=math.ceil(self._timeout) if refusal.status_code == 503 else None,
        )


async def _wait(future: Future[bool]) -> bool:
    return bool(await asyncio.wrap_future(future))  # type: ignore[arg-type]
