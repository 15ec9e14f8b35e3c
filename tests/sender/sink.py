"""A real receiving server on a free loopback port, run under uvicorn in a thread: counts and checks requests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casehooks.errors import SignatureError
from casehooks.signing import SIGNATURE_HEADER, verify
from tests.processes import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Sink:
    """What the sink saw. ``script`` holds status codes to answer before it settles on 200."""

    secret: str | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    script: deque[int] = field(default_factory=deque)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.secret is not None:
            try:
                verify(body, request.headers.get(SIGNATURE_HEADER), self.secret)
            except SignatureError:
                self.bad_signatures += 1
                return Response(status_code=401)
        with self.lock:
            status = self.script.popleft() if self.script else 200
            if 200 <= status < 300:
                self.received.append(Received(dict(request.headers), body))
        return Response(b'{"ok":true}' if status < 300 else b"nope", status_code=status)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return self.received
            time.sleep(0.02)
        raise AssertionError(f"sink got {len(self.received)} of {count} in {timeout} s")


@contextmanager
def running_sink(secret: str | None = None, *, delay: float = 0.0) -> Iterator[Sink]:
    sink = Sink(secret=secret, delay=delay)
    app = Starlette(routes=[Route("/hook", sink.handle, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise AssertionError("sink did not start")
        time.sleep(0.01)
    sink.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield sink
    finally:
        server.should_exit = True
        thread.join(timeout=10)
