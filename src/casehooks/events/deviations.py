"""Where an event differs from the platform's documentation: structured findings, never payload values.

The parser accepts what the platform really sends; each difference is reported here so that an operator can see
how the wire drifts from the docs without reading patient data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from casehooks.events.attachment import is_url_field
from casehooks.events.content import Content
from casehooks.events.documented import Doc
from casehooks.events.enums import ActivityType

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SHOWN_ENUM_CHARS = 40


class DeviationKind(StrEnum):
    """The kinds of difference between the documentation and what arrived."""

    MISSING = "missing"  # a documented field is absent
    NULL = "null"  # a field documented as non-null arrived as null
    NOT_UUID = "not_uuid"  # a field documented as a UUID holds something else
    UNKNOWN_VALUE = "unknown_value"  # a value outside the documented allowed values
    UNDOCUMENTED_FIELD = "undocumented_field"  # a field the attribute lists do not name
    RENAMED = "renamed"  # a documented field arrived under another name
    NOT_BASE64 = "not_base64"  # content documented as base64 is not
    DOCUMENT_URL = "document_url"  # content came as a download URL (the endpoint's URL document format)
    UNKNOWN_EVENT = "unknown_event"  # an event type neither the seeds nor the reference list


@dataclass(frozen=True, slots=True)
class Deviation:
    """One finding: at ``path``, the docs say ``documented`` and ``received`` came.

    ``received`` describes the shape (``null``, ``string of 28 characters``); it shows a value only for
    documented closed sets outside PHI fields.
    """

    path: str
    kind: DeviationKind
    documented: str
    received: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind.value, "documented": self.documented, "received": self.received}


# The seeds' activity types, and the one the platform's other pages name beyond them.
_KNOWN_TYPES = frozenset(member.value for member in ActivityType) | {"CALENDAR_EVENT_STATUS_UPDATED"}


def describe(value: Any) -> str:
    """A PHI-free description of a JSON value's shape."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str | Content):
        return f"string of {len(value)} characters"
    if isinstance(value, list):
        return f"array of {len(value)} items"
    if isinstance(value, dict):
        return f"object with {len(value)} keys"
    return type(value).__name__


def find_deviations(event: BaseModel, raw: dict[str, Any]) -> tuple[Deviation, ...]:
    """Compare a parsed event with the raw object it came from."""
    found: list[Deviation] = []
    event_type = raw.get("event")
    if isinstance(event_type, str) and event_type not in _KNOWN_TYPES:
        found.append(Deviation("event", DeviationKind.UNKNOWN_EVENT, "a documented event type", event_type[:64]))
    payload = getattr(event, "payload", None)
    if isinstance(payload, BaseModel) and isinstance(raw.get("payload"), dict):
        _walk(payload, raw["payload"], "payload", found, report_extras=type(payload).__name__ != "CasePayload")
    return tuple(found)


def _walk(model: BaseModel, raw: dict[str, Any], path: str, found: list[Deviation], *, report_extras: bool) -> None:
    renamed: dict[str, str] = getattr(type(model), "renamed_keys", {})
    for name, field in type(model).model_fields.items():
        key = field.alias or name
        doc = next((m for m in field.metadata if isinstance(m, Doc)), None)
        if doc is None:
            continue
        here = f"{path}.{key}"
        if key not in raw and key in renamed and renamed[key] in raw:
            found.append(Deviation(here, DeviationKind.RENAMED, key, renamed[key]))
            key = renamed[key]
        if key not in raw:
            if doc.documented:
                found.append(Deviation(here, DeviationKind.MISSING, doc.wire_type, "absent"))
            continue
        value = raw[key]
        parsed = getattr(model, name)
        _check_value(doc, value, here, found, parsed)
        _descend(parsed, value, here, found)
    if report_extras:
        for key, value in (model.model_extra or {}).items():
            kind = DeviationKind.UNDOCUMENTED_FIELD
            if is_url_field(key) and isinstance(value, str) and value.lower().startswith(("http://", "https://")):
                kind = DeviationKind.DOCUMENT_URL
            found.append(Deviation(f"{path}.{key}", kind, "not in the attribute list", describe(value)))


def _check_value(doc: Doc, value: Any, path: str, found: list[Deviation], parsed: Any = None) -> None:
    if not doc.documented:
        found.append(Deviation(path, DeviationKind.UNDOCUMENTED_FIELD, "not in the attribute list", describe(value)))
    if value is None:
        if not doc.nullable and doc.documented:
            found.append(Deviation(path, DeviationKind.NULL, doc.wire_type, "null"))
        return
    if doc.wire_type == "string<UUID>" and isinstance(value, str) and _UUID.fullmatch(value) is None:
        found.append(Deviation(path, DeviationKind.NOT_UUID, doc.wire_type, describe(value)))
    elif doc.enum is not None and isinstance(value, str) and value not in doc.enum.__members__.values():
        shown = "a value not in the list" if doc.phi else repr(value[:_SHOWN_ENUM_CHARS])
        found.append(Deviation(path, DeviationKind.UNKNOWN_VALUE, f"one of {len(doc.enum)} values", shown))
    elif doc.wire_type == "string<base64>" and isinstance(value, str):
        # The parsed Content remembers the check, so the file is not scanned again when it is stored.
        content = parsed if isinstance(parsed, Content) else Content(value)
        if content.is_url:
            found.append(Deviation(path, DeviationKind.DOCUMENT_URL, doc.wire_type, "a download URL"))
        elif not content.is_base64():
            found.append(Deviation(path, DeviationKind.NOT_BASE64, doc.wire_type, describe(value)))


def _descend(parsed: Any, value: Any, path: str, found: list[Deviation]) -> None:
    if isinstance(parsed, BaseModel) and isinstance(value, dict):
        _walk(parsed, value, path, found, report_extras=True)
    elif isinstance(parsed, list) and isinstance(value, list):
        for index, (item, raw_item) in enumerate(zip(parsed, value, strict=False)):
            _descend(item, raw_item, f"{path}[{index}]", found)
