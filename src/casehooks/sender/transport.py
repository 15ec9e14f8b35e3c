"""The delivery worker's HTTP/1.1 client: keep-alive connections to checked addresses, one request at a time each.

A general-purpose client spends most of a delivery's CPU on its pool (asking every idle connection's socket
whether it closed, each time a request is placed) and on layers a webhook POST does not use. Here a connection
is an asyncio stream: one that the peer closed is known from its own end-of-stream, a request is one write,
and an answer is read only as far as the attempt log needs (status, ``Retry-After``, the first bytes of the
body) and then drained, up to a limit, so that the connection can be used again.

Connections are kept by (scheme, address, port, TLS name): the caller connects to an address it has already
checked, never to the name again. TLS verifies the name given, with the same trust store as ``httpx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import defaultdict
from dataclasses import dataclass

from casehooks.sender.http1 import HEX, MAX_HEAD, TOKEN, Target, encode_request

_SINGLE = (b"content-length", b"transfer-encoding")

#: An answer's body is drained up to this many bytes for its connection to be reused; past it, it is closed.
MAX_DRAIN = 1024 * 1024
_Key = tuple[str, str, int, str]


class TransportFailed(Exception):
    """An exchange that did not complete; ``kind`` is a fixed word (never a message, which may echo data)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    version: bytes
    head: dict[bytes, bytes]
    start: bytes  # the first ``excerpt`` bytes of the body

    def header(self, name: bytes) -> str | None:
        value = self.head.get(name)
        return None if value is None else value.decode("latin-1")


class _Connection:
    __slots__ = ("reader", "reused", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.reused = reader, writer, False

    @property
    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Idle keep-alive connections by target, at most ``per_target`` kept for each."""

    def __init__(self, per_target: int = 16, tls: ssl.SSLContext | None = None) -> None:
        self._idle: dict[_Key, list[_Connection]] = defaultdict(list)
        self._per_target = per_target
        self._tls = tls

    async def post(
        self, target: Target, headers: dict[str, str], body: bytes, *, timeout: float, excerpt: int
    ) -> Answer:
        """POST ``body``; the answer's status, head and first ``excerpt`` bytes. Raises ``TransportFailed``.

        A kept connection that ends before any byte of an answer (the server closed it while it was idle, as
        the request went out) is replaced by a fresh one.
        """
        request = encode_request(target.path, target.host_header, headers, body)
        key = (target.scheme, target.address, target.port, target.tls_name)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    connection = self._idle_connection(key) or await self._connect(target)
                    try:
                        answer, keep = await _exchange(connection, request, excerpt)
                    except _Silent:  # a kept connection: most likely closed by the server while it was idle
                        connection.close()
                        continue  # deliveries are at-least-once
                    except BaseException:
                        connection.close()
                        raise
                    if keep and len(self._idle[key]) < self._per_target:
                        connection.reused = True
                        self._idle[key].append(connection)
                    else:
                        connection.close()
                    return answer
        except TimeoutError:
            raise TransportFailed("timeout") from None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            import httpx  # its trust store, as deliveries had before this client

            self._tls = httpx.create_ssl_context()
        return self._tls

    def _idle_connection(self, key: _Key) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.usable:
                return connection
            connection.close()
        return None

    async def _connect(self, target: Target) -> _Connection:
        secure = target.scheme == "https"
        try:
            reader, writer = await asyncio.open_connection(
                target.address,
                target.port,
                ssl=self._context() if secure else None,
                server_hostname=target.tls_name if secure else None,
                limit=MAX_HEAD,
            )
        except (OSError, ssl.SSLError):
            raise TransportFailed("connect") from None
        return _Connection(reader, writer)

    async def close(self) -> None:
        connections = [connection for idle in self._idle.values() for connection in idle]
        self._idle.clear()
        for connection in connections:
            connection.close()
        for connection in connections:
            with contextlib.suppress(OSError, ssl.SSLError):
                await connection.writer.wait_closed()


async def _exchange(connection: _Connection, request: bytes, excerpt: int) -> tuple[Answer, bool]:
    # The answer is read while the request is still going out: a receiver may answer before it has read the
    # whole body (413, or a refusal that closes the connection), and that answer is the attempt's outcome, not the
    # write that failed after it (once the connection breaks, what arrived before can no longer be read).
    answer_read = asyncio.ensure_future(_read_answer(connection.reader, excerpt))
    sent = True
    try:
        try:
            connection.writer.write(request)
            await connection.writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            sent = False
        answer, drained = await answer_read
    except _Silent:
        if connection.reused:
            raise  # ``post`` sends it again on a fresh connection
        raise TransportFailed("protocol" if sent else "transport") from None
    except (asyncio.LimitOverrunError, asyncio.IncompleteReadError):
        raise TransportFailed("protocol") from None
    except (OSError, ssl.SSLError):
        raise TransportFailed("transport") from None
    finally:
        if not answer_read.done():
            answer_read.cancel()
    closing = answer.head.get(b"connection", b"").lower() == b"close" or answer.version == b"HTTP/1.0"
    return answer, sent and drained and not closing


class _Silent(Exception):
    """The connection ended before any byte of an answer."""


async def _read_answer(reader: asyncio.StreamReader, excerpt: int) -> tuple[Answer, bool]:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _Silent from None
        raise
    except (ConnectionResetError, BrokenPipeError):
        raise _Silent from None
    status, version, head = _parse_head(raw)
    while 100 <= status < 200 and status != 101:  # an interim answer is followed by the real one
        status, version, head = _parse_head(await reader.readuntil(b"\r\n\r\n"))
    start, drained = await _read_body(reader, status, head, excerpt)
    return Answer(status, version, head, start), drained


def _parse_head(raw: bytes) -> tuple[int, bytes, dict[bytes, bytes]]:
    lines = raw[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code = rest[:3]
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise TransportFailed("protocol")
    head: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or not TOKEN.issuperset(name):
            raise TransportFailed("protocol")
        name, value = name.lower(), value.strip()
        if name in _SINGLE and head.get(name, value) != value:
            raise TransportFailed("protocol")  # two lengths that differ: where the answer ends is not known
        head[name] = value
    return int(code), version, head


async def _read_body(
    reader: asyncio.StreamReader, status: int, head: dict[bytes, bytes], excerpt: int
) -> tuple[bytes, bool]:
    """The body's first ``excerpt`` bytes, and whether all of it was read (the connection may be reused)."""
    if status in (204, 304):
        return b"", True
    if status < 200:
        return b"", False  # 101: the connection is no longer HTTP
    if b"chunked" in head.get(b"transfer-encoding", b"").lower():
        return await _read_chunked(reader, excerpt)
    length = head.get(b"content-length")
    if length is not None:
        if not length.isdigit():
            raise TransportFailed("protocol")
        size = int(length)
        if size > MAX_DRAIN:
            return await reader.readexactly(min(size, excerpt)), False
        return (await reader.readexactly(size))[:excerpt], True
    return await reader.read(excerpt), False  # read to close: what is needed, then the connection goes


async def _read_chunked(reader: asyncio.StreamReader, excerpt: int) -> tuple[bytes, bool]:
    start = bytearray()
    total = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or not HEX.issuperset(size_text):
            raise TransportFailed("protocol")
        size = int(size_text, 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return bytes(start), True
        total += size
        if total > MAX_DRAIN:
            return bytes(start), False
        data = await reader.readexactly(size + 2)
        if data[-2:] != b"\r\n":
            raise TransportFailed("protocol")
        if len(start) < excerpt:
            start += data[: min(size, excerpt - len(start))]
