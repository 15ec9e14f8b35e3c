"""The sandbox platform's HTTP API (FastAPI, with OpenAPI at ``/docs``) and its in-process delivery worker.

Cases, statuses, comments and attachments change through the API; each change records its activity and the
outbox rows for the registered endpoints in one transaction, and the worker delivers them. ``GET /documents``
serves the files behind the signed links of the ``URL`` document format.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection, Engine, select

from casehooks.errors import NotFound
from casehooks.sender.api_models import Created
from casehooks.sender.case_routes import add_case_routes
from casehooks.sender.db import link_key, open_engine
from casehooks.sender.delivery import DeliveryConfig, DeliveryWorker, Resolver, resolve_host
from casehooks.sender.documents import LinkRefused, check_link
from casehooks.sender.endpoint_routes import add_endpoint_routes
from casehooks.sender.idempotency import IdempotencyConflict, run_once
from casehooks.sender.object_routes import add_object_routes
from casehooks.sender.payloads import JsonObject
from casehooks.sender.schedule import RetrySchedule
from casehooks.sender.sealing import sandbox_keyring, seal_clear_secrets, secret_box
from casehooks.sender.tables import attachments
from casehooks.sender.transport import Pool
from casehooks.sender.urlpolicy import UrlPolicy
from casehooks.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    resolver: Resolver = resolve_host,
    engine: Engine | None = None,
) -> FastAPI:
    """The sandbox app; the delivery worker starts and stops with it unless ``sandbox_worker`` is off."""
    policy = UrlPolicy.from_list(settings.outbound_allow_list, allow_loopback=settings.outbound_allow_loopback)
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.sandbox_database_url is None:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only whatever the umask
        database = (
            engine
            if engine is not None
            else await asyncio.to_thread(open_engine, settings.resolved_sandbox_database_url)
        )
        key = await asyncio.to_thread(link_key, database)
        master = settings.sandbox_master_key.get_secret_value() if settings.sandbox_master_key else None
        box = await asyncio.to_thread(secret_box, database, sandbox_keyring(master, settings.data_dir))
        await asyncio.to_thread(seal_clear_secrets, database, box)
        state.update(engine=database, key=key, box=box)
        config = DeliveryConfig(
            public_url=settings.resolved_sandbox_public_url,
            link_key=key,
            schedule=RetrySchedule(
                settings.sandbox_retry_base_seconds, settings.sandbox_retry_cap_seconds, settings.sandbox_max_attempts
            ),
            policy=policy,
            lease_seconds=settings.sandbox_lease_seconds,
            timeout=settings.sandbox_delivery_timeout,
            concurrency=settings.sandbox_delivery_concurrency,
            poll_seconds=settings.sandbox_poll_seconds,
            disable_after=settings.sandbox_disable_after,
            disable_after_seconds=settings.sandbox_disable_after_seconds,
            box=box,
        )
        pool = Pool(per_target=config.concurrency)
        worker = DeliveryWorker(database, config, pool=pool, clock=clock, resolver=resolver)
        state["worker"] = worker
        task = asyncio.create_task(worker.run()) if settings.sandbox_worker else None
        try:
            yield
        finally:
            worker.stop()
            if task is not None:
                await task
            await pool.close()
        if engine is None:
            database.dispose()

    app = FastAPI(
        title="casehooks sandbox",
        description="A small case platform that sends the case webhooks, for testing receivers end to end.",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default answer echoes the input, which may be PHI: keep only where and why.
        errors = [{"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]} for error in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(IdempotencyConflict)
    async def _conflict(_: Request, exc: IdempotencyConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    def db() -> Engine:
        found: Engine = state["engine"]
        return found

    def committed() -> None:
        worker: DeliveryWorker | None = state.get("worker")
        if worker is not None:
            worker.notify()

    def _once(key: str | None, scope: str, change: Callable[[Connection], JsonObject]) -> Created:
        """Run a create call's change once per ``Idempotency-Key`` (always, without one)."""
        answer, ran = run_once(db(), key, scope, clock().timestamp(), change)
        if ran:
            committed()
        return Created.model_validate(answer)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    add_endpoint_routes(app, db, lambda: state["box"], clock, policy, committed)
    add_case_routes(app, clock, _once, db)
    add_object_routes(app, clock, _once, settings.resolved_sandbox_public_url)

    @app.get("/documents/{attachment_id}", tags=["documents"])
    def download(attachment_id: str, expires: int, sig: str) -> Response:
        """A file behind a signed link: 403 for a bad signature, 410 once the 15 minutes are over."""
        try:
            check_link(attachment_id, expires, sig, state["key"], clock())
        except LinkRefused as exc:
            raise HTTPException(exc.status, exc.reason) from None
        with db().connect() as conn:
            row = conn.execute(
                select(attachments.c.data, attachments.c.content_type).where(attachments.c.id == attachment_id)
            ).one_or_none()
        if row is None:
            raise NotFound("attachment", attachment_id)
        return Response(
            bytes(row.data),
            media_type=row.content_type,
            headers={"cache-control": "private, no-store", "content-disposition": "attachment"},
        )

    return app
