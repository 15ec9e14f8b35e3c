"""The sandbox's case-state changes beyond status: escalate, archive, import, assign. One transaction each.

Each writes the change, then builds the event from the case as it now is, so the snapshot agrees with the event
(``isEscalated`` after ``ESCALATE_CASE``, ``isArchived`` and ``archiveReason`` after ``ARCHIVE_CASE`` ...); the
activity's ``valueBefore``/``valueAfter`` say what changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection

from casehooks.events.enums import CaseStatus
from casehooks.sender.payloads import ActivityRecord, User, envelope
from casehooks.sender.platform import _record, _touch, snapshot, status_changes

ARCHIVE_REASONS = ("COMPLETE", "INELIGIBLE")


def escalate(conn: Connection, now: datetime, case_id: str, actor: User, *, escalated: bool) -> str:
    """``ESCALATE_CASE`` (or ``DEESCALATE_CASE``)."""
    before = snapshot(conn, case_id)
    case = _touch(conn, case_id, now, is_escalated=escalated)
    event_type = "ESCALATE_CASE" if escalated else "DEESCALATE_CASE"
    activity = ActivityRecord(str(uuid.uuid4()), event_type, now, actor, None, before.is_escalated, escalated)
    return _record(conn, case_id, event_type, envelope(event_type, case, activity), now)


def archive(conn: Connection, now: datetime, case_id: str, actor: User, *, reason: str) -> str:
    """``ARCHIVE_CASE`` with its reason (COMPLETE or INELIGIBLE)."""
    if reason not in ARCHIVE_REASONS:
        raise ValueError("archive reason must be COMPLETE or INELIGIBLE")
    before = snapshot(conn, case_id)
    case = _touch(conn, case_id, now, is_archived=True, archive_reason=reason)
    activity = ActivityRecord(str(uuid.uuid4()), "ARCHIVE_CASE", now, actor, None, before.is_archived, True)
    return _record(conn, case_id, "ARCHIVE_CASE", envelope("ARCHIVE_CASE", case, activity), now)


def import_case(conn: Connection, now: datetime, case_id: str, actor: User) -> str:
    """``IMPORT_CASE``: the case now says it was imported."""
    before = snapshot(conn, case_id)
    case = _touch(conn, case_id, now, is_imported=True)
    activity = ActivityRecord(str(uuid.uuid4()), "IMPORT_CASE", now, actor, None, before.is_imported, True)
    return _record(conn, case_id, "IMPORT_CASE", envelope("IMPORT_CASE", case, activity), now)


def assign(conn: Connection, now: datetime, case_id: str, actor: User, assignee: User, *, remove: bool = False) -> str:
    """``ADD_CASE_ASSIGNEE`` (an open case becomes ASSIGNED) or ``REMOVE_CASE_ASSIGNEE``, with ``assignees[]``."""
    before = snapshot(conn, case_id)
    values = {}
    if not remove and before.status == CaseStatus.OPEN:
        values = status_changes(before, CaseStatus.ASSIGNED, actor.id, now)
    case = _touch(conn, case_id, now, **values)
    event_type = "REMOVE_CASE_ASSIGNEE" if remove else "ADD_CASE_ASSIGNEE"
    activity = ActivityRecord(str(uuid.uuid4()), event_type, now, actor, assignee)
    entry = {"assignee": {"id": assignee.id, "firstName": assignee.first_name, "lastName": assignee.last_name}}
    return _record(conn, case_id, event_type, envelope(event_type, case, activity, objects={"assignees": [entry]}), now)
