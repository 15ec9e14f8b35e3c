"""Map a parsed event to the rows it adds or updates. Pure: no I/O, no keys, no clock.

PHI goes into ``details`` dicts that the store seals before writing; the plain columns are ids, types,
statuses, flags and timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casehooks.events import Activity, Attachment, Case, CaseCommentAdded, Comment, Event
from casehooks.events.people import Author, Person, Submitter, Uploader
from casehooks.store.case_objects import KINDS, case_objects
from casehooks.store.merge import Mention


@dataclass(frozen=True, slots=True)
class SealedRow:
    """A row: plain ``columns`` and the PHI ``details`` that go into its sealed column."""

    table: str
    key: str
    columns: dict[str, Any]
    details: Any

    @property
    def aad(self) -> bytes:
        """Associated data binding a sealed value to its table and row, so ciphertexts cannot be swapped."""
        return f"{self.table}:{self.key}".encode()


@dataclass(frozen=True, slots=True)
class EventRows:
    """Everything one event writes besides the event row itself; the case and people are merged, not replaced."""

    case: Mention | None
    people: list[Mention] = field(default_factory=list)
    activity: SealedRow | None = None
    comment: SealedRow | None = None
    attachments: list[SealedRow] = field(default_factory=list)
    # The event's own objects and those its full-case history names (merged like cases), the links from its
    # activity to its own objects, and the history's activity log entries.
    objects: list[Mention] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    history_activities: list[SealedRow] = field(default_factory=list)


def _wire(model: Any, *names: str) -> dict[str, Any]:
    wire = model.to_wire()
    return {name: wire[name] for name in names if name in wire}


def _person(
    person: Person | Author | Submitter | Uploader | None, rank: datetime | None, role: str | None = None
) -> Mention | None:
    if person is None or not person.id:
        return None
    # A null names nothing: a mention with ``"email": null`` does not erase a known email.
    details = {key: value for key, value in person.to_wire().items() if key != "id" and value is not None}
    columns = {} if role is None else {"role": role}
    return Mention("people", person.id, columns, details, rank)


# Case columns and the snapshot field each one comes from: a column is named only when its field was sent.
_CASE_COLUMNS = {
    "short_id": "short_id",
    "organization_id": "organization_id",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "assigned_at": "assigned_at",
    "in_progress_at": "in_progress_at",
    "closed_at": "closed_at",
    "is_archived": "is_archived",
    "is_escalated": "is_escalated",
    "is_imported": "is_imported",
    "closed_by": "closed_by",
    "in_progress_by": "in_progress_by",
    "submitter_id": "submitter",
}


def case_mention(case: Case, event_id: str) -> Mention:
    """What a snapshot says about its case, ranked by its ``updatedAt``."""
    values: dict[str, Any] = {
        "short_id": case.short_id,
        "organization_id": case.organization_id,
        "status": None if case.status is None else str(case.status),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "assigned_at": case.assigned_at,
        "in_progress_at": case.in_progress_at,
        "closed_at": case.closed_at,
        "is_archived": case.is_archived,
        "is_escalated": case.is_escalated,
        "is_imported": case.is_imported,
        "closed_by": case.closed_by,
        "in_progress_by": case.in_progress_by,
        "submitter_id": case.submitter.id if case.submitter else None,
    }
    sent = case.model_fields_set
    columns = {column: values[column] for column, name in _CASE_COLUMNS.items() if name in sent}
    columns["last_event_id"] = event_id
    # The case type and product bundle name a treatment: sealed with the title, not plain columns.
    details = _wire(case, "title", "referralCode", "archiveReason", "type", "productBundle")
    return Mention("cases", case.id, columns, details, case.updated_at)


def activity_row(activity: Activity, case_id: str | None, event_id: str) -> SealedRow:
    columns = {
        "id": activity.id,
        "case_id": case_id,
        "event_id": event_id,
        "type": None if activity.type is None else str(activity.type),
        "timestamp": activity.timestamp,
        "actor_id": activity.actor.id if activity.actor else None,
        "target_user_id": activity.target_user.id if activity.target_user else None,
        "is_phi": activity.is_phi,
        "is_restricted": activity.is_restricted,
    }
    return SealedRow("activities", activity.id, columns, _wire(activity, "valueBefore", "valueAfter"))


def comment_row(comment: Comment, case_id: str | None, event_id: str, *, own_card: bool = False) -> SealedRow:
    columns = {
        "id": comment.id,
        "case_id": case_id,
        "event_id": event_id,
        "author_id": comment.author.id if comment.author else None,
        "author_role": None if comment.author is None or comment.author.role is None else str(comment.author.role),
        "created_at": comment.created_at,
        "is_restricted": comment.is_restricted,
        "has_phi_forms": comment.has_phi_forms,
        "own_card": own_card,
    }
    return SealedRow("comments", comment.id, columns, {"text": comment.text})


def attachment_row(
    attachment: Attachment,
    case_id: str | None,
    comment_id: str | None,
    event_id: str,
    stored: FileOutcome,
    *,
    own_card: bool = False,
) -> SealedRow:
    columns = {
        "id": attachment.id,
        "case_id": case_id,
        "comment_id": comment_id,
        "event_id": event_id,
        "created_at": attachment.created_at,
        "uploaded_by_id": attachment.uploaded_by.id if attachment.uploaded_by else None,
        "is_restricted": attachment.is_restricted,
        "is_phi": attachment.is_phi,
        "is_deleted": attachment.is_deleted,
        "content_status": stored.status,
        "document_url_field": attachment.document_url_field,
        "blob_sha256": stored.sha256,
        "size": stored.size,
        "own_card": own_card,
    }
    details = {"fileName": attachment.file_name, "documentUrl": attachment.document_url}
    return SealedRow("attachments", attachment.id, columns, details)


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of an attachment's content: ``stored`` (with its blob), ``pending`` (a URL to fetch),
    ``invalid`` (not base64: kept as metadata with a deviation) or ``absent``."""

    status: str
    sha256: str | None = None
    size: int | None = None


def event_rows(event: Event, event_id: str, contents: dict[str, FileOutcome]) -> EventRows:
    """The rows ``event`` writes; ``contents`` tells what became of each attachment's file, by attachment id."""
    case = event.case
    case_id = case.id if case else None
    # A person is ranked by the platform's clock: the activity's time, else the snapshot's; never the receive time.
    rank = (event.activity.timestamp if event.activity else None) or (case.updated_at if case else None)
    people: dict[str, Mention] = {}

    def add(mention: Mention | None) -> None:
        if mention is None:
            return
        known = people.get(mention.key)
        if known is None:
            people[mention.key] = mention
            return
        # The same person named twice in one event: the first (fullest) mention keeps its values, later ones
        # only add what it lacks; a role the platform sent (an author's) replaces the SUBMITTER label.
        people[mention.key] = Mention(
            "people",
            mention.key,
            {**known.columns, **mention.columns},
            {**mention.details, **known.details},
            rank,
        )

    if case is not None:
        add(_person(case.submitter, rank, "SUBMITTER"))
    activity = event.activity
    if activity is not None:
        add(_person(activity.actor, rank))
        add(_person(activity.target_user, rank))
    comment: SealedRow | None = None
    comment_id: str | None = None
    if isinstance(event, CaseCommentAdded):
        comment_id = event.comment.id
        # A comment or file shows on the timeline in its activity's card; without one, in a card of its own.
        comment = comment_row(event.comment, case_id, event_id, own_card=activity is None)
        author = event.comment.author
        add(_person(author, rank, None if author is None or author.role is None else str(author.role)))
    attachments = []
    for attachment in event.attachments():
        add(_person(attachment.uploaded_by, rank))
        stored = contents.get(attachment.id, FileOutcome("absent"))
        own_card = activity is None and comment_id is None
        attachments.append(attachment_row(attachment, case_id, comment_id, event_id, stored, own_card=own_card))
    objects = case_objects(event, event_id, rank)
    links = []
    if activity is not None:
        links = [
            {"activity_id": activity.id, "kind": KINDS[mention.table], "object_id": mention.key, "case_id": case_id}
            for mention in objects.own
        ]
    # A history entry is keyed as its own event would be (by its activity id), so the event that delivers it
    # later, or delivered it before, is the same row and its comment and files join it.
    history_activities = [
        activity_row(entry, case_id, entry.id) for entry in objects.history_activities if len(entry.id) <= 64
    ]
    return EventRows(
        case=case_mention(case, event_id) if case else None,
        people=list(people.values()),
        activity=activity_row(activity, case_id, event_id) if activity else None,
        comment=comment,
        attachments=attachments,
        objects=[*objects.own, *objects.history],
        links=links,
        history_activities=history_activities,
    )


def event_objects(event: Event, event_id: str, *, reveal: bool = False) -> list[dict[str, Any]]:
    """The typed objects an event carries (its comment, files, decision, answers, order ...), as rows show them:
    plain columns only, and their PHI under ``details`` when ``reveal``. Full-case history is not repeated."""
    mapped = event_rows(event, event_id, {})
    shown: list[dict[str, Any]] = []
    sealed = [row for row in (mapped.comment,) if row is not None] + mapped.attachments
    for row in sealed:
        item: dict[str, Any] = {"kind": row.table.removesuffix("s"), **row.columns}
        item.pop("content_status", None)
        if reveal:
            item["details"] = row.details
        shown.append(item)
    for mention in case_objects(event, event_id, None).own:
        item = {"kind": KINDS[mention.table], "id": mention.key, **mention.columns}
        if reveal:
            item["details"] = mention.details
        shown.append(item)
    return shown
