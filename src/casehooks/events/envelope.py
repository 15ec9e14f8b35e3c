"""The envelope ``{"event": TYPE, "payload": {...}}`` and the event classes built on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    ConfigDict,
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
from casehooks.events.form_response import FormAnswer, FormResponse, ResponseForm
from casehooks.events.order import Order
from casehooks.events.payment import PaymentInfo

if TYPE_CHECKING:
    from casehooks.events.deviations import Deviation


def _lead_with(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Put the event's own object first, as the platform's examples do."""
    if key not in data:
        return data
    return {key: data[key], **{k: v for k, v in data.items() if k != key}}


class CasePayload(WireModel):
    """What every event carries: the case snapshot and the activity. Event-specific objects are kept as extras."""

    # A field's wire key mapped to the name the attribute list gives it, where the two differ.
    documented_keys: ClassVar[dict[str, str]] = {}

    case: Annotated[Case | None, Doc("object")] = None
    activity: Annotated[Activity | None, Doc("object")] = None


class AttachmentPayload(CasePayload):
    """The payload of ``ADD_CASE_ATTACHMENT``."""

    attachment: Annotated[Attachment, Doc("object")]

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        return _lead_with(handler(self), "attachment")


def _either_comment_key(schema: dict[str, Any]) -> None:
    """The JSON Schema takes ``comment`` (what the platform sends) or ``comments`` (what its attribute list names)."""
    properties = schema.get("properties", {})
    if "comment" in properties:
        properties["comments"] = properties["comment"]
        schema["required"] = [key for key in schema.get("required", []) if key != "comment"]
        if not schema["required"]:
            del schema["required"]
        schema["anyOf"] = [{"required": ["comment"]}, {"required": ["comments"]}]


class CommentPayload(CasePayload):
    """The payload of ``ADD_CASE_COMMENT``.

    The attribute list calls the object ``comments``; the platform sends ``comment``. Both are read, and the
    key that came is the key written back.
    """

    model_config = ConfigDict(json_schema_extra=_either_comment_key)
    documented_keys: ClassVar[dict[str, str]] = {"comment": "comments"}

    comment: Annotated[Comment, Doc("object"), Field(validation_alias=AliasChoices("comment", "comments"))]
    _comment_key: str = PrivateAttr(default="comment")

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> CommentPayload:
        payload: CommentPayload = handler(data)
        if isinstance(data, dict) and "comment" not in data and "comments" in data:
            payload._comment_key = "comments"
        return payload

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data = _lead_with(handler(self), "comment")
        if self._comment_key == "comments" and info.by_alias and "comment" in data:
            data = {("comments" if key == "comment" else key): value for key, value in data.items()}
        return data


class AddedDecisionPayload(CasePayload):
    """The payload of ``ADD_CASE_DECISION``."""

    decision: Annotated[AddedDecision | None, Doc("object")] = None


class DeletedDecisionPayload(CasePayload):
    """The payload of ``DECISION_DELETED``."""

    decision: Annotated[DeletedDecision | None, Doc("object")] = None


class FormResponsePayload(CasePayload):
    """The payload of ``ADD_FORM_RESPONSE`` and ``UPDATE_FORM_RESPONSE``: the form and its answers."""

    form: Annotated[ResponseForm | None, Doc("object")] = None
    response: Annotated[FormResponse, Doc("array<object>")] = None


class AssigneesPayload(CasePayload):
    """The payload of ``ADD_CASE_ASSIGNEE`` and ``REMOVE_CASE_ASSIGNEE``."""

    assignees: Annotated[list[Assignment] | None, Doc("array<object>")] = None


class OrderPayload(CasePayload):
    """The payload of the order events; the order may sit here or beside the payload."""

    order: Annotated[Order | None, Doc("object", optional=True)] = None


class PaymentInfoPayload(CasePayload):
    """The payload of ``ADD_PAYMENT_INFO_USING_LINK``: one documented shape has only the activity and a case id."""

    case: Annotated[Case | None, Doc("object", optional=True)] = None
    case_id: Annotated[str | None, Doc("string<UUID>", optional=True)] = None
    payment_info: Annotated[PaymentInfo | None, Doc("object", optional=True)] = None


class CalendarEventPayload(CasePayload):
    """The payload of the ``CALENDAR_EVENT_*`` events."""

    calendar_event: Annotated[CalendarEvent | None, Doc("object")] = None


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
