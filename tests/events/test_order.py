"""Orders: beside the payload (the real-looking example) or inside it."""

from __future__ import annotations

import copy
from typing import Any

from casehooks.events import DeviationKind, OrderCreated, OrderTrackingAdded, parse_object
from tests.events.bodies import ORDER, seed_shaped


def test_order_beside_the_payload_is_read_and_written_back_there(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ORDER_TRACKING_ADDED", attachment_body)
    event = parse_object(body)
    assert isinstance(event, OrderTrackingAdded)
    assert event.order is not None and event.order.tracking_id == ORDER["trackingId"]
    wire = event.to_wire()
    assert wire == body and "order" not in wire["payload"]
    assert list(wire) == ["event", "order", "payload"]


def test_order_inside_the_payload_is_read(attachment_body: dict[str, Any]) -> None:
    event = parse_object(seed_shaped("ORDER_CREATED", attachment_body))
    assert isinstance(event, OrderCreated)
    assert event.order is not None and event.order.status == "SHIPPED"


def test_order_inside_the_payload_wins_over_one_beside_it(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ORDER_CREATED", attachment_body)
    body["order"] = {**copy.deepcopy(ORDER), "status": "CREATED"}
    event = parse_object(body)
    assert isinstance(event, OrderCreated) and event.order is not None
    assert event.order.status == "SHIPPED"
    assert event.to_wire() == body


def test_order_beside_the_payload_is_checked_against_the_docs(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ORDER_TRACKING_ADDED", attachment_body)
    body["order"]["id"] = "ord_1"
    found = {(d.path, d.kind) for d in parse_object(body).deviations}
    assert ("order.id", DeviationKind.NOT_UUID) in found


def test_order_event_with_no_order_anywhere_is_kept(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ORDER_TRACKING_ADDED", attachment_body)
    del body["order"]
    event = parse_object(body)
    assert isinstance(event, OrderTrackingAdded) and event.order is None
