"""Paging and search in a real browser (Debian's chromium driven by Playwright): the events list past its first
page with its total, the one search box finding a patient by email for a PHI role only, and a bad filter shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.console.running import Running, start_console
from tests.console.test_browser import browser, signed_in
from tests.receiver.events import comment_event

pytestmark = pytest.mark.acceptance

__all__ = ["browser"]  # the module's chromium fixture, shared

EXTRA = 101  # with the two events every console starts with: one full page of 100 and three more
EMAIL = "Ritik.Parikh+02@CareValidate.com"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    started = start_console(tmp_path_factory.mktemp("lists"))
    for _ in range(EXTRA):
        started.post(comment_event())
    yield started
    started.server.stop()


def test_events_page_past_the_newest_hundred_with_the_total_and_no_row_twice(
    browser: Browser, running: Running
) -> None:
    page = signed_in(browser, running, "viewer")
    page.goto(f"{running.server.url}/console/events")
    expect(page.get_by_test_id("total").first).to_have_text(f"{EXTRA + 2} events")
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(100)
    first = rows.locator("td:first-child").all_inner_texts()
    page.get_by_test_id("older").first.click()
    expect(rows).to_have_count(EXTRA + 2 - 100)
    second = rows.locator("td:first-child").all_inner_texts()
    assert not set(first) & set(second)
    assert sorted(int(seq) for seq in first + second) == list(range(1, EXTRA + 3))
    expect(page.get_by_test_id("older")).to_have_count(0)
    page.get_by_test_id("newest").first.click()
    expect(rows).to_have_count(100)


def test_a_phi_role_finds_a_patient_by_email_and_a_viewer_is_told_it_may_not(
    browser: Browser, running: Running
) -> None:
    clinician = signed_in(browser, running, "clinician")
    clinician.goto(f"{running.server.url}/console/cases")
    clinician.get_by_test_id("case-search").fill(EMAIL)
    clinician.get_by_role("button", name="Find").click()
    expect(clinician.get_by_role("link", name="ADA-C1HM17")).to_be_visible()
    expect(clinician.get_by_test_id("total").first).to_have_text("1 cases")
    viewer = signed_in(browser, running, "viewer")
    viewer.goto(f"{running.server.url}/console/cases")
    viewer.get_by_test_id("case-search").fill(EMAIL)
    viewer.get_by_role("button", name="Find").click()
    expect(viewer.get_by_test_id("search-notice")).to_contain_text("needs the phi scope")
    expect(viewer.get_by_role("link", name="ADA-C1HM17")).to_have_count(0)
    with running.api(running.admin_role) as client:
        logged = client.get("/api/audit", params={"username": "clinician"})
    assert "search_phi" in [entry["action"] for entry in logged.json()["items"]]
    assert "parikh" not in logged.text.lower()


def test_an_event_id_in_the_search_box_opens_the_event(browser: Browser, running: Running) -> None:
    page = signed_in(browser, running, "operator")
    page.goto(f"{running.server.url}/console/cases")
    page.get_by_test_id("case-search").fill(running.comment_event_id)
    page.get_by_role("button", name="Find").click()
    page.wait_for_url(f"**/console/events/{running.comment_event_id}")


def test_a_bad_filter_shows_its_error_with_422(browser: Browser, running: Running) -> None:
    page = signed_in(browser, running, "viewer")
    response = page.goto(f"{running.server.url}/console/events?since=not-a-day")
    assert response is not None
    assert response.status == 422
    expect(page.get_by_text("since: not a date")).to_be_visible()
    page.goto(f"{running.server.url}/console/events")
    page.get_by_test_id("type").select_option("ADD_CASE_COMMENT")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("total").first).to_have_text(f"{EXTRA + 1} events")
