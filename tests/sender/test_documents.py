from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from casehooks.sender.documents import LinkRefused, check_link, document_link

KEY = b"k" * 32
NOW = datetime(2025, 9, 3, 12, 0, tzinfo=UTC)


def _parts(link: str) -> tuple[str, int, str]:
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[1], int(query["expires"][0]), query["sig"][0]


def test_link_is_valid_for_fifteen_minutes() -> None:
    attachment_id, expires, sig = _parts(document_link("http://h.test/", "a1", KEY, NOW))
    assert attachment_id == "a1"
    check_link("a1", expires, sig, KEY, NOW + timedelta(minutes=14, seconds=59))
    with pytest.raises(LinkRefused) as refused:
        check_link("a1", expires, sig, KEY, NOW + timedelta(minutes=15))
    assert refused.value.status == 410


def test_changed_expiry_or_id_is_refused() -> None:
    _, expires, sig = _parts(document_link("http://h.test", "a1", KEY, NOW))
    for attachment_id, when in [("a2", expires), ("a1", expires + 3600)]:
        with pytest.raises(LinkRefused) as refused:
            check_link(attachment_id, when, sig, KEY, NOW)
        assert refused.value.status == 403


def test_other_key_is_refused() -> None:
    _, expires, sig = _parts(document_link("http://h.test", "a1", KEY, NOW))
    with pytest.raises(LinkRefused, match="signature"):
        check_link("a1", expires, sig, b"x" * 32, NOW)
