"""The receiver's tables. Columns that hold PHI are sealed (AES-GCM under a data key) and end in ``_sealed``.

Plain columns are ids, types, statuses, flags and timestamps: enough to search, order and join without
decrypting. Every sealed column names the data key (``dek_id``) that opens it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from casehooks.store.column_types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


Id = String(64)
Stamp = UTCDateTime()
BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DataKeyRow(Base):
    """A data key, wrapped by a master key. Rotation re-wraps these rows; the data they open is untouched."""

    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    master_key_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Stamp)


class EventRow(Base):
    """One accepted event. ``id`` is the activity id (or ``sha256:`` of the body): the idempotency key.

    ``seq`` orders events by arrival. The body is stored sealed, with inline attachment content moved to the
    blob store and replaced by a reference.
    """

    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(Id, unique=True)
    event_type: Mapped[str] = mapped_column(String(80), index=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    received_at: Mapped[datetime] = mapped_column(Stamp, index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_size: Mapped[int] = mapped_column(BigInteger)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    deviations: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(32))
    # The request's headers, credentials left out, sealed (store/request_headers.py; migration 0021).
    headers_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers_dek_id: Mapped[str | None] = mapped_column(Id)  # no foreign key: adding one copies the table


class CaseRow(Base):
    """The latest snapshot of a case (by ``updatedAt``): later snapshots win, earlier ones never roll it back."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    short_id: Mapped[str | None] = mapped_column(String(64), index=True)
    organization_id: Mapped[str | None] = mapped_column(Id, index=True)
    type: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    updated_at: Mapped[datetime | None] = mapped_column(Stamp, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(Stamp)
    in_progress_at: Mapped[datetime | None] = mapped_column(Stamp)
    closed_at: Mapped[datetime | None] = mapped_column(Stamp)
    is_archived: Mapped[bool | None] = mapped_column(Boolean)
    is_escalated: Mapped[bool | None] = mapped_column(Boolean)
    is_imported: Mapped[bool | None] = mapped_column(Boolean)
    closed_by: Mapped[str | None] = mapped_column(Id)
    in_progress_by: Mapped[str | None] = mapped_column(Id)
    product_bundle: Mapped[str | None] = mapped_column(String(200))
    submitter_id: Mapped[str | None] = mapped_column(Id, index=True)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    last_event_id: Mapped[str] = mapped_column(Id)
    first_seen_at: Mapped[datetime] = mapped_column(Stamp)
    # Field-by-field merge (migration 0004): the platform time each field was set at (see store/merge.py).
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class PersonRow(Base):
    """Someone an event names: a submitter (patient), author, uploader, actor or target user."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    role: Mapped[str | None] = mapped_column(String(40))
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    seen_at: Mapped[datetime] = mapped_column(Stamp)
    # Field-by-field merge (migration 0004): the platform time each field was set at (see store/merge.py).
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class ActivityRow(Base):
    """One entry of a case's timeline."""

    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id)
    event_id: Mapped[str] = mapped_column(Id)
    type: Mapped[str | None] = mapped_column(String(80))
    timestamp: Mapped[datetime | None] = mapped_column(Stamp)
    actor_id: Mapped[str | None] = mapped_column(Id)
    target_user_id: Mapped[str | None] = mapped_column(Id)
    is_phi: Mapped[bool | None] = mapped_column(Boolean)
    is_restricted: Mapped[bool | None] = mapped_column(Boolean)
    values_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))

    __table_args__ = (Index("ix_activities_case_time", "case_id", "timestamp"),)


class CommentRow(Base):
    """A comment on a case; its text is sealed."""

    __tablename__ = "comments"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    event_id: Mapped[str] = mapped_column(Id, index=True)
    author_id: Mapped[str | None] = mapped_column(Id)
    author_role: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    is_restricted: Mapped[bool | None] = mapped_column(Boolean)
    has_phi_forms: Mapped[bool] = mapped_column(Boolean)
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    # A card of its own on the timeline: its event carried no activity to show it on (migration 0020).
    own_card: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (Index("ix_comments_case_card", "case_id", "own_card", "created_at"),)


class TimelineCountRow(Base):
    """How many entries a case's timeline holds, kept by triggers on activities, comments and attachments
    (revision 0022), so that a timeline page's total is one row's read."""

    __tablename__ = "timeline_counts"

    case_id: Mapped[str] = mapped_column(Id, primary_key=True)
    entries: Mapped[int] = mapped_column(BigInteger)


class BlobRow(Base):
    """An encrypted file, addressed by the sha256 of its plaintext (stored once): in the blob store under
    ``object_key``, or, when small, sealed here in ``content_sealed`` (store/files.py)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str | None] = mapped_column(String(200), index=True)  # the sweep asks by it
    content_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(Stamp)


class AttachmentRow(Base):
    """An attachment's metadata. ``content_status`` says whether its file is stored, pending or unavailable."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    comment_id: Mapped[str | None] = mapped_column(Id, index=True)
    event_id: Mapped[str] = mapped_column(Id, index=True)
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    uploaded_by_id: Mapped[str | None] = mapped_column(Id)
    is_restricted: Mapped[bool | None] = mapped_column(Boolean)
    is_phi: Mapped[bool | None] = mapped_column(Boolean)
    is_deleted: Mapped[bool | None] = mapped_column(Boolean)
    content_status: Mapped[str] = mapped_column(String(32))
    document_url_field: Mapped[str | None] = mapped_column(String(80))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    size: Mapped[int | None] = mapped_column(BigInteger)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    # A card of its own on the timeline: neither an activity nor a comment carried it (migration 0020).
    own_card: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (Index("ix_attachments_case_card", "case_id", "own_card", "created_at"),)


class JobRow(Base):
    """Work for the handlers of one event: queued → running → succeeded, or failed (retried) → dead."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(Stamp)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None] = mapped_column(Stamp)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    finished_at: Mapped[datetime | None] = mapped_column(Stamp)
    # The event's type, so a worker can tell which registered handlers the job needs without a join.
    event_type: Mapped[str | None] = mapped_column(String(80))
    # The handlers still to run, as ``|name|name|`` (``|`` when none): NULL until the job is dispatched against
    # the handler registry. A worker claims only jobs naming one of its own handlers, so no process ever finishes
    # a job for a handler it does not have.
    pending: Mapped[str | None] = mapped_column(Text)
    # A document link still to download (``URL`` format): any worker does that, with or without handlers.
    needs_documents: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Handlers in case order (migration 0013): the event's case and its place in the case's history (the
    # activity's timestamp, ties by ``id``, the arrival order). ``released``: an operator let the case's later
    # jobs pass this dead one.
    case_id: Mapped[str | None] = mapped_column(Id)
    case_at: Mapped[datetime | None] = mapped_column(Stamp)
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_jobs_due", "status", "run_at"),
        # The case-order checks look only at a case's unfinished jobs: status before time keeps finished ones out.
        Index("ix_jobs_case_order", "case_id", "status", "case_at", "id"),
    )


class JobAttemptRow(Base):
    """One run of one handler for a job: its outcome and a PHI-free error (exception type and handler)."""

    __tablename__ = "job_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    handler: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(Stamp)
    duration_ms: Mapped[float] = mapped_column()
    # The exception's message and traceback may quote patient data: sealed like PHI, shown to PHI roles only.
    detail_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    dek_id: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"))
    # Handlers in case order (migration 0013): the run came after a later event of its case had been handled.
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class QuarantineRow(Base):
    """A refused request, kept with its reason so that a genuine event is never lost to a misconfiguration."""

    __tablename__ = "quarantine"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(Stamp, index=True)
    reason: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    body_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_kept_size: Mapped[int] = mapped_column(BigInteger, default=0)
    dek_id: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    # The event a held body carries (a commit that timed out) or became (reprocessed): indexed, because every
    # commit deletes the held bodies of the events it stores.
    event_id: Mapped[str | None] = mapped_column(Id, index=True)


# --- The quarantine's running totals (hostile input) ---


class QuarantineTotalsRow(Base):
    """One row of running totals, updated with every quarantine row, so that a refusal never scans held rows.

    ``row_count`` counts every quarantine row, ``body_bytes`` the bodies kept in held rows, ``overflow`` the
    refusals answered but not recorded because the quarantine was full.
    """

    __tablename__ = "quarantine_totals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_count: Mapped[int] = mapped_column(BigInteger)
    body_bytes: Mapped[int] = mapped_column(BigInteger)
    overflow: Mapped[int] = mapped_column(BigInteger)


class HandlerRow(Base):
    """A handler some worker process registered: the registry a job is dispatched against."""

    __tablename__ = "handlers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(Stamp)
    last_seen_at: Mapped[datetime] = mapped_column(Stamp)
    # Handlers in case order (migration 0013): the handler runs one job of a case at a time, in case order.
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkerRow(Base):
    """A running worker process and the handler set it has, kept fresh by its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    handlers: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(Stamp)
    last_seen_at: Mapped[datetime] = mapped_column(Stamp, index=True)


# --- Every event's own objects (migration 0012) ---
# Decisions, form answers, assignments, orders, appointments and payment info: one row per platform id, merged
# field by field like cases and people (store/merge.py), so redeliveries and full-case history never duplicate
# them. Plain columns are ids, statuses, flags and times; PHI lives in ``details_sealed``.


class DecisionRow(Base):
    """A clinician's decision; its text, prescriber and prescriptions (``medInfo``) are sealed."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    last_event_id: Mapped[str] = mapped_column(Id)
    is_approved: Mapped[bool | None] = mapped_column(Boolean)
    is_no_decision: Mapped[bool | None] = mapped_column(Boolean)
    is_deleted: Mapped[bool | None] = mapped_column(Boolean)
    visit_type: Mapped[str | None] = mapped_column(String(80))
    start_date: Mapped[datetime | None] = mapped_column(Stamp)
    end_date: Mapped[datetime | None] = mapped_column(Stamp)
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    added_by_id: Mapped[str | None] = mapped_column(Id)
    prescription_count: Mapped[int | None] = mapped_column(Integer)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class FormAnswerRow(Base):
    """One answer of a form response; the question, the answer and the respondent's name are sealed."""

    __tablename__ = "form_answers"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    form_id: Mapped[str | None] = mapped_column(Id)
    last_event_id: Mapped[str] = mapped_column(Id)
    question_index: Mapped[int | None] = mapped_column(Integer)
    question_type: Mapped[str | None] = mapped_column(String(80))
    is_archived: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    respondent_id: Mapped[str | None] = mapped_column(Id)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class AssignmentRow(Base):
    """A user on a case (``case_id:user_id``): assigned or taken off, whichever the platform said last."""

    __tablename__ = "assignments"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    user_id: Mapped[str] = mapped_column(Id)
    is_assigned: Mapped[bool | None] = mapped_column(Boolean)
    last_event_id: Mapped[str] = mapped_column(Id)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class OrderRow(Base):
    """A pharmacy order with its status and tracking number; its message is sealed."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    last_event_id: Mapped[str] = mapped_column(Id)
    status: Mapped[str | None] = mapped_column(String(80))
    tracking_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class AppointmentRow(Base):
    """A calendar event; its title, links, notes and provider are sealed."""

    __tablename__ = "appointments"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    last_event_id: Mapped[str] = mapped_column(Id)
    status: Mapped[str | None] = mapped_column(String(80))
    start_at: Mapped[datetime | None] = mapped_column(Stamp)
    end_at: Mapped[datetime | None] = mapped_column(Stamp)
    timezone: Mapped[str | None] = mapped_column(String(80))
    is_deleted: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime | None] = mapped_column(Stamp)
    updated_at: Mapped[datetime | None] = mapped_column(Stamp)
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class PaymentInfoRow(Base):
    """The payment details of a case (keyed by the case: the platform gives them no id of their own)."""

    __tablename__ = "payment_info"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)
    last_event_id: Mapped[str] = mapped_column(Id)
    card_brand: Mapped[str | None] = mapped_column(String(80))
    details_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    field_stamps: Mapped[dict[str, str | None] | None] = mapped_column(JSON)


class TimelineLinkRow(Base):
    """Which objects an activity carried, so its timeline card shows them (the object's table and id)."""

    __tablename__ = "timeline_links"

    activity_id: Mapped[str] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(Id, index=True)


# Master key rotation while serving (migration 0011).


class ActiveMasterKeyRow(Base):
    """The one row naming the master key that wraps new data keys, so that every process wraps under it.

    Absent until the first ``casehooks keys rotate``: until then each process's first configured key is active.
    """

    __tablename__ = "active_master_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(Stamp)


# ---- Search: the blind index of people's names, emails and phones (migration 0014, store/search.py) ----


class SearchTermRow(Base):
    """One way a person is found: an HMAC of a normalised name, name token, email or phone; never the value."""

    __tablename__ = "search_terms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("person_id", "kind", "digest", "key_id"),
        Index("ix_search_terms_digest", "digest", "key_id"),
    )


# Keyset paging (migration 0014): each list filter beside its order, so a page reads only its rows.
Index("ix_events_type_seq", EventRow.event_type, EventRow.seq)
Index("ix_events_case_seq", EventRow.case_id, EventRow.seq)
Index("ix_cases_status_updated", CaseRow.status, CaseRow.updated_at)
