"""Send realistic events to a receiver, as fast or as paced as asked: the core of ``casehooks trigger``.

Bodies are built before the clock starts: a few distinct events (``templates``) are generated and serialised
once, and each request sends one of them with fresh ids (the activity id is the receiver's idempotency key),
so the generator is never the bottleneck. Every body is signed over its exact bytes.

Two engines: the fast one (``engine.py``) for plain ``http://`` URLs, and httpx for everything else (https,
a proxy from the environment, credentials in the URL, a client passed in); ``engine="auto"`` picks.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import queue
import random
import secrets
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from casehooks.errors import CasehooksError
from casehooks.events.wire import stringify
from casehooks.sender.engine import PreparedRequests, run_fast
from casehooks.sender.errorkind import error_kind
from casehooks.sender.fake import DocumentFormatName, DocumentSink, DocumentUrl, fake_event
from casehooks.sender.ratelimit import TokenBucket
from casehooks.sender.stats import Outcome, TriggerSummary
from casehooks.signing import SIGNATURE_HEADER, sign

USER_AGENT = "casehooks-trigger/0.1"
EngineName = Literal["auto", "fast", "httpx"]
#: How long a sending process waits for the others to finish building their requests.
START_BARRIER_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class TriggerOptions:
    """What to send, where, and how fast. ``rate`` is events a second (None: as fast as ``concurrency`` allows)."""

    url: str
    event_type: str = "ADD_CASE_COMMENT"
    count: int = 1
    concurrency: int = 1
    rate: float | None = None
    secret: str | None = field(default=None, repr=False)
    auth_header: tuple[str, str] | None = field(default=None, repr=False)
    attachment_bytes: int = 1024
    document_format: DocumentFormatName = "BASE64"
    document_url: DocumentUrl | None = None
    on_document: DocumentSink | None = None
    seed: int | None = None
    timeout: float = 30.0
    templates: int = 32
    #: Keep the activity id and body hash of every accepted event (for ``--verify``).
    keep_accepted: bool = False
    #: ``fast`` (plain http:// only), ``httpx``, or ``auto``: fast wherever it applies.
    engine: EngineName = "auto"


def _own_ids(event: dict[str, Any]) -> list[str]:
    """The ids to refresh per request: the activity's, and those of the event's own objects."""
    payload = event["payload"]
    ids = [payload["activity"]["id"]]
    for key, value in payload.items():
        if key not in ("case", "activity") and isinstance(value, dict) and isinstance(value.get("id"), str):
            ids.append(value["id"])
    return ids


def signing_secret(secret: str | None) -> str | None:
    """The secret to sign with: the first of a comma-separated list (the receiver's rotation form), as the
    platform holds one secret at a time."""
    if secret is None:
        return None
    first = next((part.strip() for part in secret.split(",") if part.strip()), "")
    return first or None


class EventBodies:
    """Pre-serialised bodies; ``body(i)`` is template ``i mod n`` with fresh UUIDs.

    Without a seed every run draws its own (so runs never share an activity id, the receiver's idempotency
    key); with one, the bytes are the same on every run.
    """

    def __init__(self, options: TriggerOptions) -> None:
        rng = random.Random(secrets.randbits(64) if options.seed is None else options.seed)
        self._rng = random.Random(rng.getrandbits(64))
        self._templates: list[tuple[bytes, list[bytes]]] = []
        for _ in range(max(1, min(options.templates, options.count))):
            event = fake_event(
                options.event_type,
                rng,
                attachment_bytes=options.attachment_bytes,
                document_format=options.document_format,
                document_url=options.document_url,
                on_document=options.on_document,
            )
            self._templates.append((stringify(event), [i.encode("ascii") for i in _own_ids(event)]))

    def body(self, index: int) -> bytes:
        return self.body_and_id(index)[0]

    def body_and_id(self, index: int) -> tuple[bytes, str]:
        """The body and its activity id (the receiver's idempotency key)."""
        body, ids = self._templates[index % len(self._templates)]
        activity_id = ""
        for old in ids:
            new = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            activity_id = activity_id or new
            body = body.replace(old, new.encode("ascii"))
        return body, activity_id


def request_headers(body: bytes, options: TriggerOptions) -> dict[str, str]:
    """The headers the platform sends with ``body``: JSON, the signature and the static header if set."""
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    secret = signing_secret(options.secret)
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    if options.auth_header is not None:
        headers[options.auth_header[0]] = options.auth_header[1]
    return headers


async def post_event(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST one body; the outcome holds the status or the error's kind, and the latency."""
    started = time.perf_counter()
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Outcome(None, error_kind(exc), time.perf_counter() - started, len(body))
    return Outcome(response.status_code, None, time.perf_counter() - started, len(body))


def pooled_client(concurrency: int, timeout: float) -> httpx.AsyncClient:
    """A keep-alive client with one connection per concurrent sender."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(limits=limits, timeout=timeout, follow_redirects=False)


def fast_engine_fits(url: str) -> bool:
    """Whether the fast engine can reach ``url`` as httpx would: plain http, no credentials in the URL, and no
    proxy from the environment for its host."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.username is not None:
        return False
    proxies = urllib.request.getproxies_environment()
    if "http" in proxies or "all" in proxies:
        return bool(urllib.request.proxy_bypass(parts.hostname))
    return True


def uses_fast_engine(options: TriggerOptions) -> bool:
    """Which engine ``options`` asks for; ``fast`` where it cannot go is refused."""
    if options.engine == "httpx":
        return False
    fits = fast_engine_fits(options.url)
    if options.engine == "fast" and not fits:
        raise ValueError("the fast engine sends to plain http:// URLs only, without a proxy or credentials")
    return fits


def prepare_requests(options: TriggerOptions) -> PreparedRequests:
    """The run's requests built and signed for the fast engine (the first ones at once: before the clock)."""
    bodies = EventBodies(options)
    return PreparedRequests(
        options.url,
        options.count,
        bodies.body_and_id,
        lambda body: request_headers(body, options),
        digests=options.keep_accepted,
    )


def run_coroutine(coroutine: Coroutine[Any, Any, TriggerSummary]) -> TriggerSummary:
    """Run a trigger coroutine on uvloop where it is installed (measured: about 1.45 times the requests a
    second of asyncio's own loop into the bare echo), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _check(options: TriggerOptions) -> None:
    if options.count < 0 or options.concurrency < 1:
        raise ValueError("count must be >= 0 and concurrency >= 1")


async def run_trigger(
    options: TriggerOptions,
    *,
    client: httpx.AsyncClient | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> TriggerSummary:
    """Send ``options.count`` events with ``options.concurrency`` senders, paced to ``options.rate``.

    A failed request is counted, not retried: this measures the receiver. ``on_outcome`` sees each request
    as it completes (for a progress bar). Pass ``client`` to reuse one across runs (the httpx engine).
    """
    _check(options)
    if client is None and uses_fast_engine(options):
        return await _fast(options, prepare_requests(options), on_outcome)
    return await _with_httpx(options, EventBodies(options), client, on_outcome)


def _fast(
    options: TriggerOptions, requests: PreparedRequests, on_outcome: Callable[[Outcome], None] | None
) -> Coroutine[Any, Any, TriggerSummary]:
    return run_fast(
        requests,
        count=options.count,
        concurrency=options.concurrency,
        timeout=options.timeout,
        rate=options.rate,
        keep_accepted=options.keep_accepted,
        on_outcome=on_outcome,
    )


async def _with_httpx(
    options: TriggerOptions,
    bodies: EventBodies,
    client: httpx.AsyncClient | None,
    on_outcome: Callable[[Outcome], None] | None,
) -> TriggerSummary:
    bucket = TokenBucket(options.rate, burst=1.0) if options.rate else None
    summary = TriggerSummary()
    indices = iter(range(options.count))
    loop = asyncio.get_running_loop()

    async def sender(http: httpx.AsyncClient) -> None:
        for index in indices:  # shared by every sender: each index is taken once
            if bucket is not None:
                wait = bucket.reserve(loop.time())
                if wait > 0:
                    await asyncio.sleep(wait)
            body, activity_id = bodies.body_and_id(index)
            outcome = await post_event(http, options.url, body, request_headers(body, options))
            summary.add(outcome)
            if options.keep_accepted and outcome.status is not None and 200 <= outcome.status < 300:
                summary.accepted[activity_id] = hashlib.sha256(body).hexdigest()
            if on_outcome is not None:
                on_outcome(outcome)

    async def run(http: httpx.AsyncClient) -> None:
        await asyncio.gather(*(sender(http) for _ in range(min(options.concurrency, max(1, options.count)))))

    started = time.perf_counter()
    if client is not None:
        await run(client)
    else:
        async with pooled_client(options.concurrency, options.timeout) as own:
            await run(own)
    summary.elapsed = time.perf_counter() - started
    return summary


def split(options: TriggerOptions, processes: int) -> list[TriggerOptions]:
    """``options`` shared out over ``processes`` senders: counts and concurrency split as evenly as they go, and
    each its own seed (derived from the given one), so no two processes send the same activity id."""
    processes = max(1, min(processes, options.count or 1, options.concurrency))
    parts = []
    for index in range(processes):
        count = options.count // processes + (index < options.count % processes)
        concurrency = options.concurrency // processes + (index < options.concurrency % processes)
        seed = None if options.seed is None else options.seed * 1_000_003 + index
        rate = None if options.rate is None else options.rate * count / max(1, options.count)
        parts.append(replace(options, count=count, concurrency=concurrency, seed=seed, rate=rate))
    return parts


def _send_part(options: TriggerOptions, barrier: Any, results: Any) -> None:
    """One sending process: build its requests, wait until every process has, then send and report
    ``(summary, started, ended)`` on the monotonic clock, which the processes of one machine share."""
    if uses_fast_engine(options):
        requests = prepare_requests(options)

        def send() -> Coroutine[Any, Any, TriggerSummary]:
            return _fast(options, requests, None)
    else:
        bodies = EventBodies(options)

        def send() -> Coroutine[Any, Any, TriggerSummary]:
            return _with_httpx(options, bodies, None, None)

    barrier.wait(START_BARRIER_SECONDS)
    started = time.monotonic()
    summary = run_coroutine(send())
    results.put((summary, started, time.monotonic()))


def run_trigger_processes(options: TriggerOptions, processes: int) -> TriggerSummary:
    """``run_trigger`` in several processes at once, their summaries merged. Each builds its requests before a
    shared start; the elapsed time runs from the first start to the last finish. Documents by URL need the one
    document server, so that mode stays in one process."""
    _check(options)
    parts = split(options, processes)
    if len(parts) == 1 or options.on_document is not None:
        return run_coroutine(run_trigger(options))
    uses_fast_engine(options)  # refuse an impossible engine here, once
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(parts))
    results = context.Queue()
    workers = [context.Process(target=_send_part, args=(part, barrier, results), daemon=True) for part in parts]
    for worker in workers:
        worker.start()
    reports: list[tuple[TriggerSummary, float, float]] = []
    try:
        while len(reports) < len(workers):
            try:
                reports.append(results.get(timeout=1.0))
            except queue.Empty:
                if any(worker.exitcode not in (None, 0) for worker in workers):
                    raise CasehooksError("a sending process failed") from None
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    merged = TriggerSummary()
    for summary, _, _ in reports:
        merged.merge(summary)
    merged.elapsed = max(end for _, _, end in reports) - min(start for _, start, _ in reports)
    return merged
