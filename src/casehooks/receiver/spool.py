"""Large bodies on disk: spooled as they arrive, verified and hashed in one pass, their files streamed out.

A body whose declared length passes the threshold is written to a file of its own (mode 0600, in a folder of
the data directory) instead of memory. After its signature verifies, ``split_contents`` takes each large
attachment ``content`` out of it, decoding the base64 into the encrypting blob writer a slice at a time, and
the small document left (placeholders for the files) is parsed with the ordinary models. The spool is PHI: it is
encrypted as it is written (AES-CTR under a key of its own, held in this process's memory only, so a spool a crash
leaves behind can never be read), removed when the request is answered, whatever the answer, and leftovers of a
crash are removed at start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from casehooks.errors import ContentError, SchemaError, SignatureError
from casehooks.events import Event, parse_event
from casehooks.events.streaming import split_contents
from casehooks.signing import Authenticator, BodyDigests
from casehooks.store import Store
from casehooks.store.files import FileStore
from casehooks.store.ingest import FILE_MARKER, Prepared, prepare
from casehooks.store.mapping import FileOutcome
from casehooks.store.quarantine import Refusal

READ_CHUNK = 1 << 20
_SLACK = 15  # what update_into asks beyond the input: a block less one byte
_Stored = tuple[FileOutcome, dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class SpoolPolicy:
    """Where large bodies are spooled, and from what declared length on."""

    folder: Path
    threshold: int

    def wants(self, declared: int | None) -> bool:
        return declared is not None and declared > self.threshold

    @contextlib.contextmanager
    def open(self) -> Iterator[tuple[Path, SpoolWriter]]:
        """A fresh spool file, owner-only and encrypted, removed (and its key forgotten) on leaving whatever
        happened."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.body"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        _KEYS[path] = secrets.token_bytes(32)
        try:
            with os.fdopen(descriptor, "wb") as file:
                yield path, SpoolWriter(file, _cipher(path).encryptor())
        finally:
            _KEYS.pop(path, None)
            path.unlink(missing_ok=True)

    def sweep(self) -> int:
        """Remove spools a crashed process left behind; returns how many."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.glob("*.body"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


# The key of each open spool, by its path: in memory only, forgotten when the spool is removed.
_KEYS: dict[Path, bytes] = {}
_NONCE = bytes(16)  # every spool has a fresh key, so one counter start serves


def _cipher(path: Path) -> Cipher[modes.CTR]:
    return Cipher(algorithms.AES(_KEYS[path]), modes.CTR(_NONCE))


class SpoolWriter:
    """Writes a body's chunks to its spool encrypted; CTR keeps the spool's size the body's size.

    Each chunk is encrypted into one buffer the writer keeps: a fresh bytes object per chunk costs more than the
    cipher itself."""

    def __init__(self, file: BinaryIO, encryptor: Any) -> None:
        self._file = file
        self._encryptor = encryptor
        self._out = bytearray()

    def write(self, chunk: bytes) -> int:
        if len(self._out) < len(chunk) + _SLACK:
            self._out = bytearray(len(chunk) + _SLACK)
        written = self._encryptor.update_into(chunk, self._out)
        return self._file.write(memoryview(self._out)[:written])

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        # Closed (so flushed) before anything reads the spool back.
        self._file.write(self._encryptor.finalize())
        self._file.close()


def read_chunks(path: Path) -> Iterator[memoryview]:
    """The spooled body's plain bytes, a chunk at a time: each chunk is a view of one buffer the reader reuses,
    valid until the next is asked for (copy what must outlive it)."""
    decryptor = _cipher(path).decryptor()
    read = bytearray(READ_CHUNK)
    plain = bytearray(READ_CHUNK + _SLACK)
    with path.open("rb", buffering=0) as file:
        while count := file.readinto(read):
            yield memoryview(plain)[: decryptor.update_into(memoryview(read)[:count], plain)]


def read_all(path: Path) -> bytes:
    """The spooled body whole (the paths that must read it so: a refusal to hold, a body read as a whole)."""
    body = bytearray()
    for chunk in read_chunks(path):
        body += chunk
    return cast(bytes, body)  # only read downstream: no copy to bytes


class _Prestored(FileStore):
    """The store's files, where contents already streamed out of the body are known by their placeholder."""

    def __init__(self, files: FileStore, stored: Mapping[str, _Stored]) -> None:
        vars(self).update(vars(files))
        self._stored = stored

    def store_content(self, content: Any) -> _Stored:
        known = self._stored.get(content.text)
        return known if known is not None else super().store_content(content)


def prepare_spooled(
    store: Store,
    authenticator: Authenticator,
    path: Path,
    headers: Mapping[str, str],
    digests: BodyDigests | None = None,
) -> Prepared | Refusal | None:
    """Authenticate, parse and prepare a spooled body; None when it must be read whole instead (its large
    content is not base64, or the event has no activity id to key it by). ``digests`` fed as the body arrived
    spare reading the spool once more to authenticate it."""
    try:
        if digests is None:
            body_sha256 = authenticator.authenticate_stream(read_chunks(path), headers)
        else:
            body_sha256 = digests.authenticate(headers)
    except SignatureError as exc:
        return Refusal(f"auth_{exc.reason.replace(' ', '_')}", f"authentication failed: {exc.reason}", 401)
    nonce = secrets.token_hex(16)

    def placeholder(index: int) -> str:
        return f"casehooks:stream:{nonce}:{index}"

    fresh: list[str] = []  # objects written here that no row names yet: removed if the event goes another way

    def store_stream(chunks: Iterator[bytes]) -> _Stored:
        outcome, row = store.files.store_stream(chunks)
        if row is not None and row["object_key"] is not None:  # a small file is in its row: nothing written yet
            fresh.append(row["object_key"])
        return outcome, row

    try:
        split = split_contents(read_chunks(path), store_stream, placeholder)
        event = parse_event(split.document)
    except ContentError:
        _discard(store.files, fresh)
        return None
    except SchemaError as exc:
        _discard(store.files, fresh)
        return Refusal("schema", f"{exc.path}: {exc.reason}", 400)
    stored = {placeholder(index): outcome for index, outcome in enumerate(split.stored)}
    if not _keyed(event) or not _all_attachments(event, stored):
        _discard(store.files, fresh)
        return None
    kept = split.document
    for name, (outcome, _) in stored.items():
        kept = kept.replace(orjson.dumps(name), orjson.dumps(FILE_MARKER + str(outcome.sha256)))
    prepared = prepare(event, kept, store.clock(), store.vault, _Prestored(store.files, stored))
    return replace(prepared, body_sha256=body_sha256, body_size=path.stat().st_size)


def _discard(files: FileStore, keys: list[str]) -> None:
    # The body is read whole instead (or refused): the files it streamed out are stored again from there, or not.
    for key in keys:
        files.delete_object(key)


def _keyed(event: Event) -> bool:
    # Without an activity id the event is keyed by its body's hash: the in-memory path computes that one.
    return event.activity is not None and bool(event.activity.id)


def _all_attachments(event: Event, stored: Mapping[str, _Stored]) -> bool:
    # Every content taken out must be an attachment's (a "content" key elsewhere is read whole instead).
    taken = {attachment.content.text for attachment in event.attachments() if attachment.content is not None}
    return set(stored) <= taken
