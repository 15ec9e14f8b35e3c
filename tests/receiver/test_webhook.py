"""The receiver over real HTTP: a started ``casehooks serve`` on a loopback port, a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from casehooks.store.files import INLINE_FILE_BYTES
from tests.conftest import seed
from tests.processes import Server, run_cli, start_server, stored_blobs
from tests.receiver.events import attachment_event, body_of, comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "whsec-test-secret"


@pytest.fixture
def server(tmp_path: Path, deployment: dict[str, str]) -> Iterator[Server]:
    running = start_server(tmp_path, extra_env=deployment, webhook_secret=SECRET, max_body_bytes=32 * 1024 * 1024)
    yield running
    running.stop()


def post(server: Server, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.webhook, content=body, headers=headers, timeout=60)


def cli_json(server: Server, *args: str) -> object:
    return json.loads(run_cli(server.env, *args, "--json").stdout)


def cli_list(server: Server, *args: str) -> object:
    """The rows of one page of a list command's ``--json``."""
    return json.loads(run_cli(server.env, *args, "--json").stdout)["items"]


def test_seed_examples_are_accepted_and_stored(server: Server) -> None:
    for name in ("add_case_comment", "add_case_attachment"):
        event = seed(name)
        response = post(server, *signed(event, SECRET))
        assert response.status_code == 200
        assert response.json() == {"status": "accepted", "id": event["payload"]["activity"]["id"]}
    listed = cli_list(server, "events", "list")
    assert isinstance(listed, list)
    assert {item["event_type"] for item in listed} == {"ADD_CASE_COMMENT", "ADD_CASE_ATTACHMENT"}
    case = cli_json(server, "cases", "show", "ADA-C1HM17", "--reveal")
    assert isinstance(case, dict)
    # One card per activity: the comment and its file are merged into it.
    (card,) = case["timeline"]
    assert (card["kind"], card["type"], len(card["attachments"])) == ("activity", "ADD_CASE_COMMENT", 1)
    comment = card["comment"]
    assert comment["text"] == "Please find my data"
    assert comment["author"]["firstName"] == "Ritik-2"


def test_redelivery_is_a_duplicate_and_changes_nothing(server: Server) -> None:
    body, headers = signed(comment_event(), SECRET)
    first = post(server, body, headers)
    again = post(server, body, headers)
    assert first.json()["status"] == "accepted"
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "id": first.json()["id"]}
    listed = cli_list(server, "events", "list")
    assert isinstance(listed, list) and len(listed) == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "auth_missing"),
        ({"x-cv-signature": "0" * 64}, "auth_mismatch"),
        ({"x-cv-signature": "not-hex"}, "auth_malformed"),
    ],
)
def test_unauthenticated_request_is_refused_and_quarantined(
    server: Server, headers: dict[str, str], reason: str
) -> None:
    response = post(server, body_of(comment_event()), headers)
    assert response.status_code == 401
    assert response.json()["reason"] == reason
    held = cli_list(server, "quarantine", "list")
    assert isinstance(held, list)
    assert [(item["reason"], item["status_code"], item["body_kept"]) for item in held] == [(reason, 401, True)]
    assert cli_list(server, "events", "list") == []


def test_body_that_is_not_json_is_400_and_quarantined(server: Server) -> None:
    body = b"{not json"
    response = post(server, body, {"x-cv-signature": signed_value(body)})
    assert response.status_code == 400
    assert response.json()["reason"] == "schema"
    assert response.json()["error"].startswith("$: not JSON")


def test_schema_error_names_the_path(server: Server) -> None:
    event = comment_event()
    event["payload"]["case"]["isArchived"] = "yes"
    response = post(server, *signed(event, SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "payload.case.isArchived: Input should be a valid boolean"


def test_body_over_the_limit_is_413_and_recorded(tmp_path: Path) -> None:
    small = start_server(tmp_path, webhook_secret=SECRET, max_body_bytes=4096)
    try:
        body, headers = signed(attachment_event(b"x" * 8000), SECRET)
        response = post(small, body, headers)
        assert response.status_code == 413
        held = json.loads(run_cli(small.env, "quarantine", "list", "--json").stdout)["items"]
        assert [(item["reason"], item["size"], item["body_kept"]) for item in held] == [("too_large", len(body), False)]
    finally:
        small.stop()


def signed_value(body: bytes) -> str:
    from casehooks.signing import sign

    return sign(body, SECRET)


def test_quarantined_event_is_recovered_once_the_secret_is_fixed(server: Server) -> None:
    event = comment_event()
    body, headers = signed(event, "the-rotated-secret")
    assert post(server, body, headers).status_code == 401
    still = run_cli(server.env, "quarantine", "reprocess", "--yes", "--json")
    assert json.loads(still.stdout)[0]["outcome"] == "refused"
    fixed_env = {**server.env, "CASEHOOKS_WEBHOOK_SECRET": f"{SECRET},the-rotated-secret"}
    result = json.loads(run_cli(fixed_env, "quarantine", "reprocess", "--yes", "--json").stdout)
    assert [(item["outcome"], item["event_id"]) for item in result] == [
        ("accepted", event["payload"]["activity"]["id"])
    ]
    assert cli_list(server, "quarantine", "list") == []
    listed = cli_list(server, "events", "list")
    assert isinstance(listed, list) and [item["source"] for item in listed] == ["reprocess"]


def test_out_of_order_snapshots_never_roll_a_case_back(server: Server) -> None:
    case_id = "0b0b0b0b-1111-4222-8333-444444444444"
    newer = comment_event(case_id=case_id, updated_at="2025-09-05T10:00:00.000Z")
    newer["payload"]["case"]["status"] = "APPROVED"
    older = comment_event(case_id=case_id, updated_at="2025-09-01T10:00:00.000Z")
    older["payload"]["case"]["status"] = "IN_PROGRESS"
    assert post(server, *signed(newer, SECRET)).status_code == 200
    assert post(server, *signed(older, SECRET)).status_code == 200
    case = cli_json(server, "cases", "show", case_id)
    assert isinstance(case, dict)
    assert case["status"] == "APPROVED"
    assert case["updated_at"].startswith("2025-09-05T10:00:00")
    assert len([item for item in case["timeline"] if item["comment"]]) == 2


@pytest.mark.parametrize("size", [1, 1024 * 1024, 20 * 1024 * 1024])
def test_attachment_file_round_trips_byte_for_byte(server: Server, tmp_path: Path, size: int) -> None:
    content = bytes(range(256)) * (size // 256) + bytes(size % 256)
    event = attachment_event(content)
    response = post(server, *signed(event, SECRET))
    assert response.status_code == 200
    out = tmp_path / "out.bin"
    run_cli(server.env, "attachments", "get", event["payload"]["attachment"]["id"], "-o", str(out))
    assert out.read_bytes() == content
    assert out.stat().st_mode & 0o077 == 0
    stored = stored_blobs(server.env)
    if size <= INLINE_FILE_BYTES:
        assert stored == []  # sealed into its row, in the database
    else:
        assert len(stored) == 1
        assert content[:64] not in stored[0]


def test_invalid_base64_is_kept_as_metadata_with_a_deviation(server: Server) -> None:
    event = seed("add_case_attachment")  # its content is the literal "base64 data"
    assert post(server, *signed(event, SECRET)).status_code == 200
    shown = cli_json(server, "events", "show", event["payload"]["activity"]["id"])
    assert isinstance(shown, dict)
    assert {"path": "payload.attachment.content", "kind": "not_base64"}.items() <= next(
        d for d in shown["deviations"] if d["kind"] == "not_base64"
    ).items()
    case = cli_json(server, "cases", "show", event["payload"]["case"]["id"])
    assert isinstance(case, dict)
    attachment = next(file for item in case["timeline"] for file in item["attachments"])
    assert attachment["content_status"] == "invalid"
    assert attachment["blob_sha256"] is None


def test_health_readiness_and_metrics(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz").json()
    assert ready["status"] == "ready"
    assert ready["checks"] == {"database": "ok", "disk": "ok", "blobs": "ok"}
    assert ready["handlers"]["status"] == "ok"
    post(server, *signed(comment_event(), SECRET))
    post(server, body_of(comment_event()), {})
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'casehooks_events_accepted_total{event="ADD_CASE_COMMENT"} 1.0' in metrics
    assert 'casehooks_requests_refused_total{reason="auth_missing"} 1.0' in metrics
    assert "casehooks_ingest_seconds_bucket" in metrics
    assert 'casehooks_jobs{state="queued"}' in metrics or 'casehooks_jobs{state="succeeded"}' in metrics


def test_case_listing_hides_phi_and_restricted_items_unless_asked(server: Server) -> None:
    event = comment_event(text="internal note")
    event["payload"]["comment"]["isRestricted"] = True
    post(server, *signed(event, SECRET))
    hidden = cli_json(server, "cases", "show", "ADA-C1HM17")
    assert isinstance(hidden, dict)
    assert "title" not in hidden
    assert hidden["submitter"] == {"id": "WzvygANWTEcfsLlDW1K22WWS7dY2", "role": "USER"}
    assert [item for item in hidden["timeline"] if item["comment"]] == []
    shown = cli_json(server, "cases", "show", "ADA-C1HM17", "--reveal", "--restricted")
    assert isinstance(shown, dict)
    assert [item["comment"]["text"] for item in shown["timeline"] if item["comment"]] == ["internal note"]
    assert shown["submitter"]["lastName"] == "Parikh-2"


def test_restricted_attachment_is_exported_only_when_asked(server: Server, tmp_path: Path) -> None:
    event = attachment_event(b"internal scan")
    event["payload"]["attachment"]["isRestricted"] = True
    post(server, *signed(event, SECRET))
    out = tmp_path / "f.bin"
    attachment_id = event["payload"]["attachment"]["id"]
    refused = run_cli(server.env, "attachments", "get", attachment_id, "-o", str(out), check=False)
    assert refused.returncode == 1
    assert "restricted" in refused.stderr
    assert not out.exists()
    run_cli(server.env, "attachments", "get", attachment_id, "-o", str(out), "--restricted")
    assert out.read_bytes() == b"internal scan"
