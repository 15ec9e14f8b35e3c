"""Durable state: SQLAlchemy tables and migrations, sealed PHI, encrypted files, the job queue, the quarantine."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casehooks.store.store import Store, keyring_from, utcnow

__all__ = ["Store", "keyring_from", "utcnow"]


def __getattr__(name: str) -> Any:
    # The store loads on first use: a listing reads through its tables alone, without the keys, the blob
    # store or the event models that ``Store`` brings.
    if name in __all__:
        from casehooks.store import store

        value = getattr(store, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
