"""The blob store: streamed, atomic puts and gets of opaque bytes by key, over obstore.

Chosen by URL: ``file:///abs/folder``, ``memory://`` or ``s3://bucket/prefix`` (credentials, region and endpoint
from the standard ``AWS_*`` variables). Storage errors are translated here: a missing object is ``NotFound``,
anything else the store could not do is ``StoreUnavailable``. Messages name keys, never contents.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import obstore
from obstore.exceptions import BaseError
from obstore.exceptions import NotFoundError as _ObstoreNotFound
from obstore.store import LocalStore, MemoryStore, S3Store

from casehooks.errors import ConfigurationError, NotFound, StoreUnavailable

if TYPE_CHECKING:
    from obstore import GetResult
    from obstore.store import ObjectStore

# What obstore raises for storage failures; a missing object is FileNotFoundError (an OSError) on every store.
_STORE_ERRORS = (BaseError, OSError)
_NOT_FOUND = (FileNotFoundError, _ObstoreNotFound)
# Up to buffer size * _UPLOAD_CONCURRENCY bytes are in flight during a put. S3 parts must be >= 5 MiB; a local
# folder takes small writes, so a put there holds about one MiB however large the file.
_S3_BUFFER_SIZE = 8 * 1024 * 1024
_LOCAL_BUFFER_SIZE = 1024 * 1024
_UPLOAD_CONCURRENCY = 4
_READ_CHUNK_SIZE = 1024 * 1024
# obstore refuses empty, "." and ".." segments; LocalStore reserves "name#N" for its staging files.
# Looked up, never written: its answer, found or not, shows the store is reachable.
_PROBE_KEY = "casehooks-readiness-probe"
_PROBE_TIMEOUT = "2s"
_KEY_SEGMENT = re.compile(r"[^/#\x00-\x1f\x7f]+")
_STAGING = re.compile(r"[^/#]+#[0-9]+")


class BlobStore:
    """Opaque blobs by ``/``-separated key. Safe to share between threads.

    ``fsync`` is called with a file descriptor to make a local put durable (the seam a test observes).
    """

    def __init__(
        self, store: ObjectStore, *, fsync: Callable[[int], None] = os.fsync, probe: ObjectStore | None = None
    ) -> None:
        self._store = store
        # Readiness asks ``probe`` (the same store without retries and with a short timeout) when given.
        self._probe = probe if probe is not None else store
        self._buffer_size = _S3_BUFFER_SIZE if isinstance(store, S3Store) else _LOCAL_BUFFER_SIZE
        self._fsync = fsync
        # A local folder's root, whose files and folders a put syncs to disk; None for the other stores.
        self._root = Path(store.prefix) if isinstance(store, LocalStore) and store.prefix is not None else None
        # Folders under the root whose own entry a put has synced to disk: a later put into one of them syncs the
        # file and that folder only (two fsyncs, not one for every folder up to the root).
        self._durable_folders: set[Path] = set()

    def __repr__(self) -> str:
        return f"BlobStore({self._store!r})"

    @classmethod
    def from_url(cls, url: str, *, fsync: Callable[[int], None] = os.fsync) -> BlobStore:
        """The store a URL names; an unsupported or malformed URL is a ``ConfigurationError``."""
        parts = urlsplit(url)
        try:
            if parts.scheme == "memory":
                return cls(MemoryStore(), fsync=fsync)
            if parts.scheme == "file":
                return cls(_local_store(parts.netloc, unquote(parts.path)), fsync=fsync)
            if parts.scheme == "s3":
                bucket, prefix = parts.netloc, parts.path.strip("/")
                return cls(_s3_store(bucket, prefix), fsync=fsync, probe=_s3_store(bucket, prefix, probe=True))
        except (*_STORE_ERRORS, ValueError) as exc:
            reason = type(exc).__name__
            raise ConfigurationError(f"cannot open blob store {parts.scheme}://{parts.netloc}: {reason}") from exc
        raise ConfigurationError(f"unsupported blob store URL scheme {parts.scheme!r} (use file, memory or s3)")

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store the bytes of ``chunks`` under ``key``, replacing any blob there; returns the bytes written.

        Readers see the previous blob or the whole new one, never a part: objects appear only when the upload
        completes (LocalStore writes a ``key#N`` staging file and renames it; S3 completes a multipart upload),
        and an error, including one raised by ``chunks``, aborts the upload. Errors from ``chunks`` propagate
        unchanged. ``chunks`` is consumed in the caller's thread, so it may itself read from a blob store.

        When ``put`` returns, the blob survives a power cut: a local file, its folder and every folder above up
        to the store's root are fsync'd (above the first one this store synced before and that still exists);
        an S3 object exists once the upload completes.
        """
        _check_key(key)
        durable = self._durable_folder(self._root, key) if self._root is not None else None
        source = iter(chunks)
        written = 0
        source_failed = False
        try:
            with obstore.open_writer(
                self._store, key, buffer_size=self._buffer_size, max_concurrency=_UPLOAD_CONCURRENCY
            ) as writer:
                while True:
                    try:
                        chunk = next(source)
                    except StopIteration:
                        break
                    except BaseException:
                        source_failed = True
                        raise
                    writer.write(chunk)
                    written += len(chunk)
        except _STORE_ERRORS as exc:
            if source_failed:
                raise
            raise _unavailable("write", key, exc) from exc
        if self._root is not None and durable is not None:
            self._sync(self._root, key, durable)
        return written

    def _durable_folder(self, root: Path, key: str) -> Path:
        """The nearest folder above ``key`` that exists and whose own entry a put of this store synced; else root.

        Asked before the write: a folder that does not exist then is made by the write, and synced by it.
        """
        for folder in root.joinpath(*key.split("/")).parents:
            if folder == root:
                break
            if folder in self._durable_folders:
                if folder.is_dir():
                    return folder
                self._durable_folders.discard(folder)  # removed (by an operator) since: synced again below
        return root

    def _sync(self, root: Path, key: str, durable: Path) -> None:
        # LocalStore wrote a staging file and renamed it into place without fsync: sync the file's data and its
        # folder (the rename), then each folder above, up to one whose own entry is on the disk already.
        path = root.joinpath(*key.split("/"))
        synced: list[Path] = []
        try:
            self._sync_path(path, os.O_RDONLY)
            for folder in path.parents:
                self._sync_path(folder, os.O_RDONLY | os.O_DIRECTORY)
                if folder in (durable, root):
                    break
                synced.append(folder)  # its entry, in the folder above, is synced next
        except OSError as exc:
            raise _unavailable("sync", key, exc) from exc
        self._durable_folders.update(synced)

    def _sync_path(self, path: Path, flags: int) -> None:
        descriptor = os.open(path, flags)
        try:
            self._fsync(descriptor)
        finally:
            os.close(descriptor)

    def get(self, key: str) -> Iterator[bytes]:
        """The blob's bytes in chunks of about 1 MiB; ``NotFound`` at once if there is no such blob."""
        _check_key(key)
        try:
            result = obstore.get(self._store, key)
        except _STORE_ERRORS as exc:
            raise _translate("read", key, exc) from exc
        return _read(result, key)

    async def get_async(self, key: str) -> AsyncIterator[bytes]:
        """``get`` for an event loop (a streamed web response); ``NotFound`` when awaited."""
        _check_key(key)
        try:
            result = await obstore.get_async(self._store, key)
        except _STORE_ERRORS as exc:
            raise _translate("read", key, exc) from exc
        return _read_async(result, key)

    @property
    def local_root(self) -> Path | None:
        """The folder of a ``file://`` store; None for the others."""
        return self._root

    def reachable(self) -> bool:
        """Whether the store answers now (a lookup of a key that is never written; readiness); a local folder
        must also take writes (not on a read-only file system, nor closed to this process)."""
        if self._root is not None and not os.access(self._root, os.W_OK):
            return False
        try:
            obstore.head(self._probe, _PROBE_KEY)
        except _NOT_FOUND:
            return True
        except _STORE_ERRORS:
            return False
        return True

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        try:
            self.size(key)
        except NotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """The blob's length in bytes."""
        _check_key(key)
        try:
            return obstore.head(self._store, key)["size"]
        except _STORE_ERRORS as exc:
            raise _translate("stat", key, exc) from exc

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""
        _check_key(key)
        try:
            obstore.delete(self._store, key)
        except _NOT_FOUND:
            return
        except _STORE_ERRORS as exc:
            raise _unavailable("delete", key, exc) from exc

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys that start with ``prefix`` (plain string prefix), in no particular order."""
        return (entry.key for entry in self.entries(prefix))

    def entries(self, prefix: str = "") -> Iterator[BlobEntry]:
        """The blobs whose keys start with ``prefix``, with their sizes and times, in no particular order."""
        folder = prefix.rpartition("/")[0]
        if folder:
            _check_key(folder)
        return self._entries(folder, prefix)

    def _entries(self, folder: str, prefix: str) -> Iterator[BlobEntry]:
        try:
            # obstore matches prefixes by whole segments, so list the enclosing folder and filter.
            for batch in obstore.list(self._store, folder or None):
                for meta in batch:
                    # A name no put writes (put there by hand, e.g. ``name#x``) is not a blob of this store.
                    if meta["path"].startswith(prefix) and _valid_key(meta["path"]):
                        yield BlobEntry(meta["path"], meta["size"], meta["last_modified"])
        except _STORE_ERRORS as exc:
            raise _unavailable("list", prefix, exc) from exc

    def remove_partials(self, folder: str, before: datetime) -> int:
        """Remove the staging files of local puts a crash cut short under ``folder``, last written before
        ``before``; how many. Listing never shows them (nor does any other store keep them: an S3 upload that
        never completed is the bucket's to expire)."""
        if self._root is None:
            return 0
        _check_key(folder)
        removed = 0
        cutoff = before.timestamp()
        for path in self._root.joinpath(*folder.split("/")).rglob("*#*"):
            if _STAGING.fullmatch(path.name) is None:
                continue
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # renamed into place, or removed, meanwhile
            except OSError as exc:
                raise _unavailable("remove", folder, exc) from exc
        return removed


@dataclass(frozen=True, slots=True)
class BlobEntry:
    """A stored blob as a listing tells it: its key, its size in bytes and when it was last written."""

    key: str
    size: int
    modified: datetime


def _local_store(host: str, path: str) -> LocalStore:
    if host not in ("", "localhost") or not os.path.isabs(path):
        raise ConfigurationError("a file blob store URL needs an absolute path: file:///abs/folder")
    # Owner-only whatever the process's umask (the command line sets 077; an app embedding the receiver may
    # not): the files under it are patient data, sealed or not.
    os.makedirs(path, mode=0o700, exist_ok=True)
    return LocalStore(path, mkdir=True)


def _s3_store(bucket: str, prefix: str, *, probe: bool = False) -> S3Store:
    if not bucket:
        raise ConfigurationError("an s3 blob store URL needs a bucket: s3://bucket/prefix")
    # S3Store reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL itself; it only
    # refuses plain HTTP (a local MinIO, say) unless told.
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT") or ""
    allow_http = endpoint.lower().startswith("http://")
    if not probe:
        return S3Store(bucket, prefix=prefix or None, client_options={"allow_http": allow_http})
    return S3Store(
        bucket,
        prefix=prefix or None,
        client_options={"allow_http": allow_http, "timeout": _PROBE_TIMEOUT, "connect_timeout": _PROBE_TIMEOUT},
        retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=2)},
    )


def _valid_key(key: str) -> bool:
    return all(_KEY_SEGMENT.fullmatch(segment) and segment not in (".", "..") for segment in key.split("/"))


def _check_key(key: str) -> None:
    if not _valid_key(key):
        raise ValueError(f"invalid blob key {key!r}: use non-empty '/'-separated segments without '#'")


def _read(result: GetResult, key: str) -> Iterator[bytes]:
    try:
        yield from result.stream(min_chunk_size=_READ_CHUNK_SIZE)
    except _STORE_ERRORS as exc:
        raise _translate("read", key, exc) from exc


async def _read_async(result: GetResult, key: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in result.stream(min_chunk_size=_READ_CHUNK_SIZE):
            yield chunk
    except _STORE_ERRORS as exc:
        raise _translate("read", key, exc) from exc


def _translate(operation: str, key: str, exc: Exception) -> NotFound | StoreUnavailable:
    if isinstance(exc, _NOT_FOUND):
        return NotFound("blob", key)
    return _unavailable(operation, key, exc)


def _unavailable(operation: str, key: str, exc: Exception) -> StoreUnavailable:
    # The class name only: obstore's messages are safe today, but they are not ours to promise.
    return StoreUnavailable(f"blob store could not {operation} {key}: {type(exc).__name__}")
