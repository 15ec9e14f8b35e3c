"""The receiver's HTTP face: the webhook endpoint, health, readiness and metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio.to_thread
import orjson
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from casehooks.receiver.intake import Answer, Intake
from casehooks.receiver.metrics import Metrics
from casehooks.store import Store
from casehooks.store.quarantine import Refusal

log = structlog.get_logger("casehooks.receiver")

WEBHOOK_PATH = "/webhooks/carevalidate"


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


async def read_body(request: Request, limit: int) -> tuple[bytes | None, int]:
    """The body, or None once it passes ``limit`` bytes; reading stops there. Returns the bytes seen too."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None, int(declared)
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            return None, len(chunks)
    return bytes(chunks), len(chunks)


def receiver_routes(intake: Intake, store: Store, metrics: Metrics, max_body_bytes: int) -> list[Route]:
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
        ready = await anyio.to_thread.run_sync(store.writable)
        return JSONResponse({"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503)

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
) -> Starlette:
    @contextlib.asynccontextmanager
    async def run(_: Starlette) -> AsyncIterator[None]:
        if lifespan is None:
            yield
            return
        async with lifespan:
            yield

    return Starlette(routes=receiver_routes(intake, store, metrics, max_body_bytes), lifespan=run)
