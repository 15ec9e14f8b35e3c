"""Changes that create or change a case's own object: decide, delete a decision, answer a form, order and ship,
add payment info, book, reschedule and cancel an appointment. One transaction each, like ``platform``.

The caller passes the object's documented fields (camelCase, as on the wire); this module adds ids and times,
keeps the object in ``case_objects`` and emits the event in the shape of the event reference, with the case
snapshot as the change left it (a decision closes the case, deleting it reopens the case).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from casehooks.errors import NotFound
from casehooks.events.enums import CaseStatus
from casehooks.sender.payloads import ActivityRecord, JsonObject, User, envelope, js_time
from casehooks.sender.platform import _record, _touch, snapshot, status_changes
from casehooks.sender.tables import case_objects


def _keep(conn: Connection, case_id: str, kind: str, data: JsonObject, now: datetime) -> None:
    conn.execute(insert(case_objects).values(id=data["id"], case_id=case_id, kind=kind, data=data, created_at=now))


def _load(conn: Connection, case_id: str, kind: str, object_id: str) -> JsonObject:
    found = conn.execute(
        select(case_objects.c.data).where(
            case_objects.c.id == object_id, case_objects.c.case_id == case_id, case_objects.c.kind == kind
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(kind, object_id)
    data: JsonObject = dict(found)
    return data


def _replace(conn: Connection, data: JsonObject) -> None:
    conn.execute(update(case_objects).where(case_objects.c.id == data["id"]).values(data=data))


def _emit(
    conn: Connection,
    now: datetime,
    case_id: str,
    event_type: str,
    actor: User,
    *,
    objects: dict[str, Any] | None = None,
    top_level: dict[str, Any] | None = None,
    case_values: dict[str, Any] | None = None,
    value_before: Any = None,
    value_after: Any = None,
) -> str:
    case = _touch(conn, case_id, now, **(case_values or {}))
    activity = ActivityRecord(str(uuid.uuid4()), event_type, now, actor, None, value_before, value_after)
    event = envelope(event_type, case, activity, objects=objects, top_level=top_level)
    return _record(conn, case_id, event_type, event, now)


def decide(conn: Connection, now: datetime, case_id: str, actor: User, fields: JsonObject) -> tuple[str, str]:
    """``ADD_CASE_DECISION``: the decision with its prescriber (``addedBy``); the case closes."""
    before = snapshot(conn, case_id)
    approved = bool(fields["isApproved"])
    status = CaseStatus.APPROVED if approved else CaseStatus.REJECTED
    if fields.get("isNoDecision"):
        status = CaseStatus.NO_DECISION
    start = fields.get("startDate") or js_time(now)
    decision = {
        "id": str(uuid.uuid4()),
        "isApproved": approved,
        "isNoDecision": bool(fields.get("isNoDecision", False)),
        "startDate": start,
        "endDate": fields.get("endDate"),
        "decisionText": fields["decisionText"],
        "category": fields.get("category"),
        "createdAt": js_time(now),
        "visitType": fields["visitType"],
        "addedBy": fields["addedBy"],
        "medInfo": [{"id": str(uuid.uuid4()), **item} for item in fields.get("medInfo", [])],
    }
    _keep(conn, case_id, "decision", {**decision, "addedById": actor.id}, now)
    activity_id = _emit(
        conn,
        now,
        case_id,
        "ADD_CASE_DECISION",
        actor,
        objects={"decision": decision},
        case_values=status_changes(before, status, actor.id, now),
        value_before=before.status,
        value_after=status.value,
    )
    return decision["id"], activity_id


def delete_decision(conn: Connection, now: datetime, case_id: str, decision_id: str, actor: User) -> str:
    """``DECISION_DELETED``: ``addedById`` instead of ``addedBy``, plus ``isIndefinite``/``caseId``/``cost``/
    ``isPaid``; the case is open again (IN_PROGRESS)."""
    kept = _load(conn, case_id, "decision", decision_id)
    before = snapshot(conn, case_id)
    decision = {key: value for key, value in kept.items() if key not in ("addedBy", "addedById", "medInfo")}
    decision.update(
        addedById=kept["addedById"],
        isIndefinite=kept.get("endDate") is None,
        caseId=case_id,
        cost=kept.get("cost"),
        isPaid=bool(kept.get("isPaid", False)),
        medInfo=kept["medInfo"],
    )
    conn.execute(update(case_objects).where(case_objects.c.id == decision_id).values(kind="deleted_decision"))
    return _emit(
        conn,
        now,
        case_id,
        "DECISION_DELETED",
        actor,
        objects={"decision": decision},
        case_values=status_changes(before, CaseStatus.IN_PROGRESS, actor.id, now),
        value_before=before.status,
        value_after=CaseStatus.IN_PROGRESS.value,
    )


def answer_form(
    conn: Connection, now: datetime, case_id: str, actor: User, form: JsonObject, answers: list[JsonObject]
) -> tuple[str, str]:
    """``ADD_FORM_RESPONSE``: ``form`` and its ``response[]``, answered by the patient."""
    patient = snapshot(conn, case_id).submitter
    respondent = {"id": patient.id, "firstName": patient.first_name, "lastName": patient.last_name}
    form_out = {"id": str(uuid.uuid4()), "name": form["name"], "description": form.get("description")}
    response = [
        {
            "id": str(uuid.uuid4()),
            "isArchived": False,
            "question": {"index": index, **answer["question"]},
            "text": answer["text"],
            "createdAt": js_time(now),
            "respondent": respondent,
        }
        for index, answer in enumerate(answers)
    ]
    _keep(conn, case_id, "form", {**form_out, "responses": response}, now)
    activity_id = _emit(
        conn, now, case_id, "ADD_FORM_RESPONSE", actor, objects={"form": form_out, "response": response}
    )
    return form_out["id"], activity_id


def create_order(conn: Connection, now: datetime, case_id: str, actor: User, message: str) -> tuple[str, str]:
    """``ORDER_CREATED``, the order beside ``payload`` as the real example has it."""
    order_id = str(uuid.uuid4())
    order = {"id": order_id, "status": "CREATED", "trackingId": None, "message": message, "createdAt": js_time(now)}
    _keep(conn, case_id, "order", order, now)
    return order_id, _emit(conn, now, case_id, "ORDER_CREATED", actor, top_level={"order": order})


def add_tracking(
    conn: Connection, now: datetime, case_id: str, order_id: str, actor: User, tracking_id: str, status: str
) -> str:
    """``ORDER_TRACKING_ADDED``: the order, now with its carrier number and status."""
    order = {**_load(conn, case_id, "order", order_id), "trackingId": tracking_id, "status": status}
    _replace(conn, order)
    return _emit(conn, now, case_id, "ORDER_TRACKING_ADDED", actor, top_level={"order": order})


def add_payment_info(conn: Connection, now: datetime, case_id: str, actor: User, info: JsonObject) -> str:
    """``ADD_PAYMENT_INFO_USING_LINK``: ``caseId`` and ``paymentInfo`` with a masked card, never the number."""
    payment = {
        "maskedCardNumber": f"**** **** **** {info['cardLast4']}",
        "cardBrand": info["cardBrand"],
        "shippingAddress": info["shippingAddress"],
        "billingAddress": info.get("billingAddress") or info["shippingAddress"],
    }
    _keep(conn, case_id, "payment_info", {"id": str(uuid.uuid4()), **payment}, now)
    objects = {"caseId": case_id, "paymentInfo": payment}
    return _emit(conn, now, case_id, "ADD_PAYMENT_INFO_USING_LINK", actor, objects=objects)


def book(
    conn: Connection, now: datetime, case_id: str, actor: User, fields: JsonObject, base_url: str
) -> tuple[str, str]:
    """``CALENDAR_EVENT_CREATED``: the appointment with its links and (snake_case) tracking."""
    event_id = str(uuid.uuid4())
    link = f"{base_url.rstrip('/')}/appointments/{event_id}"
    calendar = {
        "id": event_id,
        "title": fields.get("title") or "Telehealth visit",
        "topic": fields.get("topic"),
        "description": fields.get("description"),
        "color": fields.get("color"),
        "createdAt": js_time(now),
        "updatedAt": js_time(now),
        "isDeleted": False,
        "status": "EVENT_ACCEPTED_BY_PROVIDER",
        "startDateTime": fields["startDateTime"],
        "endDateTime": fields["endDateTime"],
        "timezone": fields["timezone"],
        "meetingLink": f"{link}/join",
        "cancelURL": f"{link}/cancel",
        "rescheduleURL": f"{link}/reschedule",
        "meetingNotes": fields.get("meetingNotes", []),
        "meetingProvider": fields.get("meetingProvider"),
        "providerName": f"{actor.first_name} {actor.last_name}",
        "providerEmail": actor.email,
        "tracking": {"utm_term": None, "utm_medium": None, **fields.get("tracking", {})},
    }
    _keep(conn, case_id, "calendar_event", calendar, now)
    activity_id = _emit(conn, now, case_id, "CALENDAR_EVENT_CREATED", actor, objects={"calendarEvent": calendar})
    return event_id, activity_id


def reschedule(conn: Connection, now: datetime, case_id: str, event_id: str, actor: User, start: str, end: str) -> str:
    """``CALENDAR_EVENT_RESCHEDULED``: the same appointment at its new time."""
    calendar = {**_load(conn, case_id, "calendar_event", event_id), "startDateTime": start, "endDateTime": end}
    calendar["updatedAt"] = js_time(now)
    _replace(conn, calendar)
    objects = {"calendarEvent": calendar}
    return _emit(conn, now, case_id, "CALENDAR_EVENT_RESCHEDULED", actor, objects=objects)


def cancel(conn: Connection, now: datetime, case_id: str, event_id: str, actor: User) -> str:
    """``CALENDAR_EVENT_CANCELED``: the appointment, deleted."""
    calendar = {**_load(conn, case_id, "calendar_event", event_id), "isDeleted": True, "updatedAt": js_time(now)}
    _replace(conn, calendar)
    return _emit(conn, now, case_id, "CALENDAR_EVENT_CANCELED", actor, objects={"calendarEvent": calendar})
