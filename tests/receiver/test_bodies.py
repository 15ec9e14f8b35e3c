"""Unverified bodies against a started ``casehooks serve``: memory follows bytes received, never a header's claim;
idle and slow clients are cut off by the deadline; the process-wide budget answers 503; request heads are bounded."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEED_PHI
from tests.processes import Server, run_cli, start_server, wait_for
from tests.receiver.events import comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "bodies-secret"
CLAIM = 64 * 1024 * 1024
HEAD = (
    "POST /webhooks/carevalidate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    "content-length: {length}\r\n\r\n"
)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=120)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has answered and closed: reads until EOF (a blocking read with the 120 s ceiling)."""
    while True:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return False
        if not data:
            return True


def answer_of(sock: socket.socket) -> bytes:
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    return b"".join(chunks)


def held(server: Server) -> list[dict[str, object]]:
    listed = json.loads(run_cli(server.env, "quarantine", "list", "--limit", "1000", "--json").stdout)["items"]
    assert isinstance(listed, list)
    return listed


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path, webhook_secret=SECRET, body_timeout_seconds=2, header_timeout_seconds=2)
    yield running
    running.stop()


def test_connections_that_claim_64_mib_and_send_nothing_cost_no_memory_and_are_closed(server: Server) -> None:
    assert server.process is not None
    pid = server.process.pid
    httpx.post(server.webhook, content=b"{}", timeout=60)  # warm the request path once
    before = rss_bytes(pid)
    sockets = [connect(server) for _ in range(50)]
    try:
        for sock in sockets:
            sock.sendall(HEAD.format(length=CLAIM).encode())
        peak = before
        # Until every connection is closed, sample the server's memory.
        for sock in sockets:
            peak = max(peak, rss_bytes(pid))
            assert closed_by_server(sock)
        peak = max(peak, rss_bytes(pid))
    finally:
        for sock in sockets:
            sock.close()
    assert peak - before < 50 * 1024 * 1024
    refused = [item for item in held(server) if item["reason"] == "body_timeout"]
    assert len(refused) == 50
    assert {(item["status_code"], item["body_kept"]) for item in refused} == {(408, False)}


def test_a_body_that_stops_midway_is_408_and_nothing_of_it_is_kept(server: Server) -> None:
    body, headers = signed(comment_event(), SECRET)
    sock = connect(server)
    try:
        head = HEAD.format(length=len(body)) + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(head.replace("\r\n\r\n", "\r\n", 1).encode() + b"\r\n" + body[: len(body) // 2])
        answer = answer_of(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"body_timeout" in answer
    for value in SEED_PHI:  # the half body carried the seed's patient: none of it in the answer or the logs
        assert value.encode() not in answer
        assert value not in server.output()
    [item] = held(server)
    assert (item["reason"], item["size"], item["body_kept"]) == ("body_timeout", len(body) // 2, False)


def test_a_declared_length_over_the_limit_is_413_before_any_byte_is_read(tmp_path: Path) -> None:
    small = start_server(tmp_path, webhook_secret=SECRET, max_body_bytes=4096)
    try:
        sock = connect(small)
        try:
            sock.sendall(HEAD.format(length=CLAIM).encode())
            answer = answer_of(sock)  # the server answers and closes without waiting for the body
        finally:
            sock.close()
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"connection: close" in answer.lower()
    finally:
        small.stop()


def test_past_the_unverified_budget_new_requests_get_503_with_retry_after(tmp_path: Path) -> None:
    tight = start_server(tmp_path, webhook_secret=SECRET, unverified_budget_bytes=100_000, body_timeout_seconds=60)
    sock = connect(tight)
    try:
        # One client holds nearly all the budget with a body it never finishes; a genuine event does not fit.
        body, headers = signed(comment_event(), SECRET)
        assert len(body) > 1_000
        sock.sendall(HEAD.format(length=1_000_000).encode() + b"x" * 99_500)

        def busy() -> bool:
            response = httpx.post(tight.webhook, content=body, headers=headers, timeout=60)
            return response.status_code == 503 and response.headers.get("retry-after") == "5"

        wait_for(busy, timeout=120)
        assert "busy" in {item["reason"] for item in held(tight)}
        sock.close()
        # Once the holder is gone, its bytes are given back and genuine events pass again.
        wait_for(lambda: httpx.post(tight.webhook, content=body, headers=headers, timeout=60).status_code == 200, 120)
    finally:
        sock.close()
        tight.stop()


def test_a_genuine_event_still_passes_with_the_limits_on(server: Server) -> None:
    body, headers = signed(comment_event(), SECRET)
    response = httpx.post(server.webhook, content=body, headers=headers, timeout=60)
    assert response.status_code == 200
    chunked = httpx.post(server.webhook, content=iter([body[:100], body[100:]]), headers=headers, timeout=60)
    assert chunked.json()["status"] == "duplicate"


def test_a_head_that_never_ends_is_closed_by_the_deadline(server: Server) -> None:
    sock = connect(server)
    try:
        sock.sendall(b"POST /webhooks/carevalidate HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: a")
        assert closed_by_server(sock)
    finally:
        sock.close()


def test_an_idle_connection_that_sends_nothing_is_closed(server: Server) -> None:
    sock = connect(server)
    try:
        assert closed_by_server(sock)
    finally:
        sock.close()


@pytest.mark.parametrize(
    "extra", [{"x-big": "a" * 70_000}, {f"x-h{i}": "v" for i in range(150)}], ids=["bytes", "fields"]
)
def test_a_head_past_its_bounds_is_431(server: Server, extra: dict[str, str]) -> None:
    sock = connect(server)
    try:
        lines = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        head = f"POST /webhooks/carevalidate HTTP/1.1\r\nhost: x\r\n{lines}content-length: 2\r\n\r\n"
        sock.sendall(head.encode() + b"{}")
        answer = answer_of(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert held(server) == []
