"""Just enough HTTP/1.1 for a load generator, over bytes: pre-built request bytes, and a reader that finds where
each response ends (status line, ``Content-Length``, ``chunked``, read-to-close) without parsing anything else.

Pure: no sockets and no clock, so every framing case is tested on bytes alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from casehooks.errors import FramingError

#: A response head larger than this is refused (a server sending endless headers).
MAX_HEAD = 64 * 1024
TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

HEX = frozenset(b"0123456789abcdefABCDEF")
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _TO_CLOSE, _CLOSED = range(8)


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes: the checked address to connect to, and the names the server must see."""

    scheme: str
    address: str
    port: int
    host_header: bytes
    tls_name: str
    path: bytes


def request_target(url: str) -> tuple[str, int, bytes, bytes]:
    """The host and port to connect to, the request target (path and query) and the ``Host`` value of a plain
    ``http://`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("a plain http:// URL with a host is needed")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rpartition("@")[2]
    return parts.hostname, parts.port or 80, target.encode("ascii"), host.encode("idna")


def encode_request(target: bytes, host: bytes, headers: dict[str, str], body: bytes) -> bytes:
    """A complete ``POST`` request: head and body, ready to write. Refuses a header that would split the head."""
    lines = [b"POST " + target + b" HTTP/1.1", b"host: " + host]
    for name, value in headers.items():
        raw_name, raw_value = name.encode("latin-1"), value.encode("latin-1")
        if not raw_name or not TOKEN.issuperset(raw_name) or b"\r" in raw_value or b"\n" in raw_value:
            raise ValueError("a header name must be a token and no header may hold a line break")
        lines.append(raw_name + b": " + raw_value)
    lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class ResponseReader:
    """Reads the responses of one connection, in order. ``feed`` returns the ``(status, keep_alive)`` of every
    final response completed by the bytes given; interim (1xx) responses are skipped.

    After a response that ends the connection (``Connection: close``, HTTP/1.0, or read-to-close framing)
    further bytes are ignored. Malformed framing raises ``FramingError``.
    """

    __slots__ = ("_buffer", "_keep_alive", "_remaining", "_state", "_status")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = _HEAD
        self._remaining = 0
        self._status = 0
        self._keep_alive = True

    @property
    def idle(self) -> bool:
        """True between responses: nothing of a next response read yet."""
        return self._state in (_HEAD, _CLOSED) and not self._buffer

    def feed(self, data: bytes) -> list[tuple[int, bool]]:
        if self._state == _CLOSED:
            return []
        buffer = self._buffer
        buffer += data
        done: list[tuple[int, bool]] = []
        while buffer:
            state = self._state
            if state == _HEAD:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise FramingError("response head too large")
                    break
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                if self._start(head):
                    self._finish(done)
            elif state == _LENGTH:
                take = min(self._remaining, len(buffer))
                del buffer[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._finish(done)
            elif state == _CHUNK_SIZE:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise FramingError("chunk size line too long")
                    break
                size_text = bytes(buffer[:end]).partition(b";")[0].strip()
                del buffer[: end + 2]
                if not size_text or not HEX.issuperset(size_text) or len(size_text) > 16:
                    raise FramingError("bad chunk size")
                size = int(size_text, 16)
                self._remaining = size
                self._state = _CHUNK_DATA if size else _TRAILERS
            elif state == _CHUNK_DATA:
                take = min(self._remaining, len(buffer))
                del buffer[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(buffer) < 2:
                    break
                if buffer[:2] != b"\r\n":
                    raise FramingError("chunk not followed by CRLF")
                del buffer[:2]
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise FramingError("trailer too long")
                    break
                del buffer[: end + 2]
                if end == 0:
                    self._finish(done)
            elif state == _TO_CLOSE:
                buffer.clear()
            else:  # _CLOSED
                buffer.clear()
        return done

    def feed_eof(self) -> tuple[int, bool] | None:
        """The connection closed: the response it completes (read-to-close framing), None when it closed
        between responses, ``FramingError`` when it closed in the middle of one."""
        if self._state == _TO_CLOSE:
            self._state = _CLOSED
            return self._status, False
        if self.idle:
            return None
        raise FramingError("connection closed mid-response")

    def _start(self, head: bytes) -> bool:
        """Read a head; set the body's framing. True when the response is complete already (no body)."""
        lines = head.split(b"\r\n")
        status_line = lines[0]
        if len(status_line) < 12 or status_line[:7] != b"HTTP/1." or status_line[8:9] != b" ":
            raise FramingError("bad status line")
        code = status_line[9:12]
        if not code.isdigit() or status_line[12:13] not in (b"", b" "):
            raise FramingError("bad status code")
        status = int(code)
        keep_alive = status_line[7:8] == b"1"
        length: int | None = None
        transfer_encoding: bytes | None = None
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name[-1:] in (b" ", b"\t"):
                raise FramingError("bad header line")
            name = name.lower()
            if name == b"content-length":
                value = value.strip()
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise FramingError("bad content-length")
                length = int(value)
            elif name == b"transfer-encoding":
                transfer_encoding = value.strip().lower()
            elif name == b"connection":
                tokens = {token.strip().lower() for token in value.split(b",")}
                if b"close" in tokens:
                    keep_alive = False
                elif b"keep-alive" in tokens:
                    keep_alive = True
        if status < 200:
            if status == 101:  # never asked for: the connection no longer speaks HTTP
                raise FramingError("unexpected protocol switch")
            return False  # interim: the final response follows
        self._status = status
        self._keep_alive = keep_alive
        if status in (204, 304):
            return True
        if transfer_encoding is not None:
            if transfer_encoding.rpartition(b",")[2].strip() == b"chunked":
                self._state = _CHUNK_SIZE
            else:
                self._state = _TO_CLOSE
                self._keep_alive = False
            return False
        if length is None:
            self._state = _TO_CLOSE
            self._keep_alive = False
            return False
        if length == 0:
            return True
        self._remaining = length
        self._state = _LENGTH
        return False

    def _finish(self, done: list[tuple[int, bool]]) -> None:
        done.append((self._status, self._keep_alive))
        self._state = _HEAD if self._keep_alive else _CLOSED
        if not self._keep_alive:
            self._buffer.clear()
