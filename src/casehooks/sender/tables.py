"""The sandbox platform's tables (SQLAlchemy Core, portable between SQLite and PostgreSQL).

Cases, comments and attachments are the platform's state; ``activities`` is the case timeline, each row holding
the event body as it was built at that moment (document content left out, filled in per endpoint at delivery);
``outbox`` holds one row per (activity, endpoint) written in the same transaction as the change (transactional
outbox); ``attempts`` logs every delivery try without request bodies.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

_ID = 36
_USER_ID = 64

keys = Table(
    "sandbox_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", Text),  # sealed (casehooks.sender.sealing), as is auth_header_value
    Column("next_secret", Text),  # sealed; signs from next_secret_from on (rotation with an overlap)
    Column("next_secret_from", Float),
    Column("case_data", String(8), nullable=False, server_default="EVENT"),  # EVENT or FULL (whole history)
    Column("auth_header_name", String(200)),
    Column("auth_header_value", Text),
    Column("document_format", String(8), nullable=False),
    Column("event_types", JSON, nullable=False),  # [] means every type
    Column("enabled", Boolean, nullable=False),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("failing_since", Float),  # unix seconds of the first failure of the current run of failures
    Column("disabled_reason", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("short_id", String(16), nullable=False, unique=True),
    Column("organization_id", String(_ID), nullable=False),
    Column("type", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("product_bundle", String(200), nullable=False),
    Column("submitter", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("in_progress_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", String(_USER_ID)),
    Column("in_progress_by", String(_USER_ID)),
    Column("is_archived", Boolean, nullable=False, default=False),
    Column("is_escalated", Boolean, nullable=False, default=False),
    Column("is_imported", Boolean, nullable=False, default=False),
    Column("referral_code", String(64)),
    Column("archive_reason", Text),
)

comments = Table(
    "comments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("case_id", String(_ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("is_restricted", Boolean, nullable=False),
    Column("author", JSON, nullable=False),
    Column("forms", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("case_id", String(_ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("comment_id", String(_ID), ForeignKey("comments.id")),
    Column("file_name", Text, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("is_restricted", Boolean, nullable=False),
    Column("is_phi", Boolean, nullable=False),
    Column("uploaded_by", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

activities = Table(
    "activities",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("case_id", String(_ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("type", String(64), nullable=False),
    Column("event", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("activity_id", String(_ID), ForeignKey("activities.id"), nullable=False),
    Column("endpoint_id", String(_ID), ForeignKey("endpoints.id"), nullable=False),
    # pending -> delivered | dead; a pending row with a future lease is in flight.
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", Float, nullable=False),  # unix seconds
    Column("lease_until", Float),
    Column("lease_owner", String(64)),
    Column("last_status", Integer),
    Column("last_error", String(32)),
    Column("delivered_at", Float),
    Index("ix_outbox_due", "state", "due_at"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("endpoint_id", String(_ID), nullable=False, index=True),
    Column("activity_id", String(_ID), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("status", Integer),
    Column("error", String(32)),
    Column("latency_ms", Float, nullable=False),
    Column("response_excerpt", String(512)),
)

# Idempotent create calls: the answer given to each Idempotency-Key, written in the change's transaction.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("scope", String(200), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

# The case's own objects beyond comments and files (decisions, orders, appointments, forms, payment info), each
# kept as the wire object it was last sent as.
case_objects = Table(
    "case_objects",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("case_id", String(_ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
