from __future__ import annotations

from datetime import timedelta

import pytest

from casehooks.store import Store, throttle
from casehooks.store.engine import writer
from tests.store.conftest import Clock

pytestmark = pytest.mark.integration
WINDOW = timedelta(minutes=15)


def fail(store: Store, clock: Clock, subject: str, times: int, limit: int = 5) -> bool:
    locked = False
    for _ in range(times):
        with writer(store.engine).begin() as connection:
            locked = throttle.record_failure(connection, subject, limit=limit, window=WINDOW, now=clock())
    return locked


def is_locked(store: Store, clock: Clock, subject: str) -> bool:
    with store.engine.connect() as connection:
        return throttle.locked(connection, [subject], clock())


def test_the_limit_of_failures_locks_the_subject_until_the_window_passes(store: Store, clock: Clock) -> None:
    assert not fail(store, clock, "user:ada", 4)
    assert not is_locked(store, clock, "user:ada")
    assert fail(store, clock, "user:ada", 1)
    assert is_locked(store, clock, "user:ada")
    assert not is_locked(store, clock, "user:bob")
    clock.advance(WINDOW.total_seconds() - 1)
    assert is_locked(store, clock, "user:ada")
    clock.advance(1)
    assert not is_locked(store, clock, "user:ada")


def test_failures_spread_wider_than_the_window_never_lock(store: Store, clock: Clock) -> None:
    for _ in range(10):
        assert not fail(store, clock, "addr:10.0.0.1", 2)
        clock.advance(WINDOW.total_seconds())
    assert not is_locked(store, clock, "addr:10.0.0.1")


def test_failures_while_locked_do_not_extend_the_lock(store: Store, clock: Clock) -> None:
    fail(store, clock, "user:ada", 5)
    clock.advance(WINDOW.total_seconds() - 60)
    fail(store, clock, "user:ada", 50)
    clock.advance(60)
    assert not is_locked(store, clock, "user:ada")


def test_clearing_lifts_a_lock_and_forgets_the_count(store: Store, clock: Clock) -> None:
    fail(store, clock, "user:ada", 5)
    with writer(store.engine).begin() as connection:
        assert throttle.clear(connection, "user:ada")
        assert not throttle.clear(connection, "user:ada")
    assert not is_locked(store, clock, "user:ada")
    assert not fail(store, clock, "user:ada", 4)
