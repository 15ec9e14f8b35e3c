"""Both ends of the wire over loopback: the sandbox platform delivers to a started ``casehooks serve``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from tests.processes import Server, run_cli, start_server, wait_for
from tests.sender.sandbox_server import DOCTOR, MovableClock, new_case, register, running_sandbox

pytestmark = pytest.mark.acceptance

SECRET = "e2e-secret"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64


def stored_events(server: Server) -> list[dict[str, object]]:
    result = run_cli(server.env, "events", "list", "--limit", "10000", "--json")
    events: list[dict[str, object]] = json.loads(result.stdout)["items"]
    return events


def comment(text: str, *, restricted: bool = False, phi_file: bool = True) -> dict[str, object]:
    return {
        "text": text,
        "isRestricted": restricted,
        "author": DOCTOR,
        "forms": [{"questions": [False, True]}],
        "attachments": [{"fileName": "labs.pdf", "content": base64.b64encode(PDF).decode(), "isPHI": phi_file}],
    }


def test_signed_base64_delivery_stores_comments_files_and_flags(tmp_path: Path) -> None:
    server = start_server(tmp_path / "receiver", webhook_secret=SECRET)
    try:
        with running_sandbox(tmp_path) as api:
            register(api, server.webhook, secret=SECRET)
            case_id = new_case(api)
            api.post(f"/cases/{case_id}/status", json={"status": "IN_PROGRESS", "actor": DOCTOR})
            created = api.post(f"/cases/{case_id}/comments", json=comment("internal only", restricted=True)).json()
            wait_for(lambda: any(e["id"] == created["activityId"] for e in stored_events(server)))
        types = sorted(str(e["event_type"]) for e in stored_events(server))
        assert types == ["ADD_CASE_COMMENT", "CHANGE_CASE_STATUS", "CREATE_CASE"]
        case = json.loads(run_cli(server.env, "cases", "show", case_id, "--reveal", "--restricted", "--json").stdout)
        assert case["status"] == "IN_PROGRESS"
        (card,) = [item for item in case["timeline"] if item["comment"]]
        note = card["comment"]
        assert (note["text"], note["is_restricted"], note["has_phi_forms"]) == ("internal only", True, True)
        (attachment,) = card["attachments"]
        assert (attachment["is_phi"], attachment["content_status"]) == (True, "stored")
        out = tmp_path / "labs.pdf"
        run_cli(server.env, "attachments", "get", attachment["id"], "-o", str(out))
        assert out.read_bytes() == PDF
        hidden = json.loads(run_cli(server.env, "cases", "show", case_id, "--json").stdout)
        assert [item for item in hidden["timeline"] if item["comment"]] == []
    finally:
        server.stop()


def test_url_documents_and_static_header_auth(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as api:
        sandbox_host = str(api.base_url).removeprefix("http://").rstrip("/")
        server = start_server(
            tmp_path / "receiver",
            auth_header_name="x-partner-key",
            auth_header_value="partner-secret",
            document_hosts=sandbox_host,
            document_allow_http="true",  # the sandbox serves its links over loopback http
        )
        try:
            register(
                api,
                server.webhook,
                authHeaderName="x-partner-key",
                authHeaderValue="partner-secret",
                documentFormat="URL",
                eventTypes=["ADD_CASE_ATTACHMENT"],
            )
            case_id = new_case(api)
            upload = {
                "fileName": "scan.pdf",
                "content": base64.b64encode(PDF).decode(),
                "isPHI": True,
                "uploadedBy": DOCTOR,
            }
            created = api.post(f"/cases/{case_id}/attachments", json=upload)
            assert created.status_code == 201, created.text

            def stored() -> bool:
                shown = json.loads(run_cli(server.env, "cases", "show", case_id, "--json").stdout)
                files = [file for card in shown["timeline"] for file in card["attachments"]]
                return any(file["content_status"] == "stored" for file in files)

            wait_for(stored)
            shown = json.loads(run_cli(server.env, "cases", "show", case_id, "--json").stdout)
            (item,) = [file for card in shown["timeline"] for file in card["attachments"]]
            out = tmp_path / "scan.pdf"
            run_cli(server.env, "attachments", "get", item["id"], "-o", str(out))
            assert out.read_bytes() == PDF
            refused = httpx.post(server.webhook, content=b"{}", headers={"x-partner-key": "wrong"})
            assert refused.status_code == 401
        finally:
            server.stop()


def test_stream_survives_a_receiver_crash_and_every_event_is_stored_once(tmp_path: Path) -> None:
    server = start_server(tmp_path / "receiver", webhook_secret=SECRET)
    try:
        # The endpoint and its messages must outlive the outage: by default the sandbox disables an endpoint after
        # 20 failures and gives a message up after 12 attempts.
        with running_sandbox(tmp_path, sandbox_disable_after=1_000_000, sandbox_max_attempts=1_000) as api:
            register(api, server.webhook, secret=SECRET, eventTypes=["ADD_CASE_COMMENT"])
            case_ids = [new_case(api) for _ in range(20)]
            activity_ids: list[str] = []
            killed = False
            for index in range(2000):
                created = api.post(
                    f"/cases/{case_ids[index % 20]}/comments", json={"text": f"n{index}", "author": DOCTOR}
                )
                activity_ids.append(created.json()["activityId"])
                if index == 600 and not killed:
                    server.stop(kill=True)  # kill -9 while the sandbox is delivering
                    killed = True
                if index == 1200:
                    server.start()
            wait_for(lambda: len(stored_events(server)) >= len(activity_ids), timeout=240)
        ids = [str(e["id"]) for e in stored_events(server)]
        assert sorted(ids) == sorted(activity_ids)
        assert len(ids) == len(set(ids))
    finally:
        server.stop()


def test_secret_rotation_is_accepted_throughout_by_a_receiver_holding_both(tmp_path: Path) -> None:
    server = start_server(tmp_path / "receiver", webhook_secret="new-secret,old-secret")
    clock = MovableClock()
    try:
        with running_sandbox(tmp_path, clock) as api:
            endpoint_id = register(api, server.webhook, secret="old-secret")
            case_id = new_case(api)
            api.patch(f"/endpoints/{endpoint_id}", json={"secret": "new-secret", "secretOverlapSeconds": 600})
            api.post(f"/cases/{case_id}/status", json={"status": "ASSIGNED", "actor": DOCTOR})
            clock.advance(601)
            api.post(f"/cases/{case_id}/status", json={"status": "IN_PROGRESS", "actor": DOCTOR})
            wait_for(lambda: len(stored_events(server)) == 3, timeout=120)
            attempts = api.get(f"/endpoints/{endpoint_id}/attempts").json()
        # Moving the clock past the lease may send a row twice (at-least-once); none is refused.
        assert {a["status"] for a in attempts} == {200}
    finally:
        server.stop()


def test_every_sandbox_action_lands_in_the_receivers_case_timeline(tmp_path: Path) -> None:
    from tests.sender.test_actions import NURSE
    from tests.sender.test_case_objects import drive_every_change

    server = start_server(tmp_path / "receiver", webhook_secret=SECRET)
    try:
        with running_sandbox(tmp_path) as api:
            register(api, server.webhook, secret=SECRET)
            case_id = new_case(api)
            for path, body in [
                ("assignees", {"assignee": NURSE, "actor": DOCTOR}),
                ("status", {"status": "IN_PROGRESS", "actor": DOCTOR}),
                ("escalation", {"escalated": True, "actor": DOCTOR}),
            ]:
                assert api.post(f"/cases/{case_id}/{path}", json=body).status_code == 201
            drive_every_change(api, case_id)
            for path, body in [
                ("import", {"actor": DOCTOR}),
                ("archive", {"reason": "COMPLETE", "actor": DOCTOR}),
            ]:
                assert api.post(f"/cases/{case_id}/{path}", json=body).status_code == 201
            wait_for(lambda: len(stored_events(server)) == 15, timeout=120)
        types = {str(e["event_type"]) for e in stored_events(server)}
        assert types == {
            *("CREATE_CASE", "ADD_CASE_ASSIGNEE", "CHANGE_CASE_STATUS", "ESCALATE_CASE", "ADD_FORM_RESPONSE"),
            *("ADD_CASE_DECISION", "DECISION_DELETED", "ORDER_CREATED", "ORDER_TRACKING_ADDED"),
            *("ADD_PAYMENT_INFO_USING_LINK", "CALENDAR_EVENT_CREATED", "CALENDAR_EVENT_RESCHEDULED"),
            *("CALENDAR_EVENT_CANCELED", "IMPORT_CASE", "ARCHIVE_CASE"),
        }
        case = json.loads(run_cli(server.env, "cases", "show", case_id, "--reveal", "--json").stdout)
        assert case["status"] == "IN_PROGRESS"  # the decision was deleted
        assert case["is_archived"] is True and case["is_escalated"] is True and case["is_imported"] is True
        timeline_types = [item.get("type") or item.get("event_type") for item in case["timeline"]]
        assert "ARCHIVE_CASE" in json.dumps(case["timeline"]) and "ADD_CASE_DECISION" in json.dumps(timeline_types)
    finally:
        server.stop()
