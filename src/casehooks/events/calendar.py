"""An appointment on the case's calendar: when, with whom, where to meet, and the notes taken."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from casehooks.events.documented import Doc, WireModel, open_enum
from casehooks.events.enums import CalendarEventStatus
from casehooks.events.timestamps import Timestamp

_PHI = Doc("string", nullable=True, phi=True)
_NULLABLE = Doc("string", nullable=True)
# Campaign keys past the two the pages show: read when they come, not missed when they do not.
_MORE = Doc("string", nullable=True, optional=True)


class MeetingNote(WireModel):
    """One question asked when booking, with its answer."""

    answer: Annotated[str | None, _PHI] = None
    position: Annotated[int | float | None, Doc("number"), Field(union_mode="left_to_right")] = None
    question: Annotated[str | None, _PHI] = None


class CampaignTracking(WireModel):
    """Where the booking came from; these keys are snake_case on the wire. The pages show ``utm_term`` and
    ``utm_medium`` and cut the list; the other standard campaign keys are read as documented too."""

    utm_term: Annotated[str | None, _NULLABLE, Field(alias="utm_term")] = None
    utm_medium: Annotated[str | None, _NULLABLE, Field(alias="utm_medium")] = None
    utm_source: Annotated[str | None, _MORE, Field(alias="utm_source")] = None
    utm_campaign: Annotated[str | None, _MORE, Field(alias="utm_campaign")] = None
    utm_content: Annotated[str | None, _MORE, Field(alias="utm_content")] = None


class CalendarEvent(WireModel):
    """``payload.calendarEvent``. ``timezone`` is an IANA name as sent (old aliases such as Asia/Calcutta occur)."""

    id: Annotated[str, Doc("string<UUID>")]
    title: Annotated[str | None, _PHI] = None
    topic: Annotated[str | None, _PHI] = None
    description: Annotated[str | None, _PHI] = None
    color: Annotated[str | None, _NULLABLE] = None
    created_at: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    updated_at: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    is_deleted: Annotated[bool | None, Doc("boolean")] = None
    status: open_enum(  # type: ignore[valid-type]
        CalendarEventStatus, Doc("string | null", nullable=True, enum=CalendarEventStatus)
    ) = None
    start_date_time: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    end_date_time: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    timezone: Annotated[str | None, _NULLABLE] = None
    meeting_link: Annotated[str | None, _PHI] = None
    cancel_url: Annotated[str | None, _PHI, Field(alias="cancelURL")] = None
    reschedule_url: Annotated[str | None, _PHI, Field(alias="rescheduleURL")] = None
    meeting_notes: Annotated[list[MeetingNote] | None, Doc("array<object>", nullable=True)] = None
    meeting_provider: Annotated[str | None, _NULLABLE] = None
    provider_name: Annotated[str | None, _PHI] = None
    provider_email: Annotated[str | None, _PHI] = None
    tracking: Annotated[CampaignTracking | None, Doc("object", nullable=True)] = None
