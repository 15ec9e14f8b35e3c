"""The console's detail pages and actions over real HTTP: return to the asked page after sign-in, distinct 403
and 404 pages.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.console.running import PASSWORD, Running, start_console

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    started = start_console(tmp_path_factory.mktemp("detail"))
    yield started
    started.server.stop()


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
