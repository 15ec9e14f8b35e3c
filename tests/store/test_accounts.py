from __future__ import annotations

from datetime import timedelta

import pytest

from casehooks.errors import NotFound
from casehooks.store import Store, accounts
from casehooks.store.engine import writer
from tests.store.conftest import Clock

pytestmark = pytest.mark.integration
IDLE = timedelta(minutes=30)


def test_sessions_end_when_they_expire(store: Store, clock: Clock) -> None:
    with writer(store.engine).begin() as connection:
        user_id = accounts.add_user(connection, "ada", "viewer", "hash", clock())
        accounts.add_session(connection, "s" * 64, user_id, clock(), clock() + timedelta(hours=1))
    with store.engine.connect() as connection:
        found = accounts.session_account(connection, "s" * 64, clock(), IDLE)
        assert found is not None and found.account.username == "ada"
        assert accounts.session_account(connection, "s" * 64, clock() + timedelta(hours=2), timedelta(days=1)) is None


def test_an_idle_session_ends_and_a_touched_one_lives_on(store: Store, clock: Clock) -> None:
    with writer(store.engine).begin() as connection:
        user_id = accounts.add_user(connection, "idle", "viewer", "hash", clock())
        accounts.add_session(connection, "i" * 64, user_id, clock(), clock() + timedelta(hours=8))
        accounts.add_session(connection, "t" * 64, user_id, clock(), clock() + timedelta(hours=8))
    clock.advance(20 * 60)
    with writer(store.engine).begin() as connection:
        accounts.touch_session(connection, "t" * 64, clock())
    clock.advance(20 * 60)
    with store.engine.connect() as connection:
        assert accounts.session_account(connection, "i" * 64, clock(), IDLE) is None
        touched = accounts.session_account(connection, "t" * 64, clock(), IDLE)
        assert touched is not None and touched.last_seen_at == clock() - timedelta(minutes=20)


def test_revoked_and_expired_tokens_are_not_live(store: Store, clock: Clock) -> None:
    with writer(store.engine).begin() as connection:
        user_id = accounts.add_user(connection, "ops", "operator", "hash", clock())
        for token_id, expires in (("t1", None), ("t2", clock() + timedelta(days=1))):
            accounts.add_token(
                connection,
                token_id=token_id,
                user_id=user_id,
                name="ci",
                secret_sha256="d" * 64,
                scopes=["read"],
                now=clock(),
                expires_at=expires,
            )
        accounts.revoke_token(connection, "t1", clock())
    with store.engine.connect() as connection:
        assert accounts.live_token(connection, "t1", clock()) is None
        live = accounts.live_token(connection, "t2", clock())
        assert live is not None and live.scopes == ["read"]
        assert accounts.live_token(connection, "t2", clock() + timedelta(days=2)) is None


def test_removing_a_user_removes_their_tokens_and_sessions(store: Store, clock: Clock) -> None:
    with writer(store.engine).begin() as connection:
        user_id = accounts.add_user(connection, "gone", "admin", "hash", clock())
        accounts.add_session(connection, "x" * 64, user_id, clock(), clock() + timedelta(hours=1))
        accounts.remove_user(connection, "gone")
        assert accounts.session_account(connection, "x" * 64, clock(), IDLE) is None
        with pytest.raises(NotFound):
            accounts.remove_user(connection, "gone")
