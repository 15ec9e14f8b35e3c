import random

from casehooks.events import parse_event, stringify
from casehooks.sender.fake import fake_event
from casehooks.sender.payloads import fill_documents


def test_fill_documents_sets_every_attachment_content_and_leaves_the_rest() -> None:
    comment = fake_event("ADD_CASE_COMMENT", random.Random(1))
    filled = fill_documents(comment, lambda attachment_id: f"https://d.test/{attachment_id}")
    (attachment,) = filled["payload"]["comment"]["attachments"]
    assert attachment["content"] == f"https://d.test/{attachment['id']}"
    assert comment["payload"]["comment"]["attachments"][0]["content"] != attachment["content"]
    assert filled["payload"]["case"] == comment["payload"]["case"]
    parse_event(stringify(filled))


def test_fill_documents_on_a_single_attachment_event() -> None:
    event = fake_event("ADD_CASE_ATTACHMENT", random.Random(2))
    filled = fill_documents(event, lambda _: "QUJD")
    assert filled["payload"]["attachment"]["content"] == "QUJD"
    assert list(filled["payload"]) == ["attachment", "case", "activity"]


def test_fill_documents_ignores_events_without_files() -> None:
    event = fake_event("CREATE_CASE", random.Random(3))
    assert fill_documents(event, lambda _: "x") == event
