"""Hypothesis strategies for realistic webhook bodies: the two modelled events and generic ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from casehooks.events import (
    ActivityType,
    AuthorRole,
    CalendarEventStatus,
    CaseStatus,
    Gender,
    OrganizationRole,
    QuestionType,
    VisitType,
    format_js_iso,
)
from casehooks.events.envelope import EVENT_CLASSES

uuids = st.uuids().map(str)
# User ids arrive as 28-character opaque strings (documented as UUIDs).
opaque_ids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=28, max_size=28)
user_ids = st.one_of(opaque_ids, uuids)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
timestamps = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: format_js_iso(moment.replace(tzinfo=UTC))
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), text)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(text, children, max_size=3)),
    max_leaves=8,
)


def _open_enum(enum: Any) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([member.value for member in enum]), st.text("ABCDEFGHIJ_", min_size=1))


def _object(required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]) -> Any:
    """A wire object: required keys always present, optional ones present or absent, values possibly null."""
    nullable = {key: st.one_of(st.none(), value) for key, value in optional.items()}
    return st.fixed_dictionaries(required, optional=nullable)


people = _object({}, {"id": user_ids, "firstName": text, "lastName": text, "email": text})
uploaders = _object({}, {"id": user_ids, "firstName": text, "lastName": text})
base64_content = st.binary(max_size=60).map(lambda data: __import__("base64").b64encode(data).decode())
contents = st.one_of(base64_content, st.just("base64 data"), st.just("https://files.example/a.png?sig=1"), text)
attachments = _object(
    {"id": uuids},
    {
        "isRestricted": st.booleans(),
        "isPHI": st.booleans(),
        "fileName": text,
        "isDeleted": st.booleans(),
        "createdAt": timestamps,
        "uploadedBy": uploaders,
        "content": contents,
    },
)
submitters = _object(
    {},
    {
        "id": user_ids,
        "firstName": text,
        "lastName": text,
        "email": text,
        "dob": timestamps,
        "gender": _open_enum(Gender),
        "phoneNumber": text,
        "address": text,
        "address2": text,
        "city": text,
        "state": text,
        "postalCode": text,
    },
)
cases = _object(
    {"id": uuids},
    {
        "type": text,
        "title": text,
        "status": _open_enum(CaseStatus),
        "shortId": text,
        "createdAt": timestamps,
        "updatedAt": timestamps,
        "assignedAt": timestamps,
        "inProgressAt": timestamps,
        "closedAt": timestamps,
        "isArchived": st.booleans(),
        "isEscalated": st.booleans(),
        "isImported": st.booleans(),
        "referralCode": text,
        "closedBy": user_ids,
        "inProgressBy": user_ids,
        "organizationId": uuids,
        "archiveReason": text,
        "productBundle": _object({}, {"name": text}),
        "submitter": submitters,
    },
)


def activities(event_type: str) -> st.SearchStrategy[dict[str, Any]]:
    return _object(
        {"id": uuids, "type": st.just(event_type)},
        {
            "isPHI": st.booleans(),
            "isRestricted": st.booleans(),
            "timestamp": timestamps,
            "valueBefore": json_values,
            "valueAfter": json_values,
            "actor": people,
            "targetUser": people,
        },
    )


authors = _object(
    {},
    {
        "id": user_ids,
        "firstName": text,
        "lastName": text,
        "email": text,
        "role": _open_enum(AuthorRole),
        "title": text,
        "titleSuffix": text,
        "npi": text,
        "dea": text,
        "organizationAccess": st.lists(_object({}, {"role": _open_enum(OrganizationRole)}), max_size=3),
    },
)
comments = _object(
    {"id": uuids},
    {
        "text": text,
        "isRestricted": st.booleans(),
        "createdAt": timestamps,
        "forms": st.lists(
            _object({}, {"questions": st.lists(_object({}, {"isPHI": st.booleans()}), max_size=3)}), max_size=2
        ),
        "author": authors,
        "attachments": st.lists(attachments, max_size=2),
    },
)


def _envelope(event_type: str, payload: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"event": st.just(event_type), "payload": payload})


attachment_events = _envelope(
    "ADD_CASE_ATTACHMENT",
    st.fixed_dictionaries(
        {"attachment": attachments}, optional={"case": cases, "activity": activities("ADD_CASE_ATTACHMENT")}
    ),
)
comment_events = _envelope(
    "ADD_CASE_COMMENT",
    st.fixed_dictionaries({"comment": comments}, optional={"case": cases, "activity": activities("ADD_CASE_COMMENT")}),
)
generic_types = st.one_of(
    st.sampled_from([t.value for t in ActivityType if t.value not in EVENT_CLASSES]),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=30).filter(lambda name: name not in EVENT_CLASSES),
)


@st.composite
def generic_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(generic_types)
    extra_keys = text.filter(lambda key: key not in ("case", "activity", "event", "payload"))
    payload = draw(
        st.fixed_dictionaries({}, optional={"case": cases, "activity": activities(event_type), "order": json_values})
    )
    payload.update(draw(st.dictionaries(extra_keys, json_values, max_size=3)))
    body = {"event": event_type, "payload": payload}
    body.update(draw(st.dictionaries(extra_keys, json_values, max_size=2)))
    return body


prescriptions = _object(
    {},
    {
        "id": uuids,
        "medicine": text,
        "dosage": text,
        "refillCount": st.integers(0, 12),
        "pharmacyInstructions": text,
        "dosingFrequency": text,
        "externalId": text,
        "isRefill": st.booleans(),
        "treatmentPeriod": text,
        "isPriorAuthRequested": st.booleans(),
    },
)
_decision_fields = {
    "isApproved": st.booleans(),
    "isNoDecision": st.booleans(),
    "startDate": timestamps,
    "endDate": timestamps,
    "decisionText": text,
    "category": text,
    "createdAt": timestamps,
    "visitType": _open_enum(VisitType),
    # Documented as an array; an older sketch shows one object.
    "medInfo": st.one_of(st.lists(prescriptions, max_size=3), prescriptions),
}
prescribers = _object(
    {},
    dict.fromkeys(
        ("firstName", "lastName", "title", "email", "phoneNumber", "npi", "dea", "address", "city", "state"), text
    ),
)
answers = _object(
    {"id": uuids},
    {
        "isArchived": st.booleans(),
        "question": _object(
            {},
            {
                "index": st.integers(0, 50),
                "type": _open_enum(QuestionType),
                "text": text,
                "isPHI": st.booleans(),
                "options": st.lists(text, max_size=3),
                "required": st.booleans(),
            },
        ),
        "text": text,
        "createdAt": timestamps,
        "respondent": people,
    },
)
orders = _object({"id": uuids}, {"status": text, "trackingId": text, "message": text, "createdAt": timestamps})
addresses = _object({}, dict.fromkeys(("addressLine1", "addressLine2", "city", "state", "country", "postalCode"), text))
calendar_events = _object(
    {"id": uuids},
    {
        "title": text,
        "topic": text,
        "description": text,
        "color": text,
        "createdAt": timestamps,
        "updatedAt": timestamps,
        "isDeleted": st.booleans(),
        "status": _open_enum(CalendarEventStatus),
        "startDateTime": timestamps,
        "endDateTime": timestamps,
        "timezone": st.sampled_from(["Asia/Calcutta", "America/New_York", "UTC"]),
        "meetingLink": text,
        "cancelURL": text,
        "rescheduleURL": text,
        "meetingNotes": st.lists(
            _object({}, {"answer": text, "position": st.integers(0, 9), "question": text}), max_size=2
        ),
        "meetingProvider": text,
        "providerName": text,
        "providerEmail": text,
        "tracking": _object({}, {"utm_term": text, "utm_medium": text}),
    },
)


def _typed(event_type: str, own: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An event of a type with its own object: the object optional, as tolerant parsing allows."""
    optional = {**own, "case": cases, "activity": activities(event_type)}
    return _envelope(event_type, st.fixed_dictionaries({}, optional=optional))


@st.composite
def order_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(["ORDER_CREATED", "ORDER_STATUS_CHANGED", "ORDER_TRACKING_ADDED"]))
    body = draw(_typed(event_type, {"order": orders}))
    if draw(st.booleans()):
        # The one real-looking example puts the order beside the payload.
        body["order"] = draw(orders)
    return body


decision_events = st.one_of(
    _typed("ADD_CASE_DECISION", {"decision": _object({"id": uuids}, {**_decision_fields, "addedBy": prescribers})}),
    _typed(
        "DECISION_DELETED",
        {
            "decision": _object(
                {"id": uuids},
                {
                    **_decision_fields,
                    "addedById": user_ids,
                    "isIndefinite": st.booleans(),
                    "caseId": uuids,
                    "cost": st.one_of(st.integers(0, 1000), st.floats(0, 1000)),
                    "isPaid": st.booleans(),
                },
            )
        },
    ),
)
form_response_events = st.sampled_from(["ADD_FORM_RESPONSE", "UPDATE_FORM_RESPONSE"]).flatmap(
    lambda event_type: _typed(
        event_type,
        {
            "form": _object({}, {"id": uuids, "name": text, "description": text}),
            "response": st.one_of(st.lists(answers, max_size=3), answers),
        },
    )
)
assignee_events = st.sampled_from(["ADD_CASE_ASSIGNEE", "REMOVE_CASE_ASSIGNEE"]).flatmap(
    lambda event_type: _typed(event_type, {"assignees": st.lists(_object({}, {"assignee": uploaders}), max_size=3)})
)
payment_events = _typed(
    "ADD_PAYMENT_INFO_USING_LINK",
    {
        "caseId": uuids,
        "paymentInfo": _object(
            {},
            {"maskedCardNumber": text, "cardBrand": text, "shippingAddress": addresses, "billingAddress": addresses},
        ),
    },
)
calendar_types = st.sampled_from([t.value for t in ActivityType if t.value.startswith("CALENDAR_EVENT_")])
calendar_event_events = st.one_of(calendar_types, st.just("CALENDAR_EVENT_STATUS_UPDATED")).flatmap(
    lambda event_type: _typed(event_type, {"calendarEvent": calendar_events})
)
typed_events = st.one_of(
    decision_events,
    form_response_events,
    assignee_events,
    order_events(),
    payment_events,
    calendar_event_events,
)
events = st.one_of(attachment_events, comment_events, typed_events, generic_events())
