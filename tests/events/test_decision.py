"""Decisions: both documented shapes of medInfo, the two decision events, PHI kept out of deviations."""

from __future__ import annotations

import json
from typing import Any

from casehooks.events import CaseDecisionAdded, CaseDecisionDeleted, DeviationKind, VisitType, parse_object
from tests.events.bodies import ANSWER, DECISION, PRESCRIPTION, seed_shaped


def test_decision_event_reads_its_prescriber_and_prescriptions(attachment_body: dict[str, Any]) -> None:
    event = parse_object(seed_shaped("ADD_CASE_DECISION", attachment_body))
    assert isinstance(event, CaseDecisionAdded)
    assert event.decision is not None
    assert event.decision.visit_type is VisitType.SYNC_VIDEO
    assert event.decision.added_by is not None and event.decision.added_by.npi == "1234567893"
    assert [p.medicine for p in event.decision.prescriptions] == ["Semaglutide"]


def test_med_info_as_one_object_reads_and_writes_back_as_one_object(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_DECISION", attachment_body)
    body["payload"]["decision"]["medInfo"] = PRESCRIPTION
    event = parse_object(body)
    assert isinstance(event, CaseDecisionAdded) and event.decision is not None
    assert [p.refill_count for p in event.decision.prescriptions] == [2]
    assert event.to_wire() == body


def test_deleted_decision_reads_cost_and_prescriber_id(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("DECISION_DELETED", attachment_body)
    event = parse_object(body)
    assert isinstance(event, CaseDecisionDeleted) and event.decision is not None
    assert event.decision.cost == 49.5
    assert event.decision.added_by_id == body["payload"]["decision"]["addedById"]
    assert event.to_wire() == body


def test_seed_shaped_decisions_have_no_deviation_of_their_own(attachment_body: dict[str, Any]) -> None:
    for event_type in ("ADD_CASE_DECISION", "DECISION_DELETED"):
        found = parse_object(seed_shaped(event_type, attachment_body)).deviations
        assert [d for d in found if d.path.startswith("payload.decision")] == []


def test_in_person_visit_type_is_known(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_DECISION", attachment_body)
    body["payload"]["decision"]["visitType"] = "SYNC_IN_PERSON"
    assert all(d.kind is not DeviationKind.UNKNOWN_VALUE for d in parse_object(body).deviations)


def test_decision_without_its_object_is_kept_with_a_missing_deviation(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_DECISION", attachment_body)
    del body["payload"]["decision"]
    event = parse_object(body)
    assert isinstance(event, CaseDecisionAdded) and event.decision is None
    assert ("payload.decision", DeviationKind.MISSING) in {(d.path, d.kind) for d in event.deviations}


def test_decision_deviations_never_show_medicine_or_prescriber(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_DECISION", attachment_body)
    decision = body["payload"]["decision"]
    decision["visitType"] = "Zebediah's home visit"
    decision["medInfo"][0]["Zebediah allergy"] = "Zebediah penicillin"
    decision["medInfo"][0]["medicine"] = None
    decision["addedBy"]["Zebediah"] = "Quartermain"
    text = json.dumps([d.to_dict() for d in parse_object(body).deviations])
    for secret in ("Zebediah", "Quartermain", "penicillin", "home visit"):
        assert secret not in text


def test_a_full_case_payload_with_its_history_is_accepted_whole(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_DECISION", attachment_body)
    history = [{**DECISION, "id": f"0c6a9f3e-2b1d-4e8f-a7c6-{index:012d}"} for index in range(4000)]
    body["payload"]["case"]["decisions"] = history
    body["payload"]["case"]["responses"] = [{"id": "r", "responses": [ANSWER] * 2000}]
    assert len(json.dumps(body)) > 3_000_000
    event = parse_object(body)
    assert isinstance(event, CaseDecisionAdded)
    assert event.to_wire() == body
    text = json.dumps([d.to_dict() for d in event.deviations])
    assert "Semaglutide" not in text and "symptoms" not in text
