"""The sweep of files no row names (store/file_sweep.py), over a real blob folder and a real S3 endpoint."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casehooks.blobs import BlobStore
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.file_sweep import FILES_FOLDER, sweep_files
from casehooks.store.files import FileStore
from casehooks.store.ingest import insert_blob
from tests.services import S3Server

pytestmark = pytest.mark.integration

LATER = timedelta(hours=2)  # past the default grace of an hour


def files_over(store: Store, blobs: BlobStore) -> FileStore:
    # Every file goes to the blob store (none is kept in its row), as large files do.
    return FileStore(store.engine, blobs, store.vault.keyring, store.clock, inline_bytes=0)


def stored(store: Store, files: FileStore, content: bytes, *, commit: bool = True) -> str:
    """Store ``content`` as a request does; its row is committed unless ``commit`` is off (the request died)."""
    outcome, row = files.store_stream(iter([content]))
    assert outcome.sha256 is not None
    if row is not None and commit:
        with writer(store.engine).begin() as connection:
            insert_blob(connection, row)
    return outcome.sha256


def read(files: FileStore, sha256: str) -> bytes:
    return b"".join(files.open(sha256))


@pytest.fixture
def local_blobs(store: Store) -> BlobStore:
    return store.files.blobs


def test_an_object_no_row_names_is_removed_once_past_the_grace_and_a_named_one_never(
    store: Store, local_blobs: BlobStore
) -> None:
    files = files_over(store, local_blobs)
    kept = stored(store, files, b"a file whose event committed" * 100)
    stored(store, files, b"a file whose request died before its commit" * 100, commit=False)
    assert len(list(local_blobs.list(f"{FILES_FOLDER}/"))) == 2

    now = sweep_files(store.engine, local_blobs)
    assert (now.listed, now.unreferenced, now.young) == (2, 0, 1)
    assert len(list(local_blobs.list(f"{FILES_FOLDER}/"))) == 2

    later = sweep_files(store.engine, local_blobs, now=datetime.now(UTC) + LATER)
    assert (later.listed, later.unreferenced, later.young) == (2, 1, 0)
    assert later.unreferenced_bytes > len(b"a file whose request died before its commit" * 100)  # sealed: larger
    assert len(list(local_blobs.list(f"{FILES_FOLDER}/"))) == 1
    assert read(files, kept) == b"a file whose event committed" * 100

    years = sweep_files(store.engine, local_blobs, now=datetime.now(UTC) + timedelta(days=3650))
    assert (years.listed, years.unreferenced) == (1, 0)
    assert read(files, kept) == b"a file whose event committed" * 100


def test_two_requests_storing_one_new_file_leave_one_object_the_commit_kept_no_row_for(
    store: Store, local_blobs: BlobStore
) -> None:
    # Both write before either commits (neither finds the other's row); the commit keeps the first row.
    files = files_over(store, local_blobs)
    content = os.urandom(300_000)
    first, first_row = files.store_stream(iter([content]))
    _, second_row = files.store_stream(iter([content]))
    assert first_row is not None and second_row is not None
    assert first_row["object_key"] != second_row["object_key"]
    with writer(store.engine).begin() as connection:
        insert_blob(connection, first_row)
        insert_blob(connection, second_row)

    report = sweep_files(store.engine, local_blobs, now=datetime.now(UTC) + LATER)
    assert report.unreferenced == 1
    assert list(local_blobs.list(f"{FILES_FOLDER}/")) == [first_row["object_key"]]
    assert read(files, first.sha256 or "") == content


def test_a_dry_run_counts_and_removes_nothing(store: Store, local_blobs: BlobStore) -> None:
    files = files_over(store, local_blobs)
    stored(store, files, b"orphan" * 1000, commit=False)
    partial = staging_file(local_blobs, age=LATER)

    report = sweep_files(store.engine, local_blobs, now=datetime.now(UTC) + LATER, dry_run=True)
    assert (report.unreferenced, report.partials, report.dry_run) == (1, 0, True)
    assert len(list(local_blobs.list(f"{FILES_FOLDER}/"))) == 1
    assert partial.exists()


def staging_file(blobs: BlobStore, age: timedelta, name: str = "0123456789abcdef#3") -> Path:
    """The staging file of a local put a crash cut short, last written ``age`` ago."""
    root = blobs.local_root
    assert root is not None
    path = root / FILES_FOLDER / "01" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a sealed file")
    then = time.time() - age.total_seconds()
    os.utime(path, (then, then))
    return path


def test_staging_files_of_cut_puts_are_removed_once_old_and_never_while_young(
    store: Store, local_blobs: BlobStore
) -> None:
    old = staging_file(local_blobs, age=LATER, name="aaaa#1")
    young = staging_file(local_blobs, age=timedelta(seconds=5), name="bbbb#2")
    not_staging = staging_file(local_blobs, age=LATER, name="cccc#x")  # no put writes this: not ours to judge
    report = sweep_files(store.engine, local_blobs)
    assert report.partials == 1
    assert not old.exists() and young.exists() and not_staging.exists()


def test_batches_past_the_first_are_judged_like_the_first(store: Store, local_blobs: BlobStore) -> None:
    # 1,234 objects (three batches of the listing), every tenth without a row.
    rows: list[dict[str, Any]] = []
    orphans = set()
    for index in range(1234):
        key = f"{FILES_FOLDER}/{index % 100:02d}/{index:032x}"
        local_blobs.put(key, [b"x"])
        if index % 10 == 0:
            orphans.add(key)
            continue
        rows.append(
            {
                "sha256": f"{index:064x}",
                "size": 1,
                "object_key": key,
                "content_sealed": None,
                "master_key_id": "k",
                "wrapped_key": b"w",
                "created_at": datetime.now(UTC),
            }
        )
    with writer(store.engine).begin() as connection:
        for row in rows:
            insert_blob(connection, row)

    report = sweep_files(store.engine, local_blobs, now=datetime.now(UTC) + LATER)
    assert (report.listed, report.unreferenced) == (1234, len(orphans))
    left = set(local_blobs.list(f"{FILES_FOLDER}/"))
    assert left == {row["object_key"] for row in rows}


def test_a_sweep_asked_to_stop_ends_before_its_next_batch(store: Store, local_blobs: BlobStore) -> None:
    files = files_over(store, local_blobs)
    stored(store, files, b"orphan" * 1000, commit=False)
    report = sweep_files(store.engine, local_blobs, now=datetime.now(UTC) + LATER, stopping=lambda: True)
    assert (report.listed, report.unreferenced) == (0, 0)
    assert len(list(local_blobs.list(f"{FILES_FOLDER}/"))) == 1


def test_the_sweep_over_s3_removes_only_the_unnamed_object(store: Store, s3: S3Server, s3_env: object) -> None:
    blobs = BlobStore.from_url(s3.url())
    files = files_over(store, blobs)
    kept = stored(store, files, os.urandom(200_000))
    stored(store, files, os.urandom(200_000), commit=False)
    assert sweep_files(store.engine, blobs).young == 1

    report = sweep_files(store.engine, blobs, now=datetime.now(UTC) + LATER)
    assert (report.listed, report.unreferenced, report.partials) == (2, 1, 0)
    assert len(list(blobs.list(f"{FILES_FOLDER}/"))) == 1
    assert len(read(files, kept)) == 200_000
