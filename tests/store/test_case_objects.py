"""Every event's own objects as rows: sealed PHI, idempotent upserts ranked by the platform's time, and
full-case history merged into the same rows without duplicates (store/case_objects.py through the store)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from casehooks.events import parse_object, stringify
from casehooks.store import Store
from casehooks.store.tables import (
    ActivityRow,
    AppointmentRow,
    AssignmentRow,
    DecisionRow,
    FormAnswerRow,
    OrderRow,
    PaymentInfoRow,
    TimelineLinkRow,
)
from tests.store import objects as make
from tests.store.objects import event

pytestmark = pytest.mark.integration

OBJECT_TABLES = (DecisionRow, FormAnswerRow, AssignmentRow, OrderRow, AppointmentRow, PaymentInfoRow)
PHI = (make.MEDICINE, make.DECISION_TEXT, make.ANSWER, make.CARD, make.STREET, make.MEETING, "Quillfeather", "Ritik")


def ingest(store: Store, wire: dict[str, Any]) -> bool:
    return store.commit(store.prepare(parse_object(wire), stringify(wire)))


def rows(store: Store, model: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(model.__table__))]


def count(store: Store, model: Any) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def new_case() -> str:
    return str(uuid.uuid4())


def every_object(case_id: str) -> list[dict[str, Any]]:
    return [
        event("ADD_CASE_DECISION", 1, case_id, decision=make.decision("d1" + case_id[2:], 1)),
        event(
            "ADD_FORM_RESPONSE",
            2,
            case_id,
            form={"id": str(uuid.uuid4()), "name": "Intake"},
            response=make.answers(2, str(uuid.uuid4()), str(uuid.uuid4())),
        ),
        event("ADD_CASE_ASSIGNEE", 3, case_id, assignees=make.assignees("u" * 28)),
        event("ORDER_CREATED", 4, case_id, order=make.order(str(uuid.uuid4()), 4, "CREATED", None)),
        event("ADD_PAYMENT_INFO_USING_LINK", 5, case_id, caseId=case_id, paymentInfo=make.payment_info()),
        event("CALENDAR_EVENT_CREATED", 6, case_id, calendarEvent=make.appointment(str(uuid.uuid4()), 6)),
    ]


def test_every_object_becomes_a_row_with_its_phi_sealed(store: Store) -> None:
    case_id = new_case()
    for wire in every_object(case_id):
        assert ingest(store, wire) is True
    assert [count(store, model) for model in OBJECT_TABLES] == [1, 2, 1, 1, 1, 1]
    for model in OBJECT_TABLES:
        for row in rows(store, model):
            assert row["case_id"] == case_id
            plain = repr({key: value for key, value in row.items() if not key.endswith("_sealed")})
            sealed = row["details_sealed"]
            for value in PHI:
                assert value not in plain, (model.__tablename__, value)
                assert value.encode() not in sealed, (model.__tablename__, value)
    decision = rows(store, DecisionRow)[0]
    assert (decision["is_approved"], decision["prescription_count"], decision["is_deleted"]) == (True, 1, False)
    # Each activity links to the objects it carried: the timeline's cards.
    assert count(store, TimelineLinkRow) == 7


def test_redelivery_changes_no_object(store: Store) -> None:
    case_id = new_case()
    created = every_object(case_id)
    for wire in created:
        ingest(store, wire)
    before = [rows(store, model) for model in OBJECT_TABLES]
    for wire in created:
        assert ingest(store, wire) is False
    assert [rows(store, model) for model in OBJECT_TABLES] == before


def test_an_older_order_event_arriving_late_does_not_roll_the_order_back(store: Store) -> None:
    case_id, order_id = new_case(), str(uuid.uuid4())
    shipped = event("ORDER_TRACKING_ADDED", 9, case_id, order=make.order(order_id, 1, "SHIPPED", "1Z999AA10123456784"))
    created = event("ORDER_CREATED", 1, case_id, order=make.order(order_id, 1, "CREATED", None))
    ingest(store, shipped)
    ingest(store, created)
    (order,) = rows(store, OrderRow)
    assert (order["status"], order["tracking_id"]) == ("SHIPPED", "1Z999AA10123456784")
    assert order["last_event_id"] == shipped["payload"]["activity"]["id"]


def test_a_removed_assignee_stays_removed_when_an_older_history_still_lists_them(store: Store) -> None:
    case_id, doctor = new_case(), "d" * 28
    removed = event("REMOVE_CASE_ASSIGNEE", 8, case_id, assignees=make.assignees(doctor))
    older = event("ESCALATE_CASE", 5, case_id)
    older["payload"]["case"]["assignees"] = make.assignees(doctor)
    ingest(store, removed)
    ingest(store, older)
    (assignment,) = rows(store, AssignmentRow)
    assert (assignment["user_id"], assignment["is_assigned"]) == (doctor, False)


def test_a_deleted_decision_stays_deleted_when_a_later_history_names_it_without_the_flag(store: Store) -> None:
    case_id, decision_id = new_case(), str(uuid.uuid4())
    ingest(store, event("ADD_CASE_DECISION", 1, case_id, decision=make.decision(decision_id, 1)))
    ingest(store, event("DECISION_DELETED", 2, case_id, decision=make.decision(decision_id, 1, isPaid=False)))
    later = event("REOPEN_CASE", 3, case_id)
    later["payload"]["case"]["decisions"] = [make.decision(decision_id, 1)]
    ingest(store, later)
    (decision,) = rows(store, DecisionRow)
    assert decision["is_deleted"] is True


def full_case(case_id: str, minute: int, decisions: int, logs: int) -> dict[str, Any]:
    """An event whose case carries a history: ``decisions`` decisions, a form, payments and ``logs`` activities."""
    wire = event("CHANGE_CASE_STATUS", minute, case_id)
    wire["payload"]["case"].update(
        decisions=[make.decision(f"{case_id[:30]}-{index:05d}", 1) for index in range(decisions)],
        responses=[{"id": "f" * 8, "name": "Intake", "responses": make.answers(1, f"{case_id[:30]}-answer")}],
        payments=[{"id": "sandbox-own-id", **make.payment_info()}],
        assignees=make.assignees("a" * 28),
        activityLogs=[
            {
                "id": f"{case_id[:30]}-log-{index:05d}",
                "type": "ADD_CASE_COMMENT",
                "timestamp": make.at(0),
                "valueAfter": f"note {index} " + "lorem ipsum " * 30,
            }
            for index in range(logs)
        ],
    )
    return wire


def test_full_case_history_merges_into_the_same_rows_without_duplicates(store: Store) -> None:
    case_id = new_case()
    first = full_case(case_id, 10, decisions=3, logs=4)
    # The event that delivered the first decision, and a later event whose history repeats all of it.
    own = event("ADD_CASE_DECISION", 1, case_id, decision=make.decision(f"{case_id[:30]}-00000", 1))
    ingest(store, own)
    ingest(store, first)
    ingest(store, full_case(case_id, 20, decisions=3, logs=4))
    assert count(store, DecisionRow) == 3
    assert (count(store, FormAnswerRow), count(store, PaymentInfoRow), count(store, AssignmentRow)) == (1, 1, 1)
    # The history's activity log entries join the timeline (the events' own activities besides).
    assert count(store, ActivityRow) == 4 + 3
    decided = {row["id"]: row for row in rows(store, DecisionRow)}[f"{case_id[:30]}-00000"]
    # Its own event said it is not deleted; the histories, which do not say, left that alone.
    assert decided["is_deleted"] is False


def test_a_history_entry_its_columns_cannot_hold_is_left_out_and_the_event_kept(store: Store) -> None:
    case_id = new_case()
    wire = event("ESCALATE_CASE", 1, case_id)
    wire["payload"]["case"]["decisions"] = [make.decision("x" * 300, 1), make.decision(str(uuid.uuid4()), 1)]
    wire["payload"]["case"]["responses"] = [{"id": 5, "responses": "not a list"}]
    assert ingest(store, wire) is True
    assert count(store, DecisionRow) == 1


def test_a_several_megabyte_full_case_payload_is_accepted_and_merged(store: Store) -> None:
    case_id = new_case()
    wire = full_case(case_id, 10, decisions=600, logs=6000)
    body = stringify(wire)
    assert len(body) > 3 * 1024 * 1024
    assert ingest(store, wire) is True
    assert ingest(store, full_case(case_id, 11, decisions=600, logs=6000)) is True
    assert count(store, DecisionRow) == 600
    assert count(store, ActivityRow) == 6000 + 2
