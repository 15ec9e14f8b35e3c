"""``parse_event``: the one way bytes from the wire become an event."""

from __future__ import annotations

import re
from typing import Any

import orjson
from pydantic import ValidationError

from casehooks.errors import SchemaError
from casehooks.events.deviations import find_deviations
from casehooks.events.envelope import Event, event_class
from casehooks.events.wire import load_json

# The loc parts pydantic adds for union branches and validators, e.g. ``str-enum[CaseStatus]``, ``str``.
_TYPE_TAG = re.compile(r"[a-z-]+\[.*\]|str|int|bool|float|none|list|dict")


def parse_event(raw: bytes | bytearray | memoryview | str) -> Event:
    """Read one webhook body.

    Returns ``CaseCommentAdded``, ``CaseAttachmentAdded`` or, for every other type, ``CaseEvent``; its
    ``deviations`` list where the body differs from the documentation. Raises ``SchemaError`` (with the
    path) for a body that is not a readable envelope. Attachment content is not decoded here.
    """
    try:
        data = load_json(raw)
    except orjson.JSONDecodeError as exc:
        raise SchemaError("$", f"not JSON ({exc.msg})") from None
    except RecursionError:
        raise SchemaError("$", "nested too deeply") from None
    except ValueError:  # the standard reader, on a text with lone surrogates: never quote it (PHI)
        raise SchemaError("$", "not JSON") from None
    return parse_object(data)


def parse_object(data: Any) -> Event:
    """Read an already decoded JSON value as an event (see ``parse_event``)."""
    if not isinstance(data, dict):
        raise SchemaError("$", "expected a JSON object")
    event_type = data.get("event")
    if not isinstance(event_type, str) or not event_type:
        raise SchemaError("event", "required: a non-empty string naming the event type")
    if not isinstance(data.get("payload"), dict):
        raise SchemaError("payload", "required: an object")
    try:
        event = event_class(event_type).model_validate(data)
    except ValidationError as exc:
        raise _schema_error(exc) from None
    except RecursionError:
        raise SchemaError("$", "nested too deeply") from None
    event._deviations = find_deviations(event, data)
    return event


def _schema_error(exc: ValidationError) -> SchemaError:
    # Pydantic's messages name the expected type; the input value (possibly PHI) is left out.
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    parts = [part for part in first["loc"] if isinstance(part, int) or not _TYPE_TAG.fullmatch(part)]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(".")
    # A union's branches each report; say what the field takes instead of naming one branch.
    reason = first["msg"] if len(parts) == len(first["loc"]) else "Input should be a valid string"
    return SchemaError(path or "$", reason)
