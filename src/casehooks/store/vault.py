"""Seal and open PHI values for the database, with data keys wrapped by the master keyring.

A data key serves many rows (a fresh one after about ``rotate_after`` seals, stored by a thread of its own
while the current one keeps sealing), so that sealing costs one AES-GCM operation and no extra row per event.
Rotating the master key re-wraps the ``data_keys`` rows only.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from casehooks.crypto import DataKey, Keyring, WrappedKey
from casehooks.errors import CryptoError
from casehooks.logs import get_logger
from casehooks.store.engine import writer
from casehooks.store.tables import DataKeyRow

Clock = Callable[[], datetime]
log = get_logger("casehooks.store")


class Vault:
    """Seals values under the current data key and opens values under any stored data key."""

    def __init__(self, engine: Engine, keyring: Keyring, clock: Clock, *, rotate_after: int = 100_000) -> None:
        self._engine = engine
        self._keyring = keyring
        self._clock = clock
        self._rotate_after = rotate_after
        self._lock = threading.Lock()
        self._current: tuple[str, DataKey] | None = None
        self._uses = 0
        self._renewing = False
        self._opened: dict[str, DataKey] = {}

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def seal(self, plaintext: bytes, aad: bytes) -> tuple[str, bytes]:
        """Seal ``plaintext`` bound to ``aad``; returns the data key id and the sealed bytes."""
        dek_id, key = self._current_key()
        return dek_id, key.seal(plaintext, aad)

    def open(self, dek_id: str, sealed: bytes, aad: bytes) -> bytes:
        """Open a value sealed by ``seal``; raises ``CryptoError`` if it was tampered with or moved."""
        return self._key(dek_id).open_sealed(sealed, aad)

    def _current_key(self) -> tuple[str, DataKey]:
        with self._lock:
            current = self._current
            if current is not None:
                self._uses += 1
                if self._uses >= self._rotate_after and not self._renewing:
                    # The next key is stored by a thread of its own while this one keeps serving: a seal made
                    # inside a write transaction (the batch writer's) must never wait for the writer it holds.
                    self._renewing = True
                    threading.Thread(target=self._renew, name="casehooks-vault-renew", daemon=True).start()
                return current
        fresh = self._new_key()  # the first key, made outside the lock for the same reason
        with self._lock:
            if self._current is None:
                self._current, self._uses = fresh, 0
            self._uses += 1
            return self._current

    def _renew(self) -> None:
        try:
            fresh = self._new_key()
        except SQLAlchemyError:
            log.warning("data_key_renewal_failed")  # the next seal past the limit tries again
            with self._lock:
                self._renewing = False
            return
        with self._lock:
            self._current, self._uses, self._renewing = fresh, 0, False

    def _new_key(self) -> tuple[str, DataKey]:
        key = DataKey.generate(self._keyring)
        dek_id = uuid.uuid4().hex
        # Stored in its own transaction before any row can refer to it.
        with writer(self._engine).begin() as connection:
            connection.execute(
                insert(DataKeyRow).values(
                    id=dek_id,
                    master_key_id=key.wrapped.key_id,
                    wrapped=key.wrapped.to_bytes(),
                    created_at=self._clock(),
                )
            )
        self._opened[dek_id] = key
        return dek_id, key

    def _key(self, dek_id: str) -> DataKey:
        key = self._opened.get(dek_id)
        if key is not None:
            return key
        with self._engine.connect() as connection:
            wrapped = connection.execute(select(DataKeyRow.wrapped).where(DataKeyRow.id == dek_id)).scalar()
        if wrapped is None:
            raise CryptoError("unknown data key")
        key = DataKey.open(self._keyring, WrappedKey.from_bytes(wrapped))
        self._opened[dek_id] = key
        return key
