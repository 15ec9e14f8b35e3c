"""Sign-in, cookies and CSRF of the pages, over real HTTP (the browser tests drive the pages themselves)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.console.running import PASSWORD, Running, start_console

pytestmark = pytest.mark.acceptance


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    started = start_console(tmp_path_factory.mktemp("pages"))
    yield started
    started.server.stop()


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/console/login").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', form)
    assert nonce
    return client.post("/console/login", data={"nonce": nonce[1], "username": username, "password": password})


def test_pages_send_a_stranger_to_the_sign_in(running: Running) -> None:
    with httpx.Client(base_url=running.server.url) as client:
        response = client.get("/console/cases")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fcases"


def test_sign_in_sets_an_http_only_strict_session_cookie(running: Running) -> None:
    with httpx.Client(base_url=running.server.url) as client:
        response = sign_in(client, "viewer")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/"
        cookie = next(value for value in response.headers.get_list("set-cookie") if "casehooks_session" in value)
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert client.get("/console/").status_code == 200


def test_wrong_password_and_missing_nonce_are_refused(running: Running) -> None:
    with httpx.Client(base_url=running.server.url) as client:
        assert "error=wrong" in sign_in(client, "viewer", "not the password").headers["location"]
        forged = client.post("/console/login", data={"username": "viewer", "password": PASSWORD})
        assert "error=expired" in forged.headers["location"]
        assert "casehooks_session" not in client.cookies


def test_a_form_post_without_the_csrf_token_changes_nothing(running: Running, tmp_path: Path) -> None:
    with httpx.Client(base_url=running.server.url) as client:
        sign_in(client, "operator")
        refused = client.post(f"/console/events/{running.comment_event_id}/replay", data={"csrf": "forged"})
        assert refused.status_code == 403
        page = client.get(f"/console/events/{running.comment_event_id}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf
        done = client.post(f"/console/events/{running.comment_event_id}/replay", data={"csrf": csrf[1]})
        assert done.status_code == 303
        assert "queued" in done.headers["location"]


def test_the_webhook_path_is_untouched_by_the_console(running: Running) -> None:
    response = httpx.post(running.server.webhook, content=b"{}", headers={"x-cv-signature": "0" * 64})
    assert response.status_code == 401
    assert response.json()["status"] == "refused"
    assert "set-cookie" not in response.headers
