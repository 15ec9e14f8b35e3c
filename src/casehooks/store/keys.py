"""Master key rotation: re-wrap every data key (of rows and of files) under the keyring's active key.

The data itself is not re-encrypted: only the small wrapped keys change, so rotation is quick at any size.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select, update

from casehooks.crypto import Keyring, WrappedKey
from casehooks.store.engine import writer
from casehooks.store.tables import BlobRow, DataKeyRow

Progress = Callable[[int, int], None]


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
                connection.execute(
                    update(model)
                    .where(key_column == key)
                    .values({wrapped_column.key: fresh.to_bytes(), "master_key_id": fresh.key_id})
                )
            changed += 1
        if progress is not None:
            progress(done, total)
    return changed


def count_keys(engine: Engine) -> int:
    """How many wrapped keys a rotation walks through."""
    with engine.connect() as connection:
        data_keys = connection.execute(select(func.count()).select_from(DataKeyRow)).scalar_one()
        blob_keys = connection.execute(select(func.count()).select_from(BlobRow)).scalar_one()
    return int(data_keys) + int(blob_keys)
