"""Calendar events: the appointment object, its snake_case tracking and URL-cased links, every calendar type."""

from __future__ import annotations

from typing import Any

import pytest

from casehooks.events import CalendarEventStatus, DeviationKind, parse_object
from casehooks.events.envelope import EVENT_CLASSES
from tests.events.bodies import seed_shaped

CALENDAR_TYPES = [name for name in EVENT_CLASSES if name.startswith("CALENDAR_EVENT_")]


@pytest.mark.parametrize("event_type", CALENDAR_TYPES)
def test_every_calendar_type_reads_its_appointment(event_type: str, attachment_body: dict[str, Any]) -> None:
    body = seed_shaped(event_type, attachment_body)
    event = parse_object(body)
    assert type(event) is EVENT_CLASSES[event_type]
    appointment = event.calendar_event  # type: ignore[attr-defined]
    assert appointment.cancel_url == "https://cal.example/cancel/abc"
    assert appointment.tracking.utm_medium == "email"
    assert appointment.timezone == "Asia/Calcutta"
    assert event.to_wire() == body


def test_seed_shaped_calendar_event_has_no_deviation_of_its_own(attachment_body: dict[str, Any]) -> None:
    found = parse_object(seed_shaped("CALENDAR_EVENT_CREATED", attachment_body)).deviations
    assert [d for d in found if d.path.startswith("payload.calendarEvent")] == []


def test_a_documented_status_is_a_member_and_an_unknown_one_a_deviation(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("CALENDAR_EVENT_STATUS_UPDATED", attachment_body)
    body["payload"]["calendarEvent"]["status"] = "NEED_RESCHEDULE"
    event = parse_object(body)
    assert event.calendar_event.status is CalendarEventStatus.NEED_RESCHEDULE  # type: ignore[attr-defined]
    body["payload"]["calendarEvent"]["status"] = "ON_HOLD"
    found = [(d.path, d.kind, d.received) for d in parse_object(body).deviations if d.path.endswith("status")]
    assert found == [("payload.calendarEvent.status", DeviationKind.UNKNOWN_VALUE, "string of 7 characters")]
