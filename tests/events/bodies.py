"""Seed-shaped bodies of the event types beyond the two seeds, built from EVENTS.md's objects."""

from __future__ import annotations

import copy
from typing import Any

CASE_ID = "3f7c1c52-8d0e-4c1b-9a53-2f1d6e0b8a11"
USER_ID = "Kx8pQ2rT5vW9yZ1bC4dF7gH0jL3m"

PRESCRIPTION = {
    "id": "5b8f2a10-6c1d-4e2f-8a3b-9c0d1e2f3a4b",
    "medicine": "Semaglutide",
    "dosage": "0.25 mg",
    "refillCount": 2,
    "pharmacyInstructions": "Keep refrigerated",
    "dosingFrequency": "weekly",
    "externalId": None,
    "isRefill": False,
    "treatmentPeriod": "Week 4",
    "isPriorAuthRequested": False,
}
DECISION = {
    "id": "0c6a9f3e-2b1d-4e8f-a7c6-5d4e3f2a1b0c",
    "isApproved": True,
    "isNoDecision": False,
    "startDate": "2025-09-04T00:00:00.000Z",
    "endDate": "2025-12-04T00:00:00.000Z",
    "decisionText": "Approved after video visit",
    "category": None,
    "createdAt": "2025-09-03T23:52:43.927Z",
    "visitType": "SYNC_VIDEO",
    "medInfo": [PRESCRIPTION],
}
PRESCRIBER = {
    "firstName": "Ada",
    "lastName": "Okafor",
    "title": "MD",
    "email": "ada.okafor@clinic.example",
    "phoneNumber": "+15550100",
    "npi": "1234567893",
    "dea": "AO1234563",
    "address": "1 Main St",
    "city": "Austin",
    "state": "TX",
    "postalCode": "73301",
}
ANSWER = {
    "id": "7e6d5c4b-3a2f-4e1d-9c8b-7a6f5e4d3c2b",
    "isArchived": False,
    "question": {
        "index": 0,
        "type": "MULTISELECT",
        "text": "Which symptoms do you have?",
        "isPHI": True,
        "options": ["Headache", "Nausea"],
        "required": True,
    },
    "text": '["Headache","Nausea"]',
    "createdAt": "2025-09-03T23:52:43.927Z",
    "respondent": {"id": USER_ID, "firstName": "Jane", "lastName": "Doe"},
}
ORDER = {
    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "status": "SHIPPED",
    "trackingId": "1Z999AA10123456784",
    "message": "Shipped to patient",
    "createdAt": "2025-09-05T10:00:00.000Z",
}
ADDRESS = {
    "addressLine1": "12 Elm St",
    "addressLine2": None,
    "city": "Austin",
    "state": "TX",
    "country": "US",
    "postalCode": "73301",
}
CALENDAR_EVENT = {
    "id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    "title": "Follow-up visit",
    "topic": "Weight management",
    "description": "Video follow-up",
    "color": "#3366ff",
    "createdAt": "2025-09-03T23:52:43.927Z",
    "updatedAt": "2025-09-03T23:52:43.927Z",
    "isDeleted": False,
    "status": None,
    "startDateTime": "2025-09-10T15:00:00.000Z",
    "endDateTime": "2025-09-10T15:30:00.000Z",
    "timezone": "Asia/Calcutta",
    "meetingLink": "https://meet.example/abc",
    "cancelURL": "https://cal.example/cancel/abc",
    "rescheduleURL": "https://cal.example/reschedule/abc",
    "meetingNotes": [{"answer": "Yes", "position": 1, "question": "First visit?"}],
    "meetingProvider": "ZOOM",
    "providerName": "Ada Okafor",
    "providerEmail": "ada.okafor@clinic.example",
    "tracking": {"utm_term": None, "utm_medium": "email"},
}


def _payload_object(event_type: str, case_id: str) -> dict[str, Any]:
    if event_type == "ADD_CASE_DECISION":
        return {"decision": {**DECISION, "addedBy": PRESCRIBER}}
    if event_type == "DECISION_DELETED":
        return {
            "decision": {
                **DECISION,
                "addedById": USER_ID,
                "isIndefinite": False,
                "caseId": case_id,
                "cost": 49.5,
                "isPaid": True,
            }
        }
    if event_type in ("ADD_FORM_RESPONSE", "UPDATE_FORM_RESPONSE"):
        form = {"id": "6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c", "name": "Intake", "description": "Intake form"}
        return {"form": form, "response": [ANSWER]}
    if event_type in ("ADD_CASE_ASSIGNEE", "REMOVE_CASE_ASSIGNEE"):
        return {"assignees": [{"assignee": {"id": USER_ID, "firstName": "Ada", "lastName": "Okafor"}}]}
    if event_type in ("ORDER_CREATED", "ORDER_STATUS_CHANGED"):
        return {"order": ORDER}
    if event_type == "ADD_PAYMENT_INFO_USING_LINK":
        info = {
            "maskedCardNumber": "**** **** **** 4242",
            "cardBrand": "VISA",
            "shippingAddress": ADDRESS,
            "billingAddress": ADDRESS,
        }
        return {"caseId": case_id, "paymentInfo": info}
    if event_type.startswith("CALENDAR_EVENT_"):
        return {"calendarEvent": CALENDAR_EVENT}
    return {}


def seed_shaped(event_type: str, base: dict[str, Any]) -> dict[str, Any]:
    """A body of ``event_type`` with the seed's case and activity (``base`` is a seed body) and its own object."""
    case = copy.deepcopy(base["payload"]["case"])
    activity = {**copy.deepcopy(base["payload"]["activity"]), "type": event_type}
    payload = {**copy.deepcopy(_payload_object(event_type, case["id"])), "case": case, "activity": activity}
    body: dict[str, Any] = {"event": event_type, "payload": payload}
    if event_type == "ORDER_TRACKING_ADDED":
        body = {"event": event_type, "order": copy.deepcopy(ORDER), "payload": payload}
    return body
