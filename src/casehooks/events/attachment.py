"""A file attached to a case or to a comment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from casehooks.events.content import Content
from casehooks.events.documented import Doc, WireModel
from casehooks.events.people import Uploader
from casehooks.events.timestamps import Timestamp

_FLAG = Doc("boolean")


def is_url_field(name: str) -> bool:
    """Whether an undocumented attachment key looks like it carries the signed download URL."""
    return name.lower().endswith("url")


class Attachment(WireModel):
    """A file's metadata and its content (inline base64, or a signed URL when the format is ``URL``)."""

    id: Annotated[str, Doc("string<UUID>")]
    is_restricted: Annotated[bool | None, _FLAG] = None
    is_phi: Annotated[bool | None, _FLAG, Field(alias="isPHI")] = None
    file_name: Annotated[str | None, Doc("string", phi=True)] = None
    is_deleted: Annotated[bool | None, _FLAG] = None
    created_at: Annotated[Timestamp | None, Doc("string<date-time>")] = None
    uploaded_by: Annotated[Uploader | None, Doc("object")] = None
    content: Annotated[Content | None, Doc("string<base64>")] = None

    @property
    def document_url(self) -> str | None:
        """The signed download URL, whether it came in ``content`` or in a URL-named sibling field."""
        source = self.document_url_field
        if source == "content":
            return self.content.text if self.content is not None else None
        if source is not None and self.model_extra is not None:
            value = self.model_extra[source]
            return value if isinstance(value, str) else None
        return None

    @property
    def document_url_field(self) -> str | None:
        """Which wire field carried the download URL: ``"content"``, a sibling's name, or None."""
        if self.content is not None and self.content.is_url:
            return "content"
        for key, value in (self.model_extra or {}).items():
            if is_url_field(key) and isinstance(value, str) and value.lower().startswith(("http://", "https://")):
                return key
        return None
