"""The exceptions casehooks raises.

    CasehooksError
    ├── SchemaError(path, reason)      the body is not a readable event
    ├── ContentError(reason)           attachment content cannot be decoded
    ├── SignatureError(reason)         the request is not authenticated
    ├── PayloadTooLarge(limit)         the body is over the configured size limit
    ├── StoreUnavailable               the database or blob store cannot commit now; retry later
    ├── Unstorable(error)              the store can never keep this event as read (a 422, never a retry)
    ├── NotFound(kind, key)            no such event, case, attachment, job ...
    ├── InvalidCursor                  a paging cursor this store did not hand out
    ├── CryptoError(reason)            a ciphertext does not decrypt (wrong key, tampered, truncated)
    ├── NotSignedIn                    a console request without a valid session or token
    ├── AccessDenied(scope)            the reader's role or token does not allow this
    ├── BadFilter(name, reason)        a list filter or cursor that cannot be read (an HTTP 422)
    ├── FramingError(reason)           an HTTP/1.1 response that cannot be read (``trigger``'s fast engine)
    └── ConfigurationError             the settings do not make sense
        ├── NoStore(where)             no store where the settings point (read commands never create one)
        └── MissingKeyFile(path)       data is stored but its master key file is gone

Messages never carry payload values: they name paths, ids and reasons, so that they are safe to log.
"""

from __future__ import annotations


class CasehooksError(Exception):
    """Base of every error casehooks raises on purpose."""


class SchemaError(CasehooksError):
    """The body cannot be read as an event; ``path`` is where (``$`` is the whole body)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ContentError(CasehooksError):
    """Attachment content that cannot be decoded (not base64, or a URL where bytes were expected)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SignatureError(CasehooksError):
    """The request did not prove it came from the platform; ``reason`` is one of a few fixed words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PayloadTooLarge(CasehooksError):
    """The body is larger than ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"body larger than {limit} bytes")


class StoreUnavailable(CasehooksError):
    """The store could not commit; nothing was acknowledged and the caller should retry."""


class Unstorable(CasehooksError):
    """One event the store can never keep as read (a value its driver cannot bind): refused, not retried.

    Only the type of the error is kept: its message may quote the body.
    """

    def __init__(self, error: str) -> None:
        super().__init__(f"the event could not be stored as read ({error})")
        self.error = error


class NotFound(CasehooksError):
    """No ``kind`` with ``key`` exists."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class InvalidCursor(CasehooksError):
    """A paging cursor (``before=``/``after=``) that is not one this store handed out."""

    def __init__(self) -> None:
        super().__init__("not a cursor of this list")


class CryptoError(CasehooksError):
    """A ciphertext could not be opened: wrong or unknown key, tampered or truncated data."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class NotSignedIn(CasehooksError):
    """A console request came without a valid session or API token."""


class AccessDenied(CasehooksError):
    """The reader's role (or token scopes) lacks ``scope``."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(f"this needs the {scope} scope")


class ConfigurationError(CasehooksError):
    """The settings are inconsistent or incomplete."""


class NoStore(ConfigurationError):
    """No casehooks store exists at ``where``; only ``serve``, ``worker`` and ``db upgrade`` create one."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"no casehooks store at {where} (CASEHOOKS_DATA_DIR / CASEHOOKS_DATABASE_URL); "
            "run `casehooks serve` or `casehooks db upgrade` first"
        )


class MissingKeyFile(ConfigurationError):
    """The store holds encrypted data but its master key file ``path`` is missing: never replaced by a new key."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"the master key file {path} is missing but the store holds data encrypted under it; restore the file "
            "from your backup (or set CASEHOOKS_MASTER_KEY). A new key would make the stored data unreadable"
        )


class CountChanged(CasehooksError):
    """A bulk action whose caller expected ``expected`` rows found ``found``: nothing was done."""

    def __init__(self, what: str, expected: int, found: int) -> None:
        self.what = what
        self.expected = expected
        self.found = found
        super().__init__(f"expected {expected} {what}, found {found}: nothing was done")


class BadFilter(CasehooksError):
    """A list filter or paging cursor that cannot be read: ``name`` is the parameter, ``reason`` why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class FramingError(CasehooksError):
    """A response that does not follow HTTP/1.1 framing; ``reason`` is a fixed phrase, never the bytes read."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
