"""Who is asking: a bearer token (the API) or a session cookie (the pages, and the pages' own API calls).

Sign-in is throttled per account and per client address, with the counts in the database (see
``store.throttle``); a locked account or address is refused before its password is hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import update

from casehooks.console.access import Reader
from casehooks.console.auth import csrf_token, digest, new_session_id, parse_token, same, verify_password
from casehooks.console.policy import AccessPolicy
from casehooks.errors import NotSignedIn
from casehooks.store import Store, accounts, throttle
from casehooks.store.access_tables import ApiTokenRow
from casehooks.store.audit import AuditEntry
from casehooks.store.engine import writer

SESSION_COOKIE = "casehooks_session"
TOUCH_EVERY = timedelta(seconds=60)  # how stale a session's last-seen stamp may get before it is written again

# Compared against when the user does not exist, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$ruo2ckTwAZWFHvS2iUfQxg$sgV6W67C3Xo0fgc2L147HnwmVNu+bwlBVHRSbYNR6VI"


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a sign-in attempt came to: a session id and reader only when ``outcome`` is ``SIGNED_IN``."""

    outcome: Outcome
    session_id: str = ""
    reader: Reader | None = None


def session_tag(session_id: str) -> str:
    """A short name of a session for the audit log: enough to tell sessions apart, useless to resume one."""
    return digest(session_id)[:16]


class Identities:
    """Turns credentials into a ``Reader``, and passwords into sessions."""

    def __init__(self, store: Store, policy: AccessPolicy | None = None) -> None:
        self._store = store
        self.policy = policy or AccessPolicy()

    def from_token(self, text: str, client: str | None = None) -> Reader:
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
        return Reader.of(
            grant.account.username,
            grant.account.role,
            f"token:{token_id}",
            grant.scopes,
            client=client,
            session=token_id[:16],
        )

    def from_session(self, session_id: str, client: str | None = None) -> Reader:
        now = self._store.clock()
        id_sha256 = digest(session_id)
        with self._store.engine.connect() as connection:
            live = accounts.session_account(connection, id_sha256, now, self.policy.session_idle)
        if live is None:
            raise NotSignedIn("no such session, or it has expired or been idle too long")
        if now - live.last_seen_at >= TOUCH_EVERY:
            with writer(self._store.engine).begin() as connection:
                accounts.touch_session(connection, id_sha256, now)
        account = live.account
        return Reader.of(account.username, account.role, "session", client=client, session=session_tag(session_id))

    def sign_in(self, username: str, password: str, client: str = "") -> SignIn:
        """A new session for a right password; every attempt is audited, and a locked one hashes nothing."""
        policy = self.policy
        subjects = [throttle.account_subject(username), throttle.address_subject(client)]
        now = self._store.clock()
        with self._store.engine.connect() as connection:
            refused = throttle.locked(connection, subjects, now)
            account = None if refused else accounts.find_user(connection, username)
        ok = not refused and verify_password(account.password_hash if account else _DUMMY_HASH, password)
        ok = ok and account is not None
        now = self._store.clock()
        action = "sign_in" if ok else "sign_in_locked" if refused else "sign_in_failed"
        with writer(self._store.engine).begin() as connection:
            entry = AuditEntry(now, username[:80], "password", action, "session", None, client[:100] or None)
            accounts.audit(connection, self._store.vault.keyring, entry)
            if refused:
                return SignIn(Outcome.LOCKED)
            if not ok or account is None:
                locked = throttle.record_failure(
                    connection, subjects[0], limit=policy.account_failures, window=policy.lockout, now=now
                )
                locked |= throttle.record_failure(
                    connection, subjects[1], limit=policy.address_failures, window=policy.lockout, now=now
                )
                return SignIn(Outcome.LOCKED if locked else Outcome.WRONG)
            throttle.clear(connection, subjects[0])
            session_id = new_session_id()
            accounts.add_session(connection, digest(session_id), account.id, now, now + policy.session_ttl)
        reader = Reader.of(account.username, account.role, "session", client=client, session=session_tag(session_id))
        return SignIn(Outcome.SIGNED_IN, session_id, reader)

    def sign_out(self, session_id: str) -> None:
        with writer(self._store.engine).begin() as connection:
            accounts.end_session(connection, digest(session_id))

    @staticmethod
    def csrf_ok(session_id: str, presented: str | None) -> bool:
        return presented is not None and same(csrf_token(session_id), presented)
