from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from casehooks.crypto import Keyring
from casehooks.settings import Settings
from casehooks.store import Store, accounts, keys
from casehooks.store.audit import AuditEntry, AuditTrail, Verdict, trail_for
from casehooks.store.engine import writer
from tests.store.conftest import Clock

pytestmark = pytest.mark.integration


def append(store: Store, count: int, who: str = "ada") -> None:
    for number in range(count):
        entry = AuditEntry(store.clock(), who, "session", "read_case", "case", f"case-{number}", "10.0.0.7", "s1")
        with writer(store.engine).begin() as connection:
            accounts.audit(connection, store.vault.keyring, entry)


def verify(store: Store) -> Verdict:
    # A fresh trail, as ``casehooks audit verify`` in another process has: nothing cached.
    return AuditTrail(store.vault.keyring).verify(store.engine)


def raw(store: Store, sql: str) -> None:
    with writer(store.engine).begin() as connection:
        connection.execute(text(sql))


def test_an_untouched_log_verifies(store: Store) -> None:
    append(store, 5)
    verdict = verify(store)
    assert verdict.intact and verdict.checked == 5


def test_each_row_names_its_client_session_and_key(store: Store) -> None:
    append(store, 1)
    with store.engine.connect() as connection:
        row = connection.execute(text("SELECT client, session, key_id, mac FROM audit_log")).one()
    assert row.client == "10.0.0.7" and row.session == "s1"
    assert row.key_id.startswith("audit-") and len(row.mac) == 64


EDITS: dict[str, tuple[str, int]] = {
    "an edited row": ("UPDATE audit_log SET username = 'mallory' WHERE id = 3", 3),
    "an edited object": ("UPDATE audit_log SET object_id = 'case-99' WHERE id = 2", 2),
    "a deleted row": ("DELETE FROM audit_log WHERE id = 3", 4),
    "a deleted tail": ("DELETE FROM audit_log WHERE id = 5", 5),
    "an inserted row": (
        "INSERT INTO audit_log (id, at, username, via, action, object_type, object_id, key_id, mac) "
        "SELECT 100, at, 'mallory', via, action, object_type, object_id, key_id, mac FROM audit_log WHERE id = 5",
        100,
    ),
    "a row without its MAC": ("UPDATE audit_log SET mac = NULL WHERE id = 4", 4),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_verify_names_the_first_row_an_edit_with_raw_sql_broke(store: Store, edit: str) -> None:
    append(store, 5)
    sql, broken_at = EDITS[edit]
    raw(store, sql)
    verdict = verify(store)
    assert not verdict.intact
    assert verdict.broken_at == broken_at, verdict.reason


def test_swapping_the_macs_of_two_rows_is_caught(store: Store) -> None:
    append(store, 3)
    with store.engine.connect() as connection:
        macs = dict(connection.execute(text("SELECT id, mac FROM audit_log")).all())  # type: ignore[arg-type]
    raw(store, f"UPDATE audit_log SET mac = '{macs[2]}' WHERE id = 1")
    raw(store, f"UPDATE audit_log SET mac = '{macs[1]}' WHERE id = 2")
    assert verify(store).broken_at == 1


def test_the_chain_verifies_after_a_master_key_rotation(store: Store, settings: Settings, clock: Clock) -> None:
    append(store, 3)
    assert settings.master_key is not None
    new_entry = Keyring.generate_entry()
    rotated = Keyring.parse(f"{new_entry},{settings.master_key.get_secret_value()}")
    assert keys.rotate(store.engine, rotated) > 0
    only_new = Keyring.parse(new_entry)  # the old master key is gone once a rotation is finished
    with writer(store.engine).begin() as connection:
        entry = AuditEntry(clock(), "bob", "cli", "read_case", "case", "c", "cli@host")
        trail_for(only_new).append(connection, entry)
    verdict = AuditTrail(only_new).verify(store.engine)
    assert verdict.intact and verdict.checked == 4


def test_concurrent_writers_with_their_own_stores_extend_one_chain(settings: Settings, store: Store) -> None:
    stores = [Store.open(settings, upgrade=False) for _ in range(4)]
    errors: list[BaseException] = []

    def run(opened: Store, who: str) -> None:
        try:
            append(opened, 25, who)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(opened, f"w{i}")) for i, opened in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert not errors
    verdict = verify(store)
    assert verdict.intact and verdict.checked == 100


def test_rows_from_before_the_chain_are_counted_apart(store: Store) -> None:
    raw(
        store,
        "INSERT INTO audit_log (at, username, via, action, object_type) "
        "VALUES ('2025-01-01 00:00:00', 'old', 'cli', 'add_user', 'user')",
    )
    append(store, 2)
    verdict = verify(store)
    assert verdict.intact and verdict.unchained == 1 and verdict.checked == 3
