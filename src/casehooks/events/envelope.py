"""The envelope ``{"event": TYPE, "payload": {...}}`` and the event classes built on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from casehooks.events.activity import Activity
from casehooks.events.assignee import Assignment
from casehooks.events.attachment import Attachment
from casehooks.events.calendar import CalendarEvent
from casehooks.events.case import Case
from casehooks.events.comment import Comment
from casehooks.events.decision import AddedDecision, DeletedDecision
from casehooks.events.documented import Doc, WireModel
from casehooks.events.form_response import FormAnswer, ResponseForm
from casehooks.events.order import Order
from casehooks.events.payment import PaymentInfo

if TYPE_CHECKING:
    from casehooks.events.deviations import Deviation
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


class Event(WireModel):
    """A webhook event. ``payload`` holds the case and the activity; unknown top-level keys are kept."""

    event: str
    payload: CasePayload
    _deviations: tuple[Deviation, ...] = PrivateAttr(default=())

    @property
    def type(self) -> str:
        return self.event

    @property
    def case(self) -> Case | None:
        return self.payload.case

    @property
    def activity(self) -> Activity | None:
        return self.payload.activity

    @property
    def deviations(self) -> tuple[Deviation, ...]:
        """Where this event differs from the documentation (see ``casehooks.events.deviations``)."""
        return self._deviations

    def attachments(self) -> tuple[Attachment, ...]:
        """Every attachment the event carries, wherever it sits."""
        return ()


class CaseEvent(Event):
    """Any event type without a model of its own: the case, the activity and every other field as it came."""


class CaseAttachmentAdded(Event):
    """``ADD_CASE_ATTACHMENT``: a file was attached to the case."""

    event: Literal["ADD_CASE_ATTACHMENT"]
    payload: AttachmentPayload

    @property
    def attachment(self) -> Attachment:
        return self.payload.attachment

    def attachments(self) -> tuple[Attachment, ...]:
        return (self.payload.attachment,)


class CaseCommentAdded(Event):
    """``ADD_CASE_COMMENT``: a comment (possibly with files) was added to the case."""

    event: Literal["ADD_CASE_COMMENT"]
    payload: CommentPayload

    @property
    def comment(self) -> Comment:
        return self.payload.comment

    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(self.payload.comment.attachments or ())


class CaseDecisionAdded(Event):
    """``ADD_CASE_DECISION``: a clinician decided on the case; an approval carries the prescriptions."""

    event: Literal["ADD_CASE_DECISION"]
    payload: AddedDecisionPayload

    @property
    def decision(self) -> AddedDecision | None:
        return self.payload.decision


class CaseDecisionDeleted(Event):
    """``DECISION_DELETED``: a decision was withdrawn."""

    event: Literal["DECISION_DELETED"]
    payload: DeletedDecisionPayload

    @property
    def decision(self) -> DeletedDecision | None:
        return self.payload.decision


class _FormResponseEvent(Event):
    payload: FormResponsePayload

    @property
    def form(self) -> ResponseForm | None:
        return self.payload.form

    @property
    def answers(self) -> tuple[FormAnswer, ...]:
        """The answers, whichever documented shape ``response`` came in."""
        response = self.payload.response
        if response is None:
            return ()
        return (response,) if isinstance(response, FormAnswer) else tuple(response)


class FormResponseAdded(_FormResponseEvent):
    """``ADD_FORM_RESPONSE``: a form was filled in."""

    event: Literal["ADD_FORM_RESPONSE"]


class FormResponseUpdated(_FormResponseEvent):
    """``UPDATE_FORM_RESPONSE``: answers of a form were changed."""

    event: Literal["UPDATE_FORM_RESPONSE"]


class _AssigneeEvent(Event):
    payload: AssigneesPayload

    @property
    def assignees(self) -> tuple[Assignment, ...]:
        return tuple(self.payload.assignees or ())


class CaseAssigneeAdded(_AssigneeEvent):
    """``ADD_CASE_ASSIGNEE``: users were assigned to the case."""

    event: Literal["ADD_CASE_ASSIGNEE"]


class CaseAssigneeRemoved(_AssigneeEvent):
    """``REMOVE_CASE_ASSIGNEE``: users were taken off the case."""

    event: Literal["REMOVE_CASE_ASSIGNEE"]


class _OrderEvent(Event):
    # The one real-looking example puts the order beside ``event`` and ``payload``.
    top_order: Annotated[Order | None, Doc("object", optional=True), Field(alias="order")] = None
    payload: OrderPayload
    _keys: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> _OrderEvent:
        event: _OrderEvent = handler(data)
        if isinstance(data, dict):
            event._keys = tuple(data)
        return event

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        # The order sits beside the payload; write the top-level keys back in the order they came.
        data: dict[str, Any] = handler(self)
        rank = {key: index for index, key in enumerate(self._keys)}
        return dict(sorted(data.items(), key=lambda item: rank.get(item[0], len(rank))))

    @property
    def order(self) -> Order | None:
        """The order, wherever it came."""
        return self.payload.order if self.payload.order is not None else self.top_order


class OrderCreated(_OrderEvent):
    """``ORDER_CREATED``: a pharmacy order was placed for the case."""

    event: Literal["ORDER_CREATED"]


class OrderStatusChanged(_OrderEvent):
    """``ORDER_STATUS_CHANGED``: an order moved on (e.g. to SHIPPED)."""

    event: Literal["ORDER_STATUS_CHANGED"]


class OrderTrackingAdded(_OrderEvent):
    """``ORDER_TRACKING_ADDED``: the carrier's tracking number is known."""

    event: Literal["ORDER_TRACKING_ADDED"]


class PaymentInfoAdded(Event):
    """``ADD_PAYMENT_INFO_USING_LINK``: the patient entered payment details through a link."""

    event: Literal["ADD_PAYMENT_INFO_USING_LINK"]
    payload: PaymentInfoPayload

    @property
    def payment_info(self) -> PaymentInfo | None:
        return self.payload.payment_info


class _CalendarEventEvent(Event):
    payload: CalendarEventPayload

    @property
    def calendar_event(self) -> CalendarEvent | None:
        return self.payload.calendar_event


class CalendarEventCreated(_CalendarEventEvent):
    """``CALENDAR_EVENT_CREATED``: an appointment was booked."""

    event: Literal["CALENDAR_EVENT_CREATED"]


class CalendarEventRescheduled(_CalendarEventEvent):
    """``CALENDAR_EVENT_RESCHEDULED``: an appointment moved."""

    event: Literal["CALENDAR_EVENT_RESCHEDULED"]


class CalendarEventCanceled(_CalendarEventEvent):
    """``CALENDAR_EVENT_CANCELED``: an appointment was called off."""

    event: Literal["CALENDAR_EVENT_CANCELED"]


class CalendarEventNoShow(_CalendarEventEvent):
    """``CALENDAR_EVENT_NO_SHOW``: someone missed the appointment."""

    event: Literal["CALENDAR_EVENT_NO_SHOW"]


class CalendarEventNoShowRemoved(_CalendarEventEvent):
    """``CALENDAR_EVENT_NO_SHOW_REMOVED``: a no-show mark was lifted."""

    event: Literal["CALENDAR_EVENT_NO_SHOW_REMOVED"]


class CalendarEventStatusUpdated(_CalendarEventEvent):
    """``CALENDAR_EVENT_STATUS_UPDATED``: the appointment's status changed."""

    event: Literal["CALENDAR_EVENT_STATUS_UPDATED"]


EVENT_CLASSES: dict[str, type[Event]] = {
    "ADD_CASE_ATTACHMENT": CaseAttachmentAdded,
    "ADD_CASE_COMMENT": CaseCommentAdded,
    "ADD_CASE_DECISION": CaseDecisionAdded,
    "DECISION_DELETED": CaseDecisionDeleted,
    "ADD_FORM_RESPONSE": FormResponseAdded,
    "UPDATE_FORM_RESPONSE": FormResponseUpdated,
    "ADD_CASE_ASSIGNEE": CaseAssigneeAdded,
    "REMOVE_CASE_ASSIGNEE": CaseAssigneeRemoved,
    "ORDER_CREATED": OrderCreated,
    "ORDER_STATUS_CHANGED": OrderStatusChanged,
    "ORDER_TRACKING_ADDED": OrderTrackingAdded,
    "ADD_PAYMENT_INFO_USING_LINK": PaymentInfoAdded,
    "CALENDAR_EVENT_CREATED": CalendarEventCreated,
    "CALENDAR_EVENT_RESCHEDULED": CalendarEventRescheduled,
    "CALENDAR_EVENT_CANCELED": CalendarEventCanceled,
    "CALENDAR_EVENT_NO_SHOW": CalendarEventNoShow,
    "CALENDAR_EVENT_NO_SHOW_REMOVED": CalendarEventNoShowRemoved,
    "CALENDAR_EVENT_STATUS_UPDATED": CalendarEventStatusUpdated,
}


def event_class(event_type: str) -> type[Event]:
    """The model for an event type; unknown and new types get the generic ``CaseEvent``."""
    return EVENT_CLASSES.get(event_type, CaseEvent)
