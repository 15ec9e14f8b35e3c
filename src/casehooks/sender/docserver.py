"""The documents of ``casehooks trigger --document-format URL``, served at signed links valid 15 minutes.

A small threaded HTTP server (loopback by default) holds each generated file in memory under a random token
and answers ``GET /documents/{token}?expires=&sig=``: the file while the link is valid, 410 once it has
expired, 403 for a bad signature, 404 for an unknown token. Tokens are not the attachment ids, so ``trigger``
may refresh the ids of a body without breaking its links. The clock is passed in (tests move it).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from casehooks.sender.documents import LinkRefused, check_link, document_link

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class DocumentServer:
    """Serves registered files at signed links; use as a context manager (``start``/``stop``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: Clock = _now) -> None:
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._files: dict[str, bytes] = {}
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def add(self, attachment_id: str, data: bytes) -> None:
        """Hold ``data`` as the file of ``attachment_id`` (under a fresh token)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._files[token] = data
            self._tokens[attachment_id] = token

    def link(self, attachment_id: str) -> str:
        """A signed link to the file last added for ``attachment_id``, valid 15 minutes from now."""
        with self._lock:
            token = self._tokens[attachment_id]
        return document_link(self.base_url, token, self._key, self.clock())

    def start(self) -> DocumentServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="documents", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> DocumentServer:
        return self.start()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _answer(self, path: str) -> tuple[int, bytes]:
        parts = urlsplit(path)
        prefix = "/documents/"
        if not parts.path.startswith(prefix):
            return 404, b""
        token = parts.path[len(prefix) :]
        query = parse_qs(parts.query)
        try:
            expires = int(query["expires"][0])
            sig = query["sig"][0]
        except (KeyError, ValueError, IndexError):
            return 403, b""
        try:
            check_link(token, expires, sig, self._key, self.clock())
        except LinkRefused as exc:
            return exc.status, b""
        with self._lock:
            data = self._files.get(token)
        return (200, data) if data is not None else (404, b"")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, data = server._answer(self.path)
                self.send_response(status)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(data)))
                self.send_header("cache-control", "private, no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass  # request lines carry tokens; nothing to log

        return Handler
