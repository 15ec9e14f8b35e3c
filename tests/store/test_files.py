"""Attachment files (store/files.py): stored once per content, over a real blob folder."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from casehooks.blobs import BlobStore
from casehooks.errors import StoreUnavailable
from casehooks.events import Content
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.files import HASH_FIRST_BYTES, INLINE_FILE_BYTES, FileStore
from casehooks.store.ingest import insert_blob
from casehooks.store.tables import BlobRow

pytestmark = pytest.mark.integration


def counting_files(
    store: Store, tmp_path_folder: str, inline_bytes: int = INLINE_FILE_BYTES
) -> tuple[FileStore, list[int]]:
    """The store's files written to a folder whose every fsync is counted (and done)."""
    synced: list[int] = []

    def fsync(descriptor: int) -> None:
        synced.append(descriptor)
        os.fsync(descriptor)

    blobs = BlobStore.from_url(f"file://{tmp_path_folder}/blobs", fsync=fsync)
    return FileStore(store.engine, blobs, store.vault.keyring, store.clock, inline_bytes=inline_bytes), synced


def inserted(store: Store, row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None
    with writer(store.engine).begin() as connection:
        insert_blob(connection, row)
    return row


def test_a_file_stored_before_is_not_written_to_the_blob_store_again(store: Store, tmp_path: object) -> None:
    files, synced = counting_files(store, str(tmp_path))
    content = Content(base64.b64encode(os.urandom(200_000)).decode())
    first, row = files.store_content(content)
    inserted(store, row)
    objects = sorted(files.blobs.list())
    synced.clear()
    again, nothing = files.store_content(Content(content.text))
    assert (again, nothing) == (first, None)
    assert synced == [] and sorted(files.blobs.list()) == objects


def test_a_small_file_stored_before_is_offered_again_and_the_commit_keeps_the_first_row(
    store: Store, tmp_path: object
) -> None:
    files, synced = counting_files(store, str(tmp_path))
    content = Content(base64.b64encode(b"Jane Doe's scan").decode())
    first, row = files.store_content(content)
    first_row = inserted(store, row)
    again, offered = files.store_content(Content(content.text))
    assert again == first and offered is not None
    inserted(store, offered)  # what the commit does with it: on conflict, nothing
    with store.engine.connect() as connection:
        kept = connection.execute(select(BlobRow.content_sealed)).scalars().all()
    assert kept == [first_row["content_sealed"]]
    assert synced == [] and b"".join(files.open(str(first.sha256))) == b"Jane Doe's scan"


@pytest.mark.parametrize("size", [0, 10, INLINE_FILE_BYTES])
def test_a_file_within_the_inline_limit_is_sealed_into_its_row(store: Store, tmp_path: object, size: int) -> None:
    files, synced = counting_files(store, str(tmp_path))
    data = b"Jane Doe, DOB 1980-01-01 " + os.urandom(size)
    data = data[:size]
    outcome, row = files.store_content(Content(base64.b64encode(data).decode()))
    row = inserted(store, row)
    assert row["object_key"] is None and row["content_sealed"] is not None
    assert synced == [] and list(files.blobs.list()) == []  # nothing written outside the database
    assert size < 8 or data[:8] not in row["content_sealed"]  # sealed, not plain
    assert (outcome.size, b"".join(files.open(str(outcome.sha256)))) == (size, data)


@pytest.mark.parametrize("inline_bytes", [0, INLINE_FILE_BYTES])
def test_a_file_past_the_inline_limit_goes_to_the_blob_store(store: Store, tmp_path: object, inline_bytes: int) -> None:
    files, synced = counting_files(store, str(tmp_path), inline_bytes=inline_bytes)
    data = os.urandom(inline_bytes + 1)
    outcome, row = files.store_content(Content(base64.b64encode(data).decode()))
    row = inserted(store, row)
    assert row["content_sealed"] is None and list(files.blobs.list()) == [row["object_key"]]
    assert synced  # made durable before the row can name it
    assert b"".join(files.open(str(outcome.sha256))) == data


def test_a_streamed_file_that_ends_within_the_limit_is_sealed_into_its_row(store: Store, tmp_path: object) -> None:
    # The path of a spooled body: the size is known only when the stream ends.
    files, _ = counting_files(store, str(tmp_path))
    chunks = [os.urandom(1000) for _ in range(INLINE_FILE_BYTES // 1000)]
    outcome, row = files.store_stream(iter(chunks))
    row = inserted(store, row)
    assert row["object_key"] is None and list(files.blobs.list()) == []
    assert b"".join(files.open(str(outcome.sha256))) == b"".join(chunks)

    longer = [*chunks, b"x" * 1000]
    outcome, row = files.store_stream(iter(longer))
    row = inserted(store, row)
    assert row["content_sealed"] is None and len(list(files.blobs.list())) == 1
    assert b"".join(files.open(str(outcome.sha256))) == b"".join(longer)


@pytest.mark.parametrize(("size", "lookups"), [(10, 0), (INLINE_FILE_BYTES + 1, 1), (HASH_FIRST_BYTES + 1, 1)])
def test_a_new_file_is_looked_up_once_at_most(store: Store, tmp_path: object, size: int, lookups: int) -> None:
    # A file kept in its row is not looked up; one for the blob store is looked up by its hash before it is
    # written when small, after when streamed: never both.
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
    inserted(store, row)
    again, nothing = files.store_content(Content(content.text))
    assert (again.sha256, nothing) == (first.sha256, None)
    assert len(list(files.blobs.list("files/"))) == 1


def test_a_small_file_needs_no_blob_store_and_a_larger_one_is_refused_without_it(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    files = FileStore(store.engine, BlobStore.from_url(root.as_uri()), store.vault.keyring, store.clock)
    if root.is_dir():
        root.rmdir()
    root.write_bytes(b"not a folder")  # the blob store's folder is gone: nothing can be written there
    small, row = files.store_content(Content(base64.b64encode(b"Jane Doe's scan").decode()))
    assert small.status == "stored" and row is not None and row["object_key"] is None
    with pytest.raises(StoreUnavailable):
        files.store_content(Content(base64.b64encode(os.urandom(INLINE_FILE_BYTES + 1)).decode()))
