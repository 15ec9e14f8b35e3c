"""The case snapshot every event carries."""

from __future__ import annotations

from typing import Annotated

from casehooks.events.documented import Doc, WireModel, open_enum
from casehooks.events.enums import CaseStatus
from casehooks.events.people import Submitter
from casehooks.events.timestamps import Timestamp

_TIME = Doc("string<date-time>")
_FLAG = Doc("boolean")


class ProductBundle(WireModel):
    """The product bundle a case was opened for."""

    name: Annotated[str | None, Doc("string")] = None


class Case(WireModel):
    """The full case as it was when the event happened.

    Snapshots arrive in any order; ``updated_at`` tells which is newer.
    """

    id: Annotated[str, Doc("string<UUID>")]
    type: Annotated[str | None, Doc("string")] = None
    title: Annotated[str | None, Doc("string", phi=True)] = None
    status: open_enum(CaseStatus, Doc("string", enum=CaseStatus)) = None  # type: ignore[valid-type]
    short_id: Annotated[str | None, Doc("string")] = None
    created_at: Annotated[Timestamp | None, _TIME] = None
    updated_at: Annotated[Timestamp | None, _TIME] = None
    assigned_at: Annotated[Timestamp | None, _TIME] = None
    in_progress_at: Annotated[Timestamp | None, _TIME] = None
    closed_at: Annotated[Timestamp | None, Doc("string<date-time>", nullable=True)] = None
    is_archived: Annotated[bool | None, _FLAG] = None
    is_escalated: Annotated[bool | None, _FLAG] = None
    is_imported: Annotated[bool | None, _FLAG] = None
    referral_code: Annotated[str | None, Doc("string")] = None
    closed_by: Annotated[str | None, Doc("string")] = None
    in_progress_by: Annotated[str | None, Doc("string")] = None
    organization_id: Annotated[str | None, Doc("string<UUID>")] = None
    archive_reason: Annotated[str | None, Doc("string", nullable=True)] = None
    product_bundle: Annotated[ProductBundle | None, Doc("object")] = None
    submitter: Annotated[Submitter | None, Doc("object")] = None
