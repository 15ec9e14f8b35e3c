"""The sandbox API's request and response bodies (camelCase on the wire, as the platform's own JSON)."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Header
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from casehooks.events.enums import AuthorRole, CaseStatus, Gender, OrganizationRole
from casehooks.sender.payloads import Patient, User

_USER_ID_ALPHABET = string.ascii_letters + string.digits
#: The optional header that makes a create call idempotent.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)]


def new_user_id() -> str:
    """A 28-character opaque user id, like the platform's."""
    return "".join(secrets.choice(_USER_ID_ALPHABET) for _ in range(28))


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class OrganizationAccessIn(ApiModel):
    role: OrganizationRole


class UserIn(ApiModel):
    """A platform user acting in a request; an id is made when none is given."""

    id: str | None = None
    first_name: str
    last_name: str
    email: str
    role: AuthorRole = AuthorRole.USER
    title: str | None = None
    title_suffix: str | None = None
    npi: str | None = None
    dea: str | None = None
    organization_access: list[OrganizationAccessIn] = Field(default_factory=list)

    def to_user(self) -> User:
        return User(
            id=self.id or new_user_id(),
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            role=self.role.value,
            title=self.title,
            title_suffix=self.title_suffix,
            npi=self.npi,
            dea=self.dea,
            organization_roles=tuple(access.role.value for access in self.organization_access),
        )


class PatientIn(ApiModel):
    """The case's submitter (PHI)."""

    id: str | None = None
    first_name: str
    last_name: str
    email: str
    dob: datetime
    gender: Gender
    phone_number: str
    address: str
    address2: str = ""
    city: str
    state: str
    postal_code: str

    def to_patient(self) -> Patient:
        dob = self.dob if self.dob.tzinfo else self.dob.replace(tzinfo=UTC)
        return Patient(
            id=self.id or new_user_id(),
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            dob=dob,
            gender=self.gender.value,
            phone_number=self.phone_number,
            address=self.address,
            address2=self.address2,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
        )


class CaseIn(ApiModel):
    organization_id: str
    type: str = "GLP"
    title: str | None = None
    product_bundle: str
    submitter: PatientIn
    actor: UserIn | None = None


class StatusIn(ApiModel):
    status: CaseStatus
    actor: UserIn


class EscalationIn(ApiModel):
    escalated: bool = True
    actor: UserIn


class ArchiveIn(ApiModel):
    reason: Literal["COMPLETE", "INELIGIBLE"]
    actor: UserIn


class ActorIn(ApiModel):
    actor: UserIn


class AssigneeIn(ApiModel):
    assignee: UserIn
    actor: UserIn
    remove: bool = False


class FileIn(ApiModel):
    """A file as JSON: its bytes in base64."""

    file_name: str
    content: str = Field(description="The file's bytes, base64-encoded.")
    content_type: str = "application/octet-stream"
    is_phi: bool = Field(default=False, alias="isPHI")
    is_restricted: bool = False


class FormIn(ApiModel):
    """A form referenced by a comment: the PHI flag of each question."""

    questions: list[bool] = Field(default_factory=list)


class CommentIn(ApiModel):
    text: str
    is_restricted: bool = False
    author: UserIn
    target_user: UserIn | None = None
    forms: list[FormIn] = Field(default_factory=list)
    attachments: list[FileIn] = Field(default_factory=list)


class AttachmentIn(FileIn):
    uploaded_by: UserIn


class EndpointIn(ApiModel):
    """An endpoint the platform delivers to."""

    url: str
    secret: str | None = Field(default=None, description="Signs every body with x-cv-signature.")
    auth_header_name: str | None = None
    auth_header_value: str | None = None
    document_format: Literal["BASE64", "URL"] = "BASE64"
    event_types: list[str] = Field(default_factory=list, description="Event types to send; empty for all.")
    case_data: Literal["EVENT", "FULL"] = Field(
        default="EVENT", description="EVENT: only event data; FULL: the case carries its whole history."
    )


class EndpointPatch(ApiModel):
    """Enable or disable an endpoint, and/or rotate its secret."""

    enabled: bool | None = None
    secret: str | None = Field(default=None, min_length=1, description="The new signing secret.")
    secret_overlap_seconds: float = Field(
        default=0,
        ge=0,
        le=30 * 86400,
        description="Keep signing with the old secret this long, then switch to the new one.",
    )


class EndpointOut(ApiModel):
    id: str
    url: str
    document_format: str
    event_types: list[str]
    enabled: bool
    consecutive_failures: int
    disabled_reason: str | None
    signed: bool
    auth_header_name: str | None
    case_data: str = "EVENT"
    secret_switches_at: float | None = Field(default=None, description="When a rotated secret starts signing.")


class Created(ApiModel):
    id: str
    activity_id: str


class MessageOut(ApiModel):
    id: int
    activity_id: str
    endpoint_id: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None


class AttemptOut(ApiModel):
    outbox_id: int
    activity_id: str
    attempt: int
    at: float
    status: int | None
    error: str | None
    latency_ms: float
    response_excerpt: str | None
