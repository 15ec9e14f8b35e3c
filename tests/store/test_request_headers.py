"""What is kept of an accepted event's request headers (store/request_headers.py)."""

from __future__ import annotations

import pytest

from casehooks.store import request_headers
from casehooks.store.request_headers import NOT_STORED, kept, masked


@pytest.mark.parametrize(
    "name",
    ["Authorization", "Cookie", "X-Api-Key", "x-shared-key", "X-Platform-Token", "x-webhook-secret", "X-Auth-Id"],
)
def test_a_credential_keeps_its_name_and_loses_its_value(name: str) -> None:
    assert kept({name: "hunter2", "Content-Type": "application/json"}) == {
        name.lower(): NOT_STORED,
        "content-type": "application/json",
    }


def test_the_static_secret_header_is_a_credential_whatever_its_name() -> None:
    assert kept({"X-Hello": "world"}, frozenset({"x-hello"})) == {"x-hello": NOT_STORED}


def test_the_signature_is_kept_whole_it_is_a_digest_not_a_key() -> None:
    assert kept({"X-CV-Signature": "ab" * 32}) == {"x-cv-signature": "ab" * 32}


def test_a_flood_of_headers_is_bounded() -> None:
    many = {f"x-h{index}": "v" * 5000 for index in range(300)}
    stored = kept(many)
    assert len(stored) <= 101
    assert sum(len(name) + len(value) for name, value in stored.items()) <= 16 * 1024 + 5000


def test_a_reader_without_phi_sees_names_and_plain_values_only() -> None:
    shown = masked({"content-type": "application/json", "x-forwarded-for": "203.0.113.7", "cookie": NOT_STORED})
    assert shown == {"content-type": "application/json", "x-forwarded-for": "•••", "cookie": NOT_STORED}
    assert "content-type" in request_headers.PLAIN
