"""Properties of the parser over generated realistic bodies and over arbitrary mutations of them."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casehooks import SchemaError
from casehooks.events import (
    CaseAttachmentAdded,
    CaseCommentAdded,
    CaseEvent,
    event_class,
    parse_event,
    parse_object,
    stringify,
)
from tests.events.strategies import (
    attachment_events,
    comment_events,
    events,
    generic_events,
    json_values,
    typed_events,
)

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(events)
def test_parse_object_round_trips_to_the_same_object(body: dict[str, Any]) -> None:
    assert parse_object(copy.deepcopy(body)).to_wire() == body


@_SETTINGS
@given(events)
def test_reparsing_the_stringified_event_gives_an_equal_event(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    event = parse_event(raw)
    again = parse_event(stringify(event.to_wire()))
    assert again == event
    assert again.deviations == event.deviations


@_SETTINGS
@given(attachment_events)
def test_attachment_bodies_read_as_case_attachment_added(body: dict[str, Any]) -> None:
    event = parse_object(body)
    assert isinstance(event, CaseAttachmentAdded)
    assert event.attachment.id == body["payload"]["attachment"]["id"]


@_SETTINGS
@given(comment_events)
def test_comment_bodies_read_as_case_comment_added(body: dict[str, Any]) -> None:
    event = parse_object(body)
    assert isinstance(event, CaseCommentAdded)
    assert len(event.attachments()) == len(body["payload"]["comment"].get("attachments") or [])


@_SETTINGS
@given(typed_events)
def test_typed_bodies_read_as_their_own_class(body: dict[str, Any]) -> None:
    event = parse_object(copy.deepcopy(body))
    assert type(event) is event_class(body["event"])
    assert type(event) is not CaseEvent
    assert event.to_wire() == body


@_SETTINGS
@given(generic_events())
def test_other_bodies_read_as_case_event(body: dict[str, Any]) -> None:
    assert type(parse_object(body)) is CaseEvent


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _parse_or_schema_error(raw: bytes | dict[str, Any]) -> None:
    """Parse; a SchemaError (with a path and a reason) is the only acceptable failure."""
    error: SchemaError | None = None
    try:
        parse_event(raw) if isinstance(raw, bytes) else parse_object(raw)
    except SchemaError as exc:
        error = exc
    if error is not None:
        assert error.path
        assert error.reason


@_SETTINGS
@given(events, st.data())
def test_dropping_any_key_raises_nothing_but_schema_error(body: dict[str, Any], data: st.DataObject) -> None:
    paths = [path for path in _paths(body) if path and isinstance(path[-1], str)]
    path = data.draw(st.sampled_from(paths))
    parent: Any = body
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    _parse_or_schema_error(body)


@_SETTINGS
@given(events, st.data())
def test_replacing_any_value_raises_nothing_but_schema_error(body: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(body)))
    replacement = data.draw(json_values)
    if not path:
        _parse_or_schema_error(replacement)
        return
    parent: Any = body
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = replacement
    _parse_or_schema_error(body)


@_SETTINGS
@given(events, st.data())
def test_truncated_bodies_raise_nothing_but_schema_error(body: dict[str, Any], data: st.DataObject) -> None:
    raw = stringify(body)
    _parse_or_schema_error(raw[: data.draw(st.integers(0, len(raw)))])


@_SETTINGS
@given(events, st.data())
def test_flipped_bytes_raise_nothing_but_schema_error(body: dict[str, Any], data: st.DataObject) -> None:
    raw = bytearray(stringify(body))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] ^= data.draw(st.integers(1, 255))
    _parse_or_schema_error(bytes(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_nothing_but_schema_error(raw: bytes) -> None:
    _parse_or_schema_error(raw)
