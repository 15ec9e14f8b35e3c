"""Envelope encryption: master keys wrap per-object data keys, data keys seal values and stream files.

A ``Keyring`` holds the master keys from ``CASEHOOKS_MASTER_KEY``; the first one wraps new data keys and the
others only unwrap, so a key can be rotated without re-encrypting any data, only re-wrapping the data keys.
Everything here is pure except the key file functions at the end.

Formats (all integers big-endian):

- wrapped key: ``0x01 | len(key_id):u8 | key_id | nonce(12) | AES-GCM(data key) + tag(16)``, AAD = label + key id.
- sealed value: ``nonce(12) | ciphertext | tag(16)``.
- stream: header ``b"CHSE" | version:u8 | segment_size:u32 | salt(16)`` then segments of ``segment_size`` plaintext
  bytes, each ``ciphertext | tag(16)``; the last segment holds 0..segment_size bytes. Each segment is sealed with
  a per-stream key derived from the data key and the salt, nonce ``counter:u88 | last:u8`` and the header as AAD.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import os
import re
import secrets
import stat
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casehooks.errors import ConfigurationError, CryptoError

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
DEFAULT_SEGMENT_SIZE = 64 * 1024
MAX_SEGMENT_SIZE = 16 * 1024 * 1024

_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_WRAPPED_VERSION = 1
# Labels bind each ciphertext to its purpose, so that a wrapped key, a sealed value and a stream segment
# can never be passed off as one another.
_WRAP_LABEL = b"casehooks/wrap/v1\x00"
_SEAL_LABEL = b"casehooks/seal/v1\x00"
_STREAM_LABEL = b"casehooks/stream/v1"
_STREAM_MAGIC = b"CHSE"
_STREAM_VERSION = 1
_SALT_SIZE = 16
_STREAM_HEADER = struct.Struct(f">4sBI{_SALT_SIZE}s")


@dataclass(frozen=True)
class MasterKey:
    """A 32-byte key-encryption key and the id under which wrapped keys name it."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.fullmatch(self.key_id):
            raise ConfigurationError("a master key id must be 1-64 letters, digits, '.', '_' or '-'")
        if len(self.secret) != KEY_SIZE:
            raise ConfigurationError(f"a master key must be {KEY_SIZE} bytes")


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under the master key ``key_id``; stored next to the data it protects."""

    key_id: str
    blob: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        """One self-describing value for a single database column."""
        key_id = self.key_id.encode("ascii")
        return bytes([_WRAPPED_VERSION, len(key_id)]) + key_id + self.blob

    @classmethod
    def from_bytes(cls, data: bytes) -> WrappedKey:
        """Read what ``to_bytes`` wrote; anything else is a ``CryptoError``."""
        if len(data) < 2 or data[0] != _WRAPPED_VERSION:
            raise CryptoError("malformed wrapped key")
        end = 2 + data[1]
        try:
            key_id = data[2:end].decode("ascii")
        except UnicodeDecodeError:
            raise CryptoError("malformed wrapped key") from None
        blob = data[end:]
        if not _KEY_ID.fullmatch(key_id) or len(blob) != NONCE_SIZE + KEY_SIZE + TAG_SIZE:
            raise CryptoError("malformed wrapped key")
        return cls(key_id, blob)


class Keyring:
    """Master keys by id: the first is active and wraps new data keys, the rest only unwrap (rotation).

    Subclasses may choose the active key and find keys elsewhere (``active``, ``find``): the store's keyring
    follows the active key id its database records and reloads its key file (``casehooks.store.keys``).
    """

    def __init__(self, keys: Sequence[MasterKey]) -> None:
        if not keys:
            raise ConfigurationError("a keyring needs at least one master key")
        by_id: dict[str, MasterKey] = {}
        for key in keys:
            if key.key_id in by_id:
                raise ConfigurationError(f"master key id {key.key_id} appears twice")
            by_id[key.key_id] = key
        self._active = keys[0]
        self._by_id = by_id

    def __repr__(self) -> str:
        return f"Keyring(key_ids={self.key_ids!r})"

    @property
    def active(self) -> MasterKey:
        """The key that wraps new data keys."""
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id, the first entry first."""
        return tuple(self._by_id)

    @property
    def keys(self) -> tuple[MasterKey, ...]:
        """Every key, the first entry first."""
        return tuple(self._by_id.values())

    def find(self, key_id: str) -> MasterKey | None:
        """The key named ``key_id``, if this keyring holds it."""
        return self._by_id.get(key_id)

    def to_text(self) -> str:
        """The keyring as key file text: one ``key_id:base64url`` entry a line, the first entry first."""
        return "".join(f"{key.key_id}:{_encode_secret(key.secret)}\n" for key in self._by_id.values())

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Read ``CASEHOOKS_MASTER_KEY`` or a key file: ``key_id:base64`` entries separated by commas or lines,
        the active key first.

        An entry without ``key_id:`` is named by the first 8 hex digits of the SHA-256 of its secret. Errors
        name the entry by position only, since a malformed entry may be key material.
        """
        entries = [entry.strip() for entry in re.split(r"[,\n]", text.strip())]
        if not any(entries):
            raise ConfigurationError("the master key setting is empty")
        keys: list[MasterKey] = []
        for position, entry in enumerate(entries, start=1):
            if not entry:
                raise ConfigurationError(f"master key entry {position} is empty")
            key_id, separator, encoded = entry.rpartition(":")
            secret = _decode_secret(encoded, position)
            if not separator:
                key_id = hashlib.sha256(secret).hexdigest()[:8]
            elif not _KEY_ID.fullmatch(key_id):
                raise ConfigurationError(
                    f"master key entry {position}: the id must be 1-64 letters, digits, '.', '_' or '-'"
                )
            keys.append(MasterKey(key_id, secret))
        return cls(keys)

    @staticmethod
    def generate_entry() -> str:
        """A fresh ``key_id:base64url`` entry for the master key setting."""
        secret = secrets.token_bytes(KEY_SIZE)
        return f"k{secrets.token_hex(4)}:{_encode_secret(secret)}"

    def wrap(self, data_key: bytes) -> WrappedKey:
        """Encrypt a data key under the active master key."""
        if len(data_key) != KEY_SIZE:
            raise ValueError(f"a data key must be {KEY_SIZE} bytes")
        key = self.active
        nonce = os.urandom(NONCE_SIZE)
        blob = nonce + AESGCM(key.secret).encrypt(nonce, data_key, _WRAP_LABEL + key.key_id.encode("ascii"))
        return WrappedKey(key.key_id, blob)

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Decrypt a data key with whichever master key wrapped it."""
        key = self.find(wrapped.key_id)
        if key is None:
            raise CryptoError(f"unknown master key id {wrapped.key_id}")
        nonce, ciphertext = wrapped.blob[:NONCE_SIZE], wrapped.blob[NONCE_SIZE:]
        try:
            data_key = AESGCM(key.secret).decrypt(nonce, ciphertext, _WRAP_LABEL + key.key_id.encode("ascii"))
        except (InvalidTag, ValueError):
            raise CryptoError(f"wrapped key does not open under master key {key.key_id}") from None
        if len(data_key) != KEY_SIZE:
            raise CryptoError("wrapped key holds a key of the wrong size")
        return data_key

    def needs_rewrap(self, wrapped: WrappedKey) -> bool:
        """Whether ``wrapped`` is under a key other than the active one."""
        return wrapped.key_id != self.active.key_id

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        """The same data key, wrapped under the active master key (a no-op when it already is)."""
        if not self.needs_rewrap(wrapped):
            return wrapped
        return self.wrap(self.unwrap(wrapped))


def _encode_secret(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).decode("ascii").rstrip("=")


def _decode_secret(encoded: str, position: int) -> bytes:
    """Base64 or base64url, padding optional."""
    normalized = encoded.replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        secret = base64.b64decode(normalized, validate=True)
    except binascii.Error:
        raise ConfigurationError(f"master key entry {position} is not base64") from None
    if len(secret) != KEY_SIZE:
        raise ConfigurationError(f"master key entry {position} must decode to {KEY_SIZE} bytes, not {len(secret)}")
    return secret


class DataKey:
    """A 32-byte AES-256-GCM key for one object or record, stored only in its wrapped form."""

    def __init__(self, key: bytes, wrapped: WrappedKey) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"a data key must be {KEY_SIZE} bytes")
        self._key = key
        self._aead = AESGCM(key)
        self.wrapped = wrapped

    def __repr__(self) -> str:
        return f"DataKey(master_key_id={self.wrapped.key_id!r})"

    @classmethod
    def generate(cls, keyring: Keyring) -> DataKey:
        """A fresh random data key, wrapped under the keyring's active master key."""
        key = AESGCM.generate_key(bit_length=KEY_SIZE * 8)
        return cls(key, keyring.wrap(key))

    @classmethod
    def open(cls, keyring: Keyring, wrapped: WrappedKey) -> DataKey:
        """The data key that ``wrapped`` holds."""
        return cls(keyring.unwrap(wrapped), wrapped)

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt a value held in memory; ``aad`` (e.g. a row id) must be given again to open it."""
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, _SEAL_LABEL + aad)

    def open_sealed(self, sealed: bytes, aad: bytes = b"") -> bytes:
        """Decrypt what ``seal`` returned, with the same ``aad``."""
        if len(sealed) < NONCE_SIZE + TAG_SIZE:
            raise CryptoError("sealed value is truncated")
        try:
            return self._aead.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], _SEAL_LABEL + aad)
        except InvalidTag:
            raise CryptoError("sealed value does not open with this key") from None

    def encrypt_stream(self, chunks: Iterable[bytes], segment_size: int = DEFAULT_SEGMENT_SIZE) -> Iterator[bytes]:
        """Encrypt a stream of any chunking into a header and sealed segments, holding one segment at a time.

        Every call derives its own key from a random salt, so one data key can encrypt many streams. Segments that
        lie whole in one chunk are read from it in place: a chunk must not change once it is given.
        """
        if not 0 < segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError(f"segment size must be between 1 and {MAX_SEGMENT_SIZE}")
        header = _STREAM_HEADER.pack(_STREAM_MAGIC, _STREAM_VERSION, segment_size, os.urandom(_SALT_SIZE))
        return self._encrypt_segments(header, chunks, segment_size)

    def _encrypt_segments(self, header: bytes, chunks: Iterable[bytes], segment_size: int) -> Iterator[bytes]:
        yield header
        aead = self._stream_aead(header)
        for counter, (segment, last) in enumerate(_rechunk(chunks, segment_size)):
            yield aead.encrypt(_segment_nonce(counter, last), segment, header)

    def decrypt_stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Decrypt what ``encrypt_stream`` produced, in any chunking.

        Segments are yielded as they verify, so a tampered or truncated stream raises ``CryptoError`` only
        when the bad segment is reached: treat the output as unverified until the iterator is exhausted.
        """
        source = iter(chunks)
        head = bytearray()
        for chunk in source:
            head += chunk
            if len(head) >= _STREAM_HEADER.size:
                break
        if len(head) < _STREAM_HEADER.size:
            raise CryptoError("stream is truncated before its header ends")
        header = bytes(head[: _STREAM_HEADER.size])
        magic, version, segment_size, _salt = _STREAM_HEADER.unpack(header)
        if magic != _STREAM_MAGIC:
            raise CryptoError("not an encrypted stream")
        if version != _STREAM_VERSION:
            raise CryptoError(f"unsupported stream version {version}")
        if not 0 < segment_size <= MAX_SEGMENT_SIZE:
            raise CryptoError("stream header has an invalid segment size")
        aead = self._stream_aead(header)
        rest = bytes(head[_STREAM_HEADER.size :])
        for counter, (segment, last) in enumerate(_rechunk(itertools.chain([rest], source), segment_size + TAG_SIZE)):
            if len(segment) < TAG_SIZE:
                raise CryptoError("stream is truncated")
            try:
                yield aead.decrypt(_segment_nonce(counter, last), segment, header)
            except InvalidTag:
                raise CryptoError(f"stream segment {counter} does not open: wrong key, tampered or cut") from None

    def _stream_aead(self, header: bytes) -> AESGCM:
        salt = header[-_SALT_SIZE:]
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_STREAM_LABEL)
        return AESGCM(hkdf.derive(self._key))


def _segment_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(NONCE_SIZE - 1, "big") + (b"\x01" if last else b"\x00")


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[tuple[bytes | memoryview, bool]]:
    """Cut a stream into ``size``-byte blocks, flagging the last (0..size bytes; empty only for empty input).

    A full block is held back until more input arrives, since only then is it known not to be the last. Blocks
    that lie whole inside one input chunk are views of it, not copies.
    """
    pending = bytearray()
    full: bytes | memoryview | None = None
    for chunk in chunks:
        view = memoryview(chunk)
        offset = 0
        while offset < len(view):
            if full is not None:
                yield full, False
                full = None
            if not pending and len(view) - offset >= size:
                full = view[offset : offset + size]
                offset += size
                continue
            take = min(size - len(pending), len(view) - offset)
            pending += view[offset : offset + take]
            offset += take
            if len(pending) == size:
                full = bytes(pending)
                pending.clear()
    yield (full if full is not None else bytes(pending)), True


def load_or_create_key_file(path: Path) -> tuple[str, bool]:
    """The master key setting kept in ``path``, created (0600, folder 0700) with a fresh key if missing.

    Returns the text and whether it was just created. The file appears complete or not at all, so two
    processes starting together end up with the same key.
    """
    try:
        return _read_key_file(path), False
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        entry = Keyring.generate_entry()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(entry + "\n")
                file.flush()
                os.fsync(file.fileno())
            # link() fails if the name exists, unlike rename(): whoever links first wins, the other reads it.
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path), False
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create master key file {path}: {exc.strerror}") from exc
    return entry, True


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Replace the key file with ``keyring`` (0600): written aside, fsync'd, renamed over, folder fsync'd.

    A reader (another process reloading its keys) sees the old file or the new one, never a part of either,
    and after a crash the file is one of the two.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(keyring.to_text())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        raise ConfigurationError(f"cannot write master key file {path}: {exc.strerror}") from exc


def read_key_file(path: Path) -> Keyring:
    """The keyring a key file holds; a missing or unreadable file is a ``ConfigurationError``."""
    try:
        return Keyring.parse(_read_key_file(path))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"no master key file at {path}") from exc


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read master key file {path}") from exc


def key_file_is_private(path: Path) -> bool:
    """Whether only the owner may read or write ``path`` (no group or world permission bits)."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
