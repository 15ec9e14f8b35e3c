"""The sandbox API's routes for cases: open, move, escalate, archive, import, assign, comment, attach."""

from __future__ import annotations

import asyncio
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import FastAPI, File, Form, HTTPException, UploadFile
from sqlalchemy import Connection, Engine

from casehooks.sender import actions, platform
from casehooks.sender.api_models import (
    ActorIn,
    ArchiveIn,
    AssigneeIn,
    AttachmentIn,
    CaseIn,
    CommentIn,
    Created,
    EscalationIn,
    FileIn,
    IdempotencyKey,
    StatusIn,
    UserIn,
)
from casehooks.sender.object_routes import Once
from casehooks.sender.payloads import JsonObject, Patient, User, case_dict


def add_case_routes(app: FastAPI, clock: Callable[[], datetime], once: Once, db: Callable[[], Engine]) -> None:
    """Each create call runs its change once per ``Idempotency-Key`` (always, without one)."""

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

        return once(idempotency_key, "POST /cases", change)

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

        return once(idempotency_key, f"POST /cases/{case_id}/status", change)

    @app.post("/cases/{case_id}/escalation", status_code=201, tags=["cases"])
    def escalate(case_id: str, body: EscalationIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Escalate or de-escalate the case (ESCALATE_CASE / DEESCALATE_CASE)."""

        def change(conn: Connection) -> JsonObject:
            actor = body.actor.to_user()
            activity_id = actions.escalate(conn, clock(), case_id, actor, escalated=body.escalated)
            return {"id": case_id, "activityId": activity_id}

        return once(idempotency_key, f"POST /cases/{case_id}/escalation", change)

    @app.post("/cases/{case_id}/archive", status_code=201, tags=["cases"])
    def archive(case_id: str, body: ArchiveIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Archive the case with a reason (ARCHIVE_CASE)."""

        def change(conn: Connection) -> JsonObject:
            activity_id = actions.archive(conn, clock(), case_id, body.actor.to_user(), reason=body.reason)
            return {"id": case_id, "activityId": activity_id}

        return once(idempotency_key, f"POST /cases/{case_id}/archive", change)

    @app.post("/cases/{case_id}/import", status_code=201, tags=["cases"])
    def import_case(case_id: str, body: ActorIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Mark the case imported (IMPORT_CASE)."""

        def change(conn: Connection) -> JsonObject:
            activity_id = actions.import_case(conn, clock(), case_id, body.actor.to_user())
            return {"id": case_id, "activityId": activity_id}

        return once(idempotency_key, f"POST /cases/{case_id}/import", change)

    @app.post("/cases/{case_id}/assignees", status_code=201, tags=["cases"])
    def assign(case_id: str, body: AssigneeIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Add (or, with ``remove``, remove) an assignee (ADD_CASE_ASSIGNEE / REMOVE_CASE_ASSIGNEE)."""

        def change(conn: Connection) -> JsonObject:
            actor, assignee = body.actor.to_user(), body.assignee.to_user()
            activity_id = actions.assign(conn, clock(), case_id, actor, assignee, remove=body.remove)
            return {"id": case_id, "activityId": activity_id}

        return once(idempotency_key, f"POST /cases/{case_id}/assignees", change)

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

        return once(idempotency_key, f"POST /cases/{case_id}/comments", change)

    def _attach(case_id: str, file: platform.NewFile, uploader: UserIn, key: str | None) -> Created:
        def change(conn: Connection) -> JsonObject:
            attachment_id, activity_id = platform.add_attachment(
                conn, clock(), case_id, file=file, uploader=uploader.to_user()
            )
            return {"id": attachment_id, "activityId": activity_id}

        return once(key, f"POST /cases/{case_id}/attachments", change)

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


def _decode(file: FileIn) -> platform.NewFile:
    try:
        data = binascii.a2b_base64(file.content, strict_mode=True)
    except binascii.Error:
        raise HTTPException(422, "attachment content is not valid base64") from None
    return platform.NewFile(file.file_name, data, file.content_type, file.is_phi, file.is_restricted)


def _submitter_as_user(patient: Patient) -> User:
    """A case opened by the patient themselves: the actor is the submitter."""
    return User(patient.id, patient.first_name, patient.last_name, patient.email)
