"""Attachment files (store/files.py): stored once per content, over a real blob folder."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from sqlalchemy import event

from casehooks.blobs import BlobStore
from casehooks.events import Content
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.files import HASH_FIRST_BYTES, FileStore
from casehooks.store.ingest import insert_blob

pytestmark = pytest.mark.integration


def counting_files(store: Store, tmp_path_folder: str) -> tuple[FileStore, list[int]]:
    """The store's files written to a folder whose every fsync is counted (and done)."""
    synced: list[int] = []

    def fsync(descriptor: int) -> None:
        synced.append(descriptor)
        os.fsync(descriptor)

    blobs = BlobStore.from_url(f"file://{tmp_path_folder}/blobs", fsync=fsync)
    return FileStore(store.engine, blobs, store.vault.keyring, store.clock), synced


@pytest.mark.parametrize("size", [10, 200_000])
def test_a_small_file_stored_before_is_not_written_again(store: Store, tmp_path: object, size: int) -> None:
    files, synced = counting_files(store, str(tmp_path))
    content = Content(base64.b64encode(os.urandom(size)).decode())
    first, row = files.store_content(content)
    assert row is not None and synced  # a new file: written and made durable
    with writer(store.engine).begin() as connection:
        insert_blob(connection, row)
    objects = sorted(files.blobs.list())
    synced.clear()
    again, nothing = files.store_content(Content(content.text))
    assert (again, nothing) == (first, None)
    assert synced == [] and sorted(files.blobs.list()) == objects


@pytest.mark.parametrize(("size", "lookups"), [(10, 1), (HASH_FIRST_BYTES + 1, 1)])
def test_a_new_file_is_looked_up_once(store: Store, tmp_path: object, size: int, lookups: int) -> None:
    # A small file is looked up by its hash before it is written, a large one after: never both.
    files, _ = counting_files(store, str(tmp_path))
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM blobs" in statement:
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        outcome, row = files.store_content(Content(base64.b64encode(os.urandom(size)).decode()))
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert outcome.status == "stored" and row is not None
    assert len(statements) == lookups


def test_a_large_file_streams_and_is_still_stored_once(store: Store, tmp_path: object) -> None:
    files, _ = counting_files(store, str(tmp_path))
    content = Content(base64.b64encode(os.urandom(HASH_FIRST_BYTES + 1)).decode())
    first, row = files.store_content(content)
    assert row is not None
    with writer(store.engine).begin() as connection:
        insert_blob(connection, row)
    again, nothing = files.store_content(Content(content.text))
    assert (again.sha256, nothing) == (first.sha256, None)
    assert len(list(files.blobs.list("files/"))) == 1
