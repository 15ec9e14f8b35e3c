"""The platform's request authentication: ``x-cv-signature`` HMAC and the static header option. Pure functions.

The signature is the hex HMAC-SHA256 of the body's exact bytes, keyed by the endpoint's secret. It has no
timestamp, so it proves origin but not freshness; deduplication by activity id is the replay defence.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from casehooks.errors import SignatureError

SIGNATURE_HEADER = "x-cv-signature"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(body: bytes, secret: str | bytes) -> str:
    """The value of ``x-cv-signature`` for ``body``: lowercase hex HMAC-SHA256."""
    return hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header_value: str | None, secret: str | bytes | Sequence[str | bytes]) -> int:
    """Check ``header_value`` against ``body`` under one secret or several (during a rotation).

    Returns the index of the secret that matched. Raises ``SignatureError`` with reason ``missing``,
    ``malformed`` or ``mismatch``. Every secret is tried, and compared in constant time.
    """
    secrets = [secret] if isinstance(secret, str | bytes) else list(secret)
    if not secrets:
        raise SignatureError("no secret configured")
    given = _given_digest(header_value)
    return _matched([hmac.new(_key(key), body, hashlib.sha256).digest() for key in secrets], given)


def _given_digest(header_value: str | None) -> bytes:
    if header_value is None or not header_value.strip():
        raise SignatureError("missing")
    candidate = header_value.strip()
    if not _HEX_DIGEST.fullmatch(candidate):
        raise SignatureError("malformed")
    return bytes.fromhex(candidate)


def _matched(expected: list[bytes], given: bytes) -> int:
    # Every digest is compared, in constant time, whichever matches first.
    matched = -1
    for index, digest in enumerate(expected):
        if hmac.compare_digest(digest, given) and matched < 0:
            matched = index
    if matched < 0:
        raise SignatureError("mismatch")
    return matched


@dataclass(frozen=True, slots=True)
class StaticHeader:
    """The older option: the platform sends a configured header name with a configured secret value."""

    name: str
    value: str

    def check(self, headers: Mapping[str, str]) -> None:
        """Raise ``SignatureError`` unless ``headers`` carries the configured value (case-insensitive name)."""
        wanted = self.name.lower()
        given = next((v for k, v in headers.items() if k.lower() == wanted), None)
        if given is None:
            raise SignatureError("missing auth header")
        if not hmac.compare_digest(given.encode("utf-8"), self.value.encode("utf-8")):
            raise SignatureError("auth header mismatch")

    def __repr__(self) -> str:
        return f"StaticHeader(name={self.name!r}, value='***')"


@dataclass(frozen=True, slots=True)
class Authenticator:
    """What a receiving endpoint requires: a valid signature (if secrets are set) and the static header (if set).

    With neither configured every request passes; the receiver warns loudly about that at start.
    """

    secrets: tuple[str, ...] = ()
    static_header: StaticHeader | None = None

    @property
    def secret_header_names(self) -> frozenset[str]:
        """Names of headers whose values are credentials of this endpoint (never to be kept or shown)."""
        return frozenset({self.static_header.name.lower()}) if self.static_header is not None else frozenset()

    @property
    def required(self) -> bool:
        return bool(self.secrets) or self.static_header is not None

    def authenticate(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise ``SignatureError`` unless the request meets every configured requirement."""
        if self.static_header is not None:
            self.static_header.check(headers)
        if self.secrets:
            value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
            verify(body, value, self.secrets)

    def authenticate_stream(self, chunks: Iterable[bytes | memoryview], headers: Mapping[str, str]) -> str:
        """``authenticate`` for a body read a chunk at a time; returns the body's SHA-256 (hex), hashed on the way."""
        digests = self.digests()
        for chunk in chunks:
            digests.update(chunk)
        return digests.authenticate(headers)

    def digests(self) -> BodyDigests:
        """Hashes to feed a body as it arrives, then authenticate it without reading it again."""
        return BodyDigests(self)

    def __repr__(self) -> str:
        return f"Authenticator(secrets={len(self.secrets)}, static_header={self.static_header!r})"


def _check_digests(expected: list[bytes], header_value: str | None) -> None:
    # ``verify``'s checks, against digests computed as the body streamed by.
    _matched(expected, _given_digest(header_value))


class BodyDigests:
    """A body's SHA-256 and its HMAC under every configured secret, computed as its chunks go by."""

    __slots__ = ("_authenticator", "_macs", "_sha256")

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator
        self._sha256 = hashlib.sha256()
        self._macs = [hmac.new(_key(secret), digestmod=hashlib.sha256) for secret in authenticator.secrets]

    def update(self, chunk: bytes | memoryview) -> None:
        self._sha256.update(chunk)
        for mac in self._macs:
            mac.update(chunk)

    def authenticate(self, headers: Mapping[str, str]) -> str:
        """Raise ``SignatureError`` as ``Authenticator.authenticate`` would; returns the body's SHA-256 (hex)."""
        static = self._authenticator.static_header
        if static is not None:
            static.check(headers)
        if self._macs:
            value = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
            _check_digests([mac.digest() for mac in self._macs], value)
        return self._sha256.hexdigest()
