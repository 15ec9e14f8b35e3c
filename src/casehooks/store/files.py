"""Attachment files: decoded from base64 a slice at a time, encrypted, stored once per content (sha256).

A file of up to ``inline_bytes`` (``CASEHOOKS_INLINE_FILE_BYTES``, 64 KiB by default) is kept in its ``blobs``
row instead of the blob store: sealed the same way under a data key of its own, written by the event's own
commit. Creating, renaming and fsyncing a file and its folder cost about 1 ms of CPU here, more than the rest of
a small event's storing; a row costs a few microseconds and shares the batch's one fsync. Larger files stream to
the blob store, so the database never holds a large one.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from casehooks.blobs import BlobStore
from casehooks.crypto import DataKey, Keyring, WrappedKey
from casehooks.errors import NotFound
from casehooks.events import Content
from casehooks.store.mapping import FileOutcome
from casehooks.store.tables import BlobRow, EventRow

# Built once: building a statement costs more than running it (a lookup comes with every file).
_EVENT_STORED = select(EventRow.seq).where(EventRow.id == bindparam("key"))
_FILE_KNOWN = select(BlobRow.sha256).where(BlobRow.sha256 == bindparam("key"))

# Files up to this size are decoded whole and hashed before they are written (larger ones stream).
HASH_FIRST_BYTES = 1 << 20
# Files up to this size are kept in their row by default, not in the blob store.
INLINE_FILE_BYTES = 64 * 1024


class FileStore:
    """Stores attachment files, each encrypted with a data key of its own: a small one in its ``blobs`` row, a
    larger one in the blob store."""

    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        keyring: Keyring,
        clock: Callable[[], datetime],
        *,
        inline_bytes: int = INLINE_FILE_BYTES,
    ) -> None:
        self._engine = engine
        self._blobs = blobs
        self._keyring = keyring
        self._clock = clock
        self._inline_bytes = inline_bytes

    @property
    def blobs(self) -> BlobStore:
        return self._blobs

    def store_content(self, content: Content) -> tuple[FileOutcome, dict[str, Any] | None]:
        """Store base64 ``content``; returns what became of it and the ``blobs`` row to insert (None if known;
        a small file's row is offered even then, and the commit keeps the first).

        One pass, a slice at a time: each decoded slice is hashed and encrypted into a freshly named object, so
        memory stays at one slice whatever the file's size. A file stored before is kept once.
        """
        if not content.is_base64():
            return FileOutcome("pending" if content.is_url else "invalid"), None
        if self.hashed_first(content):
            data = b"".join(content.iter_bytes())
            if len(data) <= self._inline_bytes:
                # Kept in its row: nothing is written outside the database, so nothing is looked up first. A
                # file stored before is one more row offered to the commit, which keeps the first (on conflict,
                # nothing): a lookup would cost more than the sealing it saves.
                return self._store_new((data,), look_up=False)
            # A file for the blob store is hashed before anything is written: one stored before (the same
            # document attached again, a redelivery under a new id) costs a lookup, not a write, two fsyncs and
            # a delete.
            sha256 = hashlib.sha256(data).hexdigest()
            if self._known(sha256):
                return FileOutcome("stored", sha256, len(data)), None
            return self._store_new((data,), look_up=False)
        return self.store_stream(content.iter_bytes())

    @staticmethod
    def hashed_first(content: Content | None) -> bool:
        """Whether storing ``content`` looks its hash up before writing anything (or writes nothing at all)."""
        return content is None or not content.is_base64() or content.decoded_size() <= HASH_FIRST_BYTES

    def store_stream(self, chunks: Iterable[bytes]) -> tuple[FileOutcome, dict[str, Any] | None]:
        """Store bytes whose hash is not known in advance: encrypt while hashing, in one pass.

        The object gets a fresh name (the ``blobs`` row maps the content's sha256 to it, so two writers of one
        new file never overwrite each other); if the same content was stored before, the new object is removed
        and the known one is used. A file that ends within ``inline_bytes`` is sealed into its row instead.
        Returns the outcome and the ``blobs`` row to insert (None when already known).
        """
        return self._store_new(chunks, look_up=True)

    def _store_new(self, chunks: Iterable[bytes], *, look_up: bool) -> tuple[FileOutcome, dict[str, Any] | None]:
        # ``look_up``: once hashed, ask whether the file is stored already. Not when the caller asked an instant
        # ago, nor for a small file kept in its row (a file stored by another request meanwhile is caught at
        # commit either way: the first row wins).
        digest = hashlib.sha256()
        size = 0

        def hashed(source: Iterable[bytes]) -> Iterator[bytes]:
            nonlocal size
            for chunk in source:
                digest.update(chunk)
                size += len(chunk)
                yield chunk

        data_key = DataKey.generate(self._keyring)
        source = iter(chunks)
        head, whole = _read_up_to(source, self._inline_bytes)
        key: str | None = None
        sealed: bytes | None = None
        if whole:
            sealed = b"".join(data_key.encrypt_stream(hashed(head)))
        else:
            name = uuid.uuid4().hex
            key = f"files/{name[:2]}/{name}"
            self._blobs.put(key, data_key.encrypt_stream(hashed(itertools.chain(head, source))))
        sha256 = digest.hexdigest()
        if look_up and self._known(sha256):
            if key is not None:
                self._blobs.delete(key)
            return FileOutcome("stored", sha256, size), None
        # Wrapped again if the active master key changed while the file streamed in (a rotation by another
        # process): the row lands under the key rotation expects, not under one it may be retiring.
        wrapped = self._keyring.rewrap(data_key.wrapped)
        row = {
            "sha256": sha256,
            "size": size,
            "object_key": key,
            "content_sealed": sealed,
            "master_key_id": wrapped.key_id,
            "wrapped_key": wrapped.to_bytes(),
            "created_at": self._clock(),
        }
        return FileOutcome("stored", sha256, size), row

    def delete_object(self, key: str) -> None:
        """Remove an object ``store_stream`` wrote, when its row is not to be inserted after all."""
        self._blobs.delete(key)

    def event_stored(self, event_id: str) -> bool:
        with self._engine.connect() as connection:
            return connection.execute(_EVENT_STORED, {"key": event_id}).first() is not None

    def _known(self, sha256: str) -> bool:
        with self._engine.connect() as connection:
            return connection.execute(_FILE_KNOWN, {"key": sha256}).first() is not None

    def open(self, sha256: str, connection: Connection | None = None) -> Iterator[bytes]:
        """The decrypted bytes of a stored file, streamed."""
        query = select(BlobRow.object_key, BlobRow.wrapped_key, BlobRow.content_sealed).where(BlobRow.sha256 == sha256)
        if connection is None:
            with self._engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = connection.execute(query).first()
        if row is None:
            raise NotFound("file", sha256[:12])
        data_key = DataKey.open(self._keyring, WrappedKey.from_bytes(row.wrapped_key))
        if row.object_key is None:
            return data_key.decrypt_stream((row.content_sealed,))
        return data_key.decrypt_stream(self._blobs.get(row.object_key))


def _read_up_to(source: Iterator[bytes], limit: int) -> tuple[list[bytes], bool]:
    """The chunks of ``source`` while they come to no more than ``limit`` bytes (and the one that passes it), and
    whether that was all of them: a file is kept in its row only when it ends within the limit."""
    head: list[bytes] = []
    total = 0
    if limit <= 0:
        return head, False
    for chunk in source:
        head.append(chunk)
        total += len(chunk)
        if total > limit:
            return head, False
    return head, True


class StoredFile(Content):
    """Content of an attachment whose file is stored (in its row or the blob store): read, decrypted, when asked."""

    __slots__ = ("_opener", "_size")

    def __init__(self, marker: str, size: int, opener: Callable[[], Iterator[bytes]]) -> None:
        super().__init__(marker)
        self._size = size
        self._opener = opener

    @property
    def text(self) -> str:
        """The base64 text of the file, rebuilt on demand (prefer ``iter_bytes`` for large files)."""
        return base64.b64encode(self.read()).decode("ascii")

    @property
    def is_url(self) -> bool:
        return False

    def is_base64(self) -> bool:
        return True

    def decoded_size(self) -> int:
        return self._size

    def iter_bytes(self, chunk_chars: int = 0) -> Iterator[bytes]:
        return self._opener()

    def __repr__(self) -> str:
        return f"StoredFile({self._size} bytes)"
