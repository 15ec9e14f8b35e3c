"""Realistic fake events of every type, deterministic for a seed: what ``casehooks trigger`` sends.

Names, addresses and texts come from Faker, reseeded from the caller's ``random.Random`` on every call, so one
seed gives the same bytes on every run and machine. Entity ids are UUIDs and user ids 28-character opaque
strings, as the platform really sends them. Everything is fake: no real person's data is ever produced.
"""

from __future__ import annotations

import base64
import random
import string
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from faker import Faker

from casehooks.events.enums import ActivityType, AuthorRole, CaseStatus, Gender, OrganizationRole
from casehooks.sender import fake_objects as objects
from casehooks.sender.files import fake_file
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

DocumentFormatName = Literal["BASE64", "URL"]
DocumentUrl = Callable[[str], str]
DocumentSink = Callable[[str, bytes], None]

#: The moment fake events are placed around when the caller gives no clock.
DEFAULT_NOW = datetime(2025, 9, 3, 23, 52, 43, 927000, tzinfo=UTC)

_USER_ID_ALPHABET = string.ascii_letters + string.digits
_CASE_TYPES = ("GLP", "TRT", "HRT", "WEIGHT_LOSS", "SKIN")
_BUNDLES = ("BUNDLE-GLP-3M", "BUNDLE-TRT-STARTER", "SEMAGLUTIDE-MONTHLY", "TIRZEPATIDE-QUARTERLY", "HRT-CORE")
_local = threading.local()


def _faker(seed: int) -> Faker:
    faker: Faker | None = getattr(_local, "faker", None)
    if faker is None:
        faker = Faker("en_US")
        _local.faker = faker
    faker.seed_instance(seed)
    return faker


def entity_id(rng: random.Random) -> str:
    """A UUID v4, as the platform uses for cases, comments, attachments and activities."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def user_id(rng: random.Random) -> str:
    """A 28-character opaque user id (the platform's identity provider's format)."""
    return "".join(rng.choices(_USER_ID_ALPHABET, k=28))


def short_id(rng: random.Random) -> str:
    return "ADA-" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=6))


def _before(rng: random.Random, moment: datetime, *, max_seconds: float) -> datetime:
    return moment - timedelta(milliseconds=rng.randint(1, int(max_seconds * 1000)))


class _Maker:
    """One event's worth of generation: the rng, a seeded Faker and the moment the event happens."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.faker = _faker(rng.getrandbits(64))
        self.now = now

    def user(self, *, role: str | None = None, staff: bool = True) -> User:
        first, last = self.faker.first_name(), self.faker.last_name()
        chosen = role or (self.rng.choice([r.value for r in AuthorRole]) if staff else AuthorRole.USER.value)
        clinician = chosen in (AuthorRole.CASE_WORKER.value, AuthorRole.CASE_MANAGER.value)
        return User(
            id=user_id(self.rng),
            first_name=first,
            last_name=last,
            email=f"{first}.{last}{self.rng.randint(1, 99)}@{self.faker.free_email_domain()}".lower(),
            role=chosen,
            title=self.rng.choice(["MD", "DO", "NP", "PA"]) if clinician else None,
            npi=f"{self.rng.randint(10**9, 10**10 - 1)}" if clinician else None,
            organization_roles=tuple(self.rng.sample([r.value for r in OrganizationRole], self.rng.randint(0, 2))),
        )

    def patient(self) -> Patient:
        first, last = self.faker.first_name(), self.faker.last_name()
        dob = datetime(self.now.year - self.rng.randint(18, 85), self.rng.randint(1, 12), self.rng.randint(1, 28))
        return Patient(
            id=user_id(self.rng),
            first_name=first,
            last_name=last,
            email=f"{first}.{last}{self.rng.randint(1, 999)}@{self.faker.free_email_domain()}".lower(),
            dob=dob.replace(tzinfo=UTC),
            gender=self.rng.choice([g.value for g in Gender]),
            phone_number=f"+1{self.rng.randint(201, 989)}{self.rng.randint(1000000, 9999999)}",
            address=self.faker.street_address(),
            address2=self.faker.secondary_address() if self.rng.random() < 0.3 else "",
            city=self.faker.city(),
            state=self.faker.state_abbr(),
            postal_code=self.faker.postcode(),
        )

    def case(self, status: str | None = None) -> CaseSnapshot:
        rng = self.rng
        patient = self.patient()
        chosen = status or rng.choice([s.value for s in CaseStatus])
        created = _before(rng, self.now, max_seconds=60 * 86400)
        assigned = in_progress = closed = None
        in_progress_by = closed_by = None
        if chosen != CaseStatus.OPEN:
            assigned = created + (self.now - created) * rng.uniform(0.05, 0.3)
        if chosen not in (CaseStatus.OPEN, CaseStatus.ASSIGNED):
            assert assigned is not None
            in_progress = assigned + (self.now - assigned) * rng.uniform(0.05, 0.3)
            in_progress_by = user_id(rng)
        if CaseStatus(chosen).is_closed:
            assert in_progress is not None
            closed = in_progress + (self.now - in_progress) * rng.uniform(0.05, 0.5)
            closed_by = in_progress_by if rng.random() < 0.5 else user_id(rng)
        updated = max(t for t in (created, assigned, in_progress, closed) if t is not None)
        return CaseSnapshot(
            id=entity_id(rng),
            type=rng.choice(_CASE_TYPES),
            title=f"Case for {patient.first_name} {patient.last_name}",
            status=chosen,
            short_id=short_id(rng),
            created_at=created,
            updated_at=updated,
            organization_id=entity_id(rng),
            product_bundle=rng.choice(_BUNDLES),
            submitter=patient,
            assigned_at=assigned,
            in_progress_at=in_progress,
            closed_at=closed,
            is_escalated=rng.random() < 0.2,
            referral_code=None,
            closed_by=closed_by,
            in_progress_by=in_progress_by,
        )

    def attachment(
        self,
        uploader: User,
        size: int,
        document_format: DocumentFormatName,
        document_url: DocumentUrl | None,
        on_document: DocumentSink | None = None,
    ) -> AttachmentRecord:
        attachment_id = entity_id(self.rng)
        file_name, data = fake_file(self.rng, size)
        if on_document is not None:
            on_document(attachment_id, data)
        if document_format == "URL":
            content = (document_url or _example_url)(attachment_id)
        else:
            content = base64.b64encode(data).decode("ascii")
        return AttachmentRecord(
            id=attachment_id,
            file_name=file_name,
            created_at=self.now,
            uploaded_by=uploader,
            content=content,
            is_phi=self.rng.random() < 0.5,
        )


def _example_url(attachment_id: str) -> str:
    return f"https://documents.example.invalid/documents/{attachment_id}?expires=1756944463&sig=0"


#: The kind of own object each type carries beyond ``case`` and ``activity`` (absent: none).
_OWN_OBJECT: dict[str, str] = {
    **dict.fromkeys(("ADD_CASE_DECISION", "DECISION_DELETED"), "decision"),
    **dict.fromkeys(("ADD_FORM_RESPONSE", "UPDATE_FORM_RESPONSE", "FOLLOWUP_FORM"), "form"),
    **dict.fromkeys(("ADD_CASE_ASSIGNEE", "REMOVE_CASE_ASSIGNEE"), "assignees"),
    **dict.fromkeys(("ADD_HR_REP", "REMOVE_HR_REP"), "hrRep"),
    **dict.fromkeys(("ORDER_CREATED", "ORDER_STATUS_CHANGED", "ORDER_TRACKING_ADDED"), "order"),
    **dict.fromkeys(
        ("PAYMENT_ADDED", "PAYMENT_DELETED", "PAYMENT_UPDATED", "PAYMENT_PREAUTHORIZED", "PAYMENT_INFO_LINK_SENT"),
        "payment",
    ),
    "ADD_PAYMENT_INFO_USING_LINK": "paymentInfo",
    **{t.value: "calendarEvent" for t in ActivityType if t.value.startswith("CALENDAR_EVENT_")},
    **{t.value: "subscription" for t in ActivityType if t.value.startswith("SUBSCRIPTION_")},
    **dict.fromkeys(("DELETE_CASE_COMMENT", "COMMENT_ACKNOWLEDGED"), "comment"),
    "DELETE_ATTACHMENT": "attachment",
}

#: Every event type ``fake_event`` knows: the seeds' activity-type list.
EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in ActivityType)

_ORDER_STATUS = {"ORDER_CREATED": "CREATED", "ORDER_STATUS_CHANGED": "PROCESSING", "ORDER_TRACKING_ADDED": "SHIPPED"}


def fake_event(
    event_type: str,
    rng: random.Random,
    *,
    attachment_bytes: int = 1024,
    document_format: DocumentFormatName = "BASE64",
    document_url: DocumentUrl | None = None,
    now: datetime | None = None,
    on_document: DocumentSink | None = None,
) -> JsonObject:
    """One realistic event of ``event_type`` as the wire dict (serialise with ``stringify``).

    ``ADD_CASE_COMMENT`` and ``ADD_CASE_ATTACHMENT`` follow the seeds exactly; every other type carries
    ``case`` and ``activity`` plus its own object in the shape of EVENTS.md (orders put ``order`` beside
    ``payload``), and the case snapshot agrees with the event (archived after ``ARCHIVE_CASE``, closed after a
    decision ...). Files are ``attachment_bytes`` random bytes, inline as base64 or, with
    ``document_format="URL"``, as the link ``document_url(attachment_id)`` returns. A comment carries one
    attachment, or none when ``attachment_bytes`` is 0. ``on_document(attachment_id, data)`` sees each file
    before its link is asked for (a document server registers it). Unknown types raise ``ValueError``.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError("unknown event type")
    m = _Maker(rng, now or DEFAULT_NOW)
    case = m.case("OPEN" if event_type == "CREATE_CASE" else None)
    actor = m.user()
    activity_id = entity_id(rng)
    if event_type == "ADD_CASE_COMMENT":
        attachments: tuple[AttachmentRecord, ...] = ()
        if attachment_bytes > 0:
            attachments = (m.attachment(actor, attachment_bytes, document_format, document_url, on_document),)
        comment = CommentRecord(
            id=entity_id(rng),
            text=m.faker.paragraph(nb_sentences=2),
            created_at=m.now,
            author=actor,
            forms=tuple(tuple(rng.random() < 0.3 for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(0, 2))),
            attachments=attachments,
        )
        activity = ActivityRecord(
            activity_id, event_type, m.now, actor, m.user() if rng.random() < 0.5 else None, value_after=comment.text
        )
        return envelope(event_type, case, activity, objects={"comment": comment_dict(comment)})
    if event_type == "ADD_CASE_ATTACHMENT":
        attachment = m.attachment(actor, attachment_bytes, document_format, document_url, on_document)
        activity = ActivityRecord(activity_id, event_type, m.now, actor, None, value_after=attachment.file_name)
        return envelope(event_type, case, activity, objects={"attachment": attachment_dict(attachment)})
    kind = _OWN_OBJECT.get(event_type)
    target = m.user() if kind in ("assignees", "hrRep") else None
    case, values = _case_change(event_type, m, case)
    activity = ActivityRecord(activity_id, event_type, m.now, actor, target, **values)
    if kind is None:
        return envelope(event_type, case, activity)
    if kind == "order":
        return envelope(event_type, case, activity, top_level={"order": objects.order(m, _ORDER_STATUS[event_type])})
    return envelope(event_type, case, activity, objects=_own_objects(kind, m, event_type, case, actor, target))


def _own_objects(
    kind: str, m: _Maker, event_type: str, case: CaseSnapshot, actor: User, target: User | None
) -> dict[str, Any]:
    if kind == "decision":
        deleted = event_type == "DECISION_DELETED"
        approved = case.status == CaseStatus.APPROVED if not deleted else m.rng.random() < 0.7
        return {"decision": objects.decision(m, actor, case_id=case.id, approved=approved, deleted=deleted)}
    if kind == "form":
        return {"form": objects.form(m), "response": objects.form_response(m, case_respondent(case))}
    if kind == "assignees":
        assert target is not None
        return {"assignees": objects.assignees([target])}
    if kind == "paymentInfo":
        return {"caseId": case.id, "paymentInfo": objects.payment_info(m)}
    if kind == "payment":
        return {"payment": objects.payment(m, event_type)}
    if kind == "calendarEvent":
        return {"calendarEvent": objects.calendar_event(m, event_type, actor)}
    return {kind: objects.invented(kind, m, event_type, target)}


def case_respondent(case: CaseSnapshot) -> User:
    """The patient as a form's respondent."""
    patient = case.submitter
    return User(id=patient.id, first_name=patient.first_name, last_name=patient.last_name, email=patient.email)


def _case_change(event_type: str, m: _Maker, case: CaseSnapshot) -> tuple[CaseSnapshot, dict[str, Any]]:
    """The case as it is after ``event_type``, and the activity's ``valueBefore``/``valueAfter``."""
    rng = m.rng
    if event_type == "CHANGE_CASE_STATUS":
        before = rng.choice([s.value for s in CaseStatus if s.value != case.status and not s.is_closed])
        return case, {"value_before": before, "value_after": case.status}
    if event_type == "ADD_CASE_DECISION":
        closed = m.case(rng.choice([CaseStatus.APPROVED.value, CaseStatus.REJECTED.value]))
        closed = replace(closed, closed_at=m.now, updated_at=m.now)
        return closed, {"value_before": CaseStatus.IN_PROGRESS.value, "value_after": closed.status}
    if event_type in ("DECISION_DELETED", "REOPEN_CASE"):
        reopened = m.case(CaseStatus.IN_PROGRESS.value)
        before = rng.choice([CaseStatus.APPROVED.value, CaseStatus.REJECTED.value])
        return replace(reopened, updated_at=m.now), {"value_before": before, "value_after": reopened.status}
    if event_type == "ARCHIVE_CASE":
        reason = rng.choice(["COMPLETE", "INELIGIBLE"])
        archived = replace(case, is_archived=True, archive_reason=reason, updated_at=m.now)
        return archived, {"value_before": False, "value_after": True}
    if event_type in ("ESCALATE_CASE", "DEESCALATE_CASE"):
        escalated = event_type == "ESCALATE_CASE"
        changed = replace(case, is_escalated=escalated, updated_at=m.now)
        return changed, {"value_before": not escalated, "value_after": escalated}
    if event_type == "IMPORT_CASE":
        return replace(case, is_imported=True), {"value_before": False, "value_after": True}
    if event_type == "VISIT_TYPE_CHANGED":
        before, after = rng.sample(objects.VISIT_TYPES, 2)
        return case, {"value_before": before, "value_after": after}
    if event_type in ("SMS_SENT", "SMS_RECEIVED", "INBOUND_EMAIL", "OUTBOUND_EMAIL", "FOLLOWUP_EMAIL", "TEXT_INFO"):
        return case, {"value_after": m.faker.sentence(), "is_phi": True}
    return case, {}
