"""The sandbox API's routes for a case's own objects; ``app`` mounts them with its clock and idempotency runner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import Connection

from casehooks.sender import case_objects as changes
from casehooks.sender.api_models import Created, IdempotencyKey
from casehooks.sender.object_models import (
    AppointmentIn,
    DecisionIn,
    DeleteDecisionIn,
    FormIn,
    OrderIn,
    PaymentInfoIn,
    RescheduleIn,
    TrackingIn,
)
from casehooks.sender.payloads import JsonObject

Change = Callable[[Connection], JsonObject]
Once = Callable[[str | None, str, Change], Created]


def add_object_routes(app: FastAPI, clock: Callable[[], datetime], once: Once, public_url: str) -> None:
    """Each route runs its change once per ``Idempotency-Key`` (always, without one)."""

    def created(object_id: str, activity_id: str) -> JsonObject:
        return {"id": object_id, "activityId": activity_id}

    @app.post("/cases/{case_id}/decisions", status_code=201, tags=["case objects"])
    def decide(case_id: str, body: DecisionIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Decide the case (ADD_CASE_DECISION); it closes APPROVED, REJECTED or NO_DECISION."""

        def change(conn: Connection) -> JsonObject:
            return created(*changes.decide(conn, clock(), case_id, body.actor.to_user(), body.wire()))

        return once(idempotency_key, f"POST /cases/{case_id}/decisions", change)

    @app.post("/cases/{case_id}/decisions/{decision_id}/delete", status_code=201, tags=["case objects"])
    def delete_decision(
        case_id: str, decision_id: str, body: DeleteDecisionIn, idempotency_key: IdempotencyKey = None
    ) -> Created:
        """Delete a decision (DECISION_DELETED); the case is IN_PROGRESS again."""

        def change(conn: Connection) -> JsonObject:
            actor = body.actor.to_user()
            return created(decision_id, changes.delete_decision(conn, clock(), case_id, decision_id, actor))

        return once(idempotency_key, f"POST /cases/{case_id}/decisions/{decision_id}/delete", change)

    @app.post("/cases/{case_id}/forms", status_code=201, tags=["case objects"])
    def answer_form(case_id: str, body: FormIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Answer a form (ADD_FORM_RESPONSE)."""

        def change(conn: Connection) -> JsonObject:
            answers = [answer.wire() for answer in body.answers]
            actor = body.actor.to_user()
            return created(*changes.answer_form(conn, clock(), case_id, actor, body.form.wire(), answers))

        return once(idempotency_key, f"POST /cases/{case_id}/forms", change)

    @app.post("/cases/{case_id}/orders", status_code=201, tags=["case objects"])
    def create_order(case_id: str, body: OrderIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Create an order (ORDER_CREATED)."""

        def change(conn: Connection) -> JsonObject:
            return created(*changes.create_order(conn, clock(), case_id, body.actor.to_user(), body.message))

        return once(idempotency_key, f"POST /cases/{case_id}/orders", change)

    @app.post("/cases/{case_id}/orders/{order_id}/tracking", status_code=201, tags=["case objects"])
    def add_tracking(case_id: str, order_id: str, body: TrackingIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Add the carrier's tracking number (ORDER_TRACKING_ADDED)."""

        def change(conn: Connection) -> JsonObject:
            actor = body.actor.to_user()
            activity_id = changes.add_tracking(conn, clock(), case_id, order_id, actor, body.tracking_id, body.status)
            return created(order_id, activity_id)

        return once(idempotency_key, f"POST /cases/{case_id}/orders/{order_id}/tracking", change)

    @app.post("/cases/{case_id}/payment-info", status_code=201, tags=["case objects"])
    def add_payment_info(case_id: str, body: PaymentInfoIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Add payment info through the payment link (ADD_PAYMENT_INFO_USING_LINK): the card's last 4 digits only."""

        def change(conn: Connection) -> JsonObject:
            info = body.wire()
            return created(case_id, changes.add_payment_info(conn, clock(), case_id, body.actor.to_user(), info))

        return once(idempotency_key, f"POST /cases/{case_id}/payment-info", change)

    @app.post("/cases/{case_id}/appointments", status_code=201, tags=["case objects"])
    def book(case_id: str, body: AppointmentIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Book an appointment (CALENDAR_EVENT_CREATED)."""

        def change(conn: Connection) -> JsonObject:
            actor = body.actor.to_user()
            return created(*changes.book(conn, clock(), case_id, actor, body.wire(), public_url))

        return once(idempotency_key, f"POST /cases/{case_id}/appointments", change)

    @app.post("/cases/{case_id}/appointments/{event_id}/reschedule", status_code=201, tags=["case objects"])
    def reschedule(case_id: str, event_id: str, body: RescheduleIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Move an appointment (CALENDAR_EVENT_RESCHEDULED)."""

        def change(conn: Connection) -> JsonObject:
            actor = body.actor.to_user()
            activity_id = changes.reschedule(
                conn, clock(), case_id, event_id, actor, body.start_date_time, body.end_date_time
            )
            return created(event_id, activity_id)

        return once(idempotency_key, f"POST /cases/{case_id}/appointments/{event_id}/reschedule", change)

    @app.post("/cases/{case_id}/appointments/{event_id}/cancel", status_code=201, tags=["case objects"])
    def cancel(case_id: str, event_id: str, body: DeleteDecisionIn, idempotency_key: IdempotencyKey = None) -> Created:
        """Cancel an appointment (CALENDAR_EVENT_CANCELED)."""

        def change(conn: Connection) -> JsonObject:
            return created(event_id, changes.cancel(conn, clock(), case_id, event_id, body.actor.to_user()))

        return once(idempotency_key, f"POST /cases/{case_id}/appointments/{event_id}/cancel", change)
