"""The read API over real HTTP: sign-in by token, masking by role, audited PHI reads, actions, the schema."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from casehooks.console.access import Role
from tests.console.running import PDF, Running, start_console

pytestmark = pytest.mark.acceptance

CASE = "ADA-C1HM17"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    started = start_console(tmp_path_factory.mktemp("console"))
    yield started
    started.server.stop()


def test_nothing_is_read_without_credentials(running: Running) -> None:
    with running.api(None) as client:
        for path in ("/api/events", "/api/cases", f"/api/cases/{CASE}", "/api/quarantine", "/api/queue"):
            assert client.get(path).status_code == 401, path
        forged = client.get("/api/events", headers={"authorization": "Bearer chk_0000_nope"})
        assert forged.status_code == 401


def test_events_filter_by_type_and_follow_by_seq(running: Running) -> None:
    with running.api(Role.VIEWER) as client:
        comments = client.get("/api/events", params={"type": "ADD_CASE_COMMENT"}).json()
        assert [event["id"] for event in comments["items"]] == [running.comment_event_id]
        assert comments["total"] == 1
        newest = max(event["seq"] for event in client.get("/api/events").json()["items"])
        assert client.get("/api/events", params={"after": newest}).json()["items"] == []


def test_events_page_by_cursor_with_the_total_and_no_row_twice(running: Running) -> None:
    with running.api(Role.VIEWER) as client:
        everything = client.get("/api/events", params={"limit": 1000}).json()
        first = client.get("/api/events", params={"limit": 1}).json()
        second = client.get("/api/events", params={"limit": 1, "before": first["next"]}).json()
    assert first["total"] == second["total"] == len(everything["items"]) >= 2
    assert first["total_estimated"] is False
    assert [event["id"] for event in first["items"] + second["items"]] == [
        event["id"] for event in everything["items"][:2]
    ]
    assert everything["next"] is None


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/events", {"type": "NOT_AN_EVENT"}),
        ("/api/events", {"status": "bogus"}),
        ("/api/events", {"since": "yesterday"}),
        ("/api/events", {"before": "not-a-cursor"}),
        ("/api/cases", {"status": "NOT_A_STATUS"}),
        ("/api/cases", {"before": "bm90IGEgY3Vyc29y"}),
        ("/api/quarantine", {"before": "WyJldmVudHMiLDFd"}),  # a cursor of the events list
    ],
)
def test_bad_filters_answer_422_not_an_empty_list(running: Running, path: str, params: dict[str, str]) -> None:
    with running.api(Role.ADMIN) as client:
        response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


def test_cases_are_found_by_the_start_of_their_short_id(running: Running) -> None:
    with running.api(Role.VIEWER) as client:
        found = client.get("/api/cases", params={"short_id": "ada-c1"}).json()
    assert [case["short_id"] for case in found["items"]] == [CASE]
    assert found["total"] == 1


def test_one_search_finds_a_case_by_event_id_and_by_patient_phone_for_phi_roles_only(running: Running) -> None:
    with running.api(Role.VIEWER) as client:
        by_event = client.get("/api/cases", params={"q": running.comment_event_id}).json()
        by_phone = client.get("/api/cases", params={"q": "+1 (228) 647-5628"}).json()
    assert [case["short_id"] for case in by_event["items"]] == [CASE]
    assert by_phone["items"] == []
    assert by_phone["notices"]
    with running.api(Role.CLINICIAN) as client:
        found = client.get("/api/cases", params={"q": "+1 (228) 647-5628"}).json()
    assert [case["short_id"] for case in found["items"]] == [CASE]


def test_viewer_sees_the_timeline_with_phi_masked(running: Running) -> None:
    with running.api(Role.VIEWER) as client:
        response = client.get(f"/api/cases/{CASE}")
    assert response.status_code == 200
    assert response.json()["masked"] is True
    assert "chest pain" not in response.text
    assert "Ritik" not in response.text


def test_clinician_reads_phi_and_the_read_is_audited_without_phi(running: Running) -> None:
    with running.api(Role.CLINICIAN) as client:
        case = client.get(f"/api/cases/{CASE}").json()
    texts = [(item.get("comment") or {}).get("text") for item in case["timeline"]]
    assert "Patient reports chest pain XYZZY" in texts
    with running.api(Role.ADMIN) as client:
        log = client.get("/api/audit", params={"username": "clinician"})
    assert any(entry["action"] == "read_case" and entry["object_id"] == case["id"] for entry in log.json()["items"])
    assert "chest pain" not in log.text


def test_an_events_payload_and_headers_are_masked_by_role_and_a_reveal_is_audited(running: Running) -> None:
    path = f"/api/events/{running.comment_event_id}/payload"
    with running.api(Role.VIEWER) as client:
        masked = client.get(path).json()
        assert client.get(path, params={"reveal": "true"}).status_code == 403
    assert masked["event"]["id"] == running.comment_event_id and masked["revealed"] is False
    assert "ADD_CASE_COMMENT" in masked["body"] and "XYZZY" not in masked["body"]
    assert "x-cv-signature" in masked["headers"]
    with running.api(Role.CLINICIAN) as client:
        revealed = client.get(path, params={"reveal": "true"}).json()
        assert client.get("/api/events/no-such-event/payload").status_code == 404
    assert revealed["revealed"] is True and "Patient reports chest pain XYZZY" in revealed["body"]
    with running.api(Role.ADMIN) as client:
        log = client.get("/api/audit", params={"username": "clinician"}).json()["items"]
    assert any(item["action"] == "read_payload" and item["object_id"] == running.comment_event_id for item in log)


def test_attachment_downloads_decrypted_for_phi_roles_only(running: Running) -> None:
    path = f"/api/attachments/{running.attachment_id}/content"
    with running.api(Role.OPERATOR) as client:
        assert client.get(path).status_code == 403
        assert "fileName" not in client.get(f"/api/attachments/{running.attachment_id}").json()
    with running.api(Role.CLINICIAN) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["cache-control"] == "no-store"


def test_only_admins_read_the_audit_log(running: Running) -> None:
    with running.api(Role.CLINICIAN) as client:
        assert client.get("/api/audit").status_code == 403


def test_replay_needs_the_actions_scope(running: Running) -> None:
    path = f"/api/events/{running.comment_event_id}/replay"
    with running.api(Role.VIEWER) as client:
        assert client.post(path).status_code == 403
    with running.api(Role.OPERATOR) as client:
        assert client.post(path).json() == {"queued": 1}
        assert client.post("/api/events/nope/replay").status_code == 404


def test_quarantine_lists_refusals_and_reprocess_keeps_forgeries_held(running: Running) -> None:
    with running.api(Role.OPERATOR) as client:
        held = client.get("/api/quarantine").json()["items"]
        assert [item["reason"] for item in held] == ["auth_mismatch"]
        outcome = client.post(f"/api/quarantine/{held[0]['id']}/reprocess").json()
    assert outcome["outcome"] == "refused"


def test_api_matches_its_openapi_schema_and_never_fails(running: Running, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{running.server.url}/api/openapi.json",
            "--header",
            f"Authorization: Bearer {running.tokens[Role.ADMIN]}",
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "40",
            "--workers",
            "1",
            "--seed",
            "20261122",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


SECURITY = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def test_every_console_and_api_answer_carries_the_security_headers(running: Running) -> None:
    with running.api(Role.CLINICIAN) as client:
        answers = [
            client.get("/api/me"),
            client.get(f"/api/cases/{CASE}"),
            client.get("/api/events/no-such-event"),
            client.get("/api/audit"),  # refused: not an admin
            client.get("/api/openapi.json"),
            client.get("/console/login"),
            client.get("/console/cases"),  # a redirect to the sign-in
            client.get("/console/static/console.js"),
            client.get("/"),
        ]
    with running.api(None) as stranger:
        answers.append(stranger.get("/api/cases"))
    assert sorted({answer.status_code for answer in answers}) == [200, 303, 307, 401, 403, 404]
    for answer in answers:
        for name, value in SECURITY.items():
            assert answer.headers.get(name) == value, (answer.request.url, name)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "http" not in policy


def test_no_interactive_api_page_loads_scripts_from_outside(running: Running) -> None:
    with running.api(Role.ADMIN) as client:
        assert client.get("/api/docs").status_code == 404
        assert client.get("/api/openapi.json").status_code == 200


def test_an_audited_read_names_the_client_address_and_the_token(running: Running) -> None:
    with running.api(Role.CLINICIAN) as client:
        client.get(f"/api/attachments/{running.attachment_id}").raise_for_status()
    with running.api(Role.ADMIN) as client:
        log = client.get("/api/audit", params={"username": "clinician"}).json()["items"]
    [entry] = [entry for entry in log if entry["action"] == "read_attachment"][:1]
    token_id = running.tokens[Role.CLINICIAN].split("_")[1]
    assert entry["client"] == "127.0.0.1"
    assert entry["via"] == f"token:{token_id}" and entry["session"] == token_id
