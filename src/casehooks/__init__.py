"""casehooks: receive, verify, store and send the case platform's webhooks, with PHI kept safe."""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from casehooks.errors import (
    CasehooksError,
    ConfigurationError,
    ContentError,
    CryptoError,
    NotFound,
    PayloadTooLarge,
    SchemaError,
    SignatureError,
    StoreUnavailable,
)
from casehooks.events import (
    Activity,
    ActivityType,
    Attachment,
    CalendarEventCanceled,
    CalendarEventCreated,
    CalendarEventNoShow,
    CalendarEventNoShowRemoved,
    CalendarEventRescheduled,
    CalendarEventStatusUpdated,
    Case,
    CaseAssigneeAdded,
    CaseAssigneeRemoved,
    CaseAttachmentAdded,
    CaseCommentAdded,
    CaseDecisionAdded,
    CaseDecisionDeleted,
    CaseEvent,
    CaseStatus,
    Comment,
    Content,
    Deviation,
    DeviationKind,
    Event,
    FormResponseAdded,
    FormResponseUpdated,
    OrderCreated,
    OrderStatusChanged,
    OrderTrackingAdded,
    PaymentInfoAdded,
    parse_event,
)
from casehooks.signing import Authenticator, StaticHeader, sign, verify

__version__ = "0.1.0"

if _TYPE_CHECKING:
    from casehooks.receiver import Receiver


def __getattr__(name: str) -> _Any:
    # The receiver pulls in the web server and the database; ``import casehooks`` for parsing stays light.
    if name == "Receiver":
        from casehooks.receiver import Receiver

        return Receiver
    raise AttributeError(f"module 'casehooks' has no attribute {name!r}")


__all__ = [
    "Activity",
    "ActivityType",
    "Attachment",
    "Authenticator",
    "CalendarEventCanceled",
    "CalendarEventCreated",
    "CalendarEventNoShow",
    "CalendarEventNoShowRemoved",
    "CalendarEventRescheduled",
    "CalendarEventStatusUpdated",
    "Case",
    "CaseAssigneeAdded",
    "CaseAssigneeRemoved",
    "CaseAttachmentAdded",
    "CaseCommentAdded",
    "CaseDecisionAdded",
    "CaseDecisionDeleted",
    "CaseEvent",
    "CaseStatus",
    "CasehooksError",
    "Comment",
    "ConfigurationError",
    "Content",
    "ContentError",
    "CryptoError",
    "Deviation",
    "DeviationKind",
    "Event",
    "FormResponseAdded",
    "FormResponseUpdated",
    "NotFound",
    "OrderCreated",
    "OrderStatusChanged",
    "OrderTrackingAdded",
    "PayloadTooLarge",
    "PaymentInfoAdded",
    "Receiver",
    "SchemaError",
    "SignatureError",
    "StaticHeader",
    "StoreUnavailable",
    "__version__",
    "parse_event",
    "sign",
    "verify",
]
