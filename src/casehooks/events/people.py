"""The people an event names: the submitter (the patient), comment authors, uploaders, actors."""

from __future__ import annotations

from typing import Annotated

from casehooks.events.documented import Doc, WireModel, open_enum
from casehooks.events.enums import AuthorRole, Gender, OrganizationRole
from casehooks.events.timestamps import Timestamp

_UUID = Doc("string<UUID>")
_NAME = Doc("string", phi=True)


class Uploader(WireModel):
    """Who uploaded an attachment."""

    id: Annotated[str | None, _UUID] = None
    first_name: Annotated[str | None, _NAME] = None
    last_name: Annotated[str | None, _NAME] = None


class Person(WireModel):
    """A platform user named by an activity: the actor, or the target of the action."""

    id: Annotated[str | None, _UUID] = None
    first_name: Annotated[str | None, _NAME] = None
    last_name: Annotated[str | None, _NAME] = None
    email: Annotated[str | None, _NAME] = None


class OrganizationAccess(WireModel):
    """A user's role within one organization."""

    role: open_enum(OrganizationRole, Doc("string", enum=OrganizationRole)) = None  # type: ignore[valid-type]


class Author(WireModel):
    """Who wrote a comment, with role and credentials."""

    id: Annotated[str | None, _UUID] = None
    first_name: Annotated[str | None, _NAME] = None
    last_name: Annotated[str | None, _NAME] = None
    email: Annotated[str | None, _NAME] = None
    role: open_enum(AuthorRole, Doc("string", enum=AuthorRole)) = None  # type: ignore[valid-type]
    title: Annotated[str | None, Doc("string | null", nullable=True)] = None
    title_suffix: Annotated[str | None, Doc("string | null", nullable=True)] = None
    npi: Annotated[str | None, Doc("string | null", nullable=True)] = None
    dea: Annotated[str | None, Doc("string | null", nullable=True)] = None
    organization_access: Annotated[list[OrganizationAccess] | None, Doc("array<object>")] = None


class Submitter(WireModel):
    """The patient who submitted the case. Every field is protected health information."""

    id: Annotated[str | None, Doc("string")] = None
    first_name: Annotated[str | None, _NAME] = None
    last_name: Annotated[str | None, _NAME] = None
    email: Annotated[str | None, _NAME] = None
    dob: Annotated[Timestamp | None, Doc("string<date-time>", phi=True)] = None
    gender: open_enum(Gender, Doc("string", phi=True, enum=Gender)) = None  # type: ignore[valid-type]
    phone_number: Annotated[str | None, _NAME] = None
    address: Annotated[str | None, _NAME] = None
    address2: Annotated[str | None, _NAME] = None
    city: Annotated[str | None, _NAME] = None
    state: Annotated[str | None, _NAME] = None
    postal_code: Annotated[str | None, _NAME] = None
