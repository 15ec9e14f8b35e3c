from __future__ import annotations

import random

import pytest

from casehooks.errors import CryptoError, NotFound
from casehooks.store import Store, failures
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from tests.store.conftest import Clock
from tests.store.test_queue import add_event, claim

pytestmark = pytest.mark.integration
TRACE = "Traceback (most recent call last):\nConnectionError: patient GRUMBLEWORT not found"


def fail_once(store: Store, handler: str, error: str, *, max_attempts: int = 3) -> int:
    """One job whose ``handler`` failed with ``error`` (sealed detail as the worker seals it); returns the run's id."""
    add_event(store)
    [job] = claim(store, "w")
    aad = f"job_attempts:{job.id}:{job.attempt}:{handler}".encode()
    sealed = store.vault.seal(TRACE.encode(), aad)
    with writer(store.engine).begin() as connection:
        jobs.record_attempt(connection, job, handler, "failed", error, store.clock(), 12.5, sealed)
        jobs.fail(connection, job, "w", store.clock(), f"{handler}: {error}", max_attempts, random.Random(1))
    with store.engine.connect() as connection:
        return int(failures.recent_failures(connection, limit=1)[0]["id"])


def test_the_detail_of_a_failure_opens_only_when_revealed(store: Store, clock: Clock) -> None:
    run = fail_once(store, "records.push", "ConnectionError")
    with store.engine.connect() as connection:
        masked = failures.failure(connection, store.vault, run)
        shown = failures.failure(connection, store.vault, run, reveal=True)
    assert masked["detail"] is None and masked["has_detail"] and masked["error"] == "ConnectionError"
    assert "GRUMBLEWORT" not in repr(masked)
    assert shown["detail"] == TRACE
    assert masked["next_retry"] is not None and masked["next_retry"] > clock()


def test_a_dead_job_has_no_next_retry(store: Store) -> None:
    run = fail_once(store, "records.push", "ConnectionError", max_attempts=1)
    with store.engine.connect() as connection:
        shown = failures.failure(connection, store.vault, run)
    assert shown["job_status"] == "dead" and shown["next_retry"] is None


def test_failures_group_by_handler_and_error(store: Store) -> None:
    for handler, error in [("a", "Timeout"), ("a", "Timeout"), ("a", "KeyError"), ("b", "Timeout")]:
        fail_once(store, handler, error)
    with store.engine.connect() as connection:
        groups = [(group["handler"], group["error"], group["jobs"]) for group in failures.failure_groups(connection)]
    assert groups == [("a", "Timeout", 2), ("a", "KeyError", 1), ("b", "Timeout", 1)]


def test_an_unknown_run_is_not_found(store: Store) -> None:
    with store.engine.connect() as connection, pytest.raises(NotFound):
        failures.failure(connection, store.vault, 424242)


def test_a_detail_moved_to_another_run_does_not_open(store: Store) -> None:
    """The sealed detail is bound to its job, attempt and handler: copied onto another run it fails to open."""
    from sqlalchemy import select, update

    from casehooks.store.tables import JobAttemptRow

    first = fail_once(store, "a", "Timeout")
    second = fail_once(store, "b", "Timeout")
    with writer(store.engine).begin() as connection:
        sealed = connection.execute(select(JobAttemptRow.detail_sealed).where(JobAttemptRow.id == first)).scalar()
        connection.execute(update(JobAttemptRow).where(JobAttemptRow.id == second).values(detail_sealed=sealed))
    with store.engine.connect() as connection, pytest.raises(CryptoError):
        failures.failure(connection, store.vault, second, reveal=True)


def test_the_latest_failed_runs_page_backwards_without_gaps_or_repeats(store: Store) -> None:
    runs = [fail_once(store, "a", "Timeout") for _ in range(7)]
    seen: list[int] = []
    before: int | None = None
    with store.engine.connect() as connection:
        while True:
            page = failures.recent_failures(connection, limit=3, before=before)
            if not page:
                break
            seen += [int(run["id"]) for run in page]
            before = int(page[-1]["id"])
    assert seen == sorted(runs, reverse=True)
