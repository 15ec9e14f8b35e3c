"""Large attachment contents taken out of a JSON body as it is read, so the whole base64 string is never held.

``split_contents`` walks the raw bytes of a body a chunk at a time. Every string that is the value of a
``content`` key and grows past ``min_chars`` is decoded from base64 as it streams and handed, as an iterator of
bytes, to ``store`` (e.g. ``FileStore.store_stream``); in the small document that remains, the string is replaced
by a ``placeholder`` the caller chooses. Everything else is copied as it came, so the small document parses with
the ordinary models to the same event, only with placeholders for the large contents.

A large ``content`` that is not base64 raises ``ContentError``: the caller then falls back to reading the body
whole, where such content is judged as it always was (invalid, or a pending URL).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import orjson
import pybase64

from casehooks.errors import ContentError

T = TypeVar("T")

_CONTENT_KEY = "content"
_WHITESPACE = b" \t\n\r\x0b\x0c"  # what ``Content`` strips (str.isspace on ASCII)
_SPACES = [bytes([space]) for space in _WHITESPACE]  # each looked for alone: a scan, where stripping copies
_ESCAPE = b"\\"
DEFAULT_MIN_CHARS = 64 * 1024


class Split(Generic[T]):
    """The small document and, in order, what ``store`` returned for each large content taken out of it."""

    __slots__ = ("document", "stored")

    def __init__(self, document: bytes, stored: list[T]) -> None:
        self.document = document
        self.stored = stored


class _Reader:
    """The body's bytes, a window at a time: ``buffer[pos:]`` is what has been read and not yet consumed."""

    def __init__(self, chunks: Iterable[bytes | memoryview]) -> None:
        self._chunks = iter(chunks)
        self.buffer = b""
        self.pos = 0

    def more(self) -> bool:
        """Read another chunk into the window (dropping what was consumed); False at the end of the body."""
        for chunk in self._chunks:
            if chunk:
                self.buffer = self.buffer[self.pos :] + chunk
                self.pos = 0
                return True
        return False


class _Base64Stream:
    """Standard base64 (whitespace allowed) decoded a slice at a time, validated as ``Content`` validates it."""

    def __init__(self) -> None:
        self._carry = b""
        self._padding = 0
        self._length = 0

    def feed(self, text: bytes) -> bytes:
        # Each step copies only when it must: most slices hold no whitespace, no padding and whole quads.
        if any(space in text for space in _SPACES):
            text = text.translate(None, _WHITESPACE)
        if not text:
            return b""
        if self._padding:
            if text.strip(b"=") or self._padding + len(text) > 2:
                raise ContentError("not valid base64")
            self._padding += len(text)
        else:
            pad = text.find(b"=")
            if pad >= 0:
                tail = text[pad:]
                if tail.strip(b"=") or len(tail) > 2:  # the alphabet is checked as it is decoded
                    raise ContentError("not valid base64")
                self._padding = len(tail)
        self._length += len(text)
        data = self._carry + text if self._carry else text
        if self._padding:
            self._carry = data  # the last quad: decoded at the end, once nothing may follow it
            return b""
        whole = len(data) - len(data) % 4
        self._carry = data[whole:]
        if whole == len(data):
            return _decode(data)
        return _decode(memoryview(data)[:whole]) if whole else b""

    def finish(self) -> bytes:
        if self._length % 4:
            raise ContentError("not valid base64")
        return _decode(self._carry) if self._carry else b""


def _decode(quads: bytes | memoryview) -> bytes:
    # SIMD base64 (pybase64): four times the standard library's speed, the same strict alphabet and padding.
    try:
        decoded: bytes = pybase64.b64decode(quads, validate=True)
    except binascii.Error as exc:
        raise ContentError("not valid base64") from exc
    return decoded


def _unescape(raw: bytes) -> bytes:
    # A JSON string's raw bytes, without escapes; ``raw`` never ends inside an escape.
    if _ESCAPE not in raw:
        return raw
    try:
        return str(orjson.loads(b'"' + raw + b'"')).encode("utf-8", "surrogatepass")
    except orjson.JSONDecodeError as exc:
        raise ContentError("not valid base64") from exc


def _safe_end(raw: bytes, start: int = 0) -> int:
    # Where ``raw[start:]`` (a string's bytes so far, its end not yet seen) may be cut without splitting an
    # escape, counted from ``start``.
    end = len(raw)
    last = raw.rfind(_ESCAPE, max(start, end - 6))
    if last < 0:
        return end - start
    first = last
    while first > start and raw[first - 1] == 0x5C:
        first -= 1
    if (last - first) % 2:  # the last backslash closes an escaped backslash
        return end - start
    length = 6 if raw[last + 1 : last + 2] == b"u" else 2
    return end - start if last + length <= end else last - start


def split_contents(
    chunks: Iterable[bytes | memoryview],
    store: Callable[[Iterator[bytes]], T],
    placeholder: Callable[[int], str],
    min_chars: int = DEFAULT_MIN_CHARS,
) -> Split[T]:
    """Take each large ``content`` string out of the JSON body in ``chunks``; see the module's docstring.

    The body is not validated here beyond what is needed to find strings: the small document is parsed after.
    """
    reader = _Reader(chunks)
    document = bytearray()
    stored: list[T] = []
    key: bytes | None = None  # the last string closed outside any value, when only ':' followed it so far
    after_key = b""
    while True:
        quote = reader.buffer.find(b'"', reader.pos)
        if quote < 0:
            between = reader.buffer[reader.pos :]
            document += between
            after_key += between if key is not None else b""
            reader.pos = len(reader.buffer)
            if not reader.more():
                return Split(bytes(document), stored)
            continue
        between = reader.buffer[reader.pos : quote]
        document += between
        is_content = key is not None and (after_key + between).strip() == b":" and key == b'"content"'
        reader.pos = quote + 1
        raw, complete = _read_string(reader, is_content, min_chars)
        if complete:
            document += b'"' + raw + b'"'
            key, after_key = (None if is_content else _key(raw)), b""
            continue
        stored.append(store(_decoded(reader, raw)))
        document += orjson.dumps(placeholder(len(stored) - 1))
        key, after_key = None, b""


def _key(raw: bytes) -> bytes:
    # A string as a key would compare: "cont\u0065nt" is the key content too.
    if _ESCAPE not in raw:
        return b'"' + raw + b'"'
    try:
        return orjson.dumps(orjson.loads(b'"' + raw + b'"'))
    except orjson.JSONDecodeError:
        return b""


def _closing_quote(buffer: bytes, start: int, scanned: int) -> int:
    # The string's closing quote at or after ``scanned`` (``start`` is where its unescaped run begins), else -1.
    quote = buffer.find(b'"', scanned)
    while quote >= 0:
        before = quote
        while before > start and buffer[before - 1] == 0x5C:
            before -= 1
        if (quote - before) % 2 == 0:  # an even run of backslashes escapes itself, not the quote
            return quote
        quote = buffer.find(b'"', quote + 1)
    return -1


def _read_string(reader: _Reader, streamable: bool, min_chars: int) -> tuple[bytes, bool]:
    # The raw bytes of the string starting at ``reader.pos`` and True when it ended (its closing quote consumed);
    # a content value (``streamable``) longer than ``min_chars`` stops early with False, to be streamed.
    start = scanned = reader.pos
    while True:
        quote = _closing_quote(reader.buffer, start, scanned)
        if quote >= 0:
            reader.pos = quote + 1
            return reader.buffer[start:quote], True
        if streamable and len(reader.buffer) - start > min_chars:
            cut = start + _safe_end(reader.buffer, start)
            reader.pos = cut
            return reader.buffer[start:cut], False
        scanned = len(reader.buffer) - start
        reader.pos = start
        if not reader.more():
            raise ContentError("the body ends inside a string")
        start = 0


def _decoded(reader: _Reader, first: bytes) -> Iterator[bytes]:
    # The decoded bytes of a content string from ``first`` on, read until its closing quote.
    decoder = _Base64Stream()
    piece = decoder.feed(_unescape(first))
    if piece:
        yield piece
    while True:
        quote = _closing_quote(reader.buffer, reader.pos, reader.pos)
        if quote >= 0:
            piece = decoder.feed(_unescape(reader.buffer[reader.pos : quote]))
            reader.pos = quote + 1
            if piece:
                yield piece
            piece = decoder.finish()
            if piece:
                yield piece
            return
        cut = reader.pos + _safe_end(reader.buffer, reader.pos)
        piece = decoder.feed(_unescape(reader.buffer[reader.pos : cut]))
        reader.pos = cut
        if piece:
            yield piece
        if not reader.more():
            raise ContentError("the body ends inside a string")
