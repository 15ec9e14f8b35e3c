"""Attachment content, kept as it came and decoded only on demand, in chunks."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from casehooks.errors import ContentError

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_WHITESPACE = re.compile(r"\s+")
_URL = re.compile(r"https?://", re.IGNORECASE)
# A multiple of 4 characters decodes to whole bytes; 1 MiB of text is 768 KiB of file.
_CHUNK_CHARS = 1 << 20


class Content:
    """The ``content`` string of an attachment: base64 text, a signed download URL, or neither.

    Nothing is decoded when an event is parsed. ``iter_bytes`` decodes a slice at a time, so a 50 MiB file
    never exists as a second full copy beside the text. ``repr`` shows the shape, never the data.
    """

    __slots__ = ("_base64", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._base64: str | None = None

    @property
    def text(self) -> str:
        """The content exactly as it came on the wire."""
        return self._text

    @property
    def is_url(self) -> bool:
        """Whether the content is a download link (the endpoint's document format is ``URL``)."""
        return _URL.match(self._text) is not None

    @property
    def url(self) -> str | None:
        return self._text if self.is_url else None

    def is_base64(self) -> bool:
        """Whether the text is valid standard base64 (line breaks allowed)."""
        return self._clean() is not None

    def decoded_size(self) -> int:
        """The number of bytes the content decodes to, computed without decoding."""
        clean = self._require_base64()
        return len(clean) // 4 * 3 - (len(clean) - len(clean.rstrip("=")))

    def iter_bytes(self, chunk_chars: int = _CHUNK_CHARS) -> Iterator[bytes]:
        """Decode the content a slice at a time; raises ``ContentError`` if it is not base64."""
        clean = self._require_base64()
        step = max(4, chunk_chars - chunk_chars % 4)
        for start in range(0, len(clean), step):
            yield binascii.a2b_base64(clean[start : start + step], strict_mode=True)

    def read(self) -> bytes:
        """Decode the whole content at once (for small files)."""
        return b"".join(self.iter_bytes())

    def _clean(self) -> str | None:
        if self._base64 is not None:
            return self._base64
        text = self._text
        if len(text) % 4 or _BASE64.fullmatch(text) is None:
            text = _WHITESPACE.sub("", text)
            if len(text) % 4 or _BASE64.fullmatch(text) is None:
                return None
        self._base64 = text
        return text

    def _require_base64(self) -> str:
        clean = self._clean()
        if clean is None:
            raise ContentError("a download URL, not base64" if self.is_url else "not valid base64")
        return clean

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Content) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __len__(self) -> int:
        return len(self._text)

    def __repr__(self) -> str:
        shape = "url" if self.is_url else "base64" if self.is_base64() else "text"
        return f"Content({shape}, {len(self._text)} characters)"

    @classmethod
    def _validate(cls, value: Any) -> Content:
        if isinstance(value, Content):
            return value
        if isinstance(value, str):
            return cls(value)
        raise ValueError("expected a string")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.text, when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "contentEncoding": "base64"}
