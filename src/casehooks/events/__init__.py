"""The wire schema of the platform's case webhooks: pure models, no I/O."""

from casehooks.events.activity import Activity
from casehooks.events.attachment import Attachment
from casehooks.events.case import Case, ProductBundle
from casehooks.events.comment import Comment, Form, FormQuestion
from casehooks.events.content import Content
from casehooks.events.deviations import Deviation, DeviationKind
from casehooks.events.enums import ActivityType, AuthorRole, CaseStatus, DocumentFormat, Gender, OrganizationRole
from casehooks.events.envelope import (
    AttachmentPayload,
    CaseAttachmentAdded,
    CaseCommentAdded,
    CaseEvent,
    CasePayload,
    CommentPayload,
    Event,
    event_class,
)
from casehooks.events.jsonschema import event_json_schema
from casehooks.events.parse import parse_event, parse_object
from casehooks.events.people import Author, OrganizationAccess, Person, Submitter, Uploader
from casehooks.events.timestamps import Timestamp, format_js_iso
from casehooks.events.wire import stringify

__all__ = [
    "Activity",
    "ActivityType",
    "Attachment",
    "AttachmentPayload",
    "Author",
    "AuthorRole",
    "Case",
    "CaseAttachmentAdded",
    "CaseCommentAdded",
    "CaseEvent",
    "CasePayload",
    "CaseStatus",
    "Comment",
    "CommentPayload",
    "Content",
    "Deviation",
    "DeviationKind",
    "DocumentFormat",
    "Event",
    "Form",
    "FormQuestion",
    "Gender",
    "OrganizationAccess",
    "OrganizationRole",
    "Person",
    "ProductBundle",
    "Submitter",
    "Timestamp",
    "Uploader",
    "event_class",
    "event_json_schema",
    "format_js_iso",
    "parse_event",
    "parse_object",
    "stringify",
]
