"""Keyset paging for every list: opaque cursors that stay stable under inserts, and a total that stays cheap.

A cursor is the url-safe base64 of ``[list, *sort key]`` of the last row shown: the next page starts strictly
after it, so rows that arrive meanwhile never shift a page. A cursor names its list, so one made for cases is
refused by events. The total is exact up to ``COUNT_CAP`` rows of the filter; past that it is an estimate
(PostgreSQL's planner statistics for an unfiltered list, else the cap itself, shown as "10,000+"). A filter
that counts through a join (events by their job's state: an index lookup in the other table for each row
counted) is exact up to ``JOINED_COUNT_CAP``, so that a page costs the same at a thousand rows as at a million.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, text

from casehooks.errors import BadFilter

COUNT_CAP = 10_000
JOINED_COUNT_CAP = 1_000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its rows, the cursor of the next (older) page, and the total the filter matches."""

    items: list[dict[str, Any]]
    next: str | None = None
    total: int = 0
    total_estimated: bool = False
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "next": self.next,
            "total": self.total,
            "total_estimated": self.total_estimated,
            "notices": self.notices,
        }

    @property
    def total_label(self) -> str:
        if not self.total_estimated:
            return f"{self.total:,}"
        return f"{self.total:,}+" if self.total in (COUNT_CAP, JOINED_COUNT_CAP) else f"about {self.total:,}"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *(_plain(value) for value in key)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, size: int) -> list[Any]:
    """The sort key in ``cursor``; ``BadFilter`` unless it is a well-formed cursor of the ``kind`` list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadFilter("cursor", "not a cursor of this list") from exc
    if not isinstance(decoded, list) or len(decoded) != size + 1 or decoded[0] != kind:
        raise BadFilter("cursor", "not a cursor of this list")
    return decoded[1:]


def cursor_time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise BadFilter("cursor", "not a cursor of this list") from exc


def cursor_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise BadFilter("cursor", "not a cursor of this list")
    return value


def count(
    connection: Connection, query: Select[Any], *, table: str, filtered: bool, joined: bool = False
) -> tuple[int, bool]:
    """How many rows ``query`` (without its order and limit) matches, exactly up to ``COUNT_CAP`` (up to
    ``JOINED_COUNT_CAP`` when ``joined``: each row counted is a lookup in another table): ``(total, estimated)``."""
    cap = JOINED_COUNT_CAP if joined else COUNT_CAP
    bounded = query.order_by(None).limit(cap + 1).offset(None).subquery()
    exact = int(connection.execute(select(func.count()).select_from(bounded)).scalar_one())
    if exact <= cap:
        return exact, False
    if not filtered and connection.dialect.name == "postgresql":
        estimate = connection.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE relname = :table"), {"table": table}
        ).scalar()
        if estimate and estimate > cap:
            return int(estimate), True
    return cap, True
