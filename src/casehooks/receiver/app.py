"""The receiver's HTTP face: the webhook endpoint, health, readiness and metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import cast

import anyio.to_thread
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from casehooks.logs import get_logger
from casehooks.receiver.bodies import (
    BUSY_RETRY_AFTER_SECONDS,
    BodyLimits,
    Received,
    UnverifiedBudget,
    declared_length,
    read_body,
)
from casehooks.receiver.intake import Answer, Intake
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.readiness import Readiness, answer
from casehooks.receiver.spool import SpoolPolicy, SpoolWriter
from casehooks.store import Store

log = get_logger("casehooks.receiver")

WEBHOOK_PATH = "/webhooks/carevalidate"


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: object) -> bytes:
        return orjson.dumps(content)


def receiver_routes(
    intake: Intake,
    store: Store,
    metrics: Metrics,
    limits: BodyLimits,
    budget: UnverifiedBudget,
    readiness: Readiness | None = None,
    spool: SpoolPolicy | None = None,
) -> list[Route]:
    ready_checks = readiness if readiness is not None else Readiness.for_store(store)

    async def webhook(request: Request) -> Response:
        if spool is not None and spool.wants(declared_length(request)):
            with spool.open() as (path, file):
                return await spooled(request, path, file)
        try:
            received = await read_body(request, limits, budget)
        except ClientDisconnect:
            return Response(status_code=400)
        return await answered(request, received, lambda headers: intake.receive(cast(bytes, received.body), headers))

    async def spooled(request: Request, path: Path, file: SpoolWriter) -> Response:
        # A large body: written to its spool as it arrives, then read from there (the spool is removed after).
        digests = intake.digests()  # signature and SHA-256 computed as the body arrives: no pass to re-read it
        try:
            with file:
                received = await read_body(request, limits, budget, file, digests)
        except ClientDisconnect:
            return Response(status_code=400)
        return await answered(request, received, lambda headers: intake.receive_spooled(path, headers, digests))

    async def answered(
        request: Request, received: Received, receive: Callable[[dict[str, str]], Awaitable[Answer]]
    ) -> Response:
        headers = dict(request.headers)
        try:
            if received.refusal is not None:
                return await refused(received, headers)
            answer = await receive(headers)
        finally:
            budget.give_back(received.held)  # verified, stored or refused: no longer unverified bytes
        retry = {"retry-after": str(answer.retry_after)} if answer.retry_after is not None else None
        return _JSON(answer.body, status_code=answer.status_code, headers=retry)

    async def refused(received: Received, headers: dict[str, str]) -> Response:
        assert received.refusal is not None
        answer = await intake.refuse(received.refusal, None, received.size, headers)
        # The rest of a refused body is never read: the connection cannot carry another request.
        extra = {"connection": "close"}
        if received.refusal.status_code == 503:
            extra["retry-after"] = str(BUSY_RETRY_AFTER_SECONDS)
        return _JSON(answer.body, status_code=answer.status_code, headers=extra)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        body, status_code = answer(await anyio.to_thread.run_sync(ready_checks.check))
        if status_code == 200:
            # Reported, not failed on: a handler set that differs between workers is the operator's to resolve.
            body["handlers"] = await anyio.to_thread.run_sync(store.handler_report)
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
    limits: BodyLimits,
    lifespan: contextlib.AbstractAsyncContextManager[None] | None = None,
    console: ASGIApp | None = None,
    budget: UnverifiedBudget | None = None,
    readiness: Readiness | None = None,
    spool: SpoolPolicy | None = None,
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

    routes: list[Route | Mount] = [
        *receiver_routes(
            intake, store, metrics, limits, budget or UnverifiedBudget(4 * limits.max_bytes), readiness, spool
        )
    ]
    if console is not None:
        routes.append(Mount("", app=console))
    return Starlette(routes=routes, lifespan=run, exception_handlers={404: _not_found})


async def _not_found(_: Request, __: Exception) -> Response:
    # Paths no route matches (even the console's catch-all, e.g. with a newline) answer JSON like the rest.
    return JSONResponse({"detail": "Not Found"}, status_code=404)
