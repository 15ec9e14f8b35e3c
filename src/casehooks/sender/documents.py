"""Signed, expiring download links for the ``URL`` document format. Pure: key and clock are passed in.

A link is ``{base}/documents/{attachment_id}?expires={unix seconds}&sig={hex HMAC-SHA256}``; the HMAC covers the
attachment id and the expiry, so neither can be changed. The platform's links are valid 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import urlencode

LINK_TTL_SECONDS = 15 * 60


class LinkRefused(Exception):
    """The link is not valid now: ``expired`` (HTTP 410) or ``bad signature`` (HTTP 403)."""

    def __init__(self, reason: str, status: int) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


def _mac(key: bytes, attachment_id: str, expires: int) -> str:
    return hmac.new(key, f"{attachment_id}\n{expires}".encode(), hashlib.sha256).hexdigest()


def document_link(base_url: str, attachment_id: str, key: bytes, now: datetime, ttl: int = LINK_TTL_SECONDS) -> str:
    """A link to the attachment that works for ``ttl`` seconds from ``now``."""
    expires = int(now.timestamp()) + ttl
    query = urlencode({"expires": expires, "sig": _mac(key, attachment_id, expires)})
    return f"{base_url.rstrip('/')}/documents/{attachment_id}?{query}"


def check_link(attachment_id: str, expires: int, sig: str, key: bytes, now: datetime) -> None:
    """Raise ``LinkRefused`` unless the signature matches and the link has not expired."""
    if not hmac.compare_digest(_mac(key, attachment_id, expires), sig.lower()):
        raise LinkRefused("bad signature", 403)
    if now.timestamp() >= expires:
        raise LinkRefused("expired", 410)
