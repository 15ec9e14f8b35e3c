"""The sandbox platform's HTTP API (FastAPI, with OpenAPI at ``/docs``) and its in-process delivery worker.

Cases, statuses, comments and attachments change through the API; each change records its activity and the
outbox rows for the registered endpoints in one transaction, and the worker delivers them. ``GET /documents``
serves the files behind the signed links of the ``URL`` document format.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection, Engine, insert, select, update

from casehooks.errors import NotFound
from casehooks.sender import actions, outbox, platform
from casehooks.sender.api_models import (
    ActorIn,
    ArchiveIn,
    AssigneeIn,
    AttachmentIn,
    AttemptOut,
    CaseIn,
    CommentIn,
    Created,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EscalationIn,
    FileIn,
    IdempotencyKey,
    MessageOut,
    StatusIn,
    UserIn,
)
from casehooks.sender.db import link_key, open_engine
from casehooks.sender.delivery import DeliveryConfig, DeliveryWorker, Resolver, resolve_host, signing_secret
from casehooks.sender.documents import LinkRefused, check_link
from casehooks.sender.idempotency import IdempotencyConflict, run_once
from casehooks.sender.object_routes import add_object_routes
from casehooks.sender.payloads import JsonObject, Patient, User, case_dict
from casehooks.sender.schedule import RetrySchedule
from casehooks.sender.sealing import sandbox_keyring, seal_clear_secrets, secret_box
from casehooks.sender.tables import attachments, attempts, endpoints
from casehooks.sender.tables import outbox as outbox_rows
from casehooks.sender.urlpolicy import OutboundRefused, UrlPolicy
from casehooks.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def _decode(file: FileIn) -> platform.NewFile:
    try:
        data = binascii.a2b_base64(file.content, strict_mode=True)
    except binascii.Error:
        raise HTTPException(422, "attachment content is not valid base64") from None
    return platform.NewFile(file.file_name, data, file.content_type, file.is_phi, file.is_restricted)


def _endpoint_out(row: Any) -> EndpointOut:
    return EndpointOut(
        id=row.id,
        url=row.url,
        document_format=row.document_format,
        event_types=list(row.event_types),
        enabled=row.enabled,
        consecutive_failures=row.consecutive_failures,
        disabled_reason=row.disabled_reason,
        signed=bool(row.secret or row.next_secret),
        auth_header_name=row.auth_header_name,
        case_data=row.case_data,
        secret_switches_at=row.next_secret_from if row.next_secret else None,
    )


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
            settings.data_dir.mkdir(parents=True, exist_ok=True)
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
        limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=config.timeout, follow_redirects=False) as client:
            worker = DeliveryWorker(database, config, client=client, clock=clock, resolver=resolver)
            state["worker"] = worker
            task = asyncio.create_task(worker.run()) if settings.sandbox_worker else None
            try:
                yield
            finally:
                worker.stop()
                if task is not None:
                    await task
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

    @app.post("/endpoints", status_code=201, tags=["endpoints"])
    def register_endpoint(body: EndpointIn) -> EndpointOut:
        """Register a receiver. Its URL must pass the outbound policy (no metadata or link-local hosts)."""
        try:
            policy.check_url(body.url)
        except OutboundRefused as exc:
            raise HTTPException(422, f"endpoint URL refused: {exc.reason}") from None
        if bool(body.auth_header_name) != bool(body.auth_header_value):
            raise HTTPException(422, "authHeaderName and authHeaderValue go together")
        endpoint_id = str(uuid.uuid4())
        with db().begin() as conn:
            conn.execute(
                insert(endpoints).values(
                    id=endpoint_id,
                    url=body.url,
                    secret=state["box"].seal(body.secret, endpoint_id, "secret"),
                    auth_header_name=body.auth_header_name,
                    auth_header_value=state["box"].seal(body.auth_header_value, endpoint_id, "auth_header_value"),
                    document_format=body.document_format,
                    event_types=body.event_types,
                    case_data=body.case_data,
                    enabled=True,
                    consecutive_failures=0,
                    created_at=clock(),
                )
            )
            row = conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).one()
        return _endpoint_out(row)

    @app.get("/endpoints", tags=["endpoints"])
    def list_endpoints() -> list[EndpointOut]:
        with db().connect() as conn:
            return [_endpoint_out(row) for row in conn.execute(select(endpoints).order_by(endpoints.c.created_at))]

    def _endpoint(conn: Any, endpoint_id: str) -> Any:
        row = conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).one_or_none()
        if row is None:
            raise NotFound("endpoint", endpoint_id)
        return row

    @app.get("/endpoints/{endpoint_id}", tags=["endpoints"])
    def get_endpoint(endpoint_id: str) -> EndpointOut:
        with db().connect() as conn:
            return _endpoint_out(_endpoint(conn, endpoint_id))

    @app.patch("/endpoints/{endpoint_id}", tags=["endpoints"])
    def patch_endpoint(endpoint_id: str, body: EndpointPatch) -> EndpointOut:
        """Enable or disable an endpoint (enabling clears its failure count), and/or rotate its secret.

        A new secret signs from ``now + secretOverlapSeconds`` on; until then the old one still signs, so the
        receiver can be given ``new,old`` at any moment of the window (it accepts both).
        """
        values: dict[str, Any] = {}
        if body.enabled is True:
            values.update(enabled=True, consecutive_failures=0, failing_since=None, disabled_reason=None)
        elif body.enabled is False:
            values.update(enabled=False, disabled_reason="disabled through the API")
        with db().begin() as conn:
            row = _endpoint(conn, endpoint_id)
            if body.secret is not None:
                values.update(_rotation(row, body.secret, body.secret_overlap_seconds))
            if values:
                conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))
            row = _endpoint(conn, endpoint_id)
        committed()
        return _endpoint_out(row)

    def _rotation(row: Any, new_secret: str, overlap: float) -> dict[str, Any]:
        box = state["box"]
        now = clock().timestamp()
        current = signing_secret(row, box, now)  # a rotation still in its window is finished first
        sealed_new = box.seal(new_secret, row.id, "next_secret")
        if overlap <= 0 or current is None:
            return {"secret": box.seal(new_secret, row.id, "secret"), "next_secret": None, "next_secret_from": None}
        return {
            "secret": box.seal(current, row.id, "secret"),
            "next_secret": sealed_new,
            "next_secret_from": now + overlap,
        }

    @app.get("/endpoints/{endpoint_id}/attempts", tags=["endpoints"])
    def list_attempts(endpoint_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AttemptOut]:
        """The endpoint's delivery log, newest first: time, status, latency, the start of the answer."""
        with db().connect() as conn:
            _endpoint(conn, endpoint_id)
            rows = conn.execute(
                select(attempts)
                .where(attempts.c.endpoint_id == endpoint_id)
                .order_by(attempts.c.id.desc())
                .limit(limit)
            ).all()
        return [
            AttemptOut(
                outbox_id=r.outbox_id,
                activity_id=r.activity_id,
                attempt=r.attempt,
                at=r.at,
                status=r.status,
                error=r.error,
                latency_ms=r.latency_ms,
                response_excerpt=r.response_excerpt,
            )
            for r in rows
        ]

    @app.get("/endpoints/{endpoint_id}/messages", tags=["endpoints"])
    def list_messages(endpoint_id: str, state_: Annotated[str | None, Query(alias="state")] = None) -> list[MessageOut]:
        """The endpoint's outbox rows: pending, delivered or dead."""
        query = select(outbox_rows).where(outbox_rows.c.endpoint_id == endpoint_id)
        if state_ is not None:
            query = query.where(outbox_rows.c.state == state_)
        with db().connect() as conn:
            _endpoint(conn, endpoint_id)
            rows = conn.execute(query.order_by(outbox_rows.c.id)).all()
        return [
            MessageOut(
                id=r.id,
                activity_id=r.activity_id,
                endpoint_id=r.endpoint_id,
                state=r.state,
                attempts=r.attempts,
                last_status=r.last_status,
                last_error=r.last_error,
            )
            for r in rows
        ]

    @app.post("/messages/{message_id}/redeliver", status_code=202, tags=["endpoints"])
    def redeliver(message_id: int) -> dict[str, Any]:
        """Send an outbox row again now, whatever its state (dead, delivered or pending)."""
        with db().begin() as conn:
            if not outbox.redeliver(conn, message_id, now=clock().timestamp()):
                raise NotFound("message", str(message_id))
        committed()
        return {"id": message_id, "state": outbox.PENDING}

    @app.post("/cases", status_code=201, tags=["cases"])
    def create_case(body: CaseIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Open a case (CREATE_CASE). A retry with the same ``Idempotency-Key`` answers the first call's ids."""
        patient = body.submitter.to_patient()
        actor = body.actor.to_user() if body.actor else _submitter_as_user(patient)

        def change(conn: Connection) -> JsonObject:
            case_id, activity_id = platform.create_case(
                conn,
                clock(),
                organization_id=body.organization_id,
                case_type=body.type,
                title=body.title or f"Case for {patient.first_name} {patient.last_name}",
                product_bundle=body.product_bundle,
                submitter=patient,
                actor=actor,
            )
            return {"id": case_id, "activityId": activity_id}

        return _once(idempotency_key, "POST /cases", change)

    @app.get("/cases/{case_id}", tags=["cases"])
    def get_case(case_id: str) -> JsonObject:
        """The case as the events show it."""
        with db().connect() as conn:
            return case_dict(platform.snapshot(conn, case_id))

    @app.post("/cases/{case_id}/status", status_code=201, tags=["cases"])
    def change_status(case_id: str, body: StatusIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Move the case (CHANGE_CASE_STATUS, or REOPEN_CASE out of a closed status)."""

        def change(conn: Connection) -> JsonObject:
            activity_id = platform.change_status(conn, clock(), case_id, body.status, body.actor.to_user())
            return {"id": case_id, "activityId": activity_id}

        return _once(idempotency_key, f"POST /cases/{case_id}/status", change)

    @app.post("/cases/{case_id}/escalation", status_code=201, tags=["cases"])
    def escalate(case_id: str, body: EscalationIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Escalate or de-escalate the case (ESCALATE_CASE / DEESCALATE_CASE)."""

        def change(conn: Connection) -> JsonObject:
            actor = body.actor.to_user()
            activity_id = actions.escalate(conn, clock(), case_id, actor, escalated=body.escalated)
            return {"id": case_id, "activityId": activity_id}

        return _once(idempotency_key, f"POST /cases/{case_id}/escalation", change)

    @app.post("/cases/{case_id}/archive", status_code=201, tags=["cases"])
    def archive(case_id: str, body: ArchiveIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Archive the case with a reason (ARCHIVE_CASE)."""

        def change(conn: Connection) -> JsonObject:
            activity_id = actions.archive(conn, clock(), case_id, body.actor.to_user(), reason=body.reason)
            return {"id": case_id, "activityId": activity_id}

        return _once(idempotency_key, f"POST /cases/{case_id}/archive", change)

    @app.post("/cases/{case_id}/import", status_code=201, tags=["cases"])
    def import_case(case_id: str, body: ActorIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Mark the case imported (IMPORT_CASE)."""

        def change(conn: Connection) -> JsonObject:
            activity_id = actions.import_case(conn, clock(), case_id, body.actor.to_user())
            return {"id": case_id, "activityId": activity_id}

        return _once(idempotency_key, f"POST /cases/{case_id}/import", change)

    @app.post("/cases/{case_id}/assignees", status_code=201, tags=["cases"])
    def assign(case_id: str, body: AssigneeIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Add (or, with ``remove``, remove) an assignee (ADD_CASE_ASSIGNEE / REMOVE_CASE_ASSIGNEE)."""

        def change(conn: Connection) -> JsonObject:
            actor, assignee = body.actor.to_user(), body.assignee.to_user()
            activity_id = actions.assign(conn, clock(), case_id, actor, assignee, remove=body.remove)
            return {"id": case_id, "activityId": activity_id}

        return _once(idempotency_key, f"POST /cases/{case_id}/assignees", change)

    @app.post("/cases/{case_id}/comments", status_code=201, tags=["cases"])
    def add_comment(case_id: str, body: CommentIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Add a comment, with files as base64 (ADD_CASE_COMMENT)."""
        files = tuple(_decode(file) for file in body.attachments)

        def change(conn: Connection) -> JsonObject:
            comment_id, activity_id = platform.add_comment(
                conn,
                clock(),
                case_id,
                text=body.text,
                author=body.author.to_user(),
                is_restricted=body.is_restricted,
                forms=tuple(tuple(form.questions) for form in body.forms),
                files=files,
                target_user=body.target_user.to_user() if body.target_user else None,
            )
            return {"id": comment_id, "activityId": activity_id}

        return _once(idempotency_key, f"POST /cases/{case_id}/comments", change)

    def _attach(case_id: str, file: platform.NewFile, uploader: UserIn, key: str | None) -> Created:
        def change(conn: Connection) -> JsonObject:
            attachment_id, activity_id = platform.add_attachment(
                conn, clock(), case_id, file=file, uploader=uploader.to_user()
            )
            return {"id": attachment_id, "activityId": activity_id}

        return _once(key, f"POST /cases/{case_id}/attachments", change)

    @app.post("/cases/{case_id}/attachments", status_code=201, tags=["cases"])
    def add_attachment(case_id: str, body: AttachmentIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Attach a file sent as base64 JSON (ADD_CASE_ATTACHMENT)."""
        return _attach(case_id, _decode(body), body.uploaded_by, idempotency_key)

    @app.post("/cases/{case_id}/attachments/upload", status_code=201, tags=["cases"])
    async def upload_attachment(
        case_id: str,
        file: Annotated[UploadFile, File()],
        uploader_first_name: Annotated[str, Form(alias="uploaderFirstName")],
        uploader_last_name: Annotated[str, Form(alias="uploaderLastName")],
        uploader_email: Annotated[str, Form(alias="uploaderEmail")],
        uploader_id: Annotated[str | None, Form(alias="uploaderId")] = None,
        is_phi: Annotated[bool, Form(alias="isPHI")] = False,
        is_restricted: Annotated[bool, Form(alias="isRestricted")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> Created:
        """Attach a file sent as a multipart upload (ADD_CASE_ATTACHMENT)."""
        data = await file.read()
        new = platform.NewFile(
            file.filename or "upload", data, file.content_type or "application/octet-stream", is_phi, is_restricted
        )
        uploader = UserIn(
            id=uploader_id, first_name=uploader_first_name, last_name=uploader_last_name, email=uploader_email
        )
        return await asyncio.to_thread(_attach, case_id, new, uploader, idempotency_key)

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


def _submitter_as_user(patient: Patient) -> User:
    """A case opened by the patient themselves: the actor is the submitter."""
    return User(patient.id, patient.first_name, patient.last_name, patient.email)
