"""Secrets of the console, as pure functions: password hashes, API tokens, session ids and CSRF tokens.

Tokens and session ids are 256-bit random values, so a plain sha256 is enough to store them; passwords are
chosen by people and get argon2id. Comparisons run in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "chk"  # noqa: S105  (a label, not a secret)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def digest(secret: str) -> str:
    """The stored form of a random secret (token or session id)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token as shown once to its owner (``text``) and as stored (``id`` and ``secret_sha256``)."""

    id: str
    text: str
    secret_sha256: str


def new_token() -> NewToken:
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewToken(token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}", digest(secret))


def parse_token(text: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a token's text, or None if it is not one of ours."""
    prefix, _, rest = text.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not token_id or not secret:
        return None
    return token_id, secret


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(session_id: str) -> str:
    """The CSRF token of a session: derived from its secret id, so it needs no storage and dies with it."""
    return hmac.new(session_id.encode(), b"casehooks-csrf", hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a console page of this origin to return to after sign-in, else None.

    Only a path under ``/console/`` is kept: a full address, a protocol-relative ``//host`` or a backslash
    (which browsers read as a slash) could send a fresh session to another site.
    """
    if not target or len(target) > 1000 or not target.startswith("/console/") or target.startswith("/console/login"):
        return None
    split = urlsplit(target)
    if split.scheme or split.netloc or "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


def confirmation_token(session_id: str, action: str, selection: str, count: int) -> str:
    """The token a bulk action's preview hands out: bound to the session, the action, the filter and the count
    shown, so a confirmation applies to exactly what was previewed (a changed count asks again)."""
    message = f"confirm|{action}|{selection}|{count}".encode()
    return hmac.new(session_id.encode(), message, hashlib.sha256).hexdigest()
