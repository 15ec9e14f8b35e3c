"""The activity log entry that triggered an event: what happened, when, by whom."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from casehooks.events.documented import Doc, WireModel, open_enum
from casehooks.events.enums import ActivityType
from casehooks.events.people import Person
from casehooks.events.timestamps import Timestamp

_EXAMPLE_ONLY = Doc("boolean", documented=False)


class Activity(WireModel):
    """One entry of the case timeline. Its ``id`` is unique per event, so it is the idempotency key."""

    id: Annotated[str, Doc("string<UUID>")]
    type: open_enum(ActivityType, Doc("string", enum=ActivityType)) = None  # type: ignore[valid-type]
    is_phi: Annotated[bool | None, _EXAMPLE_ONLY, Field(alias="isPHI")] = None
    is_restricted: Annotated[bool | None, _EXAMPLE_ONLY] = None
    timestamp: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    value_before: Annotated[Any, Doc("any", nullable=True, documented=False, phi=True)] = None
    value_after: Annotated[Any, Doc("any", nullable=True, documented=False, phi=True)] = None
    actor: Annotated[Person | None, Doc("object")] = None
    target_user: Annotated[Person | None, Doc("object")] = None
