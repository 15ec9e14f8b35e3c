"""The blind index: people found by name, email and phone through HMAC digests, never by stored plaintext."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from casehooks.crypto import Keyring
from casehooks.events import parse_object, stringify
from casehooks.store import Store, search
from casehooks.store.tables import SearchTermRow
from tests.receiver.events import comment_event

CASE_ID = "ec7ebb4c-3a36-43bf-93f7-3c292020c281"


def ingest(store: Store, wire: dict[str, Any]) -> None:
    store.commit(store.prepare(parse_object(wire), stringify(wire)))


def test_normalising_folds_case_spaces_and_phone_punctuation() -> None:
    assert search.normalise("name", "  Ritik\t  PARIKH ") == "ritik parikh"
    assert search.normalise("email", "Ritik.Parikh@CareValidate.com") == "ritik.parikh@carevalidate.com"
    assert search.normalise("phone", "+1 (228) 647-5628") == "12286475628"


def test_a_digest_depends_on_the_key_and_the_kind() -> None:
    key, other = b"k" * 32, b"o" * 32
    assert search.digest(key, "name", "Ada") == search.digest(key, "name", " ada ")
    assert search.digest(key, "name", "Ada") != search.digest(other, "name", "Ada")
    assert search.digest(key, "name", "ada@x.org") != search.digest(key, "email", "ada@x.org")


def test_a_person_is_found_by_full_name_each_name_and_email_and_phone() -> None:
    details = {"firstName": "Mary Ann", "lastName": "O'Neil", "email": "M@X.org", "phoneNumber": "+1 228 647 5628"}
    assert search.terms(details) == {
        ("name", "Mary Ann O'Neil"),
        ("name", "Mary"),
        ("name", "Ann"),
        ("name", "O'Neil"),
        ("email", "M@X.org"),
        ("phone", "12286475628"),
    }


def test_ids_are_not_taken_for_phi() -> None:
    assert not search.may_be_phi("ADA-C1HM17")
    assert not search.may_be_phi(CASE_ID)
    assert search.may_be_phi("Ritik Parikh")
    assert search.kinds_of("ritik@x.org") == ["email"]
    assert search.kinds_of("+1 (228) 647-5628") == ["phone"]
    assert search.kinds_of("Parikh") == ["name"]


@pytest.mark.integration
def test_an_ingested_patient_is_found_by_name_email_and_phone_and_stored_only_as_digests(store: Store) -> None:
    ingest(store, comment_event())
    keyring = store.vault.keyring
    with store.engine.connect() as connection:
        for text in ("ritik-2 parikh-2", "PARIKH-2", "Ritik.Parikh+02@CareValidate.com", "+1 228-647-5628"):
            assert search.cases_matching(connection, keyring, text) == {CASE_ID}, text
        assert search.cases_matching(connection, keyring, "Parikh") == set()  # exact tokens, no prefixes
        stored = " ".join(str(value) for row in connection.execute(select(SearchTermRow.__table__)) for value in row)
    for plaintext in ("ritik", "parikh", "carevalidate", "2286475628"):
        assert plaintext not in stored.lower()


@pytest.mark.integration
def test_another_master_key_finds_nothing_until_a_reindex(store: Store) -> None:
    ingest(store, comment_event())
    rotated = Keyring.parse(Keyring.generate_entry())
    with store.engine.connect() as connection:
        assert search.cases_matching(connection, rotated, "Parikh-2") == set()
    with store.engine.begin() as connection:
        assert search.reindex(connection, rotated, [("WzvygANWTEcfsLlDW1K22WWS7dY2", {"lastName": "Parikh-2"})]) == 1
        assert search.cases_matching(connection, rotated, "Parikh-2") == {CASE_ID}


def test_a_name_cut_mid_emoji_is_indexed_and_found(store: Store) -> None:
    """JavaScript's JSON.stringify writes a lone surrogate for text cut mid-emoji: the event is stored and the
    patient found by that very name."""
    wire = comment_event()
    wire["payload"]["case"]["submitter"]["firstName"] = "Ritik\ud83d"
    ingest(store, wire)
    with store.engine.connect() as connection:
        assert search.cases_matching(connection, store.vault.keyring, "Ritik\ud83d") == {CASE_ID}
