"""The blind index: find people (and so their cases) by name, email or phone without storing them in the clear.

Each value is normalised (casefolded, whitespace collapsed; an email lowercased; a phone reduced to its digits)
and stored only as HMAC-SHA256 under a search key derived from the active master key, beside the person it
names. A search computes the same digest of what was typed and matches it exactly: no plaintext, no prefix
matching, nothing a reader of the database can reverse without the key. Rows name the key they were made
with; after a master key rotation ``casehooks search reindex`` rebuilds them under the new key.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from casehooks.crypto import Keyring
from casehooks.store.tables import CaseRow, SearchTermRow

_LABEL = b"casehooks search index v1"
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^[+()\d\s.-]{7,}$")
_ID_LIKE = re.compile(r"^[A-Za-z]{2,5}-[A-Za-z0-9]+$|^[0-9a-fA-F-]{8,}$")


def search_key(keyring: Keyring) -> tuple[str, bytes]:
    """The active master key's id and the search key derived from it."""
    master = keyring.active
    return master.key_id, _derived(master.secret)


@functools.lru_cache(maxsize=8)
def _derived(secret: bytes) -> bytes:
    # Derived once per master key, not once per person indexed (a few keys live in a process at most).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret)


def normalise(kind: str, value: str) -> str:
    text = _SPACES.sub(" ", value).strip().casefold()
    if kind == "email":
        return text.lower()
    if kind == "phone":
        return "".join(char for char in text if char.isdigit())
    return text


def digest(key: bytes, kind: str, value: str) -> str:
    # A name cut mid-emoji (a lone surrogate, as JavaScript writes it) is still a value to index and to find.
    message = f"{kind}\n{normalise(kind, value)}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def terms(details: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The ``(kind, value)`` pairs a person's wire details are found by: full name, each name token, email, phone."""
    found: set[tuple[str, str]] = set()
    names = [str(details[key]) for key in ("firstName", "lastName") if details.get(key)]
    if names:
        found.add(("name", " ".join(names)))
        for name in names:
            found.update(("name", token) for token in _SPACES.split(name.strip()) if token)
    if details.get("email"):
        found.add(("email", str(details["email"])))
    phone = normalise("phone", str(details.get("phoneNumber") or ""))
    if len(phone) >= 7:
        found.add(("phone", phone))
    return {(kind, value) for kind, value in found if normalise(kind, value)}


def index_person(connection: Connection, keyring: Keyring, person_id: str, details: Mapping[str, Any]) -> None:
    """Add the person's search terms (values they were known by before stay findable until a reindex)."""
    insert_terms(connection, term_rows(keyring, person_id, details))


def term_rows(keyring: Keyring, person_id: str, details: Mapping[str, Any]) -> list[dict[str, str]]:
    """The index rows of a person's details under the active key."""
    key_id, key = search_key(keyring)
    return [
        {"person_id": person_id, "kind": kind, "digest": digest(key, kind, value), "key_id": key_id}
        for kind, value in sorted(terms(details))
    ]


def insert_terms(connection: Connection, rows: list[dict[str, str]]) -> None:
    if rows:
        connection.execute(_insert_terms(connection.dialect.name), rows)


@functools.cache
def _insert_terms(dialect_name: str) -> Any:
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(SearchTermRow.__table__).on_conflict_do_nothing()


def reindex(connection: Connection, keyring: Keyring, people: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
    """Rebuild the whole index from people's current details under the active key; how many people it holds."""
    connection.execute(delete(SearchTermRow))
    indexed = 0
    for person_id, details in people:
        index_person(connection, keyring, person_id, details)
        indexed += 1
    return indexed


def kinds_of(text: str) -> list[str]:
    """Which kinds of value ``text`` could be."""
    text = text.strip()
    if _EMAIL.match(text):
        return ["email"]
    if _PHONE.match(text) and len(normalise("phone", text)) >= 7:
        return ["phone"]
    return ["name"]


def may_be_phi(text: str) -> bool:
    """Whether ``text`` could be a name, email or phone rather than an id."""
    return not _ID_LIKE.match(text.strip())


def cases_matching(connection: Connection, keyring: Keyring, text: str) -> set[str]:
    """Ids of the cases whose patient is found by ``text`` (exact, after normalising)."""
    key_id, key = search_key(keyring)
    digests = [digest(key, kind, text) for kind in kinds_of(text)]
    people = select(SearchTermRow.person_id).where(SearchTermRow.digest.in_(digests), SearchTermRow.key_id == key_id)
    return set(connection.execute(select(CaseRow.id).where(CaseRow.submitter_id.in_(people))).scalars())
