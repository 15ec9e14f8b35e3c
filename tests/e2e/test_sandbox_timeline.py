"""Every sandbox action, delivered with full case data to a started receiver: the case timeline it builds, read
through the API and the CLI, has one card per action in order, each with the objects the action made."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from casehooks.console.access import Role
from tests.processes import Server, run_cli, start_server, wait_for
from tests.sender.sandbox_server import DOCTOR, MovableClock, new_case, register, running_sandbox

pytestmark = pytest.mark.acceptance

SECRET = "timeline-secret"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 16
NURSE = {"firstName": "Nadia", "lastName": "Nurse", "email": "nadia@example.test", "role": "CASEMANAGER"}
ADDRESS = {"addressLine1": "9 Orchard Row", "city": "Leeds", "state": "WY", "country": "GB", "postalCode": "LS1"}


def drive_every_action(api: httpx.Client, clock: MovableClock) -> tuple[str, list[str], dict[str, str]]:
    """Run every action once (a second apart, so the platform's times order them); return the case, the event
    types in the order they happened, and the ids of the objects made."""
    case_id = new_case(api)
    done = ["CREATE_CASE"]
    made: dict[str, str] = {}

    def act(event_type: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        clock.advance(1)
        response = api.post(f"/cases/{case_id}{path}", json={"actor": DOCTOR, **body})
        assert response.status_code == 201, response.text
        done.append(event_type)
        created: dict[str, Any] = response.json()
        return created

    act("ADD_CASE_ASSIGNEE", "/assignees", {"assignee": NURSE})
    question = {"type": "TEXT", "text": "Any allergies?", "isPHI": True}
    act(
        "ADD_FORM_RESPONSE", "/forms", {"form": {"name": "Intake"}, "answers": [{"question": question, "text": "none"}]}
    )
    prescription = {"medicine": "Semaglutide", "dosage": "0.25 mg", "dosingFrequency": "weekly"}
    decision = {
        "isApproved": True,
        "decisionText": "approved",
        "visitType": "ASYNC_TEXT_EMAIL",
        "addedBy": {"firstName": "Grace", "lastName": "Clinician"},
        "medInfo": [prescription],
    }
    made["deleted"] = act("ADD_CASE_DECISION", "/decisions", decision)["id"]
    act("DECISION_DELETED", f"/decisions/{made['deleted']}/delete", {})
    made["decision"] = act("ADD_CASE_DECISION", "/decisions", decision)["id"]
    made["order"] = act("ORDER_CREATED", "/orders", {"message": "first fill"})["id"]
    act("ORDER_TRACKING_ADDED", f"/orders/{made['order']}/tracking", {"trackingId": "1Z999AA10123456784"})
    payment = {"cardLast4": "4242", "cardBrand": "VISA", "shippingAddress": ADDRESS}
    act("ADD_PAYMENT_INFO_USING_LINK", "/payment-info", payment)
    visit = {"startDateTime": "2026-01-05T15:00:00.000Z", "endDateTime": "2026-01-05T15:30:00.000Z"}
    made["appointment"] = act("CALENDAR_EVENT_CREATED", "/appointments", {**visit, "timezone": "Asia/Calcutta"})["id"]
    moved = {"startDateTime": "2026-01-06T15:00:00.000Z", "endDateTime": "2026-01-06T15:30:00.000Z"}
    act("CALENDAR_EVENT_RESCHEDULED", f"/appointments/{made['appointment']}/reschedule", moved)
    act("CALENDAR_EVENT_CANCELED", f"/appointments/{made['appointment']}/cancel", {})
    act("ESCALATE_CASE", "/escalation", {"escalated": True})
    files = [{"fileName": "labs.pdf", "content": base64.b64encode(PDF).decode(), "isPHI": True}]
    clock.advance(1)
    response = api.post(f"/cases/{case_id}/comments", json={"text": "see labs", "author": DOCTOR, "attachments": files})
    assert response.status_code == 201, response.text
    done.append("ADD_CASE_COMMENT")
    clock.advance(1)
    upload = {"fileName": "scan.pdf", "content": base64.b64encode(PDF).decode(), "uploadedBy": DOCTOR}
    assert api.post(f"/cases/{case_id}/attachments", json=upload).status_code == 201
    done.append("ADD_CASE_ATTACHMENT")
    act("ARCHIVE_CASE", "/archive", {"reason": "COMPLETE"})
    act("REOPEN_CASE", "/status", {"status": "IN_PROGRESS"})
    act("IMPORT_CASE", "/import", {})
    act("REMOVE_CASE_ASSIGNEE", "/assignees", {"assignee": NURSE, "remove": True})
    return case_id, done, made


def timeline_via_cli(server: Server, case_id: str, limit: int) -> list[dict[str, Any]]:
    """Every card, walking the pages back from the newest."""
    cards: list[dict[str, Any]] = []
    before: list[str] = []
    while True:
        shown = json.loads(
            run_cli(
                server.env, "cases", "timeline", case_id, "--reveal", "--json", "--limit", str(limit), *before
            ).stdout
        )
        cards = shown["timeline"] + cards
        if shown["page"]["older"] is None:
            return cards
        before = ["--before", shown["page"]["older"]]


def objects_of(card: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(item["kind"], item.get("status") or item.get("is_deleted")) for item in card["objects"]]


def test_every_sandbox_action_lands_on_the_case_timeline_in_order(tmp_path: Path) -> None:
    server = start_server(tmp_path / "receiver", webhook_secret=SECRET)
    clock = MovableClock()
    try:
        with running_sandbox(tmp_path, clock) as api:
            register(api, server.webhook, secret=SECRET, caseData="FULL")
            case_id, done, made = drive_every_action(api, clock)

            def delivered() -> bool:
                listed = json.loads(run_cli(server.env, "events", "list", "--case", case_id, "--json").stdout)["items"]
                return len(listed) == len(done)

            wait_for(delivered, timeout=120)
        cards = timeline_via_cli(server, case_id, limit=7)
        assert [card["type"] for card in cards] == done
        assert all(card["event_id"] == card["id"] for card in cards)
        by_type: dict[str, list[dict[str, Any]]] = {}
        for card in cards:
            by_type.setdefault(card["type"], []).append(card)
        first, second = by_type["ADD_CASE_DECISION"]
        assert [item["id"] for item in first["objects"]] == [made["deleted"]]
        assert first["objects"][0]["is_deleted"] is True  # the decision as it stands now: deleted
        assert second["objects"][0]["details"]["medInfo"][0]["medicine"] == "Semaglutide"
        assert second["objects"][0]["prescription_count"] == 1
        (answer,) = by_type["ADD_FORM_RESPONSE"][0]["objects"]
        assert (answer["kind"], answer["details"]["text"]) == ("form_answer", "none")
        (tracked,) = by_type["ORDER_TRACKING_ADDED"][0]["objects"]
        assert (tracked["status"], tracked["tracking_id"]) == ("SHIPPED", "1Z999AA10123456784")
        (paid,) = by_type["ADD_PAYMENT_INFO_USING_LINK"][0]["objects"]
        assert (paid["card_brand"], paid["details"]["maskedCardNumber"]) == ("VISA", "**** **** **** 4242")
        (canceled,) = by_type["CALENDAR_EVENT_CANCELED"][0]["objects"]
        assert (canceled["id"], canceled["is_deleted"], canceled["start_at"][:10]) == (
            made["appointment"],
            True,
            "2026-01-06",
        )
        (removed,) = by_type["REMOVE_CASE_ASSIGNEE"][0]["objects"]
        assert (removed["kind"], removed["is_assigned"]) == ("assignment", False)
        commented = by_type["ADD_CASE_COMMENT"][0]
        assert commented["comment"]["text"] == "see labs"
        assert [file["fileName"] for file in commented["attachments"]] == ["labs.pdf"]
        assert [file["fileName"] for file in by_type["ADD_CASE_ATTACHMENT"][0]["attachments"]] == ["scan.pdf"]
        for event_type in ("CREATE_CASE", "ESCALATE_CASE", "ARCHIVE_CASE", "REOPEN_CASE", "IMPORT_CASE"):
            assert by_type[event_type][0]["objects"] == []
        # Full case data repeated every object's history in every later event: still one row each.
        decisions = {item["id"] for card in cards for item in card["objects"] if item["kind"] == "decision"}
        assert decisions == {made["deleted"], made["decision"]}

        # The same timeline through the API, paged, and masked for a reader without PHI.
        env = {**server.env, "CASEHOOKS_USER_PASSWORD": "a long viewer password"}
        run_cli(env, "users", "add", "viewer1", "--role", Role.VIEWER.value)
        token = run_cli(env, "tokens", "create", "--user", "viewer1", "--scope", "read").stdout.strip()
        headers = {"authorization": f"Bearer {token}"}
        seen: list[str] = []
        params: dict[str, str] = {"limit": "5"}
        while True:
            page = httpx.get(f"{server.url}/api/cases/{case_id}", params=params, headers=headers, timeout=60).json()
            assert page["page"]["total"] == len(done)
            seen = [card["type"] for card in page["timeline"]] + seen
            assert "Semaglutide" not in json.dumps(page) and "see labs" not in json.dumps(page)
            if page["page"]["older"] is None:
                break
            params = {"limit": "5", "before": page["page"]["older"]}
        assert seen == done

        shown = json.loads(run_cli(server.env, "events", "show", second["event_id"], "--json").stdout)
        assert [item["kind"] for item in shown["objects"]] == ["decision"]
        assert "details" not in shown["objects"][0]
    finally:
        server.stop()
