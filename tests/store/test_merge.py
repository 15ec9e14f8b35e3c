from __future__ import annotations

from datetime import UTC, datetime

from casehooks.store.merge import Mention, merge, stamps_for

EARLY = datetime(2025, 9, 1, tzinfo=UTC)
LATE = datetime(2025, 9, 5, tzinfo=UTC)


def mention(rank: datetime | None, **details: str) -> Mention:
    return Mention("people", "p1", {}, details, rank)


def test_a_field_the_mention_lacks_is_kept() -> None:
    stored = mention(EARLY, email="a@example.org", city="Oslo")
    merged = merge(mention(LATE, city="Bergen"), stored.details, stamps_for(stored))
    assert merged.details == {"email": "a@example.org", "city": "Bergen"}


def test_a_stale_value_never_overwrites_a_newer_one_but_fills_a_gap() -> None:
    stored = mention(LATE, city="Bergen")
    merged = merge(mention(EARLY, city="Oslo", email="a@example.org"), stored.details, stamps_for(stored))
    assert merged.details == {"city": "Bergen", "email": "a@example.org"}
    assert merged.stamps["details.city"] == LATE.isoformat()


def test_an_unranked_mention_never_outranks_a_ranked_value() -> None:
    stored = mention(EARLY, city="Oslo")
    assert merge(mention(None, city="Bergen"), stored.details, stamps_for(stored)).details == {"city": "Oslo"}
    unranked = mention(None, city="Oslo")
    assert merge(mention(EARLY, city="Bergen"), unranked.details, stamps_for(unranked)).details == {"city": "Bergen"}
