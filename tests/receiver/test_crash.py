"""``kill -9`` of the receiver in the middle of a stream loses no event that was answered 2xx."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import run_cli, start_server
from tests.receiver.events import comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "crash-secret"


def test_kill_9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret=SECRET)
    events = [comment_event() for _ in range(400)]
    acknowledged: set[str] = set()
    lock = threading.Lock()

    def send(chunk: list[dict[str, object]]) -> None:
        with httpx.Client(timeout=10) as client:
            for event in chunk:
                body, headers = signed(event, SECRET)  # type: ignore[arg-type]
                try:
                    response = client.post(server.webhook, content=body, headers=headers)
                except httpx.TransportError:
                    return  # the server is gone; unanswered events are the sender's to retry
                if response.status_code == 200:
                    with lock:
                        acknowledged.add(response.json()["id"])

    threads = [threading.Thread(target=send, args=(events[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 60 and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    server.stop(kill=True)
    for thread in threads:
        thread.join()

    stored = json.loads(run_cli(server.env, "events", "list", "--limit", "10000", "--json").stdout)["items"]
    stored_ids = {item["id"] for item in stored}
    assert len(acknowledged) >= 60
    assert acknowledged <= stored_ids
    assert len(stored_ids) < len(events)  # the kill really cut the stream short

    server.start()
    try:
        remaining = [e for e in events if e["payload"]["activity"]["id"] not in stored_ids]  # type: ignore[index]
        send(remaining)
        final = json.loads(run_cli(server.env, "events", "list", "--limit", "10000", "--json").stdout)["items"]
        assert sorted(item["id"] for item in final) == sorted(
            e["payload"]["activity"]["id"]
            for e in events  # type: ignore[index]
        )
    finally:
        server.stop()
