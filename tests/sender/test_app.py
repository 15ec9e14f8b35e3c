import base64
import json
import time
from pathlib import Path

from casehooks.events import CaseAttachmentAdded, CaseCommentAdded, parse_event, stringify
from casehooks.sender.message import mask_excerpt
from casehooks.signing import sign
from tests.sender.sandbox_server import DOCTOR, PATIENT, MovableClock, new_case, register, running_sandbox
from tests.sender.sink import Sink, running_sink

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def _wait(predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_comment_is_delivered_signed_in_the_documented_shape(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        register(api, sink.url, secret="s3cret", eventTypes=["ADD_CASE_COMMENT"])
        case_id = new_case(api)
        api.post(f"/cases/{case_id}/status", json={"status": "IN_PROGRESS", "actor": DOCTOR})
        comment = {
            "text": "Please see my results",
            "author": DOCTOR,
            "forms": [{"questions": [False, True]}],
            "attachments": [{"fileName": "labs.png", "content": base64.b64encode(PNG).decode(), "isPHI": True}],
        }
        created = api.post(f"/cases/{case_id}/comments", json=comment)
        assert created.status_code == 201, created.text
        (received,) = sink.wait_for(1)
    event = parse_event(received.body)
    assert isinstance(event, CaseCommentAdded)
    assert received.body == stringify(json.loads(received.body))
    assert received.headers["x-cv-signature"] == sign(received.body, "s3cret")
    assert event.activity is not None
    assert event.activity.id == created.json()["activityId"]
    assert event.comment.text == "Please see my results"
    assert event.case is not None
    assert event.case.status == "IN_PROGRESS"
    assert event.case.in_progress_at is not None
    (attachment,) = event.attachments()
    assert attachment.content is not None
    assert attachment.content.read() == PNG
    assert list(json.loads(received.body)["payload"]) == ["comment", "case", "activity"]


def test_url_documents_download_then_expire(tmp_path: Path, sink: Sink) -> None:
    clock = MovableClock()
    with running_sandbox(tmp_path, clock) as api:
        register(api, sink.url, secret="s3cret", documentFormat="URL")
        case_id = new_case(api)
        upload = api.post(
            f"/cases/{case_id}/attachments/upload",
            files={"file": ("scan.png", PNG, "image/png")},
            data={"uploaderFirstName": "Ada", "uploaderLastName": "Example", "uploaderEmail": "a@example.test"},
        )
        assert upload.status_code == 201, upload.text
        _wait(lambda: len(sink.received) >= 2)
        events = [parse_event(item.body) for item in sink.received]
        (event,) = [e for e in events if isinstance(e, CaseAttachmentAdded)]
        link = event.attachment.document_url
        assert link is not None
        assert event.attachment.file_name == "scan.png"
        downloaded = api.get(link)
        assert downloaded.status_code == 200
        assert downloaded.content == PNG
        assert api.get(link.replace("sig=", "sig=0")).status_code == 403
        clock.advance(15 * 60)
        assert api.get(link).status_code == 410


def test_a_500_is_retried_until_it_succeeds(tmp_path: Path) -> None:
    with running_sink() as sink, running_sandbox(tmp_path) as api:
        sink.script.extend([500, 503])
        endpoint_id = register(api, sink.url)
        new_case(api)
        sink.wait_for(1)
        _wait(lambda: len(api.get(f"/endpoints/{endpoint_id}/attempts").json()) == 3)
        log = api.get(f"/endpoints/{endpoint_id}/attempts").json()
        assert [entry["status"] for entry in reversed(log)] == [500, 503, 200]
        assert [entry["attempt"] for entry in reversed(log)] == [1, 2, 3]
        assert all("Ada" not in (entry["responseExcerpt"] or "") for entry in log)
        (message,) = api.get(f"/endpoints/{endpoint_id}/messages").json()
        assert message["state"] == "delivered"


def test_endpoint_is_disabled_after_consecutive_failures_and_can_be_revived(tmp_path: Path) -> None:
    settings = {"sandbox_disable_after": 3, "sandbox_disable_after_seconds": 0}
    with running_sink() as sink, running_sandbox(tmp_path, **settings) as api:
        sink.script.extend([500] * 3)
        endpoint_id = register(api, sink.url)
        new_case(api)
        _wait(lambda: not api.get(f"/endpoints/{endpoint_id}").json()["enabled"])
        endpoint = api.get(f"/endpoints/{endpoint_id}").json()
        assert endpoint["consecutiveFailures"] == 3
        assert "3 attempts" in endpoint["disabledReason"]
        new_case(api)  # recorded while disabled
        assert sink.received == []
        api.patch(f"/endpoints/{endpoint_id}", json={"enabled": True})
        sink.wait_for(2)


def test_failures_shorter_than_the_disable_time_never_disable(tmp_path: Path) -> None:
    clock = MovableClock()
    settings = {"sandbox_disable_after": 3, "sandbox_disable_after_seconds": 3600}
    with running_sink() as sink, running_sandbox(tmp_path, clock, **settings) as api:
        sink.script.extend([503] * 6)
        endpoint_id = register(api, sink.url)
        new_case(api)
        _wait(lambda: api.get(f"/endpoints/{endpoint_id}").json()["consecutiveFailures"] >= 6)
        assert api.get(f"/endpoints/{endpoint_id}").json()["enabled"] is True
        sink.wait_for(1)  # the seventh attempt is accepted; the sandbox records it just after the answer
        _wait(lambda: api.get(f"/endpoints/{endpoint_id}").json()["consecutiveFailures"] == 0)
        assert api.get(f"/endpoints/{endpoint_id}").json()["enabled"] is True


def test_failing_for_the_disable_time_disables(tmp_path: Path) -> None:
    clock = MovableClock()
    settings = {"sandbox_disable_after": 3, "sandbox_disable_after_seconds": 3600}
    with running_sink() as sink, running_sandbox(tmp_path, clock, **settings) as api:
        sink.script.extend([503] * 1000)
        endpoint_id = register(api, sink.url)
        new_case(api)
        _wait(lambda: api.get(f"/endpoints/{endpoint_id}").json()["consecutiveFailures"] >= 3)
        assert api.get(f"/endpoints/{endpoint_id}").json()["enabled"] is True
        clock.advance(3601)
        _wait(lambda: not api.get(f"/endpoints/{endpoint_id}").json()["enabled"])
        assert "failing for" in api.get(f"/endpoints/{endpoint_id}").json()["disabledReason"]


CASE = {"organizationId": "652f45e9-eb17-4955-8197-4170e375327f", "productBundle": "B-GLP", "submitter": PATIENT}


def test_a_retried_create_with_the_same_idempotency_key_creates_once(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        endpoint_id = register(api, sink.url)
        headers = {"Idempotency-Key": "create-42"}
        first = api.post("/cases", json=CASE, headers=headers)
        second = api.post("/cases", json=CASE, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        other = api.post("/cases", json=CASE, headers={"Idempotency-Key": "create-43"}).json()
        assert other["id"] != first.json()["id"]
        messages = api.get(f"/endpoints/{endpoint_id}/messages").json()
        assert sorted(m["activityId"] for m in messages) == sorted([first.json()["activityId"], other["activityId"]])
        case_id = first.json()["id"]
        reused = api.post(f"/cases/{case_id}/status", json={"status": "ASSIGNED", "actor": DOCTOR}, headers=headers)
        assert reused.status_code == 409
        assert "create-42" not in reused.text


def test_manual_redelivery_sends_again(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        endpoint_id = register(api, sink.url, secret="s3cret")
        new_case(api)
        sink.wait_for(1)
        (message,) = api.get(f"/endpoints/{endpoint_id}/messages").json()
        assert api.post(f"/messages/{message['id']}/redeliver").status_code == 202
        first, second = sink.wait_for(2)
        assert first.body == second.body


def test_dead_after_a_final_client_error(tmp_path: Path) -> None:
    with running_sink() as sink, running_sandbox(tmp_path) as api:
        sink.script.append(400)
        endpoint_id = register(api, sink.url)
        new_case(api)
        _wait(lambda: api.get(f"/endpoints/{endpoint_id}/messages?state=dead").json() != [])
        assert len(api.get(f"/endpoints/{endpoint_id}/attempts").json()) == 1


def test_metadata_endpoints_are_refused_at_registration(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as api:
        for url in ("http://169.254.169.254/latest", "http://[fd00:ec2::254]/", "http://[fe80::1]/x"):
            response = api.post("/endpoints", json={"url": url})
            assert response.status_code == 422
            assert "refused" in response.text


def test_static_auth_header_is_sent(tmp_path: Path) -> None:
    with running_sink() as sink, running_sandbox(tmp_path) as api:
        register(api, sink.url, authHeaderName="X-Org-Token", authHeaderValue="t0ken")
        new_case(api)
        (received,) = sink.wait_for(1)
        assert received.headers["x-org-token"] == "t0ken"
        assert "x-cv-signature" not in received.headers


def test_status_changes_set_the_case_timestamps(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as api:
        case_id = new_case(api)
        for status in ("ASSIGNED", "IN_PROGRESS", "APPROVED"):
            assert api.post(f"/cases/{case_id}/status", json={"status": status, "actor": DOCTOR}).status_code == 201
        case = api.get(f"/cases/{case_id}").json()
        assert case["status"] == "APPROVED"
        assert case["assignedAt"] <= case["inProgressAt"] <= case["closedAt"]
        assert case["closedBy"] == case["inProgressBy"]
        assert api.get("/cases/00000000-0000-4000-8000-000000000000").status_code == 404


def test_openapi_is_served(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as api:
        paths = api.get("/openapi.json").json()["paths"]
        assert "/cases/{case_id}/comments" in paths
        assert "/endpoints" in paths


def test_validation_errors_do_not_echo_the_input(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as api:
        case_id = new_case(api)
        response = api.post(f"/cases/{case_id}/comments", json={"text": "Secret diagnosis", "author": {"x": 1}})
        assert response.status_code == 422
        assert "Secret diagnosis" not in response.text
        assert "input" not in response.json()["detail"][0]


def test_a_host_that_resolves_to_the_metadata_service_is_never_called(tmp_path: Path, sink: Sink) -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        # A DNS answer that changed after registration; the real resolver cannot be made to do this here.
        return ["169.254.169.254"] if host == "metadata.test" else ["127.0.0.1"]

    with running_sandbox(tmp_path, resolver=rebinding) as api:
        endpoint_id = register(api, "http://metadata.test/latest/meta-data")
        register(api, sink.url, secret="s3cret")
        new_case(api)
        sink.wait_for(1)
        _wait(lambda: api.get(f"/endpoints/{endpoint_id}/messages?state=dead").json() != [])
        (attempt,) = api.get(f"/endpoints/{endpoint_id}/attempts").json()
        assert attempt["error"] == "refused"
        assert attempt["responseExcerpt"] == "cloud metadata address"


def test_the_attempt_log_shows_the_shape_of_an_answer_not_its_text(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        endpoint_id = register(api, sink.url, secret="s3cret")
        new_case(api)
        sink.wait_for(1)
        _wait(lambda: bool(api.get(f"/endpoints/{endpoint_id}/attempts").json()))
        (attempt,) = api.get(f"/endpoints/{endpoint_id}/attempts").json()
    assert attempt["responseExcerpt"] == '{"xx":xxxx}'  # the sink answered {"ok":true}


def test_masking_keeps_no_letter_or_digit() -> None:
    masked = mask_excerpt(b"<html>AWS_SECRET=wJalrXUtnFEMI/K7MDENG ada@example.test 1985-02-03</html>")
    assert masked == "<xxxx>XXX_XXXXXX=xXxxxXXxxXXXX/X0XXXXX xxx@xxxxxxx.xxxx 0000-00-00</xxxx>"


def test_a_rotated_secret_signs_once_its_overlap_is_over(tmp_path: Path, sink: Sink) -> None:
    clock = MovableClock()
    with running_sandbox(tmp_path, clock) as api:
        endpoint_id = register(api, sink.url, secret="s3cret")
        rotated = api.patch(f"/endpoints/{endpoint_id}", json={"secret": "next-one", "secretOverlapSeconds": 600})
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secretSwitchesAt"] is not None
        assert "next-one" not in rotated.text
        new_case(api)
        (during,) = sink.wait_for(1)  # the sink knows only the old secret: still signed with it
        assert during.headers["x-cv-signature"] == sign(during.body, "s3cret")
        clock.advance(601)
        new_case(api)
        _wait(lambda: any(a["status"] == 401 for a in api.get(f"/endpoints/{endpoint_id}/attempts").json()))
        assert len(sink.received) == 1


def test_delivery_connects_to_the_address_it_checked_not_to_a_fresh_lookup(tmp_path: Path, sink: Sink) -> None:
    port = sink.url.split(":")[2].split("/")[0]

    async def resolver(host: str, _port: int) -> list[str]:
        # hooks.invalid exists in no DNS: only a connection to the checked address can reach the sink.
        return ["127.0.0.1"] if host == "hooks.invalid" else []

    with running_sandbox(tmp_path, resolver=resolver) as api:
        register(api, sink.url.replace("127.0.0.1", "hooks.invalid"), secret="s3cret")
        new_case(api)
        (received,) = sink.wait_for(1, timeout=120)
    assert received.headers["host"] == f"hooks.invalid:{port}"


def test_a_success_after_failures_resets_the_failure_count(tmp_path: Path) -> None:
    with running_sink() as sink, running_sandbox(tmp_path) as api:
        sink.script.extend([500, 503])
        endpoint_id = register(api, sink.url)
        new_case(api)
        sink.wait_for(1)
        _wait(lambda: api.get(f"/endpoints/{endpoint_id}/messages").json()[0]["state"] == "delivered")
        assert api.get(f"/endpoints/{endpoint_id}").json()["consecutiveFailures"] == 0


def test_deliveries_recorded_in_batches_get_one_attempt_each(tmp_path: Path) -> None:
    with running_sink() as sink, running_sandbox(tmp_path) as api:
        endpoint_id = register(api, sink.url)
        for _ in range(40):
            new_case(api)
        sink.wait_for(40)

        def delivered() -> bool:
            messages = api.get(f"/endpoints/{endpoint_id}/messages").json()
            return len(messages) == 40 and all(message["state"] == "delivered" for message in messages)

        _wait(delivered)
        log = api.get(f"/endpoints/{endpoint_id}/attempts").json()
        assert len(log) == 40
        assert {(entry["attempt"], entry["status"]) for entry in log} == {(1, 200)}
        assert len(sink.received) == 40
