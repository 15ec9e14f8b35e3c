"""The wire schema of the platform's case webhooks: pure models, no I/O."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casehooks.events.activity import Activity
    from casehooks.events.assignee import Assignee, Assignment
    from casehooks.events.attachment import Attachment
    from casehooks.events.calendar import CalendarEvent, CampaignTracking, MeetingNote
    from casehooks.events.case import Case, ProductBundle
    from casehooks.events.comment import Comment, Form, FormQuestion
    from casehooks.events.content import Content
    from casehooks.events.decision import AddedDecision, Decision, DeletedDecision, Prescriber, Prescription
    from casehooks.events.deviations import Deviation, DeviationKind
    from casehooks.events.enums import (
        ActivityType,
        AuthorRole,
        CalendarEventStatus,
        CaseStatus,
        DocumentFormat,
        Gender,
        OrganizationRole,
        QuestionType,
        VisitType,
    )
    from casehooks.events.envelope import (
        CalendarEventCanceled,
        CalendarEventCreated,
        CalendarEventNoShow,
        CalendarEventNoShowRemoved,
        CalendarEventRescheduled,
        CalendarEventStatusUpdated,
        CaseAssigneeAdded,
        CaseAssigneeRemoved,
        CaseAttachmentAdded,
        CaseCommentAdded,
        CaseDecisionAdded,
        CaseDecisionDeleted,
        CaseEvent,
        Event,
        FormResponseAdded,
        FormResponseUpdated,
        OrderCreated,
        OrderStatusChanged,
        OrderTrackingAdded,
        PaymentInfoAdded,
        event_class,
    )
    from casehooks.events.form_response import AnsweredQuestion, FormAnswer, Respondent, ResponseForm
    from casehooks.events.jsonschema import event_json_schema
    from casehooks.events.order import Order
    from casehooks.events.parse import parse_event, parse_object
    from casehooks.events.payloads import (
        AddedDecisionPayload,
        AssigneesPayload,
        AttachmentPayload,
        CalendarEventPayload,
        CasePayload,
        CommentPayload,
        DeletedDecisionPayload,
        FormResponsePayload,
        OrderPayload,
        PaymentInfoPayload,
    )
    from casehooks.events.payment import PaymentInfo, PostalAddress
    from casehooks.events.people import Author, OrganizationAccess, Person, Submitter, Uploader
    from casehooks.events.timestamps import Timestamp, format_js_iso
    from casehooks.events.wire import stringify

# The models load on first use of a name: a listing that needs only an enum or the JSON reader (``casehooks
# events list``) should not build every model. A name is looked up in these modules, in this order.
_MODULES = (
    "activity",
    "assignee",
    "attachment",
    "calendar",
    "case",
    "comment",
    "content",
    "decision",
    "deviations",
    "enums",
    "envelope",
    "form_response",
    "jsonschema",
    "order",
    "parse",
    "payloads",
    "payment",
    "people",
    "timestamps",
    "wire",
)


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            value = getattr(import_module(f"{__name__}.{module}"), name, __getattr__)
            if value is not __getattr__:
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Activity",
    "ActivityType",
    "AddedDecision",
    "AddedDecisionPayload",
    "AnsweredQuestion",
    "Assignee",
    "AssigneesPayload",
    "Assignment",
    "Attachment",
    "AttachmentPayload",
    "Author",
    "AuthorRole",
    "CalendarEvent",
    "CalendarEventCanceled",
    "CalendarEventCreated",
    "CalendarEventNoShow",
    "CalendarEventNoShowRemoved",
    "CalendarEventPayload",
    "CalendarEventRescheduled",
    "CalendarEventStatus",
    "CalendarEventStatusUpdated",
    "CampaignTracking",
    "Case",
    "CaseAssigneeAdded",
    "CaseAssigneeRemoved",
    "CaseAttachmentAdded",
    "CaseCommentAdded",
    "CaseDecisionAdded",
    "CaseDecisionDeleted",
    "CaseEvent",
    "CasePayload",
    "CaseStatus",
    "Comment",
    "CommentPayload",
    "Content",
    "Decision",
    "DeletedDecision",
    "DeletedDecisionPayload",
    "Deviation",
    "DeviationKind",
    "DocumentFormat",
    "Event",
    "Form",
    "FormAnswer",
    "FormQuestion",
    "FormResponseAdded",
    "FormResponsePayload",
    "FormResponseUpdated",
    "Gender",
    "MeetingNote",
    "Order",
    "OrderCreated",
    "OrderPayload",
    "OrderStatusChanged",
    "OrderTrackingAdded",
    "OrganizationAccess",
    "OrganizationRole",
    "PaymentInfo",
    "PaymentInfoAdded",
    "PaymentInfoPayload",
    "Person",
    "PostalAddress",
    "Prescriber",
    "Prescription",
    "ProductBundle",
    "QuestionType",
    "Respondent",
    "ResponseForm",
    "Submitter",
    "Timestamp",
    "Uploader",
    "VisitType",
    "event_class",
    "event_json_schema",
    "format_js_iso",
    "parse_event",
    "parse_object",
    "stringify",
]
