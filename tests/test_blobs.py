from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from obstore.store import S3Store

from casehooks.blobs import BlobStore
from casehooks.crypto import DataKey, Keyring
from casehooks.errors import ConfigurationError, CryptoError, NotFound, StoreUnavailable
from tests.services import S3Server

pytestmark = pytest.mark.integration


@pytest.fixture(params=["local", "memory", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return BlobStore.from_url((tmp_path / "blobs").as_uri())
    if request.param == "s3":
        # A real S3-compatible server on loopback, a fresh prefix per test.
        request.getfixturevalue("s3_env")
        server: S3Server = request.getfixturevalue("s3")
        return BlobStore.from_url(server.url())
    return BlobStore.from_url("memory://")


def read(blobs: BlobStore, key: str) -> bytes:
    return b"".join(blobs.get(key))


def many_chunks(count: int, size: int) -> Iterator[bytes]:
    for index in range(count):
        yield bytes([index % 256]) * size


def test_put_then_get_returns_the_bytes(blobs: BlobStore) -> None:
    blobs.put("cases/1/attachment", [b"Jane ", b"Doe"])
    assert read(blobs, "cases/1/attachment") == b"Jane Doe"


def test_put_returns_the_bytes_written(blobs: BlobStore) -> None:
    assert blobs.put("a", [b"abc", b"", b"de"]) == 5


def test_empty_blob_round_trips(blobs: BlobStore) -> None:
    assert blobs.put("empty", []) == 0
    assert read(blobs, "empty") == b""
    assert blobs.size("empty") == 0


def test_put_streams_an_iterator_of_many_chunks(blobs: BlobStore) -> None:
    written = blobs.put("big", many_chunks(3000, 7001))
    assert written == 3000 * 7001
    assert read(blobs, "big") == b"".join(many_chunks(3000, 7001))


def test_put_replaces_an_existing_blob(blobs: BlobStore) -> None:
    blobs.put("a", [b"old contents"])
    blobs.put("a", [b"new"])
    assert read(blobs, "a") == b"new"


def test_get_of_missing_blob_is_not_found_at_once(blobs: BlobStore) -> None:
    with pytest.raises(NotFound) as caught:
        blobs.get("cases/missing")
    assert (caught.value.kind, caught.value.key) == ("blob", "cases/missing")


def test_size_of_missing_blob_is_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFound):
        blobs.size("missing")


def test_size_is_the_stored_length(blobs: BlobStore) -> None:
    blobs.put("a", [b"x" * 1234])
    assert blobs.size("a") == 1234


def test_exists_tells_stored_from_missing(blobs: BlobStore) -> None:
    blobs.put("here", [b"1"])
    assert blobs.exists("here")
    assert not blobs.exists("gone")


def test_delete_removes_the_blob(blobs: BlobStore) -> None:
    blobs.put("a", [b"1"])
    blobs.delete("a")
    assert not blobs.exists("a")


def test_delete_of_missing_blob_is_not_an_error(blobs: BlobStore) -> None:
    blobs.delete("never/stored")
    assert not blobs.exists("never/stored")


def test_list_returns_every_key(blobs: BlobStore) -> None:
    for key in ["a", "cases/1/x", "cases/2/y"]:
        blobs.put(key, [b"1"])
    assert sorted(blobs.list()) == ["a", "cases/1/x", "cases/2/y"]


def test_list_filters_by_string_prefix_within_a_segment(blobs: BlobStore) -> None:
    for key in ["cases/10/x", "cases/11/y", "cases/2/z", "events/1"]:
        blobs.put(key, [b"1"])
    assert sorted(blobs.list("cases/1")) == ["cases/10/x", "cases/11/y"]


def test_list_of_folder_prefix_returns_its_keys(blobs: BlobStore) -> None:
    for key in ["cases/1/x", "cases/1/y", "cases/10/z"]:
        blobs.put(key, [b"1"])
    assert sorted(blobs.list("cases/1/")) == ["cases/1/x", "cases/1/y"]


def test_list_of_unknown_prefix_is_empty(blobs: BlobStore) -> None:
    blobs.put("a", [b"1"])
    assert list(blobs.list("nothing/here")) == []


def test_entries_give_each_blob_its_size_and_when_it_was_written(blobs: BlobStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)  # the store's clock may trail ours a little
    blobs.put("files/ab/one", [b"12345"])
    blobs.put("files/cd/two", [b"1", b"23"])
    entries = sorted(blobs.entries("files/"), key=lambda entry: entry.key)
    assert [(entry.key, entry.size) for entry in entries] == [("files/ab/one", 5), ("files/cd/two", 3)]
    assert all(before <= entry.modified <= datetime.now(UTC) + timedelta(seconds=5) for entry in entries)


def test_a_new_local_store_folder_is_owner_only_under_a_permissive_umask(tmp_path: Path) -> None:
    before = os.umask(0o022)  # what an app embedding the receiver may run with
    try:
        blobs = BlobStore.from_url((tmp_path / "blobs").as_uri())
        blobs.put("files/ab/one", [b"sealed"])
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "blobs").stat().st_mode) == 0o700


def test_a_local_listing_leaves_out_names_no_put_writes(tmp_path: Path) -> None:
    blobs = BlobStore.from_url((tmp_path / "blobs").as_uri())
    blobs.put("files/ab/kept", [b"1"])
    (tmp_path / "blobs" / "files" / "ab" / "by-hand#x").write_bytes(b"not a blob")
    (tmp_path / "blobs" / "files" / "ab" / "staging#2").write_bytes(b"a put under way")
    assert list(blobs.list("files/")) == ["files/ab/kept"]


@pytest.mark.parametrize("key", ["", "a//b", "../etc/passwd", "a/./b", "a/", "/a", "file#1", "a\nb"])
def test_invalid_key_is_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        blobs.put(key, [b"1"])


def test_error_from_the_source_propagates_and_stores_nothing(blobs: BlobStore) -> None:
    def failing() -> Iterator[bytes]:
        yield b"Jane Doe" * 1024 * 1024
        raise CryptoError("stream is truncated")

    with pytest.raises(CryptoError, match="truncated"):
        blobs.put("partial", failing())
    assert not blobs.exists("partial")
    assert list(blobs.list()) == []


def test_failed_replacement_keeps_the_previous_blob(blobs: BlobStore) -> None:
    blobs.put("a", [b"previous"])

    def failing() -> Iterator[bytes]:
        yield b"next" * 1024 * 1024
        raise OSError("disk read failed")

    with pytest.raises(OSError, match="disk read failed"):
        blobs.put("a", failing())
    assert read(blobs, "a") == b"previous"


def test_put_source_may_read_from_a_blob_store(blobs: BlobStore) -> None:
    blobs.put("original", [os.urandom(100_000)])
    blobs.put("copy", blobs.get("original"))
    assert read(blobs, "copy") == read(blobs, "original")


def test_encrypted_stream_round_trips_through_the_store(blobs: BlobStore) -> None:
    data_key = DataKey.generate(Keyring.parse(Keyring.generate_entry()))
    data = os.urandom(300_000)
    blobs.put("sealed", data_key.encrypt_stream([data]))
    assert b"".join(data_key.decrypt_stream(blobs.get("sealed"))) == data


def test_get_async_streams_the_blob(blobs: BlobStore) -> None:
    blobs.put("a", [b"Jane ", b"Doe"])

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in await blobs.get_async("a")])

    assert asyncio.run(collect()) == b"Jane Doe"


def test_get_async_of_missing_blob_is_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFound):
        asyncio.run(blobs.get_async("missing"))


# Local folder specifics


def test_file_url_creates_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "blobs with space"
    BlobStore.from_url(folder.as_uri()).put("a", [b"1"])
    assert (folder / "a").read_bytes() == b"1"


def test_local_get_streams_a_large_blob_in_chunks_of_about_one_mib(tmp_path: Path) -> None:
    blobs = BlobStore.from_url(tmp_path.as_uri())
    data = os.urandom(5 * 1024 * 1024 + 1)
    blobs.put("big", [data])
    chunks = list(blobs.get("big"))
    assert max(len(chunk) for chunk in chunks) <= 2 * 1024 * 1024
    assert b"".join(chunks) == data


def test_local_keys_are_files_under_the_folder(tmp_path: Path) -> None:
    BlobStore.from_url(tmp_path.as_uri()).put("cases/1/file", [b"content"])
    assert (tmp_path / "cases" / "1" / "file").read_bytes() == b"content"


def test_local_put_is_invisible_until_complete(tmp_path: Path) -> None:
    blobs = BlobStore.from_url(tmp_path.as_uri())
    seen: list[bool] = []

    def watched() -> Iterator[bytes]:
        for _ in range(3):
            yield b"x" * (3 * 1024 * 1024)
            seen.append((tmp_path / "cases" / "file").exists())
            seen.append(blobs.exists("cases/file"))

    blobs.put("cases/file", watched())
    assert seen == [False] * 6
    assert blobs.size("cases/file") == 9 * 1024 * 1024


def test_failed_local_put_leaves_no_staging_file(tmp_path: Path) -> None:
    blobs = BlobStore.from_url(tmp_path.as_uri())

    def failing() -> Iterator[bytes]:
        yield b"x" * (9 * 1024 * 1024)
        raise CryptoError("bad segment")

    with pytest.raises(CryptoError):
        blobs.put("cases/file", failing())
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_unwritable_folder_is_store_unavailable(tmp_path: Path) -> None:
    blobs = BlobStore.from_url(tmp_path.as_uri())
    (tmp_path / "cases").write_bytes(b"a file where a folder should be")
    with pytest.raises(StoreUnavailable, match="could not write cases/1") as caught:
        blobs.put("cases/1", [b"Jane Doe"])
    assert "Jane" not in str(caught.value)


# URLs


@pytest.mark.parametrize("url", ["ftp://host/x", "gs://bucket", "/just/a/path", "blobs"])
def test_unsupported_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="unsupported"):
        BlobStore.from_url(url)


@pytest.mark.parametrize("url", ["file://relative/path", "file://"])
def test_file_url_without_absolute_path_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="absolute path"):
        BlobStore.from_url(url)


def test_s3_url_without_bucket_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="bucket"):
        BlobStore.from_url("s3:///prefix")


def test_s3_url_sets_bucket_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert repr(BlobStore.from_url("s3://phi-bucket/casehooks/blobs")) == (
        'BlobStore(S3Store(bucket="phi-bucket", prefix="casehooks/blobs"))'
    )


def test_unreachable_s3_endpoint_is_store_unavailable() -> None:
    store = S3Store(
        "bucket",
        endpoint="http://127.0.0.1:9",
        access_key_id="id",
        secret_access_key="secret",
        region="us-east-1",
        client_options={"allow_http": True},
        retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=1)},
    )
    with pytest.raises(StoreUnavailable, match="could not read a"):
        BlobStore(store).get("a")


def recording(root: Path) -> tuple[BlobStore, list[str]]:
    """A local store at ``root`` that records (and does) every fsync, by path."""
    synced: list[str] = []

    def recording_fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        os.fsync(descriptor)

    return BlobStore.from_url(root.as_uri(), fsync=recording_fsync), synced


def up_to_root(root: Path, key: str) -> list[str]:
    """The file at ``key``, then every folder above it up to ``root``: what a first put syncs, in order."""
    path = root.joinpath(*key.split("/"))
    return [str(step) for step in (path, *path.parents) if step == root or root in step.parents]


def test_local_put_fsyncs_the_file_then_every_folder_up_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    blobs, synced = recording(root)
    blobs.put("cases/1/attachment", [b"Jane Doe"])

    assert synced == up_to_root(root, "cases/1/attachment")
    assert len(synced) == 4


def test_a_put_into_a_folder_made_durable_before_syncs_the_file_and_that_folder(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    blobs, synced = recording(root)
    blobs.put("files/ab/first", [b"Jane Doe"])
    synced.clear()

    blobs.put("files/ab/second", [b"John Roe"])
    assert synced == [str(root / "files" / "ab" / "second"), str(root / "files" / "ab")]

    synced.clear()
    blobs.put("files/cd/third", [b"Mary Major"])  # a new folder: its entry in files/ is synced too
    assert synced == [str(root / "files" / "cd" / "third"), str(root / "files" / "cd"), str(root / "files")]


def test_a_folder_removed_and_made_again_is_synced_up_to_the_root_again(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    blobs, synced = recording(root)
    blobs.put("files/ab/first", [b"Jane Doe"])
    blobs.delete("files/ab/first")
    (root / "files" / "ab").rmdir()
    (root / "files").rmdir()  # an operator clears the folder while the receiver runs
    synced.clear()

    blobs.put("files/ab/second", [b"John Roe"])
    assert synced == up_to_root(root, "files/ab/second")


def test_a_failed_sync_is_store_unavailable_and_names_no_contents(tmp_path: Path) -> None:
    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    blobs = BlobStore.from_url((tmp_path / "blobs").as_uri(), fsync=failing_fsync)
    with pytest.raises(StoreUnavailable) as caught:
        blobs.put("cases/1/attachment", [b"Jane Doe"])
    assert "Jane" not in str(caught.value)
    assert "sync" in str(caught.value)


def test_s3_and_memory_puts_call_no_fsync(s3_env: None, s3: S3Server) -> None:
    calls: list[int] = []
    for url in (s3.url(), "memory://"):
        BlobStore.from_url(url, fsync=calls.append).put("a", [b"x"])
    assert calls == []
