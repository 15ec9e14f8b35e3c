"""The payment-link event in both documented shapes; the card and addresses stay out of deviations."""

from __future__ import annotations

import json
from typing import Any

from casehooks.events import PaymentInfoAdded, parse_object
from tests.events.bodies import seed_shaped


def test_payment_info_with_addresses_is_read(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_PAYMENT_INFO_USING_LINK", attachment_body)
    event = parse_object(body)
    assert isinstance(event, PaymentInfoAdded) and event.payment_info is not None
    assert event.payment_info.shipping_address is not None
    assert event.payment_info.shipping_address.country == "US"
    assert event.to_wire() == body


def test_the_shape_with_only_the_activity_has_no_deviation_of_its_own(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_PAYMENT_INFO_USING_LINK", attachment_body)
    del body["payload"]["paymentInfo"], body["payload"]["caseId"], body["payload"]["case"]
    event = parse_object(body)
    assert isinstance(event, PaymentInfoAdded) and event.payment_info is None
    assert [d for d in event.deviations if not d.path.startswith("payload.activity")] == []


def test_payment_deviations_never_show_card_or_address(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_PAYMENT_INFO_USING_LINK", attachment_body)
    info = body["payload"]["paymentInfo"]
    info["maskedCardNumber"] = None
    info["billingAddress"]["Zebediah Street 4242"] = "Quartermain"
    info["shippingAddress"]["addressLine1"] = None
    text = json.dumps([d.to_dict() for d in parse_object(body).deviations])
    assert "Zebediah" not in text and "Quartermain" not in text and "4242" not in text
