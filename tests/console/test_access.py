from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casehooks.console.access import Reader, Role, Scope, mask_attachment, mask_case

AT = datetime(2025, 1, 1, tzinfo=UTC)


def revealed_case() -> dict[str, Any]:
    return {
        "id": "c1",
        "short_id": "ADA-1",
        "title": "Case for Zebulon",
        "submitter": {"id": "p1", "role": "SUBMITTER", "firstName": "Zebulon", "dob": "1961-07-04"},
        "timeline": [
            {"kind": "comment", "at": AT, "id": "m1", "text": "chest pain", "author": {"id": "a", "firstName": "Z"}},
            {"kind": "attachment", "at": AT, "id": "f1", "fileName": "mri.pdf", "is_restricted": True},
        ],
    }


def test_viewer_sees_no_phi_and_restricted_items_only_as_marks() -> None:
    shown = mask_case(revealed_case(), Reader.of("v", "viewer", "session"))
    text = repr(shown)
    for value in ("Zebulon", "1961", "chest pain", "mri.pdf"):
        assert value not in text
    assert shown["masked"] is True
    assert shown["submitter"] == {"id": "p1", "role": "SUBMITTER"}
    assert shown["timeline"][1] == {
        "kind": "attachment",
        "at": AT,
        "id": "f1",
        "is_restricted": True,
        "masked": True,
        "hidden": True,
    }


def test_clinician_sees_phi_and_restricted_items() -> None:
    shown = mask_case(revealed_case(), Reader.of("c", "clinician", "session"))
    assert shown["timeline"][0]["text"] == "chest pain"
    assert shown["timeline"][1]["fileName"] == "mri.pdf"
    assert shown["submitter"]["firstName"] == "Zebulon"


def test_token_scopes_narrow_the_role_and_never_widen_it() -> None:
    narrowed = Reader.of("a", "admin", "token:t", ["read"])
    assert narrowed.scopes == {Scope.READ}
    widened = Reader.of("v", "viewer", "token:t", ["read", "phi", "admin", "nonsense"])
    assert widened.scopes == {Scope.READ}


def test_operator_may_act_but_not_read_phi() -> None:
    operator = Reader.of("o", Role.OPERATOR, "session")
    assert operator.may(Scope.ACTIONS)
    assert not operator.may(Scope.PHI)
    assert "fileName" not in mask_attachment({"id": "f", "fileName": "x.pdf"}, operator)


def merged_card_case() -> dict[str, Any]:
    return {
        "id": "c1",
        "submitter": None,
        "timeline": [
            {
                "kind": "activity",
                "at": AT,
                "id": "a1",
                "type": "ADD_CASE_COMMENT",
                "valueAfter": "chest pain",
                "actor": {"id": "d1", "firstName": "Zebulon"},
                "comment": {"id": "m1", "is_restricted": True, "text": "call the pharmacy", "author": {"id": "d1"}},
                "attachments": [{"id": "f1", "is_restricted": False, "fileName": "mri.pdf"}],
                "objects": [{"kind": "decision", "id": "x1", "details": {"decisionText": "Zorbamycin"}}],
            }
        ],
    }


def test_a_viewer_sees_a_card_without_its_phi_and_its_restricted_comment_as_a_mark() -> None:
    shown = mask_case(merged_card_case(), Reader.of("v", "viewer", "session"))
    text = repr(shown)
    for value in ("chest pain", "call the pharmacy", "mri.pdf", "Zorbamycin", "Zebulon"):
        assert value not in text
    (card,) = shown["timeline"]
    assert card["comment"]["hidden"] is True
    assert [file["id"] for file in card["attachments"]] == ["f1"]
    assert card["objects"] == [{"kind": "decision", "id": "x1"}]


def test_a_clinician_sees_the_whole_card() -> None:
    (card,) = mask_case(merged_card_case(), Reader.of("c", "clinician", "session"))["timeline"]
    assert card["comment"]["text"] == "call the pharmacy"
    assert card["objects"][0]["details"] == {"decisionText": "Zorbamycin"}
