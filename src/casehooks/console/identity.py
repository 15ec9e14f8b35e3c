"""Who is asking: a bearer token (the API) or a session cookie (the pages, and the pages' own API calls)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from casehooks.console.access import Reader
from casehooks.console.auth import csrf_token, digest, new_session_id, parse_token, same, verify_password
from casehooks.errors import NotSignedIn
from casehooks.store import Store, accounts
from casehooks.store.access_tables import ApiTokenRow
from casehooks.store.engine import writer

SESSION_COOKIE = "casehooks_session"
SESSION_TTL = timedelta(hours=8)

# Compared against when the user does not exist, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$ruo2ckTwAZWFHvS2iUfQxg$sgV6W67C3Xo0fgc2L147HnwmVNu+bwlBVHRSbYNR6VI"


class Identities:
    """Turns credentials into a ``Reader``, and passwords into sessions."""

    def __init__(self, store: Store, session_ttl: timedelta = SESSION_TTL) -> None:
        self._store = store
        self._session_ttl = session_ttl

    def from_token(self, text: str) -> Reader:
        parsed = parse_token(text)
        if parsed is None:
            raise NotSignedIn("not a casehooks token")
        token_id, secret = parsed
        now = self._store.clock()
        with self._store.engine.connect() as connection:
            grant = accounts.live_token(connection, token_id, now)
        if grant is None or not same(digest(secret), grant.secret_sha256):
            raise NotSignedIn("unknown, expired or revoked token")
        with writer(self._store.engine).begin() as connection:
            connection.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))
        return Reader.of(grant.account.username, grant.account.role, f"token:{token_id}", grant.scopes)

    def from_session(self, session_id: str) -> Reader:
        with self._store.engine.connect() as connection:
            account = accounts.session_account(connection, digest(session_id), self._store.clock())
        if account is None:
            raise NotSignedIn("no such session")
        return Reader.of(account.username, account.role, "session")

    def sign_in(self, username: str, password: str) -> tuple[str, Reader] | None:
        """A new session id for a right password, or None; both outcomes are audited."""
        with self._store.engine.connect() as connection:
            account = accounts.find_user(connection, username)
        ok = verify_password(account.password_hash if account else _DUMMY_HASH, password)
        now = self._store.clock()
        with writer(self._store.engine).begin() as connection:
            accounts.audit(
                connection,
                username=username[:80],
                via="password",
                action="sign_in" if ok and account else "sign_in_failed",
                object_type="session",
                object_id=None,
                now=now,
            )
            if not ok or account is None:
                return None
            session_id = new_session_id()
            accounts.add_session(connection, digest(session_id), account.id, now, now + self._session_ttl)
        return session_id, Reader.of(account.username, account.role, "session")

    def sign_out(self, session_id: str) -> None:
        with writer(self._store.engine).begin() as connection:
            accounts.end_session(connection, digest(session_id))

    @staticmethod
    def csrf_ok(session_id: str, presented: str | None) -> bool:
        return presented is not None and same(csrf_token(session_id), presented)
