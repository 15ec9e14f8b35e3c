"""Master keys while processes serve: the active key recorded in the database, live keyrings, re-wrapping.

Every process wraps new data keys under the key id the database records as active (``active_master_key``),
rechecked at most every ``ACTIVE_RECHECK_SECONDS``, and reloads its key file when that key, or a key it must
unwrap with, is one it does not hold. Rotation records a new active key, waits a grace period for wraps begun
under the old one to land, then re-wraps every data key; the data itself is not re-encrypted.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from casehooks.crypto import Keyring, MasterKey, WrappedKey, read_key_file, write_key_file
from casehooks.errors import ConfigurationError
from casehooks.logs import get_logger
from casehooks.store.engine import writer
from casehooks.store.tables import ActiveMasterKeyRow, BlobRow, DataKeyRow

log = get_logger("casehooks.store")
Progress = Callable[[int, int], None]
Reload = Callable[[], Keyring]

# How stale a process's idea of the active key may be; rotation's grace period must exceed it.
ACTIVE_RECHECK_SECONDS = 1.0
_ROW = 1


class LiveKeyring(Keyring):
    """A serving process's keyring: wraps under the key the database records as active, and reloads its keys
    (the key file, when there is one) on meeting a key id it does not hold, so a rotation by another process
    needs no restart."""

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        *,
        reload: Reload | None = None,
        recheck_seconds: float = ACTIVE_RECHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(keyring.keys)
        self._engine = engine
        self._held = keyring
        self._reload = reload
        self._recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._recorded: str | None = None
        self._warned: set[str] = set()

    @property
    def key_ids(self) -> tuple[str, ...]:
        return self._held.key_ids

    @property
    def keys(self) -> tuple[MasterKey, ...]:
        return self._held.keys

    @property
    def active(self) -> MasterKey:
        """The recorded active key; before any rotation (or when it cannot be had) the first configured key."""
        recorded = self._recorded_active()
        if recorded is None:
            return self._held.active
        key = self._held.find(recorded) or self._reloaded().find(recorded)
        if key is not None:
            return key
        if recorded not in self._warned:
            self._warned.add(recorded)
            # Still safe: what this process wraps opens with its own key, which rotation will not find unused.
            log.warning("active_master_key_not_held", key_id=recorded, wrapping_under=self._held.active.key_id)
        return self._held.active

    def find(self, key_id: str) -> MasterKey | None:
        return self._held.find(key_id) or self._reloaded().find(key_id)

    def _recorded_active(self) -> str | None:
        with self._lock:
            now = self._monotonic()
            if self._checked_at is not None and now - self._checked_at < self._recheck_seconds:
                return self._recorded
            self._checked_at = now
        try:
            recorded = recorded_active(self._engine)
        except SQLAlchemyError:
            return self._recorded  # the write this wrap is for will meet the outage and say so
        with self._lock:
            self._recorded = recorded
        return recorded

    def _reloaded(self) -> Keyring:
        if self._reload is None:
            return self._held
        try:
            fresh = self._reload()
        except ConfigurationError:
            log.warning("master_key_reload_failed")
            return self._held
        with self._lock:
            self._held = fresh
        return fresh


def recorded_active(engine: Engine) -> str | None:
    """The active master key id the database records; None before the first rotation."""
    with engine.connect() as connection:
        return connection.execute(select(ActiveMasterKeyRow.key_id).where(ActiveMasterKeyRow.id == _ROW)).scalar()


def record_active(engine: Engine, key_id: str, now: datetime) -> None:
    """Make ``key_id`` the key every process wraps new data keys under (within ``ACTIVE_RECHECK_SECONDS``)."""
    with writer(engine).begin() as connection:
        changed = connection.execute(
            update(ActiveMasterKeyRow).where(ActiveMasterKeyRow.id == _ROW).values(key_id=key_id, recorded_at=now)
        ).rowcount
        if not changed:
            connection.execute(insert(ActiveMasterKeyRow).values(id=_ROW, key_id=key_id, recorded_at=now))


def rotate(engine: Engine, keyring: Keyring, progress: Progress | None = None) -> int:
    """Re-wrap what the active key did not wrap; returns how many keys changed."""
    with engine.connect() as connection:
        data_keys = connection.execute(select(DataKeyRow.id, DataKeyRow.wrapped)).all()
        blob_keys = connection.execute(select(BlobRow.sha256, BlobRow.wrapped_key)).all()
    total = len(data_keys) + len(blob_keys)
    changed = 0
    targets = [(DataKeyRow, DataKeyRow.id, DataKeyRow.wrapped, row) for row in data_keys] + [
        (BlobRow, BlobRow.sha256, BlobRow.wrapped_key, row) for row in blob_keys
    ]
    for done, (model, key_column, wrapped_column, (key, blob)) in enumerate(targets, start=1):
        wrapped = WrappedKey.from_bytes(blob)
        if keyring.needs_rewrap(wrapped):
            fresh = keyring.rewrap(wrapped)
            with writer(engine).begin() as connection:
                # Only if unchanged since read: a concurrent rotation's newer wrap is never put back.
                connection.execute(
                    update(model)
                    .where(key_column == key, wrapped_column == blob)
                    .values({wrapped_column.key: fresh.to_bytes(), "master_key_id": fresh.key_id})
                )
            changed += 1
        if progress is not None:
            progress(done, total)
    return changed


def references(engine: Engine) -> dict[str, int]:
    """How many wrapped keys each master key id wraps: a key may leave the keyring only at zero."""
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for model in (DataKeyRow, BlobRow):
            rows = connection.execute(select(model.master_key_id, func.count()).group_by(model.master_key_id))
            for key_id, count in rows:
                counts[key_id] = counts.get(key_id, 0) + int(count)
    return counts


def count_keys(engine: Engine) -> int:
    """How many wrapped keys a rotation walks through."""
    with engine.connect() as connection:
        data_keys = connection.execute(select(func.count()).select_from(DataKeyRow)).scalar_one()
        blob_keys = connection.execute(select(func.count()).select_from(BlobRow)).scalar_one()
    return int(data_keys) + int(blob_keys)


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the new active key, how many keys it re-wrapped, and the other keys still in use."""

    active: str
    rewrapped: int
    still_referenced: dict[str, int]
    removed: tuple[str, ...] = ()


def rotate_live(
    engine: Engine,
    keyring: Keyring,
    now: datetime,
    *,
    grace_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> Rotation:
    """Make the keyring's active key the one every process wraps under, then re-wrap everything under it.

    The grace period lets wraps that began under the old key (a process's recheck interval, a file still
    streaming in, a batch not yet committed) land before the walk, so that the walk finds them.
    """
    active = keyring.active.key_id
    record_active(engine, active, now)
    sleep(grace_seconds)
    changed = rotate(engine, keyring, progress)
    left = {key_id: count for key_id, count in references(engine).items() if key_id != active}
    return Rotation(active, changed, left)


def rotate_key_file(
    engine: Engine,
    path: Path,
    now: datetime,
    *,
    grace_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> Rotation:
    """Rotate the embedded mode's key file: add a new key, make it active, re-wrap, then remove old keys that
    no wrapped key names any more (one still named stays, and goes at a later rotation)."""
    with _locked(path.with_name(f".{path.name}.lock")):
        current = read_key_file(path)
        fresh = Keyring.parse(Keyring.generate_entry()).active
        keyring = Keyring([fresh, *current.keys])
        # On file before it is recorded active: a process that sees the record can always reload the key.
        write_key_file(path, keyring)
        rotation = rotate_live(engine, keyring, now, grace_seconds=grace_seconds, sleep=sleep, progress=progress)
        kept = [key for key in keyring.keys if key is fresh or rotation.still_referenced.get(key.key_id, 0) > 0]
        write_key_file(path, Keyring(kept))
        removed = tuple(key.key_id for key in keyring.keys if key not in kept)
    return Rotation(rotation.active, rotation.rewrapped, rotation.still_referenced, removed)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """One rotation of a key file at a time (an advisory lock, released when the process ends)."""
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"cannot lock master key file {lock_path}: {exc.strerror}") from exc
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
