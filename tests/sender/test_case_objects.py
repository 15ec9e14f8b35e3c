"""The sandbox's object changes: each emits its documented event, in the documented shape, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from casehooks.events import parse_event
from tests.sender.sandbox_server import DOCTOR, new_case, register, running_sandbox
from tests.sender.sink import Sink

PRESCRIBER = {
    "firstName": "Grace",
    "lastName": "Clinician",
    "title": "MD",
    "email": "grace@example.test",
    "phoneNumber": "+15550100",
    "npi": "1234567890",
    "dea": "BC1234567",
    "address": "1 Clinic Way",
    "city": "Austin",
    "state": "TX",
    "postalCode": "73301",
}
MED = {"medicine": "Semaglutide", "dosage": "0.25 mg", "refillCount": 2, "dosingFrequency": "WEEKLY"}
ADDRESS = {"addressLine1": "1 Main St", "city": "Austin", "state": "TX", "country": "US", "postalCode": "73301"}
DECISION = {
    "isApproved": True,
    "decisionText": "Start low",
    "visitType": "ASYNC_TEXT_EMAIL",
    "medInfo": [MED],
    "addedBy": PRESCRIBER,
    "actor": DOCTOR,
}


def drive_every_change(api: Any, case_id: str) -> None:
    """Every object change the sandbox offers, once, in a plausible order."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = api.post(f"/cases/{case_id}/{path}", json=body)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    form = {"name": "Intake", "description": "First visit"}
    question = {"type": "MULTISELECT", "text": "Symptoms?", "isPHI": True, "options": ["a", "b"], "required": True}
    post("forms", {"form": form, "answers": [{"question": question, "text": '["a"]'}], "actor": DOCTOR})
    decision = post("decisions", DECISION)
    post(f"decisions/{decision['id']}/delete", {"actor": DOCTOR})
    order = post("orders", {"message": "Ship it", "actor": DOCTOR})
    post(f"orders/{order['id']}/tracking", {"trackingId": "1Z999", "actor": DOCTOR})
    post("payment-info", {"cardLast4": "4242", "cardBrand": "visa", "shippingAddress": ADDRESS, "actor": DOCTOR})
    slot = {"startDateTime": "2025-09-10T15:00:00.000Z", "endDateTime": "2025-09-10T15:30:00.000Z"}
    visit = post("appointments", {**slot, "timezone": "America/Chicago", "topic": "Follow-up", "actor": DOCTOR})
    later = {"startDateTime": "2025-09-11T15:00:00.000Z", "endDateTime": "2025-09-11T15:30:00.000Z"}
    post(f"appointments/{visit['id']}/reschedule", {**later, "actor": DOCTOR})
    post(f"appointments/{visit['id']}/cancel", {"actor": DOCTOR})


def test_every_object_change_emits_its_documented_event(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        register(api, sink.url, secret="s3cret")
        case_id = new_case(api)
        drive_every_change(api, case_id)
        assert api.post(f"/cases/{case_id}/decisions", json={**DECISION, "visitType": "ASYNC"}).status_code == 422
        received = sink.wait_for(10, timeout=120)
    events: dict[str, dict[str, Any]] = {}
    for item in received:
        parse_event(item.body)
        body = json.loads(item.body)
        events[body["event"]] = body
    form = events["ADD_FORM_RESPONSE"]["payload"]
    assert set(form["form"]) == {"id", "name", "description"}
    (answer,) = form["response"]
    assert answer["question"]["index"] == 0 and answer["respondent"]["id"] == form["case"]["submitter"]["id"]
    added = events["ADD_CASE_DECISION"]["payload"]
    assert added["decision"]["addedBy"] == PRESCRIBER and "addedById" not in added["decision"]
    assert set(added["decision"]["medInfo"][0]) >= {"id", "externalId", "isRefill", "isPriorAuthRequested"}
    assert added["case"]["status"] == "APPROVED" and added["case"]["closedAt"] is not None
    deleted = events["DECISION_DELETED"]["payload"]
    assert "addedBy" not in deleted["decision"] and deleted["decision"]["addedById"] == DOCTOR["id"]
    assert deleted["decision"]["caseId"] == case_id and {"isIndefinite", "cost", "isPaid"} <= set(deleted["decision"])
    assert deleted["case"]["status"] == "IN_PROGRESS" and deleted["case"]["closedAt"] is None
    assert events["ORDER_CREATED"]["order"]["status"] == "CREATED"
    tracked = events["ORDER_TRACKING_ADDED"]
    assert list(tracked) == ["event", "payload", "order"] and tracked["order"]["trackingId"] == "1Z999"
    payment = events["ADD_PAYMENT_INFO_USING_LINK"]["payload"]
    assert payment["caseId"] == case_id
    assert payment["paymentInfo"]["maskedCardNumber"] == "**** **** **** 4242"
    assert payment["paymentInfo"]["billingAddress"] == payment["paymentInfo"]["shippingAddress"]
    booked = events["CALENDAR_EVENT_CREATED"]["payload"]["calendarEvent"]
    assert booked["startDateTime"] == "2025-09-10T15:00:00.000Z" and booked["timezone"] == "America/Chicago"
    assert {"utm_term", "utm_medium"} <= set(booked["tracking"]) and booked["cancelURL"]
    moved = events["CALENDAR_EVENT_RESCHEDULED"]["payload"]["calendarEvent"]
    assert moved["id"] == booked["id"] and moved["startDateTime"] == "2025-09-11T15:00:00.000Z"
    assert events["CALENDAR_EVENT_CANCELED"]["payload"]["calendarEvent"]["isDeleted"] is True


def test_a_card_number_is_never_accepted(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as api:
        case_id = new_case(api)
        body = {"cardLast4": "4242424242424242", "cardBrand": "visa", "shippingAddress": ADDRESS, "actor": DOCTOR}
        refused = api.post(f"/cases/{case_id}/payment-info", json=body)
        assert refused.status_code == 422 and "4242424242424242" not in refused.text
