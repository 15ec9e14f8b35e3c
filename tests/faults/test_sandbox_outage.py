"""The sandbox through a receiver outage: nothing recorded meanwhile is lost, retried creates are not doubled.

Replays the reported incident: an endpoint failing with 503 while activities keep coming (116 of them), past
the old 20-attempt disabling threshold, with a manual disable and re-enable in the middle and every create call
sent twice under one idempotency key (a client retrying after a lost answer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.sender.sandbox_server import DOCTOR, PATIENT, running_sandbox
from tests.sender.sink import running_sink

pytestmark = pytest.mark.acceptance

ACTIVITIES = 116
CASE = {"organizationId": "652f45e9-eb17-4955-8197-4170e375327f", "productBundle": "B-GLP", "submitter": PATIENT}


def _wait(predicate: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _twice(api: httpx.Client, path: str, body: dict[str, object], key: str) -> str:
    """POST with an idempotency key, then retry as a client whose answer was lost; both answers agree."""
    first = api.post(path, json=body, headers={"Idempotency-Key": key})
    second = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201, first.text
    assert first.json() == second.json()
    activity_id: str = first.json()["activityId"]
    return activity_id


def test_a_receiver_outage_loses_no_activity(tmp_path: Path) -> None:
    # Retries are sped up (FAST) so the outage lasts seconds, not minutes; the attempt budget is raised to match,
    # as the default schedule (12 attempts up to an hour apart) spans far longer than any of these outages.
    settings = {"sandbox_delivery_concurrency": 4, "sandbox_max_attempts": 100_000}
    with running_sink() as sink, running_sandbox(tmp_path, **settings) as api:
        sink.script.extend([503] * 1_000_000)  # the receiver is down until the script is cleared
        endpoint_id = api.post("/endpoints", json={"url": sink.url}).json()["id"]

        def endpoint() -> dict[str, object]:
            found: dict[str, object] = api.get(f"/endpoints/{endpoint_id}").json()
            return found

        made: list[str] = []
        case_id = ""
        for index in range(ACTIVITIES):
            if index % 4 == 0:
                made.append(_twice(api, "/cases", CASE, f"case-{index}"))
                case_id = api.post("/cases", json=CASE, headers={"Idempotency-Key": f"case-{index}"}).json()["id"]
            else:
                status = "ASSIGNED" if index % 2 else "IN_PROGRESS"
                made.append(
                    _twice(api, f"/cases/{case_id}/status", {"status": status, "actor": DOCTOR}, f"status-{index}")
                )
            if index == 40:
                _wait(lambda: int(endpoint()["consecutiveFailures"]) > 20)  # past the old threshold
                assert endpoint()["enabled"] is True
                api.patch(f"/endpoints/{endpoint_id}", json={"enabled": False})
            if index == 80:
                api.patch(f"/endpoints/{endpoint_id}", json={"enabled": True})
        assert len(set(made)) == ACTIVITIES
        sink.script.clear()  # the receiver is back

        def delivered() -> int:
            return len(api.get(f"/endpoints/{endpoint_id}/messages", params={"state": "delivered"}).json())

        _wait(lambda: delivered() == ACTIVITIES, timeout=180)
        messages = api.get(f"/endpoints/{endpoint_id}/messages").json()
        assert len(messages) == ACTIVITIES
        undelivered = [m for m in messages if m["state"] != "delivered"]
        assert undelivered == []
        received = {item.body for item in sink.received}
        assert all(any(a.encode() in body for body in received) for a in made)
