"""Timestamps: aware datetimes that write back the exact wire text, and JavaScript's ISO format."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casehooks.events import Case, Timestamp, format_js_iso
from tests.events.node import run_node


@pytest.mark.parametrize(
    "text",
    [
        "2025-09-03T23:52:43.927Z",
        "2025-09-03T23:52:43Z",
        "2025-09-03T23:52:43.927000Z",
        "2025-09-04T01:52:43.927+02:00",
        "2025-09-03T18:52:43.927-05:00",
        "2025-09-03T23:52:43.927",
    ],
)
def test_wire_text_is_preserved(text: str) -> None:
    stamp = Timestamp.parse(text)
    assert stamp.wire == text
    assert Case.model_validate({"id": "x", "createdAt": text}).to_wire()["createdAt"] == text


def test_z_is_utc() -> None:
    stamp = Timestamp.parse("2025-09-03T23:52:43.927Z")
    assert stamp.utcoffset() == timedelta(0)
    assert stamp == datetime(2025, 9, 3, 23, 52, 43, 927000, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2025-09-04T01:52:43.927+02:00", "2025-09-03T18:52:43.927-05:00"])
def test_offsets_name_the_same_instant(text: str) -> None:
    stamp = Timestamp.parse(text)
    assert stamp == datetime(2025, 9, 3, 23, 52, 43, 927000, tzinfo=UTC)
    assert stamp.utcoffset() == datetime.fromisoformat(text).utcoffset()


def test_naive_text_is_read_as_utc() -> None:
    stamp = Timestamp.parse("2025-09-03T23:52:43.927")
    assert stamp.tzinfo is not None
    assert stamp.utcoffset() == timedelta(0)
    assert stamp == datetime(2025, 9, 3, 23, 52, 43, 927000, tzinfo=UTC)


def test_from_naive_datetime_is_utc_and_js_formatted() -> None:
    stamp = Timestamp.from_datetime(datetime(2025, 9, 3, 23, 52, 43, 927456))
    assert stamp.tzinfo is not None
    assert stamp == datetime(2025, 9, 3, 23, 52, 43, 927456, tzinfo=UTC)
    assert stamp.wire == "2025-09-03T23:52:43.927Z"


def test_datetime_input_to_a_model_is_written_as_js_iso() -> None:
    moment = datetime(2025, 9, 4, 1, 52, 43, 927000, tzinfo=timezone(timedelta(hours=2)))
    assert Case(id="x", created_at=moment).to_wire()["createdAt"] == "2025-09-03T23:52:43.927Z"


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01T00:00:00Z", "", "2025-09-03T25:00:00Z"])
def test_invalid_text_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        Timestamp._validate(text)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2025, 9, 3, 23, 52, 43, 927999, tzinfo=UTC), "2025-09-03T23:52:43.927Z"),
        (datetime(2025, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00.000Z"),
        (datetime(2025, 9, 4, 1, 0, tzinfo=timezone(timedelta(hours=2))), "2025-09-03T23:00:00.000Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000Z"),
        (datetime(999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), "0999-12-31T23:59:59.999Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
    ],
)
def test_format_js_iso(moment: datetime, expected: str) -> None:
    assert format_js_iso(moment) == expected


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from([UTC, None]))
)
def test_format_js_iso_round_trips_through_fromisoformat(moment: datetime) -> None:
    text = format_js_iso(moment)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert datetime.fromisoformat(text) == aware.replace(microsecond=aware.microsecond // 1000 * 1000)


def test_format_js_iso_matches_node_to_iso_string() -> None:
    moments = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(45, 6, 7, 8, 9, 10, 11000, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2000, 2, 29, 12, tzinfo=UTC),
        datetime(2025, 9, 3, 23, 52, 43, 927000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    ]
    millis = [int((m - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1)) for m in moments]
    expected = run_node("x => new Date(x).toISOString()", millis)
    assert [format_js_iso(m) for m in moments] == expected


@pytest.mark.parametrize("text", ["2025-09-03T23:52:43.927Z", "2025-09-04T01:52:43.927+02:00"])
def test_copy_and_pickle_keep_the_wire_text(text: str) -> None:
    stamp = Timestamp.parse(text)
    for clone in (copy.copy(stamp), copy.deepcopy(stamp), pickle.loads(pickle.dumps(stamp))):
        assert type(clone) is Timestamp
        assert clone == stamp
        assert clone.wire == text


def test_derived_timestamp_is_written_in_js_iso_form() -> None:
    stamp = Timestamp.parse("2025-09-04T01:52:43.927+02:00")
    later = stamp + timedelta(days=1)
    assert Case(id="x", created_at=later).to_wire()["createdAt"] == "2025-09-04T23:52:43.927Z"
