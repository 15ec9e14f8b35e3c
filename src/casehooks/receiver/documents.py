"""Documents sent as signed URLs (the endpoint's ``URL`` format): fetched by the worker at once, since a link
expires 15 minutes after the platform made it, and stored encrypted like inline files.

Only https links to a ``host:port`` on the configured allow-list are fetched (http only when allowed
explicitly, since the link carries PHI in the clear). A failed download is retried with the job while the
link is still valid; after that the attachment is marked ``expired`` and the handlers run without the file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update

from casehooks.errors import CasehooksError
from casehooks.events import Event
from casehooks.logs import get_logger
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.ingest import insert_blob
from casehooks.store.tables import AttachmentRow

log = get_logger("casehooks.documents")


class DownloadFailed(CasehooksError):
    """A document could not be downloaded this time; the job is retried while the link is valid."""


_DEFAULT_PORTS = {"https": 443, "http": 80}


def host_allowed(url: str, allowed: tuple[str, ...], *, allow_http: bool = False) -> bool:
    """Whether ``url`` is https (http only with ``allow_http``) to a ``host:port`` of the allow-list.

    An entry without a port allows the scheme's default port only: a bare host never opens every port.
    """
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        return False
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:  # a port that is not a number, or out of range
        return False
    host = parts.hostname.lower()
    return f"{host}:{port}" in allowed or (port == _DEFAULT_PORTS[parts.scheme] and host in allowed)


@dataclass(frozen=True, slots=True)
class DocumentPolicy:
    allowed_hosts: tuple[str, ...]
    ttl: timedelta
    timeout: float = 60.0
    max_bytes: int = 512 * 1024 * 1024
    allow_http: bool = False
    total_seconds: float = 600.0


def document_policy(settings: Settings) -> DocumentPolicy:
    return DocumentPolicy(
        settings.document_host_list,
        timedelta(seconds=settings.document_url_ttl_seconds),
        allow_http=settings.document_allow_http,
    )


def _pending(store: Store, event: Event) -> dict[str, str]:
    ids = [attachment.id for attachment in event.attachments()]
    if not ids:
        return {}
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(AttachmentRow.id).where(AttachmentRow.id.in_(ids), AttachmentRow.content_status == "pending")
        ).scalars()
        pending = set(rows)
    return {a.id: a.document_url for a in event.attachments() if a.id in pending and a.document_url}


def _mark(store: Store, attachment_id: str, **values: object) -> None:
    with writer(store.engine).begin() as connection:
        connection.execute(update(AttachmentRow).where(AttachmentRow.id == attachment_id).values(**values))


def fetch_documents(
    store: Store, event: Event, received_at: datetime, policy: DocumentPolicy, client: httpx.Client
) -> dict[str, str]:
    """Download the pending documents of ``event``; returns the new status of each one touched.

    Raises ``DownloadFailed`` when a download failed but its link may still be valid (the job retries).
    """
    outcomes: dict[str, str] = {}
    failed = False
    for attachment_id, url in _pending(store, event).items():
        if not host_allowed(url, policy.allowed_hosts, allow_http=policy.allow_http):
            _mark(store, attachment_id, content_status="blocked")
            outcomes[attachment_id] = "blocked"
            log.warning("document_host_not_allowed", attachment_id=attachment_id, host=urlsplit(url).hostname)
            continue
        if store.clock() > received_at + policy.ttl:
            _mark(store, attachment_id, content_status="expired")
            outcomes[attachment_id] = "expired"
            log.error("document_link_expired", attachment_id=attachment_id)
            continue
        try:
            outcomes[attachment_id] = _download(store, attachment_id, url, policy, client)
        except DownloadFailed as exc:
            failed = True
            log.warning("document_download_failed", attachment_id=attachment_id, reason=str(exc))
    if failed:
        raise DownloadFailed("a document download failed; retrying while its link is valid")
    return outcomes


def _at_most(chunks: Iterator[bytes], limit: int, seconds: float = float("inf")) -> Iterator[bytes]:
    """The chunks of a download, stopped once they pass ``limit`` bytes (a server may send no length, or lie)
    or ``seconds`` in all (the client's timeout is per read: a server dripping bytes would hold the worker)."""
    received = 0
    deadline = time.monotonic() + seconds
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise DownloadFailed("document larger than the limit")
        if time.monotonic() > deadline:
            raise DownloadFailed("document download too slow")
        yield chunk


def _download(store: Store, attachment_id: str, url: str, policy: DocumentPolicy, client: httpx.Client) -> str:
    try:
        with client.stream("GET", url, timeout=policy.timeout) as response:
            if response.status_code != 200:
                raise DownloadFailed(f"status {response.status_code}")
            declared = response.headers.get("content-length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > policy.max_bytes:
                raise DownloadFailed("document larger than the limit")
            chunks = _at_most(response.iter_bytes(), policy.max_bytes, policy.total_seconds)
            outcome, blob = store.files.store_stream(chunks)
    except httpx.HTTPError as exc:
        raise DownloadFailed(type(exc).__name__) from exc
    if expected is not None and outcome.size != expected:
        raise DownloadFailed(f"received {outcome.size} of {expected} bytes")
    with writer(store.engine).begin() as connection:
        if blob is not None:
            insert_blob(connection, blob)
        connection.execute(
            update(AttachmentRow)
            .where(AttachmentRow.id == attachment_id)
            .values(content_status="stored", blob_sha256=outcome.sha256, size=outcome.size)
        )
    log.info("document_stored", attachment_id=attachment_id, size=outcome.size)
    return "stored"
