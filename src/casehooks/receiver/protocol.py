"""The HTTP/1.1 protocol ``casehooks serve`` runs: uvicorn's httptools protocol with limits on request heads.

The server alone waits forever for the head of a request (a client sending one header byte a minute holds a
connection open) and accepts heads of any size. Here a head must arrive within a deadline, with at most
``MAX_HEADERS`` fields and ``MAX_HEAD_BYTES`` bytes; otherwise the connection is closed (431 for a head too big).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_ENV = "CASEHOOKS_HEADER_TIMEOUT_SECONDS"
MAX_HEADERS = 100
MAX_HEAD_BYTES = 64 * 1024


def header_timeout() -> float:
    # Read from the environment (the settings' variable) since the server builds protocols, not casehooks.
    return float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))


class _HeadTooLarge(Exception):
    """Stops the parser at a head past the bounds (never leaves this module)."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with a deadline for each request head and bounds on its size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timeout = header_timeout()
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_fields = 0
        self._head_refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_fields = 0
        if self._head_timer is None:  # a kept-alive connection's next request: idle until now, then its deadline
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url), 0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value), 1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _count(self, size: int, fields: int) -> None:
        self._head_bytes += size
        self._head_fields += fields
        if self._head_bytes > MAX_HEAD_BYTES or self._head_fields > MAX_HEADERS:
            self._refuse_head()

    def _refuse_head(self) -> None:
        # Raised inside the parser's callback, it stops the parse; uvicorn then answers through send_400_response.
        self._head_refused = True
        raise _HeadTooLarge()

    def send_400_response(self, msg: str) -> None:
        if not self._head_refused:
            super().send_400_response(msg)
            return
        self._disarm()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()
