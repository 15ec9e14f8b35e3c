"""The audit log as a hash chain: each row carries HMAC(audit key, previous row's MAC || canonical row).

Editing, deleting or inserting a row with raw SQL breaks the chain at that row (the head row names the last
id and MAC, so a cut tail shows too). The audit key is a random key stored wrapped by the master keyring in
``data_keys``, so a master key rotation re-wraps it like any data key and old MACs stay verifiable; each row
names the key that made its MAC. Appends lock the head row (``SELECT ... FOR UPDATE`` on PostgreSQL, the
database write lock on SQLite), so writers in several processes extend one chain and never fork it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql

from casehooks.crypto import KEY_SIZE, Keyring, WrappedKey
from casehooks.store.access_tables import AuditChainRow, AuditRow
from casehooks.store.engine import is_postgresql
from casehooks.store.tables import DataKeyRow

GENESIS = "0" * 64
_HEAD = 1
_LABEL = b"casehooks audit chain v1"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who (``username`` through ``via``, from ``client``, in ``session``) did what to which object, when."""

    at: datetime
    username: str
    via: str
    action: str
    object_type: str
    object_id: str | None
    client: str | None = None
    session: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``verify`` found: the rows checked and the first row where the chain breaks, if any."""

    checked: int
    unchained: int  # rows written before the chain existed (no MAC), all before the first chained row
    broken_at: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def canonical(row_id: int, entry: AuditEntry, key_id: str) -> bytes:
    """The bytes a row's MAC covers: every column but the MAC, in a fixed order."""
    stamp = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    at = stamp.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    fields = [
        row_id,
        at,
        entry.username,
        entry.via,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.client,
        entry.session,
        key_id,
    ]
    return json.dumps(fields, ensure_ascii=True, separators=(",", ":")).encode()


def chain_mac(mac_key: bytes, previous_mac: str, row: bytes) -> str:
    return hmac.new(mac_key, previous_mac.encode() + b"\n" + row, hashlib.sha256).hexdigest()


def _mac_key(data_key: bytes) -> bytes:
    return hmac.new(data_key, _LABEL, hashlib.sha256).digest()


class AuditTrail:
    """Appends chained rows and verifies the chain; the audit key is opened with the master keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._keys: dict[str, bytes] = {}

    def append(self, connection: Connection, entry: AuditEntry) -> None:
        """Add ``entry`` inside the caller's write transaction, after the last row of the chain."""
        key_id, last_mac = self._lock_head(connection)
        result = connection.execute(
            insert(AuditRow).values(
                at=entry.at,
                username=entry.username,
                via=entry.via,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                client=entry.client,
                session=entry.session,
                key_id=key_id,
            )
        )
        row_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        mac = chain_mac(self._key(connection, key_id), last_mac, canonical(row_id, entry, key_id))
        connection.execute(update(AuditRow).where(AuditRow.id == row_id).values(mac=mac))
        connection.execute(update(AuditChainRow).where(AuditChainRow.id == _HEAD).values(last_id=row_id, last_mac=mac))

    def verify(self, engine: Engine) -> Verdict:
        """Walk the whole log in id order and report the first row that does not continue the chain."""
        checked = unchained = 0
        previous = GENESIS
        last_id = 0
        with engine.connect() as connection:
            head = connection.execute(select(AuditChainRow.__table__).where(AuditChainRow.id == _HEAD)).first()
            for row in _rows(connection):
                checked += 1
                last_id = row.id
                if row.mac is None and previous == GENESIS:
                    unchained += 1
                    continue
                if row.mac is None or row.key_id is None:
                    return Verdict(checked, unchained, row.id, "row has no MAC")
                entry = AuditEntry(
                    row.at, row.username, row.via, row.action, row.object_type, row.object_id, row.client, row.session
                )
                try:
                    key = self._key(connection, row.key_id)
                except KeyError:
                    return Verdict(checked, unchained, row.id, "unknown audit key")
                expected = chain_mac(key, previous, canonical(row.id, entry, row.key_id))
                if not hmac.compare_digest(expected, row.mac):
                    return Verdict(checked, unchained, row.id, "MAC does not match (row changed, or one before it)")
                previous = row.mac
        if head is None:
            if previous != GENESIS:
                return Verdict(checked, unchained, last_id, "the chain's head row is missing")
            return Verdict(checked, unchained)
        if head.last_id != last_id or head.last_mac != previous:
            return Verdict(checked, unchained, head.last_id, "rows are missing at the end of the log")
        return Verdict(checked, unchained)

    def _lock_head(self, connection: Connection) -> tuple[str, str]:
        query = select(AuditChainRow.key_id, AuditChainRow.last_mac).where(AuditChainRow.id == _HEAD)
        if is_postgresql(connection.engine):
            query = query.with_for_update()
        head = connection.execute(query).first()
        if head is not None:
            return head.key_id, head.last_mac
        # The very first append. Two processes may race here on PostgreSQL: the head's primary key lets one
        # insert win, the other waits for it and then locks the winner's head row like any later append.
        key_id = f"audit-{uuid.uuid4().hex}"
        values = {"id": _HEAD, "key_id": key_id, "last_id": 0, "last_mac": GENESIS}
        if is_postgresql(connection.engine):
            created = connection.execute(
                postgresql.insert(AuditChainRow).values(values).on_conflict_do_nothing().returning(AuditChainRow.id)
            ).first()
            if created is None:
                head = connection.execute(query).one()
                return head.key_id, head.last_mac
        else:
            connection.execute(insert(AuditChainRow).values(values))
        self._new_key(connection, key_id)
        return key_id, GENESIS

    def _new_key(self, connection: Connection, key_id: str) -> None:
        secret = secrets.token_bytes(KEY_SIZE)
        wrapped = self._keyring.wrap(secret)
        connection.execute(
            insert(DataKeyRow).values(
                id=key_id, master_key_id=wrapped.key_id, wrapped=wrapped.to_bytes(), created_at=datetime.now(UTC)
            )
        )
        self._keys[key_id] = _mac_key(secret)

    def _key(self, connection: Connection, key_id: str) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            wrapped = connection.execute(select(DataKeyRow.wrapped).where(DataKeyRow.id == key_id)).scalar()
            if wrapped is None:
                raise KeyError(key_id)
            key = _mac_key(self._keyring.unwrap(WrappedKey.from_bytes(wrapped)))
            self._keys[key_id] = key
        return key


_trails: weakref.WeakKeyDictionary[Keyring, AuditTrail] = weakref.WeakKeyDictionary()


def trail_for(keyring: Keyring) -> AuditTrail:
    """The trail of a keyring, kept while the keyring lives, so that the audit key is unwrapped once."""
    trail = _trails.get(keyring)
    if trail is None:
        trail = _trails[keyring] = AuditTrail(keyring)
    return trail


def _rows(connection: Connection) -> Iterator[Any]:
    """Every audit row in id order, in pages, so that a long log is never held in memory at once."""
    after = 0
    while True:
        page = connection.execute(
            select(AuditRow.__table__).where(AuditRow.id > after).order_by(AuditRow.id).limit(1000)
        ).all()
        if not page:
            return
        yield from page
        after = page[-1].id
