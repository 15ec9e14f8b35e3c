import base64
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casehooks.events import CaseAttachmentAdded, CaseCommentAdded, parse_event, stringify
from casehooks.sender.fake import EVENT_TYPES, fake_event

SEEDS = st.integers(min_value=0, max_value=2**32)


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, event_type=st.sampled_from(EVENT_TYPES))
def test_every_fake_event_parses(seed: int, event_type: str) -> None:
    body = stringify(fake_event(event_type, random.Random(seed), attachment_bytes=64))
    event = parse_event(body)
    assert event.type == event_type
    assert event.case is not None and event.activity is not None
    assert event.activity.type == event_type


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS)
def test_same_seed_gives_same_bytes(seed: int) -> None:
    first = stringify(fake_event("ADD_CASE_COMMENT", random.Random(seed)))
    assert stringify(fake_event("ADD_CASE_COMMENT", random.Random(seed))) == first


def test_different_seeds_give_different_events() -> None:
    assert fake_event("ADD_CASE_COMMENT", random.Random(1)) != fake_event("ADD_CASE_COMMENT", random.Random(2))


@pytest.mark.parametrize("event_type", ["ADD_CASE_COMMENT", "ADD_CASE_ATTACHMENT"])
def test_documented_events_have_the_seed_key_order(event_type: str, comment_body: dict, attachment_body: dict) -> None:
    seed = comment_body if event_type == "ADD_CASE_COMMENT" else attachment_body
    made = fake_event(event_type, random.Random(3))
    assert list(made) == list(seed)
    assert list(made["payload"]) == list(seed["payload"])
    for key in made["payload"]:
        assert list(made["payload"][key]) == list(seed["payload"][key])
    assert list(made["payload"]["case"]["submitter"]) == list(seed["payload"]["case"]["submitter"])


def test_attachment_content_is_real_base64_of_the_requested_size() -> None:
    event = parse_event(stringify(fake_event("ADD_CASE_ATTACHMENT", random.Random(5), attachment_bytes=5000)))
    assert isinstance(event, CaseAttachmentAdded)
    assert event.attachment.content is not None
    data = event.attachment.content.read()
    assert len(data) == 5000
    assert data.startswith((b"\x89PNG\r\n\x1a\n", b"%PDF-"))


def test_url_format_puts_the_link_in_content() -> None:
    made = fake_event(
        "ADD_CASE_COMMENT", random.Random(6), document_format="URL", document_url=lambda i: f"https://h.test/d/{i}"
    )
    event = parse_event(stringify(made))
    assert isinstance(event, CaseCommentAdded)
    (attachment,) = event.attachments()
    assert attachment.document_url == f"https://h.test/d/{attachment.id}"


def test_comment_without_attachment_bytes_has_no_attachments() -> None:
    made = fake_event("ADD_CASE_COMMENT", random.Random(7), attachment_bytes=0)
    assert made["payload"]["comment"]["attachments"] == []


def test_ids_look_like_the_platform_ids() -> None:
    made = fake_event("ADD_CASE_COMMENT", random.Random(8))
    assert len(made["payload"]["comment"]["author"]["id"]) == 28
    assert len(made["payload"]["case"]["submitter"]["id"]) == 28
    assert base64.b64decode(made["payload"]["comment"]["attachments"][0]["content"])
    assert made["payload"]["activity"]["id"].count("-") == 4


def test_order_tracking_carries_order_beside_payload() -> None:
    made = fake_event("ORDER_TRACKING_ADDED", random.Random(9))
    assert set(made) == {"event", "payload", "order"}
    assert made["order"]["trackingId"]


def test_decision_event_carries_the_decision_first() -> None:
    made = fake_event("ADD_CASE_DECISION", random.Random(10))
    assert next(iter(made["payload"])) == "decision"
    assert made["payload"]["decision"]["medInfo"][0]["medicine"]


def test_closed_case_has_consistent_timestamps() -> None:
    for seed in range(50):
        case = fake_event("CREATE_CASE", random.Random(seed))["payload"]["case"]
        if case["status"] in ("APPROVED", "REJECTED", "NO_DECISION"):
            assert case["createdAt"] <= case["assignedAt"] <= case["inProgressAt"] <= case["closedAt"]
            assert case["closedBy"] and case["inProgressBy"]
        if case["status"] == "OPEN":
            assert case["assignedAt"] is None and case["closedAt"] is None
