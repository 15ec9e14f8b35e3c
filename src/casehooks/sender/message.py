"""One delivery's message and its outcome: the signed request built for an endpoint, what came back.

Pure: no I/O. The attempt log keeps the masked shape of the start of an answer, never its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote

from casehooks.sender.http1 import Target
from casehooks.sender.sealing import SecretBox
from casehooks.signing import SIGNATURE_HEADER, sign

EXCERPT_BYTES = 256
#: The sandbox's own name: the real platform's user agent is not documented, and ``trigger`` has its own.
USER_AGENT = "casehooks-sandbox/0.1"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message ready to send: where, the exact body bytes and the headers."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Result:
    status: int | None
    error: str | None
    latency_ms: float
    excerpt: str | None = None
    retry_after: float | None = None


# What a request target keeps as it is (RFC 3986 pchar, "/", "?", and "%" of what is already escaped).
_PATH_SAFE = "/?%:@!$&'()*+,;=-._~"
_MASK = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "X" * 26 + "x" * 26 + "0" * 10)


def succeeded(result: Result) -> bool:
    return result.status is not None and 200 <= result.status < 300


def mask_excerpt(data: bytes) -> str:
    """The shape of the start of an answer, not its content: letters become x/X, digits 0, other characters
    stay. The attempt log is readable without authentication, and an answer (an internal service's page, a
    receiver's echo) may hold secrets or PHI; the shape still tells HTML from JSON from an empty body."""
    return data.decode("utf-8", errors="replace").translate(_MASK)


def pinned_target(parts: SplitResult, address: str) -> Target:
    """Where to send a message for the URL ``parts``: the checked ``address``; the URL's name goes in ``Host``
    and is the name TLS verifies."""
    path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_PATH_SAFE)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.netloc.rpartition("@")[2]
    return Target(parts.scheme, address, port, host.encode("idna"), parts.hostname or "", path.encode("ascii"))


def signing_secret(endpoint: Any, box: SecretBox | None, now: float) -> str | None:
    """The one secret that signs now: the rotated-in secret once its overlap is over, else the current one."""
    if endpoint.next_secret is not None and endpoint.next_secret_from is not None and now >= endpoint.next_secret_from:
        return open_secret(box, endpoint.next_secret, endpoint.id, "next_secret")
    return open_secret(box, endpoint.secret, endpoint.id, "secret")


def open_secret(box: SecretBox | None, stored: str | None, endpoint_id: str, column: str) -> str | None:
    return stored if box is None else box.open(stored, endpoint_id, column)


def delivery_headers(body: bytes, secret: str | None, auth_header: tuple[str, str] | None) -> dict[str, str]:
    """The platform's request headers for ``body``: one signature, and the static header if configured."""
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    if auth_header is not None:
        headers[auth_header[0]] = auth_header[1]
    return headers
