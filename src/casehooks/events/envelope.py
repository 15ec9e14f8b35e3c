"""The envelope ``{"event": TYPE, "payload": {...}}`` and the event classes built on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from casehooks.events.activity import Activity
from casehooks.events.attachment import Attachment
from casehooks.events.case import Case
from casehooks.events.comment import Comment
from casehooks.events.documented import Doc, WireModel

if TYPE_CHECKING:
    from casehooks.events.deviations import Deviation


def _lead_with(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Put the event's own object first, as the platform's examples do."""
    if key not in data:
        return data
    return {key: data[key], **{k: v for k, v in data.items() if k != key}}


class CasePayload(WireModel):
    """What every event carries: the case snapshot and the activity. Event-specific objects are kept as extras."""

    renamed_keys: ClassVar[dict[str, str]] = {}

    case: Annotated[Case | None, Doc("object")] = None
    activity: Annotated[Activity | None, Doc("object")] = None


class AttachmentPayload(CasePayload):
    """The payload of ``ADD_CASE_ATTACHMENT``."""

    attachment: Annotated[Attachment, Doc("object")]

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        return _lead_with(handler(self), "attachment")


class CommentPayload(CasePayload):
    """The payload of ``ADD_CASE_COMMENT``.

    The attribute list calls the object ``comments``; the platform sends ``comment``. Both are read, and the
    key that came is the key written back.
    """

    renamed_keys: ClassVar[dict[str, str]] = {"comment": "comments"}

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


EVENT_CLASSES: dict[str, type[Event]] = {
    "ADD_CASE_ATTACHMENT": CaseAttachmentAdded,
    "ADD_CASE_COMMENT": CaseCommentAdded,
}


def event_class(event_type: str) -> type[Event]:
    """The model for an event type; unknown and new types get the generic ``CaseEvent``."""
    return EVENT_CLASSES.get(event_type, CaseEvent)
