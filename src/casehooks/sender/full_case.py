"""The "full case data" option: the case object of every event also carries the case's whole history.

Read from the sandbox database up to the event's own activity (so the history agrees with the snapshot) and
merged into ``payload.case`` at delivery, for endpoints registered with ``caseData: "FULL"``: ``assignedTo``
(the doctor), ``assignedBy``, ``hrRep``, ``assignees[]``, ``responses[]`` (forms and their answers),
``decisions``, ``communications`` (comments), ``documents`` (files, without content), ``payments`` and
``activityLogs``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from casehooks.sender.payloads import JsonObject, js_time
from casehooks.sender.tables import activities, attachments, case_objects, comments


def case_history(conn: Connection, case_id: str, until: datetime) -> JsonObject:
    """What the full case data adds to ``case``, as it stood at ``until``."""
    logs = [
        row.event["payload"]["activity"]
        for row in conn.execute(
            select(activities.c.event)
            .where(activities.c.case_id == case_id, activities.c.created_at <= until)
            .order_by(activities.c.created_at)
        )
    ]
    assignees: dict[str, JsonObject] = {}
    assigned_to: Any = None
    assigned_by: Any = None
    for activity in logs:
        target = activity.get("targetUser")
        if activity["type"] == "ADD_CASE_ASSIGNEE" and target:
            assignees[target["id"]] = {"assignee": {k: target[k] for k in ("id", "firstName", "lastName")}}
            assigned_to, assigned_by = target, activity.get("actor")
        elif activity["type"] == "REMOVE_CASE_ASSIGNEE" and target:
            assignees.pop(target["id"], None)
    objects = conn.execute(
        select(case_objects.c.kind, case_objects.c.data)
        .where(case_objects.c.case_id == case_id, case_objects.c.created_at <= until)
        .order_by(case_objects.c.created_at)
    ).all()
    forms = [row.data for row in objects if row.kind == "form"]
    decisions = [{k: v for k, v in row.data.items() if k != "addedById"} for row in objects if row.kind == "decision"]
    notes = conn.execute(select(comments).where(comments.c.case_id == case_id, comments.c.created_at <= until)).all()
    files = conn.execute(
        select(
            attachments.c.id,
            attachments.c.file_name,
            attachments.c.is_phi,
            attachments.c.is_restricted,
            attachments.c.created_at,
        ).where(attachments.c.case_id == case_id, attachments.c.created_at <= until)
    ).all()
    return {
        "assignedTo": assigned_to,
        "assignedBy": assigned_by,
        "hrRep": None,
        "assignees": list(assignees.values()),
        "responses": [{"id": f["id"], "name": f["name"], "responses": f["responses"]} for f in forms],
        "decisions": decisions,
        "communications": [
            {"id": c.id, "text": c.text, "isRestricted": c.is_restricted, "createdAt": js_time(c.created_at)}
            for c in notes
        ],
        "documents": [
            {
                "id": f.id,
                "fileName": f.file_name,
                "isPHI": f.is_phi,
                "isRestricted": f.is_restricted,
                "createdAt": js_time(f.created_at),
            }
            for f in files
        ],
        "payments": [row.data for row in objects if row.kind == "payment_info"],
        "activityLogs": logs,
    }


def with_full_case(event: JsonObject, history: JsonObject) -> JsonObject:
    """A copy of ``event`` whose ``payload.case`` also carries ``history``. Pure."""
    payload = dict(event["payload"])
    payload["case"] = {**payload["case"], **history}
    return {**event, "payload": payload}
