"""Endpoint secrets sealed at rest in the sandbox database (AES-256-GCM through ``casehooks.crypto``).

One data key, wrapped under the sandbox's master key, lives in ``sandbox_keys``; the master key comes from
``CASEHOOKS_SANDBOX_MASTER_KEY`` or, in the embedded mode, from ``<data_dir>/sandbox.key`` (made on first start,
mode 0600). A copy of the database alone opens no secret. Each value is bound to its endpoint and column (the
AEAD's associated data), so a sealed secret copied onto another endpoint does not open.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from casehooks.crypto import DataKey, Keyring, WrappedKey
from casehooks.errors import CryptoError
from casehooks.sender.tables import endpoints, keys

SECRETS_KEY = "endpoint_secrets"
PREFIX = "sealed:v1:"


class SecretBox:
    """Seals and opens endpoint secrets with the sandbox's data key."""

    def __init__(self, data_key: DataKey) -> None:
        self._key = data_key

    def __repr__(self) -> str:
        return "SecretBox()"

    def seal(self, value: str | None, endpoint_id: str, column: str) -> str | None:
        if value is None:
            return None
        sealed = self._key.seal(value.encode("utf-8"), f"{endpoint_id}/{column}".encode())
        return PREFIX + base64.b64encode(sealed).decode("ascii")

    def open(self, stored: str | None, endpoint_id: str, column: str) -> str | None:
        if stored is None:
            return None
        if not stored.startswith(PREFIX):
            raise CryptoError("endpoint secret is not sealed")
        sealed = base64.b64decode(stored[len(PREFIX) :])
        return self._key.open_sealed(sealed, f"{endpoint_id}/{column}".encode()).decode("utf-8")


def sandbox_keyring(master_key: str | None, data_dir: Path) -> Keyring:
    """The master key setting, or the key file of the data folder (created once, readable by its owner only)."""
    if master_key:
        return Keyring.parse(master_key)
    path = data_dir / "sandbox.key"
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only whatever the umask
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(Keyring.generate_entry())
    return Keyring.parse(path.read_text().strip())


def secret_box(engine: Engine, keyring: Keyring) -> SecretBox:
    """The box of this database: its data key is made once and kept wrapped in ``sandbox_keys``."""
    with engine.begin() as conn:
        found = conn.execute(select(keys.c.value).where(keys.c.name == SECRETS_KEY)).scalar_one_or_none()
    if found is None:
        made = DataKey.generate(keyring)
        try:
            with engine.begin() as conn:
                conn.execute(insert(keys).values(name=SECRETS_KEY, value=made.wrapped.to_bytes()))
        except IntegrityError:
            pass  # another process made it first
        with engine.begin() as conn:
            found = conn.execute(select(keys.c.value).where(keys.c.name == SECRETS_KEY)).scalar_one()
    return SecretBox(DataKey.open(keyring, WrappedKey.from_bytes(bytes(found))))


def seal_clear_secrets(engine: Engine, box: SecretBox) -> int:
    """Seal the secrets a database from before sealing still holds in clear; return how many were sealed."""
    columns = ("secret", "auth_header_value", "next_secret")
    changed = 0
    with engine.begin() as conn:
        for row in conn.execute(select(endpoints)).all():
            values = {
                column: box.seal(getattr(row, column), row.id, column)
                for column in columns
                if getattr(row, column) is not None and not getattr(row, column).startswith(PREFIX)
            }
            if values:
                conn.execute(update(endpoints).where(endpoints.c.id == row.id).values(**values))
                changed += 1
    return changed
