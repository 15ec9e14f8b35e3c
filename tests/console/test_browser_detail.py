"""The console's detail pages in a real browser (Debian's chromium through Playwright): why a handler failed,
the phone layout with every action clicked, and an axe check of every page at desktop and phone sizes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from casehooks.console.access import Role
from tests.console.axe import install_axe, serious_violations
from tests.console.running import Running, start_console
from tests.console.test_browser import CASE, FAILING_APP, browser, shots, signed_in  # noqa: F401  (fixtures)
from tests.processes import wait_for

pytestmark = pytest.mark.acceptance

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("browser-detail")
    (folder / "failinghooks.py").write_text(FAILING_APP)
    started = start_console(folder, app="failinghooks:app", handler_max_attempts=1)
    with started.api(Role.ADMIN) as client:
        wait_for(lambda: client.get("/api/queue").json()["depth"].get("dead", 0) >= 1, timeout=120)
    yield started
    started.server.stop()


def test_clinician_reads_why_a_handler_failed_and_an_operator_sees_only_the_type(
    browser: Browser,  # noqa: F811
    running: Running,
    shots: Path,  # noqa: F811
) -> None:
    page = signed_in(browser, running, "clinician")
    page.get_by_role("link", name="Failed", exact=True).click()
    groups = page.get_by_test_id("failure-groups")
    expect(groups).to_contain_text("file_to_records")
    groups.get_by_role("link", name="ConnectionError").click()
    page.wait_for_url("**/console/failures/*")
    expect(page.get_by_test_id("error-type")).to_have_text("ConnectionError")
    expect(page.get_by_test_id("traceback")).to_contain_text("the records system is down")
    expect(page.get_by_test_id("traceback")).to_contain_text("Traceback (most recent call last)")
    page.screenshot(path=shots / "failure.png", full_page=True)
    detail = page.url
    operator = signed_in(browser, running, "operator")
    operator.goto(detail)
    expect(operator.get_by_test_id("error-type")).to_have_text("ConnectionError")
    expect(operator.get_by_test_id("traceback-masked")).to_be_visible()
    assert "the records system is down" not in operator.content()


def test_on_a_phone_lists_are_cards_and_every_action_can_be_clicked(
    browser: Browser,  # noqa: F811
    running: Running,
    shots: Path,  # noqa: F811
) -> None:
    page = signed_in(browser, running, "operator", **PHONE)
    page.goto(f"{running.server.url}/console/failed")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    card = page.get_by_test_id("failed").locator("tbody tr").first
    expect(card.locator(".badge")).to_be_visible()  # the job status
    page.screenshot(path=shots / "failed-phone.png", full_page=True)
    card.get_by_role("button", name="Replay").click()
    page.wait_for_url("**/console/failed?notice=*")
    expect(page.get_by_role("status")).to_have_text("queued 1")

    page.goto(f"{running.server.url}/console/quarantine")
    held = page.locator("table.list tbody tr", has=page.get_by_role("button", name="Reprocess")).first
    held.get_by_role("button", name="Reprocess").click()
    page.wait_for_url("**/console/quarantine?notice=*")

    page.goto(f"{running.server.url}/console/bulk")
    page.get_by_label("Event type").fill("ADD_CASE_COMMENT")
    page.get_by_role("button", name="Preview").first.click()
    count = page.get_by_test_id("match-count").inner_text()
    page.get_by_role("button", name=re.compile("^Confirm")).click()
    page.wait_for_url("**/console/events?notice=*")
    expect(page.get_by_role("status")).to_contain_text(f"{count} matched: queued")

    page.goto(f"{running.server.url}/console/")
    label = page.locator(".chart-box .axis").first
    assert float(label.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px")) >= 11
    page.screenshot(path=shots / "overview-phone.png", full_page=True)


def pages(running: Running, page: Page) -> list[str]:
    """Every kind of page, with real ids found through the pages themselves."""
    base = running.server.url
    page.goto(f"{base}/console/failed")
    failure = page.get_by_test_id("failed-runs").locator("a").first.get_attribute("href")
    page.goto(f"{base}/console/quarantine?status=all")
    held = page.locator("a[href^='/console/quarantine/']").first.get_attribute("href")
    event = f"/console/events/{running.comment_event_id}"
    return [
        "/console/",
        "/console/events",
        event,
        f"{event}/payload",
        "/console/cases",
        f"/console/cases/{CASE}",
        "/console/quarantine",
        str(held),
        "/console/failed",
        str(failure),
        "/console/health",
        "/console/bulk",
        "/console/bulk/replay?type=ADD_CASE_COMMENT",
        "/console/audit",
        "/console/no-such-page",
    ]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_no_page_has_a_serious_accessibility_violation(
    browser: Browser,  # noqa: F811
    running: Running,
    size: str,
) -> None:
    script = install_axe()
    viewport = DESKTOP if size == "desktop" else PHONE
    context = browser.new_context(bypass_csp=True, **viewport)
    stranger = context.new_page()
    stranger.goto(f"{running.server.url}/console/login")
    found = {"/console/login": serious_violations(stranger, script)}
    context.close()
    page = signed_in(browser, running, "admin", bypass_csp=True, **viewport)
    for path in pages(running, page):
        page.goto(f"{running.server.url}{path}")
        found[path] = serious_violations(page, script)
    viewer = signed_in(browser, running, "viewer", bypass_csp=True, **viewport)
    viewer.goto(f"{running.server.url}/console/audit")
    found["403"] = serious_violations(viewer, script)
    assert {path: violations for path, violations in found.items() if violations} == {}
    # The check does hear a violation: an image without a text alternative is a critical one.
    viewer.evaluate("() => { const i = document.createElement('img'); i.src = 'data:,'; document.body.append(i); }")
    assert [violation["id"] for violation in serious_violations(viewer, script)] == ["image-alt"]
