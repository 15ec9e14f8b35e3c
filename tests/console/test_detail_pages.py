"""The console's detail pages and actions over real HTTP: why a handler failed (sealed detail for PHI roles
only), payloads masked by role, held requests, health, bulk actions with a confirmation bound to what was
previewed, return to the asked page after sign-in, and distinct 403 and 404 pages.
"""

from __future__ import annotations

import contextlib
import html
import re
import textwrap
from collections.abc import Iterator

import httpx
import pytest

from casehooks.console.access import Role
from tests.console.running import PASSWORD, SECRET, Running, start_console
from tests.processes import run_cli, wait_for
from tests.receiver.events import comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET_WORDS = ("XYZZY", "zebulon", "Ritik", "1998-12-17", "GRUMBLEWORT")
FAILING_APP = textwrap.dedent(
    """
    from casehooks import Receiver

    app = Receiver.from_env()


    @app.on("ADD_CASE_ATTACHMENT")
    def file_to_records(event) -> None:
        raise ConnectionError("records system refused patient GRUMBLEWORT")
    """
)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("detail")
    (folder / "failinghooks.py").write_text(FAILING_APP)
    started = start_console(folder, app="failinghooks:app", handler_max_attempts=1)
    with started.api(Role.ADMIN) as client:
        wait_for(lambda: client.get("/api/queue").json()["depth"].get("dead", 0) >= 1, timeout=120)
    yield started
    started.server.stop()


def audit_actions(running: Running, username: str) -> list[str]:
    with running.api(running.admin_role) as client:
        return [entry["action"] for entry in client.get("/api/audit", params={"username": username}).json()["items"]]


def first_link(page: str, prefix: str) -> str:
    found = re.search(rf'href="({re.escape(prefix)}[^"]*)"', page)
    assert found, prefix
    return html.unescape(found[1])


def sign_in(client: httpx.Client, username: str, login: str = "/console/login", **form: str) -> httpx.Response:
    page = client.get(login).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)
    assert nonce
    sent = {"nonce": nonce[1], "username": username, "password": PASSWORD}
    kept = re.search(r'name="next" value="([^"]+)"', page)
    if kept:
        sent["next"] = kept[1].replace("&amp;", "&")
    return client.post("/console/login", data={**sent, **form})


@contextlib.contextmanager
def signed_in(running: Running, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        assert sign_in(client, username).status_code == 303
        yield client


def test_sign_in_returns_to_the_page_that_was_asked_for(running: Running) -> None:
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        asked = client.get("/console/events", params={"type": "ADD_CASE_COMMENT", "status": "succeeded"})
        assert asked.status_code == 303
        login = asked.headers["location"]
        assert login.startswith("/console/login?next=")
        answered = sign_in(client, "viewer", login)
        assert answered.headers["location"] == "/console/events?type=ADD_CASE_COMMENT&status=succeeded"


def test_a_wrong_password_keeps_the_page_to_return_to(running: Running) -> None:
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        login = client.get("/console/quarantine").headers["location"]
        wrong = sign_in(client, "viewer", login, password="not the password")
        assert wrong.headers["location"] == "/console/login?error=wrong&next=%2Fconsole%2Fquarantine"
        assert sign_in(client, "viewer", wrong.headers["location"]).headers["location"] == "/console/quarantine"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console/",
        "//evil.example/console/",
        "/console/\\\\evil.example",
        "/\\evil.example",
        "/api/me",
        "/console/login?next=https://evil.example",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_sends_the_new_session_off_the_console(running: Running, target: str) -> None:
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        page = client.get("/console/login", params={"next": target}).text
        assert 'name="next"' not in page
        answered = sign_in(client, "viewer", next=target)
        assert answered.headers["location"] == "/console/"


def test_forbidden_and_not_found_are_distinct_pages_with_the_navigation(running: Running) -> None:
    with signed_in(running, "viewer") as viewer:
        forbidden = viewer.get("/console/audit")
        missing = viewer.get("/console/events/no-such-event")
        nowhere = viewer.get("/console/no-such-page")
    assert forbidden.status_code == 403 and 'data-testid="forbidden"' in forbidden.text
    assert "<nav>" in forbidden.text and "viewer" in forbidden.text
    for answer in (missing, nowhere):
        assert answer.status_code == 404 and 'data-testid="not-found"' in answer.text
        assert "<nav>" in answer.text and 'data-testid="forbidden"' not in answer.text
    with httpx.Client(base_url=running.server.url, timeout=60) as stranger:
        unknown = stranger.get("/console/no-such-page")
        api = stranger.get("/api/no-such-route")
    assert unknown.status_code == 404 and "<nav>" not in unknown.text and "/console/login" in unknown.text
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"


def test_failure_detail_shows_the_type_to_all_and_the_sealed_message_to_phi_roles_only(running: Running) -> None:
    with signed_in(running, "operator") as operator:
        failed = operator.get("/console/failed").text
        assert "file_to_records" in failed and "ConnectionError" in failed
        detail_link = first_link(failed, "/console/failures/")
        masked = operator.get(detail_link).text
    assert "ConnectionError" in masked and "file_to_records" in masked
    assert 'data-testid="traceback-masked"' in masked
    assert "GRUMBLEWORT" not in masked and "Traceback" not in masked
    assert "read_failure_detail" not in audit_actions(running, "operator")
    with signed_in(running, "clinician") as clinician:
        shown = clinician.get(detail_link).text
    assert "records system refused patient GRUMBLEWORT" in shown and "Traceback (most recent call last)" in shown
    assert "read_failure_detail" in audit_actions(running, "clinician")


def test_the_failed_page_lists_dead_or_retrying_events_with_a_pager_and_refuses_an_unknown_state(
    running: Running,
) -> None:
    with signed_in(running, "viewer") as viewer:
        dead = viewer.get("/console/failed").text
        retrying = viewer.get("/console/failed", params={"state": "failed"}).text
        bogus = viewer.get("/console/failed", params={"state": "everything"})
        bad_cursor = viewer.get("/console/failed", params={"runs_before": "x1"})
        lists = [viewer.get(f"/console/{name}").text for name in ("events", "cases", "quarantine")]
    listed = dead.split('data-testid="failed"')[1].split("</table>")[0]
    assert "ADD_CASE_ATTACHMENT" in listed and 'data-testid="total"' in dead
    assert "ADD_CASE_ATTACHMENT" not in retrying.split('data-testid="failed"')[1].split("</table>")[0]
    assert bogus.status_code == 422 and bad_cursor.status_code == 422
    # A page's title is its name only: no markup of the pager inside <title>.
    for page in (dead, retrying, *lists):
        title = page.split("<title>")[1].split("</title>")[0]
        assert "<" not in title and "nav" not in title


def test_failures_are_grouped_by_handler_and_error(running: Running) -> None:
    with signed_in(running, "viewer") as viewer:
        page = viewer.get("/console/failed").text
    groups = page.split('data-testid="failure-groups"')[1].split("</table>")[0]
    assert groups.count("<tr><td") == 1
    assert "file_to_records" in groups and "ConnectionError" in groups
    assert "Retry dead" not in groups  # a viewer has no actions


def test_payload_is_masked_by_role_and_a_reveal_is_audited(running: Running) -> None:
    event_id = running.comment_event_id
    with signed_in(running, "viewer") as viewer:
        masked = viewer.get(f"/console/events/{event_id}/payload").text
        refused = viewer.get(f"/console/events/{event_id}/payload", params={"reveal": "1"})
    assert "ADD_CASE_COMMENT" in masked and "•••" in masked and 'data-testid="reveal"' not in masked
    assert not any(word in masked for word in SECRET_WORDS)
    assert refused.status_code == 403 and "XYZZY" not in refused.text
    with signed_in(running, "clinician") as clinician:
        still_masked = clinician.get(f"/console/events/{event_id}/payload").text
        assert "XYZZY" not in still_masked and 'data-testid="reveal"' in still_masked
        before = audit_actions(running, "clinician").count("read_payload")
        revealed = clinician.get(f"/console/events/{event_id}/payload", params={"reveal": "1"}).text
    assert "Patient reports chest pain XYZZY" in html.unescape(revealed)
    assert audit_actions(running, "clinician").count("read_payload") == before + 1


def test_an_events_request_headers_are_kept_sealed_without_credentials_and_shown_by_role(running: Running) -> None:
    event = comment_event(text="with headers")
    body, headers = signed(event, SECRET)
    headers |= {
        "authorization": "Bearer BEARER-SHOULD-VANISH",
        "x-platform-token": "TOKEN-SHOULD-VANISH",
        "x-forwarded-for": "203.0.113.77",
        "user-agent": "cv-platform/9.9",
    }
    assert httpx.post(running.server.webhook, content=body, headers=headers, timeout=30).status_code == 200
    event_id = event["payload"]["activity"]["id"]  # type: ignore[index]
    with signed_in(running, "viewer") as viewer:
        masked = html.unescape(viewer.get(f"/console/events/{event_id}/payload").text)
    assert "x-forwarded-for" in masked and "x-cv-signature" in masked and "application/json" in masked
    assert "203.0.113.77" not in masked and "cv-platform/9.9" not in masked
    with signed_in(running, "clinician") as clinician:
        revealed = html.unescape(clinician.get(f"/console/events/{event_id}/payload", params={"reveal": "1"}).text)
    assert "203.0.113.77" in revealed and "cv-platform/9.9" in revealed and "[not stored]" in revealed
    for page in (masked, revealed):
        assert "VANISH" not in page
    # Sealed at rest: neither the credentials nor the client's address are anywhere in the database's bytes.
    stored = b"".join(path.read_bytes() for path in running.server.cwd.rglob("*.db*") if path.is_file())
    assert stored and b"203.0.113.77" not in stored and b"VANISH" not in stored
    assert "VANISH" not in running.server.log.read_text()


def test_a_held_request_has_a_page_linking_to_the_event_it_became(running: Running) -> None:
    event = comment_event(text="held then accepted XYZZY")
    body, headers = signed(event, "a-secret-the-platform-used-by-mistake")
    assert httpx.post(running.server.webhook, content=body, headers=headers, timeout=30).status_code == 401
    with signed_in(running, "operator") as operator:
        listed = operator.get("/console/quarantine").text
        record_link = first_link(listed, "/console/quarantine/")
        record_id = record_link.rsplit("/", 1)[1]
        before = operator.get(record_link).text
        assert "auth_mismatch" in before and "x-cv-signature" in before and "XYZZY" not in before
        assert 'data-testid="became"' not in before
        run_cli(running.server.env, "quarantine", "reprocess", record_id, "--trust")
        after = operator.get(record_link).text
    event_id = event["payload"]["activity"]["id"]  # type: ignore[index]
    assert f'<a href="/console/events/{event_id}" data-testid="became">' in after
    with signed_in(running, "viewer") as viewer:
        assert viewer.get("/console/quarantine/no-such-record").status_code == 404


def test_health_and_the_overview_count_accepted_refused_and_failed_in_the_chosen_range(running: Running) -> None:
    with signed_in(running, "viewer") as viewer:
        health = viewer.get("/console/health", params={"range": "1h"}).text
        overview = viewer.get("/console/", params={"range": "7d"}).text
    per_handler = health.split('data-testid="by-handler"')[1].split("</table>")[0]
    assert "file_to_records" in per_handler and "0.0 %" in per_handler
    assert "ADD_CASE_ATTACHMENT" in health.split('data-testid="by-event-type"')[1]
    assert re.search(r"accepted <strong>[1-9]", overview) and re.search(r"refused <strong>[1-9]", overview)
    assert re.search(r"failed <strong>[1-9]", overview) and "last 7d" in overview


def preview(client: httpx.Client, action: str, **filters: str) -> tuple[int, dict[str, str]]:
    page = client.get(f"/console/bulk/{action}", params=filters)
    assert page.status_code == 200, page.status_code
    count = int(re.search(r'data-testid="match-count">(\d+)<', page.text)[1])  # type: ignore[index]
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return count, {name: html.unescape(value) for name, value in form.items()}


def test_bulk_replay_by_filter_previews_then_applies_what_was_confirmed(running: Running) -> None:
    with signed_in(running, "operator") as operator:
        count, form = preview(operator, "replay", type="ADD_CASE_COMMENT")
        assert count >= 1
        done = operator.post("/console/bulk/replay", data=form)
        assert done.status_code == 303
        assert html.unescape(done.headers["location"]).startswith("/console/events?notice=")
        assert f"{count}%20matched%3A%20queued%20{count}" in done.headers["location"]
    assert "bulk_replay" in audit_actions(running, "operator")


def test_a_confirmation_is_refused_when_the_selection_changed_since_the_preview(running: Running) -> None:
    with signed_in(running, "operator") as operator:
        _, form = preview(operator, "replay", type="ADD_CASE_COMMENT")
        running.post(comment_event())
        stale = operator.post("/console/bulk/replay", data=form)
        assert stale.status_code == 303 and stale.headers["location"].startswith("/console/bulk/replay?")
        assert "selection+changed" in stale.headers["location"]
        widened = {**form, "type": ""}
        assert operator.post("/console/bulk/replay", data=widened).headers["location"].startswith("/console/bulk/")
    assert audit_actions(running, "operator").count("bulk_replay") <= 1


def test_bulk_retry_dead_by_handler_and_error_and_a_viewer_may_not(running: Running) -> None:
    with signed_in(running, "operator") as operator:
        none, _ = preview(operator, "retry", handler="no_such_handler")
        group_link = first_link(operator.get("/console/failed").text, "/console/bulk/retry?handler=")
        filters = dict(httpx.URL(group_link).params)
        assert filters["handler"].endswith("file_to_records") and filters["error"] == "ConnectionError"
        count, form = preview(operator, "retry", **filters)
        assert none == 0 and count >= 1
        forged = operator.post("/console/bulk/retry", data={**form, "csrf": "forged"})
        assert forged.status_code == 403
        done = operator.post("/console/bulk/retry", data=form)
        assert f"queued%20{count}" in done.headers["location"]
    with signed_in(running, "viewer") as viewer:
        assert viewer.get("/console/bulk/retry").status_code == 403
        assert viewer.get("/console/bulk").status_code == 403
        assert viewer.get("/console/bulk/delete-everything").status_code == 404


def test_bulk_reprocess_by_reason(running: Running) -> None:
    body, headers = signed(comment_event(), SECRET)
    assert httpx.post(running.server.webhook, content=body[:-1], headers=headers, timeout=30).status_code == 401
    with signed_in(running, "operator") as operator:
        count, form = preview(operator, "reprocess", reason="auth_mismatch")
        assert count >= 1
        done = operator.post("/console/bulk/reprocess", data=form)
    assert done.headers["location"].startswith("/console/quarantine?notice=")
    assert f"{count}%20matched%3A%20refused%20{count}" in done.headers["location"]


def test_the_apis_retry_of_every_dead_job_queues_only_the_count_the_caller_saw(running: Running) -> None:
    def settled_dead() -> int:
        # Earlier tests queue dead jobs again and the failing handler kills them anew: wait until none is left
        # on its way, so the count read is the count the retry meets.
        depth = client.get("/api/queue").json()["depth"]
        on_its_way = sum(depth.get(state, 0) for state in ("queued", "failed", "running"))
        return -1 if on_its_way else int(depth.get("dead", 0))

    with running.api(Role.VIEWER) as viewer:
        assert viewer.post("/api/queue/retry-dead", params={"expected": 0}).status_code == 403
    with running.api(Role.OPERATOR) as client:
        wait_for(lambda: settled_dead() >= 1, timeout=120)
        dead = settled_dead()
        assert client.post("/api/queue/retry-dead").status_code == 422  # the count is not optional
        stale = client.post("/api/queue/retry-dead", params={"expected": dead + 1})
        assert stale.status_code == 409
        assert stale.json()["found"] == dead
        assert client.get("/api/queue").json()["depth"]["dead"] == dead  # nothing was queued
        assert client.post("/api/queue/retry-dead", params={"expected": dead}).json() == {"queued": dead}


def test_no_phi_reaches_the_server_log_or_the_audit_log(running: Running) -> None:
    """Run last in this module: after failure details, payloads and held requests were revealed and bulk-acted on."""
    with running.api(running.admin_role) as client:
        audit = client.get("/api/audit", params={"limit": 1000}).text
    for text in (running.server.output(), audit):
        assert not any(word in text for word in SECRET_WORDS)
    assert "records system refused" not in running.server.output()
