"""Build outgoing event bodies as the platform writes them: plain dicts, in the seeds' key order. Pure.

The sandbox builds its events from database rows and ``fake`` from generated data; both go through these
functions, so every body the sender side emits has one shape. Times are written as JavaScript's
``toISOString`` does, and the envelope is serialised with ``stringify`` by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casehooks.events.timestamps import format_js_iso

JsonObject = dict[str, Any]


def js_time(value: datetime | None) -> str | None:
    """A timestamp as the platform writes it, or None."""
    return None if value is None else format_js_iso(value)


@dataclass(frozen=True, slots=True)
class User:
    """A platform user: an actor, an uploader, a comment author, a target of an action."""

    id: str
    first_name: str
    last_name: str
    email: str
    role: str = "USER"
    title: str | None = None
    title_suffix: str | None = None
    npi: str | None = None
    dea: str | None = None
    organization_roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Patient:
    """The submitter of a case. Every field is PHI."""

    id: str
    first_name: str
    last_name: str
    email: str
    dob: datetime
    gender: str
    phone_number: str
    address: str
    address2: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """The case as it is when an event happens."""

    id: str
    type: str
    title: str
    status: str
    short_id: str
    created_at: datetime
    updated_at: datetime
    organization_id: str
    product_bundle: str
    submitter: Patient
    assigned_at: datetime | None = None
    in_progress_at: datetime | None = None
    closed_at: datetime | None = None
    is_archived: bool = False
    is_escalated: bool = False
    is_imported: bool = False
    referral_code: str | None = None
    closed_by: str | None = None
    in_progress_by: str | None = None
    archive_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    """A file on a case; ``content`` is base64 text or a signed download URL, per the endpoint's format."""

    id: str
    file_name: str
    created_at: datetime
    uploaded_by: User
    content: str
    is_restricted: bool = False
    is_phi: bool = False
    is_deleted: bool = False


@dataclass(frozen=True, slots=True)
class CommentRecord:
    """A comment on a case, with the PHI flags of its forms and its attachments."""

    id: str
    text: str
    created_at: datetime
    author: User
    is_restricted: bool = False
    forms: tuple[tuple[bool, ...], ...] = ()
    attachments: tuple[AttachmentRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """One entry of the case timeline; its id is the receiver's idempotency key."""

    id: str
    type: str
    timestamp: datetime
    actor: User | None
    target_user: User | None = None
    value_before: Any = None
    value_after: Any = None
    is_phi: bool = False
    is_restricted: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


def person_dict(user: User | None) -> JsonObject | None:
    """An activity's ``actor`` or ``targetUser``."""
    if user is None:
        return None
    return {"id": user.id, "firstName": user.first_name, "lastName": user.last_name, "email": user.email}


def uploader_dict(user: User) -> JsonObject:
    return {"id": user.id, "firstName": user.first_name, "lastName": user.last_name}


def author_dict(user: User) -> JsonObject:
    return {
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "role": user.role,
        "title": user.title,
        "titleSuffix": user.title_suffix,
        "npi": user.npi,
        "dea": user.dea,
        "organizationAccess": [{"role": role} for role in user.organization_roles],
    }


def submitter_dict(patient: Patient) -> JsonObject:
    return {
        "id": patient.id,
        "firstName": patient.first_name,
        "lastName": patient.last_name,
        "email": patient.email,
        "dob": js_time(patient.dob),
        "gender": patient.gender,
        "phoneNumber": patient.phone_number,
        "address": patient.address,
        "address2": patient.address2,
        "city": patient.city,
        "state": patient.state,
        "postalCode": patient.postal_code,
    }


def case_dict(case: CaseSnapshot) -> JsonObject:
    """The ``case`` object, keys in the seeds' order."""
    return {
        "id": case.id,
        "type": case.type,
        "title": case.title,
        "status": case.status,
        "shortId": case.short_id,
        "createdAt": js_time(case.created_at),
        "updatedAt": js_time(case.updated_at),
        "assignedAt": js_time(case.assigned_at),
        "inProgressAt": js_time(case.in_progress_at),
        "closedAt": js_time(case.closed_at),
        "isArchived": case.is_archived,
        "isEscalated": case.is_escalated,
        "isImported": case.is_imported,
        "referralCode": case.referral_code,
        "closedBy": case.closed_by,
        "inProgressBy": case.in_progress_by,
        "organizationId": case.organization_id,
        "archiveReason": case.archive_reason,
        "productBundle": {"name": case.product_bundle},
        "submitter": submitter_dict(case.submitter),
    }


def attachment_dict(attachment: AttachmentRecord) -> JsonObject:
    return {
        "id": attachment.id,
        "isRestricted": attachment.is_restricted,
        "isPHI": attachment.is_phi,
        "fileName": attachment.file_name,
        "isDeleted": attachment.is_deleted,
        "createdAt": js_time(attachment.created_at),
        "uploadedBy": uploader_dict(attachment.uploaded_by),
        "content": attachment.content,
    }


def comment_dict(comment: CommentRecord) -> JsonObject:
    return {
        "id": comment.id,
        "text": comment.text,
        "isRestricted": comment.is_restricted,
        "createdAt": js_time(comment.created_at),
        "forms": [{"questions": [{"isPHI": flag} for flag in form]} for form in comment.forms],
        "author": author_dict(comment.author),
        "attachments": [attachment_dict(attachment) for attachment in comment.attachments],
    }


def activity_dict(activity: ActivityRecord) -> JsonObject:
    """The ``activity`` object, with the four fields the examples carry beyond the attribute list."""
    return {
        "id": activity.id,
        "type": activity.type,
        "isPHI": activity.is_phi,
        "isRestricted": activity.is_restricted,
        "timestamp": js_time(activity.timestamp),
        "valueBefore": activity.value_before,
        "valueAfter": activity.value_after,
        "actor": person_dict(activity.actor),
        "targetUser": person_dict(activity.target_user),
        **activity.extra,
    }


def envelope(
    event_type: str,
    case: CaseSnapshot,
    activity: ActivityRecord,
    *,
    objects: Mapping[str, Any] | None = None,
    top_level: Mapping[str, Any] | None = None,
) -> JsonObject:
    """``{"event": TYPE, "payload": {<own objects>, "case", "activity"}, <top-level siblings>}``.

    The event's own objects lead the payload, as in both seeds; some types (order tracking) add siblings
    beside ``payload``.
    """
    payload: JsonObject = dict(objects or {})
    payload["case"] = case_dict(case)
    payload["activity"] = activity_dict(activity)
    return {"event": event_type, "payload": payload, **(top_level or {})}


def attachment_event(case: CaseSnapshot, activity: ActivityRecord, attachment: AttachmentRecord) -> JsonObject:
    """``ADD_CASE_ATTACHMENT`` exactly as documented."""
    return envelope("ADD_CASE_ATTACHMENT", case, activity, objects={"attachment": attachment_dict(attachment)})


def comment_event(case: CaseSnapshot, activity: ActivityRecord, comment: CommentRecord) -> JsonObject:
    """``ADD_CASE_COMMENT`` exactly as documented (the object is sent as ``comment``, as the platform does)."""
    return envelope("ADD_CASE_COMMENT", case, activity, objects={"comment": comment_dict(comment)})


def fill_documents(event: JsonObject, content_for: Callable[[str], str]) -> JsonObject:
    """A copy of ``event`` with every attachment's ``content`` set to ``content_for(attachment_id)``.

    The sandbox stores each event without document content; the endpoint's format (base64 text or a fresh
    signed link) is chosen at delivery.
    """

    def fill(attachment: Any) -> Any:
        if isinstance(attachment, dict) and "content" in attachment and isinstance(attachment.get("id"), str):
            return {**attachment, "content": content_for(attachment["id"])}
        return attachment

    payload = dict(event["payload"])
    if "attachment" in payload:
        payload["attachment"] = fill(payload["attachment"])
    comment = payload.get("comment")
    if isinstance(comment, dict) and isinstance(comment.get("attachments"), list):
        payload["comment"] = {**comment, "attachments": [fill(item) for item in comment["attachments"]]}
    return {**event, "payload": payload}
