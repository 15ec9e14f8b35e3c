"""Durable state: SQLAlchemy tables and migrations, sealed PHI, encrypted files, the job queue, the quarantine."""

from casehooks.store.store import Store, keyring_from, utcnow

__all__ = ["Store", "keyring_from", "utcnow"]
