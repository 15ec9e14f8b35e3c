"""The fake own objects of the event types beyond the seeds, in the shapes of EVENTS.md.

``fake`` builds the case and activity; this module builds what each type adds: the decision (``addedBy`` for
``ADD_CASE_DECISION``, ``addedById`` with ``isIndefinite``/``caseId``/``cost``/``isPaid`` for
``DECISION_DELETED``), the form and its ``response`` array, ``assignees[]``, the order (at the top level, beside
``payload``), ``caseId`` + ``paymentInfo`` of a payment link, and the calendar event. Objects of the names with no
documented shape (HR rep, subscriptions, other payments, deleted comments and files) are invented, and
``docs/sender.md`` says so.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from faker import Faker

from casehooks.sender.payloads import JsonObject, User, js_time

#: The decision's documented ``visitType`` values.
VISIT_TYPES = ("NO_SHOW", "ASYNC_TEXT_EMAIL", "SYNC_VIDEO", "SYNC_PHONE", "ORDER_FORM")
QUESTION_TYPES = ("TEXT", "SINGLESELECT", "MULTISELECT", "DATE", "BOOLEAN")
CALENDAR_STATUSES = (
    "EVENT_ACCEPTED_BY_PROVIDER",
    "MISSED_EVENT_BY_PROVIDER",
    "MISSED_EVENT_BY_USER",
    "NEED_RESCHEDULE",
)
TIMEZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Calcutta", "Europe/London")


class Maker(Protocol):
    """What the builders need of ``fake``'s per-event generator."""

    rng: random.Random
    faker: Faker
    now: datetime


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def prescriber_dict(m: Maker, doctor: User) -> JsonObject:
    """A decision's ``addedBy``: the prescriber with their licence numbers and practice address."""
    return {
        "firstName": doctor.first_name,
        "lastName": doctor.last_name,
        "title": doctor.title or "MD",
        "email": doctor.email,
        "phoneNumber": f"+1{m.rng.randint(201, 989)}{m.rng.randint(1000000, 9999999)}",
        "npi": doctor.npi or f"{m.rng.randint(10**9, 10**10 - 1)}",
        "dea": doctor.dea or f"B{m.rng.choice(string.ascii_uppercase)}{m.rng.randint(0, 9999999):07d}",
        "address": m.faker.street_address(),
        "city": m.faker.city(),
        "state": m.faker.state_abbr(),
        "postalCode": m.faker.postcode(),
    }


def med_info(m: Maker) -> list[JsonObject]:
    rng = m.rng
    return [
        {
            "id": _uuid(rng),
            "medicine": rng.choice(["Semaglutide", "Tirzepatide", "Testosterone cypionate", "Estradiol"]),
            "dosage": rng.choice(["0.25 mg", "0.5 mg", "1 mg", "2.5 mg", "100 mg/mL"]),
            "refillCount": rng.randint(0, 5),
            "pharmacyInstructions": m.faker.sentence(nb_words=8),
            "dosingFrequency": rng.choice(["WEEKLY", "DAILY", "EVERY_2_WEEKS"]),
            "externalId": None if rng.random() < 0.5 else "RX-" + str(rng.randint(100000, 999999)),
            "isRefill": rng.random() < 0.3,
            "treatmentPeriod": f"Week {rng.randint(1, 12)}",
            "isPriorAuthRequested": rng.random() < 0.2,
        }
        for _ in range(rng.randint(1, 2))
    ]


def decision(m: Maker, doctor: User, *, case_id: str, approved: bool, deleted: bool) -> JsonObject:
    """``payload.decision``; ``deleted`` gives the ``DECISION_DELETED`` shape."""
    rng = m.rng
    start = m.now.replace(hour=0, minute=0, second=0, microsecond=0)
    body: JsonObject = {
        "id": _uuid(rng),
        "isApproved": approved,
        "isNoDecision": False,
        "startDate": js_time(start),
        "endDate": js_time(start + timedelta(days=rng.choice([30, 90, 180]))),
        "decisionText": m.faker.sentence(nb_words=12),
        "category": rng.choice(["MEDICATION", "LAB_ORDER", None]),
        "createdAt": js_time(m.now - timedelta(minutes=rng.randint(1, 600)) if deleted else m.now),
        "visitType": rng.choice(VISIT_TYPES),
    }
    if deleted:
        body["addedById"] = doctor.id
        body["isIndefinite"] = rng.random() < 0.2
        body["caseId"] = case_id
        body["cost"] = None if rng.random() < 0.3 else rng.randint(2900, 59900) / 100
        body["isPaid"] = rng.random() < 0.5
    else:
        body["addedBy"] = prescriber_dict(m, doctor)
    body["medInfo"] = med_info(m)
    return body


def form(m: Maker) -> JsonObject:
    """``payload.form``."""
    name = m.rng.choice(["Intake", "Follow-up", "Medical history"])
    return {"id": _uuid(m.rng), "name": name, "description": m.faker.sentence(nb_words=8)}


def form_response(m: Maker, respondent: User) -> list[JsonObject]:
    """``payload.response``: one answered question per item."""
    rng = m.rng
    items = []
    for index in range(rng.randint(1, 4)):
        kind = rng.choice(QUESTION_TYPES)
        options = ["Yes", "No", "Not sure"] if kind in ("SINGLESELECT", "MULTISELECT") else []
        answer: str
        if kind == "MULTISELECT":
            answer = json.dumps(rng.sample(options, rng.randint(1, 2)))
        elif kind == "SINGLESELECT":
            answer = rng.choice(options)
        elif kind == "DATE":
            answer = js_time(m.now - timedelta(days=rng.randint(1, 900))) or ""
        elif kind == "BOOLEAN":
            answer = rng.choice(["true", "false"])
        else:
            answer = m.faker.sentence(nb_words=6)
        question = {
            "index": index,
            "type": kind,
            "text": m.faker.sentence(nb_words=6).rstrip(".") + "?",
            "isPHI": rng.random() < 0.5,
            "options": options,
            "required": rng.random() < 0.7,
        }
        respondent_dict = {"id": respondent.id, "firstName": respondent.first_name, "lastName": respondent.last_name}
        items.append(
            {
                "id": _uuid(rng),
                "isArchived": False,
                "question": question,
                "text": answer,
                "createdAt": js_time(m.now),
                "respondent": respondent_dict,
            }
        )
    return items


def assignees(users: list[User]) -> list[JsonObject]:
    """``payload.assignees``."""
    return [{"assignee": {"id": u.id, "firstName": u.first_name, "lastName": u.last_name}} for u in users]


def order(m: Maker, status: str) -> JsonObject:
    """The top-level ``order``."""
    rng = m.rng
    return {
        "id": _uuid(rng),
        "status": status,
        "trackingId": "1Z" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16)),
        "message": m.faker.sentence(nb_words=6),
        "createdAt": js_time(m.now),
    }


def address(m: Maker) -> JsonObject:
    return {
        "addressLine1": m.faker.street_address(),
        "addressLine2": m.faker.secondary_address() if m.rng.random() < 0.3 else "",
        "city": m.faker.city(),
        "state": m.faker.state_abbr(),
        "country": "US",
        "postalCode": m.faker.postcode(),
    }


def payment_info(m: Maker) -> JsonObject:
    """``payload.paymentInfo``: a masked card and two addresses, never a full card number."""
    shipping = address(m)
    return {
        "maskedCardNumber": "**** **** **** " + f"{m.rng.randint(0, 9999):04d}",
        "cardBrand": m.rng.choice(["visa", "mastercard", "amex", "discover"]),
        "shippingAddress": shipping,
        "billingAddress": shipping if m.rng.random() < 0.6 else address(m),
    }


def payment(m: Maker, event_type: str) -> JsonObject:
    """An invented payment object for the ``PAYMENT_*`` names (their shape is not documented)."""
    return {
        "id": _uuid(m.rng),
        "amount": m.rng.randint(2900, 59900) / 100,
        "currency": "USD",
        "status": event_type.removeprefix("PAYMENT_"),
    }


def calendar_event(m: Maker, event_type: str, provider: User) -> JsonObject:
    """``payload.calendarEvent``, with ``startDateTime``/``endDateTime``, snake_case ``utm_*`` and ``cancelURL``."""
    rng = m.rng
    start = (m.now + timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8))).replace(second=0, microsecond=0)
    event_id = _uuid(rng)
    status: str | None = {
        "CALENDAR_EVENT_NO_SHOW": "MISSED_EVENT_BY_USER",
        "CALENDAR_EVENT_RESCHEDULED": "NEED_RESCHEDULE",
        "CALENDAR_EVENT_STATUS_UPDATED": rng.choice(CALENDAR_STATUSES),
        "CALENDAR_EVENT_CREATED": "EVENT_ACCEPTED_BY_PROVIDER",
    }.get(event_type)
    base = f"https://meet.example.invalid/{event_id}"
    return {
        "id": event_id,
        "title": "Telehealth visit",
        "topic": rng.choice(["Initial consultation", "Follow-up", "Dose review"]),
        "description": m.faker.sentence(nb_words=8),
        "color": rng.choice(["#1E88E5", "#43A047", "#F4511E"]),
        "createdAt": js_time(m.now - timedelta(days=rng.randint(0, 3))),
        "updatedAt": js_time(m.now),
        "isDeleted": event_type == "CALENDAR_EVENT_CANCELED",
        "status": status,
        "startDateTime": js_time(start),
        "endDateTime": js_time(start + timedelta(minutes=rng.choice([15, 30, 45]))),
        "timezone": rng.choice(TIMEZONES),
        "meetingLink": f"{base}/join",
        "cancelURL": f"{base}/cancel",
        "rescheduleURL": f"{base}/reschedule",
        "meetingNotes": [
            {"answer": m.faker.sentence(nb_words=5), "position": i, "question": m.faker.sentence(nb_words=5)}
            for i in range(rng.randint(0, 2))
        ],
        "meetingProvider": rng.choice(["ZOOM", "GOOGLE_MEET"]),
        "providerName": f"{provider.first_name} {provider.last_name}",
        "providerEmail": provider.email,
        "tracking": {"utm_term": None, "utm_medium": rng.choice([None, "email", "sms"]), "utm_source": None},
    }


def invented(kind: str, m: Maker, event_type: str, target: User | None) -> Any:
    """The objects of names with no documented shape (labelled as invented in the docs)."""
    rng = m.rng
    if kind == "hrRep":
        assert target is not None
        return {"id": target.id, "firstName": target.first_name, "lastName": target.last_name, "email": target.email}
    if kind == "subscription":
        return {"id": _uuid(rng), "status": event_type.removeprefix("SUBSCRIPTION_"), "interval": "MONTH"}
    if kind == "comment":
        return {"id": _uuid(rng), "text": m.faker.sentence(), "isRestricted": False, "createdAt": js_time(m.now)}
    return {
        "id": _uuid(rng),
        "isRestricted": False,
        "isPHI": False,
        "fileName": "scan.png",
        "isDeleted": True,
        "createdAt": js_time(m.now - timedelta(hours=rng.randint(1, 24))),
    }
