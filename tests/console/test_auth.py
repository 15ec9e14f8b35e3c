from __future__ import annotations

from casehooks.console.auth import csrf_token, digest, hash_password, new_token, parse_token, verify_password


def test_password_hash_verifies_only_the_same_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert not verify_password("not a hash", "correct horse")


def test_token_text_parses_back_to_its_id_and_secret_whose_digest_is_stored() -> None:
    token = new_token()
    parsed = parse_token(token.text)
    assert parsed is not None
    token_id, secret = parsed
    assert token_id == token.id
    assert digest(secret) == token.secret_sha256
    assert secret not in token.secret_sha256


def test_foreign_token_text_is_not_parsed() -> None:
    assert parse_token("Bearer abc") is None
    assert parse_token("chk_onlyid") is None


def test_csrf_token_is_bound_to_its_session() -> None:
    assert csrf_token("a") == csrf_token("a")
    assert csrf_token("a") != csrf_token("b")
