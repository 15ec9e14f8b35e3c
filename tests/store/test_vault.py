"""The vault's data keys: renewed after a number of seals without ever blocking a seal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.tables import DataKeyRow
from casehooks.store.vault import Vault
from tests.processes import wait_for

pytestmark = pytest.mark.integration


def test_seals_past_the_renewal_point_inside_a_write_transaction_never_wait_for_the_writer(store: Store) -> None:
    vault = Vault(store.engine, store.vault.keyring, store.clock, rotate_after=3)
    sealed = [(vault.seal(b"before %d" % n, b"row"), b"before %d" % n) for n in range(2)]
    # The batch writer seals while it holds the one writer connection (SQLite): a key renewal that needed that
    # connection from inside the seal would wait for itself.
    with writer(store.engine).begin():
        sealed += [(vault.seal(b"inside %d" % n, b"row"), b"inside %d" % n) for n in range(10)]

    wait_for(lambda: vault.seal(b"after", b"row")[0] != sealed[0][0][0], timeout=120)
    for (dek_id, value), plaintext in sealed:
        assert vault.open(dek_id, value, b"row") == plaintext
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(DataKeyRow)).scalar_one() >= 2
