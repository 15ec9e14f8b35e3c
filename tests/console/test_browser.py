"""The console in a real browser (Debian's chromium driven by Playwright): sign in, find a case by short id,
read its timeline, download a file, replay a failed event, and see masks in a role without PHI access.

Screenshots of the main pages go to ``$CASEHOOKS_SCREENSHOTS`` when it is set (``docs/screenshots`` for the
README), else to the test's temporary folder.
"""

from __future__ import annotations

import copy
import os
import struct
import textwrap
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.console.running import PASSWORD, PDF, Running, start_console
from tests.processes import wait_for
from tests.receiver.events import attachment_event, comment_event

pytestmark = pytest.mark.acceptance

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CASE = "ADA-C1HM17"
FAILING_APP = textwrap.dedent(
    """
    from casehooks import Receiver

    app = Receiver.from_env()


    @app.on("ADD_CASE_ATTACHMENT")
    def file_to_records(event) -> None:
        raise ConnectionError("the records system is down")
    """
)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("browser")
    (folder / "failinghooks.py").write_text(FAILING_APP)
    started = start_console(folder, app="failinghooks:app", handler_max_attempts=1)
    case = comment_event()["payload"]["case"]
    for content, name in ((PDF, "lab-results.pdf"), (png(160, 90, (36, 81, 179)), "wound-photo.png")):
        event = attachment_event(content, file_name=name)
        event["payload"]["case"] = copy.deepcopy(case)
        started.post(event)
    restricted = comment_event(text="Internal note: call the pharmacy")
    restricted["payload"]["comment"]["isRestricted"] = True
    started.post(restricted)
    yield started
    started.server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: scripts/test installs it (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CASEHOOKS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(browser: Browser, running: Running, username: str, **context: object) -> Page:
    page = browser.new_context(accept_downloads=True, **context).new_page()  # type: ignore[arg-type]
    page.goto(f"{running.server.url}/console/")
    assert page.url.endswith("/console/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    assert page.get_by_test_id("who").inner_text().startswith(username)
    return page


def test_clinician_finds_a_case_reads_its_timeline_and_downloads_a_file(
    browser: Browser, running: Running, shots: Path, tmp_path: Path
) -> None:
    page = signed_in(browser, running, "clinician")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_test_id("case-search").fill("ada-c1hm")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/console/cases/*")
    assert CASE in page.get_by_test_id("case-title").inner_text()
    texts = page.get_by_test_id("comment-text").all_inner_texts()
    assert "Patient reports chest pain XYZZY" in texts
    assert "Internal note: call the pharmacy" in texts  # clinicians see restricted items
    assert page.get_by_test_id("preview").count() == 2  # the PNG and the PDF: offered, opened on a click
    assert page.locator("img, iframe").count() == 0
    page.wait_for_load_state("networkidle")
    page.screenshot(path=shots / "case.png", full_page=True)
    item = page.get_by_test_id("file").filter(has_text="lab-results.pdf")
    with page.expect_download() as info:
        item.get_by_test_id("download").click()
    download = info.value
    assert download.suggested_filename == "lab-results.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == PDF


def test_operator_replays_a_failed_event(browser: Browser, running: Running, shots: Path) -> None:
    page = signed_in(browser, running, "operator")
    page.get_by_role("link", name="Failed", exact=True).click()
    failed = page.get_by_test_id("failed")
    rows = failed.locator("tbody tr", has_text="ADD_CASE_ATTACHMENT")
    assert rows.count() >= 1
    page.screenshot(path=shots / "failed.png", full_page=True)
    rows.first.get_by_role("button", name="Replay").click()
    page.wait_for_url("**/console/failed?notice=*")
    assert page.get_by_role("status").inner_text() == "queued 1"
    with running.api(running.admin_role) as client:
        logged = client.get("/api/audit", params={"username": "operator"}).json()["items"]
    actions = [entry["action"] for entry in logged]
    assert "replay" in actions


def test_viewer_sees_masks_instead_of_phi(browser: Browser, running: Running, shots: Path) -> None:
    page = signed_in(browser, running, "viewer")
    page.goto(f"{running.server.url}/console/cases/{CASE}")
    assert page.get_by_test_id("masked-note").is_visible()
    body = page.locator("main").inner_text()
    for phi in ("chest pain", "Ritik", "lab-results.pdf", "wound-photo.png", "call the pharmacy"):
        assert phi not in body, phi
    assert page.get_by_test_id("comment-masked").count() >= 1
    assert page.get_by_test_id("restricted-mark").count() == 1
    assert page.get_by_test_id("download").count() == 0
    assert page.get_by_test_id("preview").count() == 0
    page.screenshot(path=shots / "case-masked.png", full_page=True)
    response = page.request.get(f"{running.server.url}/console/attachments/{running.attachment_id}/file")
    assert response.status == 403


def test_admin_overview_live_events_and_audit_log(browser: Browser, running: Running, shots: Path) -> None:
    page = signed_in(browser, running, "admin")
    assert int(page.get_by_test_id("count-events").inner_text()) >= 5
    assert page.locator("svg.chart").count() >= 1
    page.screenshot(path=shots / "overview.png", full_page=True)
    page.get_by_role("link", name="Events", exact=True).click()
    rows = page.locator("table[data-live-events] tbody tr")
    before = rows.count()
    running.post(comment_event(text="arrives while the page is open"))
    expect(rows).to_have_count(before + 1, timeout=15_000)
    page.screenshot(path=shots / "events.png", full_page=True)
    page.get_by_role("link", name="Audit", exact=True).click()
    audit = page.get_by_test_id("audit").inner_text()
    assert "download_attachment" in audit
    assert "127.0.0.1" in audit  # the client address of each read
    assert "chest pain" not in audit
    page.screenshot(path=shots / "audit.png", full_page=True)


def test_case_page_fits_a_phone(browser: Browser, running: Running, shots: Path) -> None:
    page = signed_in(browser, running, "clinician", viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{running.server.url}/console/cases/{CASE}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.screenshot(path=shots / "case-phone.png", full_page=True)
    assert httpx.get(f"{running.server.url}/healthz").status_code == 200


def test_every_page_loads_without_a_content_security_policy_violation(browser: Browser, running: Running) -> None:
    page = signed_in(browser, running, "admin")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    for path in (
        "/console/",
        "/console/events",
        f"/console/cases/{CASE}",
        "/console/quarantine",
        "/console/failed",
        "/console/audit",
    ):
        page.goto(f"{running.server.url}{path}")
        page.wait_for_load_state("networkidle")
        if path.endswith(CASE):
            assert page.get_by_test_id("preview").count() == 2
    assert violations == []
    # The listener does hear a violation: an injected inline script is refused and reported.
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }")
    page.wait_for_function("() => true")
    wait_for(lambda: len(violations) > 0, timeout=120)
