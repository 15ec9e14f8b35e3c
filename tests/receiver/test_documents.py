"""Documents sent as signed URLs: fetched by the worker from allowed hosts while the link is valid."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casehooks.receiver.documents import host_allowed
from tests.loopback import serve_in_thread
from tests.processes import Server, run_cli, start_server
from tests.receiver.events import attachment_event, signed

DOCUMENT = bytes(range(256)) * 1000
SECRET = "doc-secret"


def test_host_allow_list_matches_host_and_port() -> None:
    assert host_allowed("https://files.example.org/a?sig=1", ("files.example.org",))
    assert host_allowed("https://files.example.org:443/a", ("files.example.org",))
    assert host_allowed("https://files.example.org:8443/a", ("files.example.org:8443",))
    assert host_allowed("http://127.0.0.1:8123/a", ("127.0.0.1:8123",), allow_http=True)
    assert not host_allowed("http://127.0.0.1:9999/a", ("127.0.0.1:8123",), allow_http=True)
    assert not host_allowed("https://169.254.169.254/latest", ("files.example.org",))
    assert not host_allowed("file:///etc/passwd", ("files.example.org",))


def test_a_bare_host_allows_only_the_default_port() -> None:
    for port in (22, 80, 6379, 8443):
        assert not host_allowed(f"https://files.example.org:{port}/a", ("files.example.org",))
    assert not host_allowed("https://files.example.org:99999/a", ("files.example.org",))
    assert not host_allowed("https://files.example.org:x/a", ("files.example.org",))


def test_plain_http_is_refused_unless_allowed() -> None:
    assert not host_allowed("http://files.example.org/a", ("files.example.org",))
    assert not host_allowed("http://127.0.0.1:8123/a", ("127.0.0.1:8123",))
    assert host_allowed("http://files.example.org/a", ("files.example.org",), allow_http=True)
    assert host_allowed("http://files.example.org:80/a", ("files.example.org:80",), allow_http=True)


def test_credentials_in_the_link_do_not_pass_for_the_host() -> None:
    assert not host_allowed("https://files.example.org@evil.example.net/a", ("files.example.org",))


@pytest.fixture
def document_server() -> Iterator[str]:
    calls = {"flaky": 0}

    async def ok(_: Request) -> Response:
        return Response(DOCUMENT, media_type="application/pdf")

    async def flaky(_: Request) -> Response:
        calls["flaky"] += 1
        return Response(DOCUMENT) if calls["flaky"] > 2 else Response(status_code=503)

    async def broken(_: Request) -> Response:
        return Response(status_code=500)

    app = Starlette(routes=[Route("/ok", ok), Route("/flaky", flaky), Route("/broken", broken)])
    with serve_in_thread(app) as url:
        yield url


def start(tmp_path: Path, document_server: str, **settings: object) -> Server:
    host = document_server.removeprefix("http://")
    return start_server(
        tmp_path,
        webhook_secret=SECRET,
        document_hosts=host,
        handler_retry_base_seconds=0.05,
        **{"document_allow_http": "true", **settings},
    )


def attachment_status(server: Server, case_id: str, attachment_id: str) -> str:
    case = json.loads(run_cli(server.env, "cases", "show", case_id, "--json").stdout)
    files = [file for item in case["timeline"] for file in item["attachments"]]
    return str(next(file for file in files if file["id"] == attachment_id)["content_status"])


def wait_status(server: Server, event: dict[str, object], wanted: str, timeout: float = 30) -> None:
    payload = event["payload"]
    assert isinstance(payload, dict)
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = attachment_status(server, payload["case"]["id"], payload["attachment"]["id"])
        if status == wanted:
            return
        time.sleep(0.3)
    raise AssertionError(f"attachment stayed {status!r}, wanted {wanted!r}")


def post(server: Server, event: dict[str, object]) -> None:
    body, headers = signed(event, SECRET)
    assert httpx.post(server.webhook, content=body, headers=headers).status_code == 200


@pytest.mark.acceptance
def test_url_in_content_is_downloaded_and_stored_encrypted(tmp_path: Path, document_server: str) -> None:
    server = start(tmp_path, document_server)
    try:
        event = attachment_event(f"{document_server}/flaky?sig=abc")
        post(server, event)
        wait_status(server, event, "stored")
        out = tmp_path / "doc.pdf"
        run_cli(server.env, "attachments", "get", event["payload"]["attachment"]["id"], "-o", str(out))
        assert out.read_bytes() == DOCUMENT
    finally:
        server.stop()


@pytest.mark.acceptance
def test_url_in_a_sibling_field_is_downloaded(tmp_path: Path, document_server: str) -> None:
    server = start(tmp_path, document_server)
    try:
        event = attachment_event("unused")
        del event["payload"]["attachment"]["content"]
        event["payload"]["attachment"]["downloadUrl"] = f"{document_server}/ok"
        post(server, event)
        wait_status(server, event, "stored")
        shown = json.loads(run_cli(server.env, "events", "show", event["payload"]["activity"]["id"], "--json").stdout)
        assert {"path": "payload.attachment.<undocumented key 1>", "kind": "document_url"}.items() <= next(
            d for d in shown["deviations"] if d["kind"] == "document_url"
        ).items()
    finally:
        server.stop()


@pytest.mark.acceptance
def test_host_outside_the_allow_list_is_not_fetched(tmp_path: Path, document_server: str) -> None:
    server = start_server(tmp_path, webhook_secret=SECRET, document_hosts="files.example.org")
    try:
        event = attachment_event(f"{document_server}/ok")
        post(server, event)
        wait_status(server, event, "blocked")
    finally:
        server.stop()


@pytest.mark.acceptance
def test_a_plain_http_link_is_not_fetched_by_default(tmp_path: Path, document_server: str) -> None:
    server = start(tmp_path, document_server, document_allow_http="false")
    try:
        event = attachment_event(f"{document_server}/ok")
        post(server, event)
        wait_status(server, event, "blocked")
        assert document_server not in server.output()
    finally:
        server.stop()


@pytest.mark.acceptance
def test_a_link_that_keeps_failing_is_marked_expired_after_its_window(tmp_path: Path, document_server: str) -> None:
    server = start(tmp_path, document_server, document_url_ttl_seconds=2)
    try:
        event = attachment_event(f"{document_server}/broken")
        post(server, event)
        wait_status(server, event, "expired")
        shown = json.loads(run_cli(server.env, "events", "show", event["payload"]["activity"]["id"], "--json").stdout)
        assert shown["jobs"][0]["status"] == "succeeded"
    finally:
        server.stop()


def test_a_download_without_a_length_stops_at_the_limit() -> None:
    from casehooks.receiver.documents import DownloadFailed, _at_most

    endless = (b"x" * 1000 for _ in range(10_000))
    with pytest.raises(DownloadFailed):
        for _ in _at_most(endless, 5000):
            pass
    assert b"".join(_at_most(iter([b"ab", b"cd"]), 4)) == b"abcd"


def test_a_download_that_drips_stops_at_its_total_deadline() -> None:
    from casehooks.receiver.documents import DownloadFailed, _at_most

    def dripping() -> Iterator[bytes]:
        while True:
            time.sleep(0.01)
            yield b"x"

    with pytest.raises(DownloadFailed):
        for _ in _at_most(dripping(), 10**9, seconds=0.2):
            pass
