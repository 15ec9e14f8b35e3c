"""Event bodies carrying each of the platform's own objects, built on the comment seed's case and activity."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import seed

MEDICINE = "Zorbamycin-QX"
DECISION_TEXT = "Approved after review of Quillfeather history"
ANSWER = "Penicillin-WXYZ allergy"
CARD = "**** **** **** 4242"
STREET = "17 Marrowbone Lane"
MEETING = "https://meet.example/qqq-room"


def at(minute: int) -> str:
    return f"2025-09-04T10:{minute:02d}:00.000Z"


def event(event_type: str, minute: int, case_id: str, **objects: Any) -> dict[str, Any]:
    """An event of ``event_type`` at ``10:minute``: the case snapshot and activity of that moment plus ``objects``
    in ``payload`` (``order`` goes beside it, as the platform's example has it)."""
    wire = seed("add_case_comment")
    payload = wire["payload"]
    del payload["comment"]
    payload["activity"].update(id=str(uuid.uuid4()), type=event_type, timestamp=at(minute), isRestricted=False)
    payload["case"].update(id=case_id, updatedAt=at(minute))
    top = {"order": objects.pop("order")} if "order" in objects else {}
    payload.update(objects)
    return {"event": event_type, "payload": payload, **top}


def decision(decision_id: str, minute: int, **changes: Any) -> dict[str, Any]:
    return {
        "id": decision_id,
        "isApproved": True,
        "isNoDecision": False,
        "startDate": at(minute),
        "endDate": None,
        "decisionText": DECISION_TEXT,
        "category": None,
        "createdAt": at(minute),
        "visitType": "ASYNC_TEXT_EMAIL",
        "addedBy": {"firstName": "Greta", "lastName": "Quillfeather", "npi": "1234567890"},
        "medInfo": [{"id": str(uuid.uuid4()), "medicine": MEDICINE, "dosage": "5 mg", "refillCount": 2}],
        **changes,
    }


def answers(minute: int, *ids: str) -> list[dict[str, Any]]:
    return [
        {
            "id": answer_id,
            "isArchived": False,
            "question": {"index": index, "type": "TEXT", "text": "Any allergies?", "isPHI": True, "required": True},
            "text": ANSWER,
            "createdAt": at(minute),
            "respondent": {"id": "WzvygANWTEcfsLlDW1K22WWS7dY2", "firstName": "Ritik", "lastName": "Parikh"},
        }
        for index, answer_id in enumerate(ids)
    ]


def order(order_id: str, minute: int, status: str, tracking: str | None) -> dict[str, Any]:
    return {"id": order_id, "status": status, "trackingId": tracking, "message": "for Ritik", "createdAt": at(minute)}


def payment_info() -> dict[str, Any]:
    address = {"addressLine1": STREET, "addressLine2": "", "city": "Springfield", "state": "IL", "country": "US"}
    return {"maskedCardNumber": CARD, "cardBrand": "VISA", "shippingAddress": address, "billingAddress": address}


def appointment(appointment_id: str, minute: int, **changes: Any) -> dict[str, Any]:
    return {
        "id": appointment_id,
        "title": "Visit with Ritik",
        "createdAt": at(minute),
        "updatedAt": at(minute),
        "isDeleted": False,
        "status": "EVENT_ACCEPTED_BY_PROVIDER",
        "startDateTime": "2025-09-10T15:00:00.000Z",
        "endDateTime": "2025-09-10T15:30:00.000Z",
        "timezone": "Asia/Calcutta",
        "meetingLink": MEETING,
        "tracking": {"utm_term": None, "utm_medium": None},
        **changes,
    }


def assignees(*users: str) -> list[dict[str, Any]]:
    return [
        {"assignee": {"id": user, "firstName": "Doc", "lastName": f"Number{index}"}} for index, user in enumerate(users)
    ]
