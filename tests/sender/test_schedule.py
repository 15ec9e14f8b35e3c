import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casehooks.sender.schedule import RetrySchedule, is_retryable, parse_retry_after


def test_ceilings_double_from_the_base_up_to_the_cap() -> None:
    schedule = RetrySchedule(base_seconds=2, cap_seconds=3600, max_attempts=12)
    assert [schedule.ceiling(n) for n in range(1, 13)] == [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600]


@given(attempt=st.integers(min_value=1, max_value=500), seed=st.integers())
def test_delay_is_within_zero_and_the_ceiling(attempt: int, seed: int) -> None:
    schedule = RetrySchedule(max_attempts=1000)
    delay = schedule.next_delay(attempt, random.Random(seed))
    assert delay is not None
    assert 0 <= delay <= schedule.ceiling(attempt)


def test_last_attempt_gives_up() -> None:
    schedule = RetrySchedule(max_attempts=3)
    assert schedule.next_delay(2, random.Random(0)) is not None
    assert schedule.next_delay(3, random.Random(0)) is None


def test_retry_after_is_a_lower_bound_capped() -> None:
    schedule = RetrySchedule(base_seconds=1, cap_seconds=60)
    assert schedule.next_delay(1, random.Random(0), retry_after=30) == 30
    assert schedule.next_delay(1, random.Random(0), retry_after=10_000) == 60


def test_full_jitter_spreads_delays() -> None:
    schedule = RetrySchedule(base_seconds=10)
    delays = {schedule.next_delay(3, random.Random(seed)) for seed in range(50)}
    assert len(delays) == 50


@pytest.mark.parametrize(
    ("status", "error", "retry"),
    [
        (500, None, True),
        (503, None, True),
        (429, None, True),
        (None, "timeout", True),
        (None, "connect", True),
        (400, None, False),
        (401, None, False),
        (404, None, False),
        (410, None, False),
    ],
)
def test_what_is_retried(status: int | None, error: str | None, retry: bool) -> None:
    assert is_retryable(status, error) is retry


def test_retry_after_parsing() -> None:
    assert parse_retry_after("5") == 5
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after(None) is None
