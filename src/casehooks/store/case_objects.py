"""Map an event's own objects, and the history a full-case-data snapshot carries, to mentions. Pure: no I/O.

Decisions (with their prescriptions), form answers, assignments, orders, appointments and payment info are
each one row keyed by the platform's id and merged field by field (store/merge.py), ranked by the platform's
time of the event that names them: a redelivery or a later history that repeats an object changes nothing, and
an older or thinner mention never rolls back or erases what a newer one said.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from casehooks.events import (
    Activity,
    AddedDecision,
    Assignment,
    CalendarEvent,
    CalendarEventCanceled,
    CalendarEventCreated,
    CalendarEventNoShow,
    CalendarEventNoShowRemoved,
    CalendarEventRescheduled,
    CalendarEventStatusUpdated,
    Case,
    CaseAssigneeAdded,
    CaseAssigneeRemoved,
    CaseDecisionAdded,
    CaseDecisionDeleted,
    Decision,
    DeletedDecision,
    Event,
    FormAnswer,
    FormResponseAdded,
    FormResponseUpdated,
    Order,
    OrderCreated,
    OrderStatusChanged,
    OrderTrackingAdded,
    PaymentInfo,
    PaymentInfoAdded,
    ResponseForm,
)
from casehooks.store.merge import Mention

# The table of each kind of object, as the timeline links name them.
KINDS = {
    "decisions": "decision",
    "form_answers": "form_answer",
    "assignments": "assignment",
    "orders": "order",
    "appointments": "appointment",
    "payment_info": "payment_info",
}


@dataclass(frozen=True, slots=True)
class CaseObjects:
    """The object mentions of one event: its own (linked to its activity) and those of the case's history."""

    own: list[Mention] = field(default_factory=list)
    history: list[Mention] = field(default_factory=list)
    history_activities: list[Activity] = field(default_factory=list)


def _sent(model: BaseModel, values: dict[str, Any]) -> dict[str, Any]:
    """Only the columns whose field was sent: a field the platform left out names nothing."""
    sent = model.model_fields_set
    return {column: value for column, (name, value) in values.items() if name in sent}


def _details(model: BaseModel, *names: str) -> dict[str, Any]:
    wire = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return {name: wire[name] for name in names if name in wire}


def _mention(
    table: str, key: str, columns: dict[str, Any], details: dict[str, Any], event_id: str, rank: datetime | None
) -> Mention:
    return Mention(table, key, {**columns, "last_event_id": event_id}, details, rank)


def decision_mention(
    decision: Decision, case_id: str | None, event_id: str, rank: datetime | None, *, deleted: bool | None = None
) -> Mention:
    """A decision; ``deleted`` is said only by the events that know it (added: no, deleted: yes)."""
    columns = _sent(
        decision,
        {
            "is_approved": ("is_approved", decision.is_approved),
            "is_no_decision": ("is_no_decision", decision.is_no_decision),
            "visit_type": ("visit_type", None if decision.visit_type is None else str(decision.visit_type)),
            "start_date": ("start_date", decision.start_date),
            "end_date": ("end_date", decision.end_date),
            "created_at": ("created_at", decision.created_at),
            "prescription_count": ("med_info", len(decision.prescriptions)),
        },
    )
    if isinstance(decision, DeletedDecision) and "added_by_id" in decision.model_fields_set:
        columns["added_by_id"] = decision.added_by_id
    if case_id is not None:
        columns["case_id"] = case_id
    if deleted is not None:
        columns["is_deleted"] = deleted
    details = _details(decision, "decisionText", "category", "medInfo", "addedBy", "isIndefinite", "cost", "isPaid")
    return _mention("decisions", decision.id, columns, details, event_id, rank)


def answer_mention(
    answer: FormAnswer, form: ResponseForm | None, case_id: str | None, event_id: str, rank: datetime | None
) -> Mention:
    question = answer.question
    columns = _sent(
        answer,
        {
            "is_archived": ("is_archived", answer.is_archived),
            "created_at": ("created_at", answer.created_at),
            "respondent_id": ("respondent", answer.respondent.id if answer.respondent else None),
        },
    )
    if question is not None:
        columns.update(
            _sent(
                question,
                {
                    "question_index": ("index", question.index),
                    "question_type": ("type", None if question.type is None else str(question.type)),
                },
            )
        )
    details = _details(answer, "text", "question", "respondent")
    if form is not None:
        if form.id:
            columns["form_id"] = form.id
        details["form"] = _details(form, "name", "description")
    if case_id is not None:
        columns["case_id"] = case_id
    return _mention("form_answers", answer.id, columns, details, event_id, rank)


def assignment_mention(
    assignment: Assignment, case_id: str, event_id: str, rank: datetime | None, *, assigned: bool
) -> Mention | None:
    assignee = assignment.assignee
    if assignee is None or not assignee.id:
        return None
    columns = {"case_id": case_id, "user_id": assignee.id, "is_assigned": assigned}
    details = {key: value for key, value in _details(assignee, "firstName", "lastName").items() if value is not None}
    return _mention("assignments", f"{case_id}:{assignee.id}", columns, details, event_id, rank)


def order_mention(order: Order, case_id: str | None, event_id: str, rank: datetime | None) -> Mention:
    columns = _sent(
        order,
        {
            "status": ("status", order.status),
            "tracking_id": ("tracking_id", order.tracking_id),
            "created_at": ("created_at", order.created_at),
        },
    )
    if case_id is not None:
        columns["case_id"] = case_id
    return _mention("orders", order.id, columns, _details(order, "message"), event_id, rank)


_APPOINTMENT_PHI = (
    "title",
    "topic",
    "description",
    "color",
    "meetingLink",
    "cancelURL",
    "rescheduleURL",
    "meetingNotes",
    "meetingProvider",
    "providerName",
    "providerEmail",
    "tracking",
)


def appointment_mention(
    calendar: CalendarEvent, case_id: str | None, event_id: str, rank: datetime | None, *, deleted: bool | None
) -> Mention:
    columns = _sent(
        calendar,
        {
            "status": ("status", None if calendar.status is None else str(calendar.status)),
            "start_at": ("start_date_time", calendar.start_date_time),
            "end_at": ("end_date_time", calendar.end_date_time),
            "timezone": ("timezone", calendar.timezone),
            "is_deleted": ("is_deleted", calendar.is_deleted),
            "created_at": ("created_at", calendar.created_at),
            "updated_at": ("updated_at", calendar.updated_at),
        },
    )
    if deleted is not None:
        columns["is_deleted"] = deleted
    if case_id is not None:
        columns["case_id"] = case_id
    return _mention("appointments", calendar.id, columns, _details(calendar, *_APPOINTMENT_PHI), event_id, rank)


def payment_mention(info: PaymentInfo, case_id: str, event_id: str, rank: datetime | None) -> Mention:
    columns = _sent(info, {"card_brand": ("card_brand", info.card_brand)})
    details = _details(info, "maskedCardNumber", "shippingAddress", "billingAddress")
    return _mention("payment_info", case_id, {**columns, "case_id": case_id}, details, event_id, rank)


_CALENDAR = (
    CalendarEventCreated,
    CalendarEventRescheduled,
    CalendarEventCanceled,
    CalendarEventNoShow,
    CalendarEventNoShowRemoved,
    CalendarEventStatusUpdated,
)


def _own(event: Event, case_id: str | None, event_id: str, rank: datetime | None) -> Iterator[Mention]:
    if isinstance(event, CaseDecisionAdded | CaseDecisionDeleted) and event.decision is not None:
        yield decision_mention(event.decision, case_id, event_id, rank, deleted=isinstance(event, CaseDecisionDeleted))
    elif isinstance(event, FormResponseAdded | FormResponseUpdated):
        for answer in event.answers:
            yield answer_mention(answer, event.form, case_id, event_id, rank)
    elif isinstance(event, CaseAssigneeAdded | CaseAssigneeRemoved) and case_id is not None:
        assigned = not isinstance(event, CaseAssigneeRemoved)
        for assignment in event.assignees:
            mention = assignment_mention(assignment, case_id, event_id, rank, assigned=assigned)
            if mention is not None:
                yield mention
    elif isinstance(event, OrderCreated | OrderStatusChanged | OrderTrackingAdded) and event.order is not None:
        yield order_mention(event.order, case_id, event_id, rank)
    elif isinstance(event, _CALENDAR) and event.calendar_event is not None:
        deleted = True if isinstance(event, CalendarEventCanceled) else None
        yield appointment_mention(event.calendar_event, case_id, event_id, rank, deleted=deleted)
    elif isinstance(event, PaymentInfoAdded) and event.payment_info is not None:
        owner = case_id or event.payload.case_id
        if owner:
            yield payment_mention(event.payment_info, owner, event_id, rank)


def _items(extra: dict[str, Any], key: str) -> Iterable[dict[str, Any]]:
    value = extra.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else ()


_Model = TypeVar("_Model", bound=BaseModel)


def _parsed(model: type[_Model], item: Any) -> _Model | None:
    # A history item that does not fit its model is left out: the event's own objects are what it is about,
    # and its body keeps the history whole.
    try:
        return model.model_validate(item)
    except ValidationError:
        return None


def _history(case: Case, event_id: str, rank: datetime | None) -> Iterator[Mention | Activity]:
    """What a full-case-data snapshot says about the case's objects (``decisions``, ``responses``, ...)."""
    extra = case.model_extra or {}
    for item in _items(extra, "decisions"):
        decision = _parsed(AddedDecision, item)
        if decision is not None:
            yield decision_mention(decision, case.id, event_id, rank)
    for form_item in _items(extra, "responses"):
        form = _parsed(ResponseForm, {key: form_item[key] for key in ("id", "name", "description") if key in form_item})
        for answer_item in _items(form_item, "responses"):
            answer = _parsed(FormAnswer, answer_item)
            if answer is not None:
                yield answer_mention(answer, form, case.id, event_id, rank)
    for item in _items(extra, "assignees"):
        assignment = _parsed(Assignment, item)
        mention = None if assignment is None else assignment_mention(assignment, case.id, event_id, rank, assigned=True)
        if mention is not None:
            yield mention
    for item in _items(extra, "orders"):
        order = _parsed(Order, item)
        if order is not None:
            yield order_mention(order, case.id, event_id, rank)
    for item in _items(extra, "payments"):
        info = _parsed(PaymentInfo, {key: value for key, value in item.items() if key != "id"})
        if info is not None:
            yield payment_mention(info, case.id, event_id, rank)
    for item in _items(extra, "activityLogs"):
        activity = _parsed(Activity, item)
        if activity is not None:
            yield activity


def case_objects(event: Event, event_id: str, rank: datetime | None) -> CaseObjects:
    """The object mentions ``event`` makes, its own first; one mention per row (the own one wins a tie)."""
    case = event.case
    case_id = case.id if case else None
    own = _combined(_own(event, case_id, event_id, rank))
    history: list[Mention] = []
    activities: list[Activity] = []
    if case is not None and case.model_extra:
        seen = {(mention.table, mention.key) for mention in own}
        for item in _history(case, event_id, rank):
            if isinstance(item, Activity):
                if event.activity is None or item.id != event.activity.id:
                    activities.append(item)
            elif (item.table, item.key) not in seen:
                history.append(item)
        history = _combined(history)
    return CaseObjects(own=own, history=history, history_activities=activities)


def _combined(mentions: Iterable[Mention]) -> list[Mention]:
    """One mention per row: a row named twice keeps its first mention's values and adds what later ones add."""
    rows: dict[tuple[str, str], Mention] = {}
    for mention in mentions:
        known = rows.get((mention.table, mention.key))
        if known is None:
            rows[(mention.table, mention.key)] = mention
            continue
        rows[(mention.table, mention.key)] = Mention(
            mention.table,
            mention.key,
            {**mention.columns, **known.columns},
            {**mention.details, **known.details},
            known.rank,
        )
    return list(rows.values())
