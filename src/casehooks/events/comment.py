"""A comment added to a case, with its author, forms and attachments."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from casehooks.events.attachment import Attachment
from casehooks.events.documented import Doc, WireModel
from casehooks.events.people import Author
from casehooks.events.timestamps import Timestamp


class FormQuestion(WireModel):
    """One question of a form referenced by a comment; only its PHI flag is sent."""

    is_phi: Annotated[bool | None, Doc("boolean", documented=False), Field(alias="isPHI")] = None


class Form(WireModel):
    """A form that has at least one question flagged as PHI."""

    questions: Annotated[list[FormQuestion] | None, Doc("array<object>", documented=False)] = None


class Comment(WireModel):
    """A comment on a case. Its text may hold PHI, and ``is_restricted`` marks internal-only comments."""

    id: Annotated[str, Doc("string<UUID>")]
    text: Annotated[str | None, Doc("string", phi=True)] = None
    is_restricted: Annotated[bool | None, Doc("boolean")] = None
    created_at: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    forms: Annotated[list[Form] | None, Doc("array")] = None
    author: Annotated[Author | None, Doc("object")] = None
    attachments: Annotated[list[Attachment] | None, Doc("array<object>")] = None

    @property
    def has_phi_forms(self) -> bool:
        """Whether any form of the comment has a question flagged as PHI."""
        return any(question.is_phi for form in self.forms or () for question in form.questions or ())
