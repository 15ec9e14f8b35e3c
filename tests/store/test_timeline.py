"""The case timeline (store/timeline.py): one card per activity with what it carried, paged by cursor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from casehooks.errors import InvalidCursor
from casehooks.events import parse_object, stringify
from casehooks.store import Store
from casehooks.store.timeline import Position, case_timeline
from tests.receiver.events import attachment_event, comment_event
from tests.store import objects as make
from tests.store.objects import event
from tests.store.steps import sqlite_steps

pytestmark = pytest.mark.integration


def ingest(store: Store, wire: dict[str, Any]) -> None:
    assert store.commit(store.prepare(parse_object(wire), stringify(wire)))


def timeline(store: Store, case_id: str, **options: Any) -> dict[str, Any]:
    with store.engine.connect() as connection:
        return case_timeline(connection, store.vault, case_id, **options)


def test_an_activity_and_its_comment_and_file_are_one_card_that_names_its_event(store: Store) -> None:
    wire = comment_event(text="see the scan")
    attached = attachment_event(b"%PDF scan")["payload"]["attachment"]
    attached["isRestricted"] = False
    wire["payload"]["comment"]["attachments"] = [attached]
    ingest(store, wire)
    shown = timeline(store, wire["payload"]["case"]["id"], reveal=True)
    (card,) = shown["timeline"]
    assert card["event_id"] == wire["payload"]["activity"]["id"]
    assert card["comment"]["text"] == "see the scan"
    assert [file["id"] for file in card["attachments"]] == [attached["id"]]
    assert shown["page"] == {"total": 1, "limit": 50, "older": None, "newer": None}


def test_objects_sit_on_the_card_of_the_activity_that_carried_them(store: Store) -> None:
    case_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
    ingest(store, event("ORDER_CREATED", 1, case_id, order=make.order(order_id, 1, "CREATED", None)))
    ingest(store, event("ORDER_TRACKING_ADDED", 2, case_id, order=make.order(order_id, 1, "SHIPPED", "1Z9")))
    ingest(store, event("ADD_CASE_DECISION", 3, case_id, decision=make.decision(str(uuid.uuid4()), 3)))
    cards = timeline(store, case_id, reveal=True)["timeline"]
    assert [card["type"] for card in cards] == ["ORDER_CREATED", "ORDER_TRACKING_ADDED", "ADD_CASE_DECISION"]
    assert [[item["kind"] for item in card["objects"]] for card in cards] == [["order"], ["order"], ["decision"]]
    assert cards[1]["objects"][0]["tracking_id"] == "1Z9"
    assert cards[2]["objects"][0]["details"]["medInfo"][0]["medicine"] == make.MEDICINE


def test_without_reveal_no_card_carries_phi(store: Store) -> None:
    case_id = str(uuid.uuid4())
    ingest(store, event("ADD_CASE_DECISION", 1, case_id, decision=make.decision(str(uuid.uuid4()), 1)))
    ingest(store, event("ADD_PAYMENT_INFO_USING_LINK", 2, case_id, caseId=case_id, paymentInfo=make.payment_info()))
    ingest(store, event("ADD_FORM_RESPONSE", 3, case_id, response=make.answers(3, str(uuid.uuid4()))))
    text = repr(timeline(store, case_id))
    for value in (make.MEDICINE, make.DECISION_TEXT, make.CARD, make.STREET, make.ANSWER, "Quillfeather"):
        assert value not in text


def test_pages_walk_a_long_history_both_ways_without_gaps_or_repeats(store: Store) -> None:
    case_id = str(uuid.uuid4())
    # 230 activities, many sharing a timestamp: the cursor's kind and id break the ties.
    for index in range(230):
        ingest(store, event("ESCALATE_CASE", index % 7, case_id))
    seen: list[str] = []
    page = timeline(store, case_id, limit=50)
    while True:
        assert page["page"]["total"] == 230
        seen = [card["id"] for card in page["timeline"]] + seen
        if page["page"]["older"] is None:
            break
        page = timeline(store, case_id, limit=50, before=page["page"]["older"])
    assert len(seen) == len(set(seen)) == 230
    times = [Position.parse(card["cursor"]) for card in page["timeline"]]
    assert times == sorted(times, key=lambda position: (position.at, position.kind, position.id))
    forward: list[str] = []
    page = timeline(store, case_id, limit=64, after=Position(datetime(2000, 1, 1, tzinfo=UTC), "", "").cursor())
    while True:
        forward += [card["id"] for card in page["timeline"]]
        if page["page"]["newer"] is None:
            break
        page = timeline(store, case_id, limit=64, after=page["page"]["newer"])
    assert forward == seen


@pytest.mark.parametrize("cursor", ["", "nonsense", "W10", "WyJ4IiwiYSIsImIiXQ", "%%%"])
def test_a_cursor_the_store_never_handed_out_is_refused(store: Store, cursor: str) -> None:
    wire = comment_event()
    ingest(store, wire)
    with pytest.raises(InvalidCursor):
        timeline(store, wire["payload"]["case"]["id"], before=cursor)


def test_a_restricted_comment_is_left_off_its_card_unless_asked(store: Store) -> None:
    wire = comment_event(text="internal only")
    wire["payload"]["comment"]["isRestricted"] = True
    ingest(store, wire)
    case_id = wire["payload"]["case"]["id"]
    (hidden,) = timeline(store, case_id, reveal=True)["timeline"]
    assert hidden["comment"] is None
    assert "internal only" not in repr(hidden)
    (shown,) = timeline(store, case_id, reveal=True, restricted=True)["timeline"]
    assert shown["comment"]["text"] == "internal only"


def test_a_comment_no_activity_announced_has_a_card_of_its_own(store: Store) -> None:
    wire = comment_event(text="no activity")
    del wire["payload"]["activity"]
    ingest(store, wire)
    (card,) = timeline(store, wire["payload"]["case"]["id"], reveal=True)["timeline"]
    assert (card["kind"], card["comment"]["text"]) == ("comment", "no activity")


def page_steps(store: Store, case_id: str) -> int:
    """SQLite's steps to answer the case's first page of 10."""
    steps, _ = sqlite_steps(store, lambda connection: case_timeline(connection, store.vault, case_id, limit=10))
    return steps


def test_a_page_costs_the_same_however_many_comments_the_case_holds(store: Store) -> None:
    # Every comment here rides on its activity's card. A page once asked, of each of the case's comments, whether
    # an activity carried it, walking the case's activities each time: 10,000 comments took seconds a page.
    if store.engine.dialect.name != "sqlite":
        pytest.skip("counts SQLite's own steps")
    short, long = str(uuid.uuid4()), str(uuid.uuid4())
    for case_id, comments in ((short, 10), (long, 300)):
        for index in range(comments):
            wire = comment_event(text=f"note {index}")
            wire["payload"]["case"]["id"] = case_id
            wire["payload"]["activity"]["timestamp"] = f"2025-01-01T00:{index // 60:02d}:{index % 60:02d}.000Z"
            ingest(store, wire)
    assert timeline(store, long, limit=10)["page"]["total"] == 300
    assert page_steps(store, long) <= 2 * page_steps(store, short)
