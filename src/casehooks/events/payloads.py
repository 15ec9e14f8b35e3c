"""The payloads of the event types: the case and the activity, and each type's own object beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

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
from casehooks.events.form_response import FormResponse, ResponseForm
from casehooks.events.order import Order
from casehooks.events.payment import PaymentInfo

if TYPE_CHECKING:
    pass


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
