"""Timestamps that read as aware datetimes and write back exactly as they came."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


def format_js_iso(value: datetime) -> str:
    """Format like JavaScript's ``Date.prototype.toISOString``: UTC, milliseconds, ``Z``."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    # strftime("%Y") does not pad years before 1000; JavaScript always writes four digits.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        f".{utc.microsecond // 1000:03d}Z"
    )


def _wire_text(value: datetime) -> str:
    """The text a timestamp came as; one made by ``replace`` or arithmetic has none and is written afresh."""
    wire = getattr(value, "wire", None)
    return wire if isinstance(wire, str) else format_js_iso(value)


class Timestamp(datetime):
    """An aware datetime that remembers its wire text.

    The platform writes ``2025-09-03T23:52:43.927Z``; a plain datetime would write it back with microseconds,
    so a parsed event would not serialise to the object it came from. A text without an offset is read as UTC.
    """

    wire: str

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        stamp = cls.from_datetime(parsed)
        stamp.wire = text
        return stamp

    @classmethod
    def from_datetime(cls, value: datetime) -> Timestamp:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        stamp = cls(
            aware.year,
            aware.month,
            aware.day,
            aware.hour,
            aware.minute,
            aware.second,
            aware.microsecond,
            tzinfo=aware.tzinfo,
        )
        stamp.wire = format_js_iso(aware)
        return stamp

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # datetime pickles (and deep-copies) without the instance dict, which would drop the wire text.
        return (type(self).parse, (_wire_text(self),))

    @classmethod
    def _validate(cls, value: Any) -> Timestamp:
        if isinstance(value, Timestamp):
            return value
        if isinstance(value, datetime):
            return cls.from_datetime(value)
        if not isinstance(value, str):
            raise ValueError("expected an ISO 8601 date-time string")
        try:
            return cls.parse(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date-time") from None
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: in UTC it falls before year 1
            raise ValueError("a date-time out of range in UTC") from None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(_wire_text, when_used="json"),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time"}
