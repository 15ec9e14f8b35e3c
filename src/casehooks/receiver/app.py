"""The receiver's HTTP face: the webhook endpoint, health, readiness and metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import cast

import anyio.to_thread
import orjson
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from casehooks.receiver.intake import Answer, Intake
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.readiness import Readiness, answer
from casehooks.store import Store
from casehooks.store.quarantine import Refusal

log = structlog.get_logger("casehooks.receiver")

WEBHOOK_PATH = "/webhooks/carevalidate"


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


async def read_body(request: Request, limit: int) -> tuple[bytes | None, int]:
    """The body, or None once it passes ``limit`` bytes; reading stops there. Returns the bytes seen too.

    With a declared length the body is read into one buffer of that size: a 50 MiB upload then costs 50 MiB,
    not a growing buffer plus a copy of it.
    """
    declared = request.headers.get("content-length")
    expected = int(declared) if declared is not None and declared.isdigit() else None
    if expected is not None and expected > limit:
        return None, expected
    if expected is not None:
        buffer = bytearray(expected)
        view = memoryview(buffer)
        filled = 0
        async for chunk in request.stream():
            end = filled + len(chunk)
            if end > expected:  # more than declared: the server stops it; never read past the buffer
                return None, end
            view[filled:end] = chunk
            filled = end
        view.release()
        # Downstream code only reads the body: the buffer serves as bytes without a copy.
        return cast(bytes, buffer if filled == expected else buffer[:filled]), filled
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            return None, len(chunks)
    return cast(bytes, chunks), len(chunks)


def receiver_routes(
    intake: Intake, store: Store, metrics: Metrics, max_body_bytes: int, readiness: Readiness | None = None
) -> list[Route]:
    ready_checks = readiness if readiness is not None else Readiness.for_store(store)

    async def webhook(request: Request) -> Response:
        try:
            body, size = await read_body(request, max_body_bytes)
        except ClientDisconnect:
            return Response(status_code=400)
        headers = dict(request.headers)
        if body is None:
            refusal = Refusal("too_large", f"body over the limit of {max_body_bytes} bytes", 413)
            answer: Answer = await intake.refuse(refusal, None, size, headers)
        else:
            answer = await intake.receive(body, headers)
        return _JSON(answer.body, status_code=answer.status_code)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        body, status_code = answer(await anyio.to_thread.run_sync(ready_checks.check))
        return JSONResponse(body, status_code=status_code)

    async def metrics_endpoint(_: Request) -> Response:
        payload = await anyio.to_thread.run_sync(generate_latest, metrics.registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    return [
        Route(WEBHOOK_PATH, webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def build_app(
    intake: Intake,
    store: Store,
    metrics: Metrics,
    max_body_bytes: int,
    lifespan: contextlib.AbstractAsyncContextManager[None] | None = None,
    console: ASGIApp | None = None,
    readiness: Readiness | None = None,
) -> Starlette:
    """The receiver's routes, then (when given) the console for every other path: no middleware of the
    console's ever runs in front of the webhook."""

    @contextlib.asynccontextmanager
    async def run(_: Starlette) -> AsyncIterator[None]:
        if lifespan is None:
            yield
            return
        async with lifespan:
            yield

    routes: list[Route | Mount] = [*receiver_routes(intake, store, metrics, max_body_bytes, readiness)]
    if console is not None:
        routes.append(Mount("", app=console))
    return Starlette(routes=routes, lifespan=run, exception_handlers={404: _not_found})


async def _not_found(_: Request, __: Exception) -> Response:
    # Paths no route matches (even the console's catch-all, e.g. with a newline) answer JSON like the rest.
    return JSONResponse({"detail": "Not Found"}, status_code=404)
