"""Form responses: the answer list or one answer, MULTISELECT choices, question text kept out of deviations."""

from __future__ import annotations

import json
from typing import Any

from casehooks.events import FormResponseAdded, FormResponseUpdated, QuestionType, parse_object
from tests.events.bodies import ANSWER, seed_shaped


def test_form_response_reads_the_form_and_its_answers(attachment_body: dict[str, Any]) -> None:
    event = parse_object(seed_shaped("ADD_FORM_RESPONSE", attachment_body))
    assert isinstance(event, FormResponseAdded)
    assert event.form is not None and event.form.name == "Intake"
    (answer,) = event.answers
    assert answer.question is not None and answer.question.type is QuestionType.MULTISELECT
    assert answer.choices == ("Headache", "Nausea")


def test_one_answer_object_reads_and_writes_back_as_one_object(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("UPDATE_FORM_RESPONSE", attachment_body)
    body["payload"]["response"] = ANSWER
    event = parse_object(body)
    assert isinstance(event, FormResponseUpdated)
    assert [answer.id for answer in event.answers] == [ANSWER["id"]]
    assert event.to_wire() == body


def test_a_multiselect_answer_that_is_not_a_json_array_has_no_choices(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_FORM_RESPONSE", attachment_body)
    body["payload"]["response"][0]["text"] = "Headache, Nausea"
    event = parse_object(body)
    assert isinstance(event, FormResponseAdded)
    assert event.answers[0].choices is None


def test_seed_shaped_form_response_has_no_deviation_of_its_own(attachment_body: dict[str, Any]) -> None:
    found = parse_object(seed_shaped("ADD_FORM_RESPONSE", attachment_body)).deviations
    assert [d for d in found if d.path.startswith(("payload.form", "payload.response"))] == []


def test_form_deviations_never_show_questions_or_answers(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_FORM_RESPONSE", attachment_body)
    answer = body["payload"]["response"][0]
    answer["question"]["type"] = "Zebediah's own type"
    answer["question"]["isPHI"] = None
    answer["Do you take Zebediah pills?"] = "yes, Quartermain"
    text = json.dumps([d.to_dict() for d in parse_object(body).deviations])
    assert "Zebediah" not in text and "Quartermain" not in text
