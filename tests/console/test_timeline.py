"""The case timeline in the console, over real HTTP: paged cards linking to their events, files opened on demand
and audited one row per file actually opened (never per page view)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from casehooks.console.access import Role
from tests.console.running import PDF, Running, start_console
from tests.console.test_pages import sign_in
from tests.receiver.events import attachment_event

pytestmark = pytest.mark.acceptance

FILES = 10


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    started = start_console(tmp_path_factory.mktemp("timeline"))
    # Ten more files on the seed attachment's case: a page that loaded its previews would read all of them.
    for index in range(FILES):
        started.post(attachment_event(PDF, file_name=f"scan-{index}.pdf"))
    yield started
    started.server.stop()


def case_id() -> str:
    return str(attachment_event(b"")["payload"]["case"]["id"])


def audit_actions(running: Running, username: str) -> Counter[str]:
    """What ``username`` read, by audit action (signing in aside)."""
    with running.api(running.admin_role) as client:
        entries = client.get("/api/audit", params={"username": username}).json()["items"]
    return Counter(entry["action"] for entry in entries if entry["action"] != "sign_in")


def test_a_page_view_is_one_audit_row_and_each_opened_file_one_more(running: Running) -> None:
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        sign_in(client, "clinician")
        page = client.get(f"/console/cases/{case_id()}")
        assert page.status_code == 200
        previews = re.findall(r'href="(/console/attachments/[^"]+/file\?inline=1)"', page.text)
        assert len(previews) == FILES + 1
        assert "<img" not in page.text and "<iframe" not in page.text
        assert audit_actions(running, "clinician") == Counter({"read_case": 1})
        opened = client.get(previews[0])
        assert (opened.status_code, opened.content) == (200, PDF)
    assert audit_actions(running, "clinician") == Counter({"read_case": 1, "download_attachment": 1})


def test_every_card_links_to_its_event(running: Running) -> None:
    with running.api(Role.CLINICIAN) as client:
        cards = client.get(f"/api/cases/{case_id()}", params={"limit": 500}).json()["timeline"]
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        sign_in(client, "viewer")
        page = client.get(f"/console/cases/{case_id()}").text
    linked = re.findall(r'href="/console/events/([^"]+)" data-testid="event-link"', page)
    assert sorted(linked) == sorted(card["event_id"] for card in cards)
    assert len(linked) == FILES + 1


def test_the_api_pages_a_timeline_and_refuses_a_forged_cursor(running: Running) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 4}
    with running.api(Role.VIEWER) as client:
        while True:
            shown = client.get(f"/api/cases/{case_id()}", params=params).json()
            assert shown["page"]["total"] == FILES + 1
            assert len(shown["timeline"]) <= 4
            seen = [card["id"] for card in shown["timeline"]] + seen
            if shown["page"]["older"] is None:
                break
            params = {"limit": 4, "before": shown["page"]["older"]}
        forged = client.get(f"/api/cases/{case_id()}", params={"before": "eyJzZWxlY3QiOjF9"})
    assert len(seen) == len(set(seen)) == FILES + 1
    assert forged.status_code == 400
    assert "eyJ" not in forged.text


def test_the_console_pages_the_timeline_too(running: Running) -> None:
    with httpx.Client(base_url=running.server.url, timeout=60) as client:
        sign_in(client, "viewer")
        first = client.get(f"/console/cases/{case_id()}").text
        assert 'data-testid="older"' not in first  # eleven entries fit one page of fifty
        assert f"{FILES + 1} of {FILES + 1} entries" in first
        refused = client.get(f"/console/cases/{case_id()}", params={"before": "not-a-cursor"})
    assert refused.status_code == 400
