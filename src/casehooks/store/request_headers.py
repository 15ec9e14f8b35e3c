"""The request headers an accepted event arrived with: kept sealed beside its body, credentials never kept.

A header that carries a credential (``Authorization``, a cookie, an API key, the receiver's static shared-secret
header, anything named like a token, secret, password or key) keeps its name with ``[not stored]`` as its value.
The signature header is kept: it is a digest of the body, not a key. The rest is bounded as a held request's
headers are (store/quarantine.py). Values may still name a client (a forwarded address, a user agent), so they
are sealed like the body and shown whole only to readers who may see PHI.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import orjson

from casehooks.signing import SIGNATURE_HEADER
from casehooks.store.quarantine import DEFAULT_HEADER_BYTES, bound_headers
from casehooks.store.vault import Vault

NOT_STORED = "[not stored]"
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
_CREDENTIAL_NAME = re.compile(r"token|secret|passw|(?:^|[-_])key(?:$|[-_])|auth|session|credential", re.IGNORECASE)
_VALUE_CHARS = 4096
# Shown to every reader: what the platform's client says about the request itself, never about a person.
PLAIN = frozenset({"content-type", "content-length", "content-encoding", "transfer-encoding", "host", "connection"})


def _aad(event_id: str) -> bytes:
    return f"event-headers:{event_id}".encode()


def kept(headers: Mapping[str, str], secret_names: frozenset[str] = frozenset()) -> dict[str, str]:
    """The headers as they are stored: credentials replaced, sizes bounded."""
    safe: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        credential = lower in _CREDENTIALS or lower in secret_names or bool(_CREDENTIAL_NAME.search(lower))
        safe[lower] = NOT_STORED if credential and lower != SIGNATURE_HEADER else value
    return bound_headers(safe, DEFAULT_HEADER_BYTES, _VALUE_CHARS)


def seal(vault: Vault, event_id: str, headers: Mapping[str, str], secret_names: frozenset[str]) -> tuple[str, bytes]:
    """Seal what is kept of ``headers`` to the event; returns the data key id and the sealed bytes."""
    return vault.seal(orjson.dumps(kept(headers, secret_names)), _aad(event_id))


def open_sealed(vault: Vault, event_id: str, dek_id: str, sealed: bytes) -> dict[str, str]:
    opened: dict[str, str] = orjson.loads(vault.open(dek_id, sealed, _aad(event_id)))
    return opened


def masked(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers for a reader who may not see PHI: names, and the values of ``PLAIN`` headers only."""
    return {name: value if name in PLAIN or value == NOT_STORED else "•••" for name, value in headers.items()}
