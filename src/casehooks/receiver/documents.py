"""Documents sent as signed URLs (the endpoint's ``URL`` format): fetched by the worker at once, since a link
expires 15 minutes after the platform made it, and stored encrypted like inline files.

Only hosts on the configured allow-list are fetched. A failed download is retried with the job while the
link is still valid; after that the attachment is marked ``expired`` and the handlers run without the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import select, update

from casehooks.errors import CasehooksError
from casehooks.events import Event
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.ingest import insert_blob
from casehooks.store.tables import AttachmentRow

log = structlog.get_logger("casehooks.documents")


class DownloadFailed(CasehooksError):
    """A document could not be downloaded this time; the job is retried while the link is valid."""


def host_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``url`` is https (or http) on a host of the allow-list (``host`` or ``host:port``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    with_port = f"{host}:{parts.port}" if parts.port else host
    return host in allowed or with_port in allowed


@dataclass(frozen=True, slots=True)
class DocumentPolicy:
    allowed_hosts: tuple[str, ...]
    ttl: timedelta
    timeout: float = 60.0
    max_bytes: int = 512 * 1024 * 1024


def document_policy(settings: Settings) -> DocumentPolicy:
    return DocumentPolicy(settings.document_host_list, timedelta(seconds=settings.document_url_ttl_seconds))


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
        if not host_allowed(url, policy.allowed_hosts):
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


def _download(store: Store, attachment_id: str, url: str, policy: DocumentPolicy, client: httpx.Client) -> str:
    try:
        with client.stream("GET", url, timeout=policy.timeout) as response:
            if response.status_code != 200:
                raise DownloadFailed(f"status {response.status_code}")
            declared = response.headers.get("content-length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > policy.max_bytes:
                raise DownloadFailed("document larger than the limit")
            outcome, blob = store.files.store_stream(response.iter_bytes())
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
