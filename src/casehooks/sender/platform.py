"""The sandbox's case platform: each change writes its activity and its outbox rows in one transaction.

Functions take an open connection (the caller owns the transaction) and the moment of the change; they build
the event body from the case as it is right then, so a delivery made later still carries that snapshot.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from casehooks.errors import NotFound
from casehooks.events.enums import CaseStatus
from casehooks.sender import outbox
from casehooks.sender.payloads import (
    ActivityRecord,
    AttachmentRecord,
    CaseSnapshot,
    CommentRecord,
    JsonObject,
    Patient,
    User,
    attachment_dict,
    comment_dict,
    envelope,
)
from casehooks.sender.tables import activities, attachments, cases, comments

_SHORT_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to attach, as uploaded."""

    file_name: str
    data: bytes
    content_type: str = "application/octet-stream"
    is_phi: bool = False
    is_restricted: bool = False


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time the sandbox stores is UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def user_json(user: User) -> JsonObject:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "title": user.title,
        "title_suffix": user.title_suffix,
        "npi": user.npi,
        "dea": user.dea,
        "organization_roles": list(user.organization_roles),
    }


def user_from_json(data: JsonObject) -> User:
    return User(**{**data, "organization_roles": tuple(data.get("organization_roles") or ())})


def patient_json(patient: Patient) -> JsonObject:
    return {
        "id": patient.id,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "dob": patient.dob.isoformat(),
        "gender": patient.gender,
        "phone_number": patient.phone_number,
        "address": patient.address,
        "address2": patient.address2,
        "city": patient.city,
        "state": patient.state,
        "postal_code": patient.postal_code,
    }


def patient_from_json(data: JsonObject) -> Patient:
    return Patient(**{**data, "dob": datetime.fromisoformat(data["dob"])})


def snapshot(conn: Connection, case_id: str) -> CaseSnapshot:
    """The case as it is now in this transaction."""
    row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one_or_none()
    if row is None:
        raise NotFound("case", case_id)
    created_at, updated_at = _aware(row["created_at"]), _aware(row["updated_at"])
    assert created_at is not None
    assert updated_at is not None
    return CaseSnapshot(
        id=row["id"],
        type=row["type"],
        title=row["title"],
        status=row["status"],
        short_id=row["short_id"],
        created_at=created_at,
        updated_at=updated_at,
        organization_id=row["organization_id"],
        product_bundle=row["product_bundle"],
        submitter=patient_from_json(row["submitter"]),
        assigned_at=_aware(row["assigned_at"]),
        in_progress_at=_aware(row["in_progress_at"]),
        closed_at=_aware(row["closed_at"]),
        is_archived=row["is_archived"],
        is_escalated=row["is_escalated"],
        is_imported=row["is_imported"],
        referral_code=row["referral_code"],
        closed_by=row["closed_by"],
        in_progress_by=row["in_progress_by"],
        archive_reason=row["archive_reason"],
    )


def _record(conn: Connection, case_id: str, event_type: str, event: JsonObject, now: datetime) -> str:
    activity_id: str = event["payload"]["activity"]["id"]
    conn.execute(
        insert(activities).values(id=activity_id, case_id=case_id, type=event_type, event=event, created_at=now)
    )
    outbox.enqueue(conn, activity_id, event_type, now.timestamp())
    return activity_id


def _touch(conn: Connection, case_id: str, now: datetime, **values: Any) -> CaseSnapshot:
    result = conn.execute(update(cases).where(cases.c.id == case_id).values(updated_at=now, **values))
    if result.rowcount != 1:
        raise NotFound("case", case_id)
    return snapshot(conn, case_id)


def create_case(
    conn: Connection,
    now: datetime,
    *,
    organization_id: str,
    case_type: str,
    title: str,
    product_bundle: str,
    submitter: Patient,
    actor: User,
) -> tuple[str, str]:
    """Open a case (status OPEN); returns (case id, activity id) of its CREATE_CASE activity."""
    case_id = str(uuid.uuid4())
    short = "ADA-" + "".join(random.SystemRandom().choices(_SHORT_ID_ALPHABET, k=6))
    conn.execute(
        insert(cases).values(
            id=case_id,
            short_id=short,
            organization_id=organization_id,
            type=case_type,
            title=title,
            status=CaseStatus.OPEN.value,
            product_bundle=product_bundle,
            submitter=patient_json(submitter),
            created_at=now,
            updated_at=now,
            is_archived=False,
            is_escalated=False,
            is_imported=False,
        )
    )
    case = snapshot(conn, case_id)
    activity = ActivityRecord(str(uuid.uuid4()), "CREATE_CASE", now, actor, value_after=case.status)
    return case_id, _record(conn, case_id, "CREATE_CASE", envelope("CREATE_CASE", case, activity), now)


def status_changes(case: CaseSnapshot, status: CaseStatus, actor_id: str, now: datetime) -> dict[str, Any]:
    """The case columns a move to ``status`` sets, as the seeds show them. Pure."""
    values: dict[str, Any] = {"status": status.value}
    if status is not CaseStatus.OPEN and case.assigned_at is None:
        values["assigned_at"] = now
    if status is CaseStatus.IN_PROGRESS:
        values["in_progress_at"] = now
        values["in_progress_by"] = actor_id
    if status.is_closed:
        values["closed_at"] = now
        values["closed_by"] = actor_id
    elif case.closed_at is not None:
        values["closed_at"] = None
        values["closed_by"] = None
    return values


def change_status(conn: Connection, now: datetime, case_id: str, status: CaseStatus, actor: User) -> str:
    """Move the case to ``status``; a closed case moved back to an open status is a REOPEN_CASE."""
    before = snapshot(conn, case_id)
    case = _touch(conn, case_id, now, **status_changes(before, status, actor.id, now))
    reopened = before.closed_at is not None and not status.is_closed
    event_type = "REOPEN_CASE" if reopened else "CHANGE_CASE_STATUS"
    activity = ActivityRecord(str(uuid.uuid4()), event_type, now, actor, None, before.status, status.value)
    return _record(conn, case_id, event_type, envelope(event_type, case, activity), now)


def _store_file(
    conn: Connection, case_id: str, comment_id: str | None, file: NewFile, uploader: User, now: datetime
) -> str:
    attachment_id = str(uuid.uuid4())
    conn.execute(
        insert(attachments).values(
            id=attachment_id,
            case_id=case_id,
            comment_id=comment_id,
            file_name=file.file_name,
            content_type=file.content_type,
            data=file.data,
            is_restricted=file.is_restricted,
            is_phi=file.is_phi,
            uploaded_by=user_json(uploader),
            created_at=now,
        )
    )
    return attachment_id


def _attachment_record(attachment_id: str, file: NewFile, uploader: User, now: datetime) -> AttachmentRecord:
    # Content is filled in per endpoint at delivery (base64 or a fresh signed link).
    return AttachmentRecord(attachment_id, file.file_name, now, uploader, "", file.is_restricted, file.is_phi)


def add_comment(
    conn: Connection,
    now: datetime,
    case_id: str,
    *,
    text: str,
    author: User,
    is_restricted: bool = False,
    forms: tuple[tuple[bool, ...], ...] = (),
    files: tuple[NewFile, ...] = (),
    target_user: User | None = None,
) -> tuple[str, str]:
    """Add a comment (with files); returns (comment id, activity id) of its ADD_CASE_COMMENT."""
    comment_id = str(uuid.uuid4())
    conn.execute(
        insert(comments).values(
            id=comment_id,
            case_id=case_id,
            text=text,
            is_restricted=is_restricted,
            author=user_json(author),
            forms=[list(form) for form in forms],
            created_at=now,
        )
    )
    records = tuple(
        _attachment_record(_store_file(conn, case_id, comment_id, f, author, now), f, author, now) for f in files
    )
    case = _touch(conn, case_id, now)
    comment = CommentRecord(comment_id, text, now, author, is_restricted, forms, records)
    activity = ActivityRecord(str(uuid.uuid4()), "ADD_CASE_COMMENT", now, author, target_user, value_after=text)
    event = envelope("ADD_CASE_COMMENT", case, activity, objects={"comment": comment_dict(comment)})
    return comment_id, _record(conn, case_id, "ADD_CASE_COMMENT", event, now)


def add_attachment(conn: Connection, now: datetime, case_id: str, *, file: NewFile, uploader: User) -> tuple[str, str]:
    """Attach a file to the case; returns (attachment id, activity id) of its ADD_CASE_ATTACHMENT."""
    snapshot(conn, case_id)  # NotFound before anything is written
    attachment_id = _store_file(conn, case_id, None, file, uploader, now)
    case = _touch(conn, case_id, now)
    record = _attachment_record(attachment_id, file, uploader, now)
    activity = ActivityRecord(str(uuid.uuid4()), "ADD_CASE_ATTACHMENT", now, uploader, value_after=file.file_name)
    event = envelope("ADD_CASE_ATTACHMENT", case, activity, objects={"attachment": attachment_dict(record)})
    return attachment_id, _record(conn, case_id, "ADD_CASE_ATTACHMENT", event, now)
