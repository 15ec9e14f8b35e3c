"""casehooks: receive, verify, store and send the case platform's webhooks, with PHI kept safe."""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

if _TYPE_CHECKING:
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
    from casehooks.receiver import (
        Receiver,
    )
    from casehooks.signing import (
        Authenticator,
        StaticHeader,
        sign,
        verify,
    )

# Every public name is imported on first use: the schema alone costs a few hundred milliseconds, and the CLI
# (``casehooks --help``) and ``import casehooks.signing`` should not pay for it.
_EXPORTS: dict[str, str] = {
    "CasehooksError": "casehooks.errors",
    "ConfigurationError": "casehooks.errors",
    "ContentError": "casehooks.errors",
    "CryptoError": "casehooks.errors",
    "NotFound": "casehooks.errors",
    "PayloadTooLarge": "casehooks.errors",
    "SchemaError": "casehooks.errors",
    "SignatureError": "casehooks.errors",
    "StoreUnavailable": "casehooks.errors",
    "Activity": "casehooks.events",
    "ActivityType": "casehooks.events",
    "Attachment": "casehooks.events",
    "CalendarEventCanceled": "casehooks.events",
    "CalendarEventCreated": "casehooks.events",
    "CalendarEventNoShow": "casehooks.events",
    "CalendarEventNoShowRemoved": "casehooks.events",
    "CalendarEventRescheduled": "casehooks.events",
    "CalendarEventStatusUpdated": "casehooks.events",
    "Case": "casehooks.events",
    "CaseAssigneeAdded": "casehooks.events",
    "CaseAssigneeRemoved": "casehooks.events",
    "CaseAttachmentAdded": "casehooks.events",
    "CaseCommentAdded": "casehooks.events",
    "CaseDecisionAdded": "casehooks.events",
    "CaseDecisionDeleted": "casehooks.events",
    "CaseEvent": "casehooks.events",
    "CaseStatus": "casehooks.events",
    "Comment": "casehooks.events",
    "Content": "casehooks.events",
    "Deviation": "casehooks.events",
    "DeviationKind": "casehooks.events",
    "Event": "casehooks.events",
    "FormResponseAdded": "casehooks.events",
    "FormResponseUpdated": "casehooks.events",
    "OrderCreated": "casehooks.events",
    "OrderStatusChanged": "casehooks.events",
    "OrderTrackingAdded": "casehooks.events",
    "PaymentInfoAdded": "casehooks.events",
    "parse_event": "casehooks.events",
    "Receiver": "casehooks.receiver",
    "Authenticator": "casehooks.signing",
    "StaticHeader": "casehooks.signing",
    "sign": "casehooks.signing",
    "verify": "casehooks.signing",
}


def __getattr__(name: str) -> _Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'casehooks' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
