"""The list pages' filters read from a query string: choices checked, dates parsed, cursors passed on.

A value that cannot be read raises ``BadFilter`` (the page shows it with a 422) instead of listing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from casehooks.console.models import JobStatus
from casehooks.errors import BadFilter
from casehooks.events.enums import ActivityType, CaseStatus
from casehooks.store.event_list import EventFilter, event_cursor
from casehooks.store.reads import CaseFilter

PAGE_SIZE = 100
EVENT_TYPES = [member.value for member in ActivityType]
JOB_STATES = [member.value for member in JobStatus]
CASE_STATES = [member.value for member in CaseStatus]
QUARANTINE_STATES = ["held", "reprocessed", "all"]


def choice(params: Mapping[str, str], name: str, allowed: list[str]) -> str | None:
    value = params.get(name) or None
    if value is not None and value not in allowed:
        raise BadFilter(name, "not one of the listed choices")
    return value


def day(params: Mapping[str, str], name: str, *, end: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` (or ISO 8601) bound; an end day includes the whole day."""
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadFilter(name, "not a date (YYYY-MM-DD)") from exc
    if end and len(value) == 10:
        parsed += timedelta(days=1)
    return parsed


def whole_number(params: Mapping[str, str], name: str) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise BadFilter(name, "not a whole number")
    return int(value)


def cursor(params: Mapping[str, str]) -> str | None:
    value = params.get("before") or None
    if value is not None and len(value) > 200:
        raise BadFilter("before", "not a cursor of this list")
    return value


def event_filter(params: Mapping[str, str]) -> EventFilter:
    before = cursor(params)
    return EventFilter(
        event_type=choice(params, "type", EVENT_TYPES),
        job_status=choice(params, "status", JOB_STATES),
        case_id=(params.get("case") or "").strip()[:200] or None,
        since=day(params, "since"),
        until=day(params, "until", end=True),
        limit=PAGE_SIZE,
        before_seq=event_cursor(before) if before else None,
    )


def case_filter(params: Mapping[str, str], **narrowed: Any) -> CaseFilter:
    return CaseFilter(
        status=choice(params, "status", CASE_STATES),
        since=day(params, "since"),
        until=day(params, "until", end=True),
        limit=PAGE_SIZE,
        before=cursor(params),
        **narrowed,
    )


def next_link(path: str, params: Mapping[str, str], next_cursor: str | None) -> str | None:
    """The link to the next page: the same filters, the next cursor."""
    if next_cursor is None:
        return None
    kept = {key: value for key, value in params.items() if key not in ("before", "notice") and value}
    return f"{path}?{urlencode({**kept, 'before': next_cursor})}"
