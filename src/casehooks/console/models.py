"""The JSON API's response shapes: what the OpenAPI document promises and schemathesis checks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    detail: str


class JobStatus(StrEnum):
    """The states of an event's handler job, as the ``status`` filter accepts them."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    dead = "dead"


class Paged(BaseModel):
    """What every list answers besides its items: the next (older) page's cursor and the total matched."""

    next: str | None
    total: int
    total_estimated: bool
    notices: list[str] = []


class EventSummary(BaseModel):
    seq: int
    id: str
    event_type: str
    case_id: str | None
    received_at: datetime
    body_size: int
    source: str
    job_id: int | None
    job_status: str | None
    job_attempts: int | None
    deviation_count: int


class Job(BaseModel):
    id: int
    status: str
    attempts: int
    run_at: datetime
    last_error: str | None
    finished_at: datetime | None
    # Handlers in case order: the job of the same case this one waits behind.
    blocked_by: int | None = None


class HandlerAttempt(BaseModel):
    job_id: int
    attempt: int
    handler: str
    outcome: str
    error: str | None
    started_at: datetime
    duration_ms: float
    # Handlers in case order: a later event of the case had already been handled.
    late: bool = False


class EventDetail(BaseModel):
    seq: int
    id: str
    event_type: str
    case_id: str | None
    received_at: datetime
    body_sha256: str
    body_size: int
    source: str
    deviations: list[dict[str, Any]]
    jobs: list[Job]
    attempts: list[HandlerAttempt]


class EventPayload(BaseModel):
    event: EventDetail
    body: str  # pretty JSON, PHI masked unless revealed; empty when it cannot be shown (``note`` says why)
    revealed: bool
    note: str
    headers: dict[str, str] | None  # None for an event stored before headers were kept


class CaseSummary(BaseModel):
    id: str
    short_id: str | None
    organization_id: str | None
    type: str | None
    status: str | None
    created_at: datetime | None
    updated_at: datetime | None
    closed_at: datetime | None
    is_archived: bool | None
    is_escalated: bool | None
    submitter_id: str | None
    first_seen_at: datetime


class Person(BaseModel):
    """Someone named by the case: only ``id`` and ``role`` unless the reader may see PHI."""

    model_config = ConfigDict(extra="allow")

    id: str
    role: str | None = None


class TimelineItem(BaseModel):
    """A card: an activity with the comment, files and objects (decision, answers, order...) it carried, or a
    comment or file no activity announced. A restricted item the reader may not see keeps only its mark."""

    model_config = ConfigDict(extra="allow")

    kind: str
    at: datetime | None
    id: str
    event_id: str | None = None
    cursor: str | None = None
    is_restricted: bool | None = None
    masked: bool


class TimelinePage(BaseModel):
    """Where a timeline page sits: the case's entry count and cursors to the older and newer pages."""

    total: int
    limit: int
    older: str | None
    newer: str | None


class CaseDetail(CaseSummary):
    model_config = ConfigDict(extra="allow")

    submitter: Person | None
    masked: bool
    timeline: list[TimelineItem]
    page: TimelinePage


class AttachmentMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    case_id: str | None
    comment_id: str | None
    event_id: str
    created_at: datetime | None
    is_restricted: bool | None
    is_phi: bool | None
    content_status: str
    size: int | None
    masked: bool


class QuarantineItem(BaseModel):
    id: str
    received_at: datetime
    reason: str
    detail: str
    status_code: int
    size: int
    sha256: str | None
    headers: dict[str, str]
    body_kept: bool
    status: str
    event_id: str | None


class QueueState(BaseModel):
    depth: dict[str, int]
    failed: list[EventSummary]


class MinuteCount(BaseModel):
    minute: datetime
    count: int


class Overview(BaseModel):
    events: int
    cases: int
    quarantine_held: int
    queue: dict[str, int]
    events_per_minute: list[MinuteCount]
    refusals_by_reason: dict[str, int]


class Queued(BaseModel):
    queued: int


class ReprocessOutcome(BaseModel):
    record_id: str
    outcome: str
    event_id: str | None
    reason: str | None


class AuditEntry(BaseModel):
    id: int
    at: datetime
    username: str
    via: str
    action: str
    object_type: str
    object_id: str | None
    client: str | None = None
    session: str | None = None


class Me(BaseModel):
    username: str
    role: str
    scopes: list[str]


class EventPage(Paged):
    items: list[EventSummary]


class CasePage(Paged):
    items: list[CaseSummary]


class QuarantinePage(Paged):
    items: list[QuarantineItem]


class AuditPage(Paged):
    items: list[AuditEntry]
