import pytest

from casehooks.sender.ratelimit import TokenBucket


def test_first_token_is_free_then_spaced_by_the_rate() -> None:
    bucket = TokenBucket(rate=10)
    assert bucket.reserve(0.0) == 0
    assert bucket.reserve(0.0) == pytest.approx(0.1)
    assert bucket.reserve(0.0) == pytest.approx(0.2)


def test_tokens_refill_over_time_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=2, burst=3)
    for _ in range(3):
        assert bucket.reserve(0.0) == 0
    assert bucket.reserve(100.0) == 0
    assert bucket.reserve(100.0) == 0
    assert bucket.reserve(100.0) == 0
    assert bucket.reserve(100.0) == pytest.approx(0.5)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate=0)
