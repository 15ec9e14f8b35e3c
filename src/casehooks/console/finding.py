"""The one search box: what a typed text names, for the reader.

An exact event id opens the event, an exact case id or short id opens the case, the start of a short id lists
the cases it begins; for readers allowed PHI, a patient's name, email or phone lists their cases through the
blind index (store/search.py), and that search is audited. Others are told PHI search is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from casehooks.console.access import Reader, Scope
from casehooks.console.reading import Console, require
from casehooks.store import search
from casehooks.store.tables import CaseRow, EventRow

MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Found:
    """Where a search leads: one page to open, or how to narrow the case list, and notices for the reader."""

    open_path: str | None = None
    case_id: str | None = None
    short_id: str | None = None
    case_ids: tuple[str, ...] | None = None
    notices: list[str] = field(default_factory=list)


def find(console: Console, reader: Reader, text: str) -> Found:
    require(reader, Scope.READ)
    text = text.strip()[:MAX_QUERY]
    if not text:
        return Found()
    store = console.store
    with store.engine.connect() as connection:
        event = connection.execute(select(EventRow.id, EventRow.case_id).where(EventRow.id == text)).first()
        if event is not None:
            return Found(open_path=f"/console/events/{event.id}", case_id=event.case_id)
        case_id = connection.execute(
            select(CaseRow.id).where(or_(CaseRow.id == text, CaseRow.short_id == text)).limit(1)
        ).scalar()
        if case_id is not None:
            return Found(open_path=f"/console/cases/{case_id}", case_id=case_id)
        if not search.may_be_phi(text):
            return Found(short_id=text)
        short_ids = connection.execute(select(CaseRow.id).where(CaseRow.short_id.ilike(f"{text}%")).limit(1)).first()
        if short_ids is not None:
            return Found(short_id=text)
        if not reader.may(Scope.PHI):
            return Found(case_ids=(), notices=["Searching by name, email or phone needs the phi scope."])
        matched = search.cases_matching(connection, store.vault.keyring, text)
    console.audit(reader, "search_phi", "case", None)
    return Found(case_ids=tuple(sorted(matched)))
