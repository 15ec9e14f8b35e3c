"""Acceptance: the sandbox killed with SIGKILL mid-delivery still delivers every event after a restart."""

import time
from pathlib import Path

import httpx
import pytest

from casehooks.events import parse_event
from tests.sender.sandbox_server import DOCTOR, new_case, register, sandbox_process
from tests.sender.sink import running_sink

pytestmark = pytest.mark.acceptance

COMMENTS = 30


def test_kill_9_mid_delivery_then_restart_delivers_everything(tmp_path: Path) -> None:
    with running_sink(secret="s3cret", delay=0.2) as sink:
        sandbox = sandbox_process(tmp_path, sandbox_lease_seconds=1.5, sandbox_delivery_concurrency=4).start()
        try:
            with httpx.Client(base_url=sandbox.url, timeout=10) as api:
                register(api, sink.url, secret="s3cret", eventTypes=["ADD_CASE_COMMENT"])
                case_id = new_case(api)
                expected = set()
                for index in range(COMMENTS):
                    created = api.post(f"/cases/{case_id}/comments", json={"text": f"note {index}", "author": DOCTOR})
                    expected.add(created.json()["activityId"])
            sink.wait_for(3)
            sandbox.kill()  # SIGKILL: no shutdown, leases left behind
            delivered_before = len(sink.received)
            assert delivered_before < COMMENTS
            sandbox.start()
            deadline = time.monotonic() + 40
            seen: set[str] = set()
            while time.monotonic() < deadline and seen != expected:
                seen = {parse_event(item.body).activity.id for item in list(sink.received)}  # type: ignore[union-attr]
                time.sleep(0.1)
            assert seen == expected
            assert sink.bad_signatures == 0
            assert len(sink.received) >= COMMENTS
        finally:
            sandbox.terminate()
