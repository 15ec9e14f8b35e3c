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

    ``received`` describes the shape (``null``, ``string of 28 characters``), never a value or a key that came:
    patient data can sit in either. ``path`` names documented keys only.
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
        found.append(Deviation("event", DeviationKind.UNKNOWN_EVENT, "a documented event type", describe(event_type)))
    payload = getattr(event, "payload", None)
    if isinstance(payload, BaseModel) and isinstance(raw.get("payload"), dict):
        _walk(payload, raw["payload"], "payload", found, report_extras=type(payload).__name__ != "CasePayload")
    # Objects documented beside the payload (an order) are read like the payload's own.
    top_order = getattr(event, "top_order", None)
    if isinstance(top_order, BaseModel) and isinstance(raw.get("order"), dict):
        _walk(top_order, raw["order"], "order", found, report_extras=True)
    return tuple(found)


def _undocumented_key(key: str, value: Any) -> str:
    # Keys are described, never shown: a sender may put patient data in a key as easily as in a value.
    return f"{describe(value)} under a key of {len(key)} characters"


@dataclass(frozen=True, slots=True)
class _Field:
    """A documented field of a model, as the walk needs it: worked out once per model class."""

    name: str
    key: str  # the key it is read under
    documented_key: str  # the key the documentation names (differs for a renamed field)
    doc: Doc
    # Whether a present, non-null value can deviate by itself (an undocumented field, a UUID, an enum, base64).
    checked: bool


_PLANS: dict[type[BaseModel], tuple[_Field, ...]] = {}
# The wire types whose values are checked beyond null (besides enums and undocumented fields).
_VALUE_CHECKED = frozenset({"string<UUID>", "string<base64>"})


def _plan(model_class: type[BaseModel]) -> tuple[_Field, ...]:
    """The documented fields of ``model_class``, worked out on its first event and kept."""
    plan = _PLANS.get(model_class)
    if plan is None:
        documented_keys: dict[str, str] = getattr(model_class, "documented_keys", {})
        fields = []
        for name, field in model_class.model_fields.items():
            doc = next((m for m in field.metadata if isinstance(m, Doc)), None)
            if doc is None:
                continue
            key = field.alias or name
            checked = not doc.documented or doc.enum is not None or doc.wire_type in _VALUE_CHECKED
            fields.append(_Field(name, key, documented_keys.get(key, key), doc, checked))
        plan = _PLANS[model_class] = tuple(fields)
    return plan


def _walk(model: BaseModel, raw: dict[str, Any], path: str, found: list[Deviation], *, report_extras: bool) -> None:
    for field in _plan(type(model)):
        key = field.key
        documented_key = field.documented_key
        if documented_key != key:
            if documented_key not in raw and key in raw:
                found.append(Deviation(f"{path}.{documented_key}", DeviationKind.RENAMED, documented_key, key))
            elif documented_key in raw:
                key = documented_key
        if key not in raw:
            if field.doc.documented and not field.doc.optional:
                found.append(Deviation(f"{path}.{key}", DeviationKind.MISSING, field.doc.wire_type, "absent"))
            continue
        value = raw[key]
        if value is None or field.checked:
            parsed = getattr(model, field.name)
            _check_value(field.doc, value, f"{path}.{key}", found, parsed)
        if isinstance(value, dict | list):
            _descend(getattr(model, field.name), value, f"{path}.{key}", found)
    if report_extras and model.model_extra:
        for index, (key, value) in enumerate(model.model_extra.items(), start=1):
            here = f"{path}.<undocumented key {index}>"
            if is_url_field(key) and isinstance(value, str) and value.lower().startswith(("http://", "https://")):
                found.append(Deviation(here, DeviationKind.DOCUMENT_URL, "not in the attribute list", "a download URL"))
            else:
                found.append(
                    Deviation(
                        here,
                        DeviationKind.UNDOCUMENTED_FIELD,
                        "not in the attribute list",
                        _undocumented_key(key, value),
                    )
                )


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
        # Described, never shown: an unknown value may be free text a sender put where a code belongs.
        found.append(Deviation(path, DeviationKind.UNKNOWN_VALUE, f"one of {len(doc.enum)} values", describe(value)))
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
