"""JSON Schema of the wire format, generated from the models."""

from __future__ import annotations

from typing import Any

from casehooks.events.envelope import EVENT_CLASSES, CaseEvent, Event


def event_json_schema(event_type: str | None = None) -> dict[str, Any]:
    """The JSON Schema of one event type's body, or of every modelled type when ``event_type`` is None."""
    if event_type is not None:
        cls: type[Event] = EVENT_CLASSES.get(event_type, CaseEvent)
        schema = cls.model_json_schema(by_alias=True, mode="validation")
        schema["title"] = event_type
        return schema
    branches = [event_json_schema(name) for name in EVENT_CLASSES]
    branches.append(CaseEvent.model_json_schema(by_alias=True, mode="validation"))
    # Each branch's "#/$defs/..." references point at the document root, so the definitions live there.
    definitions: dict[str, Any] = {}
    for branch in branches:
        definitions.update(branch.pop("$defs", {}))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "CareValidate case webhook events",
        # anyOf, not oneOf: the generic branch accepts every event type, the modelled ones included.
        "anyOf": branches,
        "$defs": definitions,
    }
