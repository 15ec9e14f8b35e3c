"""A case's timeline, paged: one card per activity with the objects it carried (its comment and files, the
decision, answers, order, appointment...) merged in, and a card of its own for a comment or file no activity
announced. Pages are cut by a cursor on (time, kind, id), so a case's whole history can be walked, never cut.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, false, literal, or_, select, true, union_all

from casehooks.errors import InvalidCursor
from casehooks.store.column_types import UTCDateTime
from casehooks.store.reads import _case_columns, _columns, _open, _person, find_case
from casehooks.store.tables import (
    ActivityRow,
    AppointmentRow,
    AssignmentRow,
    AttachmentRow,
    CommentRow,
    DecisionRow,
    FormAnswerRow,
    OrderRow,
    PaymentInfoRow,
    TimelineCountRow,
    TimelineLinkRow,
)
from casehooks.store.vault import Vault

# An entry without a time sorts first, as if at the start of time.
_NO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_OBJECT_TABLES: dict[str, Any] = {
    "decision": DecisionRow,
    "form_answer": FormAnswerRow,
    "assignment": AssignmentRow,
    "order": OrderRow,
    "appointment": AppointmentRow,
    "payment_info": PaymentInfoRow,
}


@dataclass(frozen=True, slots=True)
class Position:
    """Where an entry sits on a timeline: its time, its kind and its id. Encoded as an opaque cursor."""

    at: datetime
    kind: str
    id: str

    def cursor(self) -> str:
        text = json.dumps([self.at.isoformat(), self.kind, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, cursor: str) -> Position:
        try:
            at, kind, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            moment = datetime.fromisoformat(at)
            if not (isinstance(kind, str) and isinstance(key, str)) or moment.tzinfo is None:
                raise ValueError("not a position")
        except (ValueError, TypeError) as exc:
            raise InvalidCursor from exc
        return cls(moment, kind, key)


@dataclass(frozen=True, slots=True)
class _Kind:
    """One kind of entry: its table's time and id columns and the conditions that put a row on the timeline."""

    name: str
    time: Any
    id: Any
    where: tuple[Any, ...]


def _kinds(case_id: str, restricted: bool) -> list[_Kind]:
    """A case's activities, and the comments and files no activity carried (marked ``own_card`` when stored, so a
    page reads only its own rows through an index, however long the case's history)."""
    kinds = [
        _Kind("activity", ActivityRow.timestamp, ActivityRow.id, (ActivityRow.case_id == case_id,)),
        _Kind(
            "comment",
            CommentRow.created_at,
            CommentRow.id,
            (CommentRow.case_id == case_id, CommentRow.own_card == true()),
        ),
        _Kind(
            "attachment",
            AttachmentRow.created_at,
            AttachmentRow.id,
            (AttachmentRow.case_id == case_id, AttachmentRow.own_card == true()),
        ),
    ]
    if restricted:
        return kinds
    flags = {"activity": ActivityRow.is_restricted, "comment": CommentRow.is_restricted}
    flags["attachment"] = AttachmentRow.is_restricted
    return [_Kind(k.name, k.time, k.id, (*k.where, flags[k.name].is_not(True))) for k in kinds]


def _past(kind: _Kind, timed: bool, mark: Position, older: bool) -> Any:
    """The rows of ``kind`` beyond ``mark`` (older or newer), on (time, kind, id); untimed rows sit at the start."""

    def beyond(left: Any, right: Any) -> Any:
        return left < right if older else left > right

    if not timed:
        if mark.at != _NO_TIME:
            return true() if beyond(_NO_TIME, mark.at) else false()
        if kind.name == mark.kind:
            return beyond(kind.id, mark.id)
        return true() if beyond(kind.name, mark.kind) else false()
    at = literal(mark.at, UTCDateTime())
    if kind.name == mark.kind:
        return or_(beyond(kind.time, at), and_(kind.time == at, beyond(kind.id, mark.id)))
    if beyond(kind.name, mark.kind):
        return or_(beyond(kind.time, at), kind.time == at)
    return beyond(kind.time, at)


def _window(kinds: list[_Kind], limit: int, mark: Position | None, older: bool) -> Any:
    """The ``limit`` entries nearest the cursor, each kind read in its own order so its index serves the read
    (a case's whole history is never sorted), then merged."""
    parts = []
    for kind in kinds:
        for timed in (True, False):
            stamp = kind.time if timed else literal(_NO_TIME, UTCDateTime())
            part = select(stamp.label("at"), literal(kind.name).label("kind"), kind.id.label("id")).where(*kind.where)
            part = part.where(kind.time.is_not(None) if timed else kind.time.is_(None))
            if mark is not None:
                part = part.where(_past(kind, timed, mark, older))
            order = (kind.time, kind.id) if timed else (kind.id,)
            part = part.order_by(*(column.desc() if older else column for column in order)).limit(limit)
            nearest = part.subquery()
            parts.append(select(nearest.c.at, nearest.c.kind, nearest.c.id))
    return union_all(*parts).subquery("entries")


def _total(connection: Connection, case_id: str) -> int:
    """Every entry of the case, restricted ones included: the count the database keeps (revision 0022)."""
    entries = connection.execute(
        select(TimelineCountRow.entries).where(TimelineCountRow.case_id == case_id)
    ).scalar_one_or_none()
    return entries or 0


def timeline_page(
    connection: Connection,
    vault: Vault,
    case_id: str,
    *,
    reveal: bool = False,
    restricted: bool = False,
    limit: int = 50,
    before: str | None = None,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of a case's timeline, oldest first: the latest ``limit`` entries, those just ``before`` a
    cursor, or those just ``after`` one; and the case's ``total`` (restricted entries included, so that it costs
    an index count) and cursors to the older and newer pages."""
    kinds = _kinds(case_id, restricted)
    older_way = after is None
    cursor = before if older_way else after
    mark = None if cursor is None else Position.parse(cursor)
    entries = _window(kinds, limit + 1, mark, older_way)
    columns = (entries.c.at, entries.c.kind, entries.c.id)
    query: Select[Any] = select(*columns).order_by(*(column.desc() if older_way else column for column in columns))
    rows = connection.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    positions = [Position(row.at, row.kind, row.id) for row in rows[:limit]]
    if older_way:
        positions.reverse()
    older = newer = None
    if positions:
        older = positions[0].cursor() if (more if older_way else True) else None
        newer = positions[-1].cursor() if (more if not older_way else before is not None) else None
    cards = _cards(connection, vault, case_id, positions, reveal=reveal, restricted=restricted)
    return cards, {"total": _total(connection, case_id), "limit": limit, "older": older, "newer": newer}


def _cards(
    connection: Connection,
    vault: Vault,
    case_id: str,
    positions: list[Position],
    *,
    reveal: bool,
    restricted: bool,
) -> list[dict[str, Any]]:
    ids: dict[str, list[str]] = defaultdict(list)
    for position in positions:
        ids[position.kind].append(position.id)
    activities = {
        row.id: row
        for row in connection.execute(select(ActivityRow.__table__).where(ActivityRow.id.in_(ids["activity"])))
    }
    event_ids = [row.event_id for row in activities.values()]
    # Each lookup by one indexed column: an OR of two would walk every row of the case.
    comments = _rows(connection, CommentRow, case_id, event_id=event_ids, id=ids["comment"])
    comment_ids = [row.id for row in comments]
    files = _rows(connection, AttachmentRow, case_id, event_id=event_ids, id=ids["attachment"], comment_id=comment_ids)
    links = connection.execute(
        select(TimelineLinkRow.__table__).where(TimelineLinkRow.activity_id.in_(ids["activity"]))
    ).all()
    objects = _objects(connection, vault, links, reveal)

    def shown_comment(row: Any) -> dict[str, Any] | None:
        if row.is_restricted and not restricted:
            return None
        item = _columns(row)
        item["author"] = _person(connection, vault, row.author_id, reveal)
        if reveal:
            item.update(_open(vault, "comments", row.id, row.dek_id, row.text_sealed))
        return item

    def shown_file(row: Any) -> dict[str, Any] | None:
        if row.is_restricted and not restricted:
            return None
        item = _columns(row)
        if reveal:
            details = _open(vault, "attachments", row.id, row.dek_id, row.details_sealed)
            item["fileName"] = details.get("fileName")
        return item

    def files_of(*, event_id: str | None = None, comment_id: str | None = None) -> list[dict[str, Any]]:
        chosen = [
            row
            for row in files
            if (event_id is not None and row.event_id == event_id)
            or (comment_id is not None and row.comment_id == comment_id)
        ]
        return [item for item in map(shown_file, chosen) if item is not None]

    cards: list[dict[str, Any]] = []
    for position in positions:
        card: dict[str, Any] = {"kind": position.kind, "at": position.at, "cursor": position.cursor()}
        if position.kind == "activity":
            activity = activities[position.id]
            card.update(_columns(activity))
            card["at"] = activity.timestamp
            card["actor"] = _person(connection, vault, activity.actor_id, reveal)
            card["target_user"] = _person(connection, vault, activity.target_user_id, reveal)
            if reveal:
                card.update(_open(vault, "activities", activity.id, activity.dek_id, activity.values_sealed))
            said = [row for row in comments if row.event_id == activity.event_id]
            card["comment"] = shown_comment(said[0]) if said else None
            card["attachments"] = files_of(event_id=activity.event_id)
            card["objects"] = objects.get(activity.id, [])
        elif position.kind == "comment":
            row = next(row for row in comments if row.id == position.id)
            card.update(id=row.id, event_id=row.event_id, is_restricted=row.is_restricted, at=row.created_at)
            card["comment"] = shown_comment(row)
            card["attachments"] = files_of(comment_id=row.id)
            card["objects"] = []
        else:
            row = next(row for row in files if row.id == position.id)
            card.update(id=row.id, event_id=row.event_id, is_restricted=row.is_restricted, at=row.created_at)
            card["comment"] = None
            card["attachments"] = [item for item in [shown_file(row)] if item is not None]
            card["objects"] = []
        cards.append(card)
    return cards


def _rows(connection: Connection, model: Any, case_id: str, **keys: list[str]) -> list[Any]:
    """The case's rows of ``model`` whose column (named by each keyword) is among the given values, each once."""
    table = model.__table__
    found: dict[str, Any] = {}
    for column, values in keys.items():
        if values:
            # The case is checked here, not in SQL: a planner offered the case's index would walk all its rows.
            rows = connection.execute(select(table).where(table.c[column].in_(values)))
            found.update((row.id, row) for row in rows if row.case_id == case_id)
    return list(found.values())


def _objects(
    connection: Connection, vault: Vault, links: Sequence[Any], reveal: bool
) -> dict[str, list[dict[str, Any]]]:
    """The objects each activity carried, by activity id, in their current (merged) state."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for link in links:
        wanted[link.kind].add(link.object_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, keys in wanted.items():
        model = _OBJECT_TABLES.get(kind)
        if model is None:
            continue
        table = model.__table__
        for row in connection.execute(select(table).where(table.c.id.in_(sorted(keys)))):
            item = {"kind": kind, **_columns(row)}
            if reveal:
                item["details"] = _open(vault, table.name, row.id, row.dek_id, row.details_sealed)
            found[(kind, row.id)] = item
    carried: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in sorted(links, key=lambda link: (link.kind, link.object_id)):
        known = found.get((link.kind, link.object_id))
        if known is not None:
            carried[link.activity_id].append(known)
    return carried


def case_timeline(
    connection: Connection,
    vault: Vault,
    id_or_short_id: str,
    *,
    reveal: bool = False,
    restricted: bool = False,
    limit: int = 50,
    before: str | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """A case with one page of its timeline (``timeline``) and where that page sits (``page``)."""
    case = find_case(connection, id_or_short_id)
    shown = _case_columns(case)
    if reveal:
        details = _open(vault, "cases", case.id, case.dek_id, case.details_sealed)
        shown.update(type=case.type, product_bundle=case.product_bundle)
        shown.update(details)
        if "productBundle" in details:
            shown["product_bundle"] = (details["productBundle"] or {}).get("name")
    shown["submitter"] = _person(connection, vault, case.submitter_id, reveal)
    shown["timeline"], shown["page"] = timeline_page(
        connection, vault, case.id, reveal=reveal, restricted=restricted, limit=limit, before=before, after=after
    )
    return shown


__all__ = ["Position", "case_timeline", "timeline_page"]
