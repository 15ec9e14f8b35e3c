"""A form the patient (or someone for them) filled in: the form, and the answers with their questions."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from casehooks.events.documented import Doc, WireModel, open_enum
from casehooks.events.enums import QuestionType
from casehooks.events.timestamps import Timestamp

_PHI = Doc("string", phi=True)


class ResponseForm(WireModel):
    """The form a response belongs to (``payload.form``)."""

    id: Annotated[str | None, Doc("string<UUID>")] = None
    name: Annotated[str | None, Doc("string")] = None
    description: Annotated[str | None, Doc("string", nullable=True)] = None


class AnsweredQuestion(WireModel):
    """The question an answer replies to. Its text and options are treated as PHI: ``isPHI`` is the sender's word."""

    index: Annotated[int | None, Doc("integer")] = None
    type: open_enum(QuestionType, Doc("string", enum=QuestionType)) = None  # type: ignore[valid-type]
    text: Annotated[str | None, _PHI] = None
    is_phi: Annotated[bool | None, Doc("boolean"), Field(alias="isPHI")] = None
    options: Annotated[list[Any] | None, Doc("array", nullable=True, phi=True)] = None
    required: Annotated[bool | None, Doc("boolean")] = None


class Respondent(WireModel):
    """Who answered."""

    id: Annotated[str | None, Doc("string")] = None
    first_name: Annotated[str | None, _PHI] = None
    last_name: Annotated[str | None, _PHI] = None


class FormAnswer(WireModel):
    """One answer of ``payload.response``: ``text`` is the answer, ``question.text`` the question."""

    id: Annotated[str, Doc("string<UUID>")]
    is_archived: Annotated[bool | None, Doc("boolean")] = None
    question: Annotated[AnsweredQuestion | None, Doc("object")] = None
    text: Annotated[str | None, Doc("string", nullable=True, phi=True)] = None
    created_at: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    respondent: Annotated[Respondent | None, Doc("object")] = None

    @property
    def choices(self) -> tuple[str, ...] | None:
        """A MULTISELECT answer's choices (its text is a JSON array of strings); None for other answers."""
        if self.question is None or self.question.type != QuestionType.MULTISELECT or self.text is None:
            return None
        try:
            value = json.loads(self.text)
        except ValueError:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return None
        return tuple(value)


# Documented as an array; a sketch shows one object. The shape that came is the shape written back.
FormResponse = Annotated[list[FormAnswer] | FormAnswer | None, Field(union_mode="left_to_right")]
