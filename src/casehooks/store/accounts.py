"""Users, API tokens, sessions and the audit log in the database. Secrets arrive here already hashed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from casehooks.crypto import Keyring
from casehooks.errors import NotFound
from casehooks.store.access_tables import ApiTokenRow, AuditRow, SessionRow, UserRow
from casehooks.store.audit import AuditEntry, trail_for


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the console needs it to authorise a request."""

    id: int
    username: str
    role: str
    password_hash: str


def add_user(connection: Connection, username: str, role: str, password_hash: str, now: datetime) -> int:
    result = connection.execute(
        insert(UserRow).values(username=username, role=role, password_hash=password_hash, created_at=now)
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_user(connection: Connection, username: str) -> Account | None:
    row = connection.execute(select(UserRow.__table__).where(UserRow.username == username)).first()
    return None if row is None else Account(row.id, row.username, row.role, row.password_hash)


def list_users(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(UserRow.id, UserRow.username, UserRow.role, UserRow.created_at).order_by(UserRow.username)
    ).all()
    return [dict(row._mapping) for row in rows]


def remove_user(connection: Connection, username: str) -> None:
    """Delete a user with their tokens and sessions."""
    account = find_user(connection, username)
    if account is None:
        raise NotFound("user", username)
    connection.execute(delete(SessionRow).where(SessionRow.user_id == account.id))
    connection.execute(delete(ApiTokenRow).where(ApiTokenRow.user_id == account.id))
    connection.execute(delete(UserRow).where(UserRow.id == account.id))


def add_token(
    connection: Connection,
    *,
    token_id: str,
    user_id: int,
    name: str,
    secret_sha256: str,
    scopes: Sequence[str],
    now: datetime,
    expires_at: datetime | None,
) -> None:
    connection.execute(
        insert(ApiTokenRow).values(
            id=token_id,
            user_id=user_id,
            name=name,
            secret_sha256=secret_sha256,
            scopes=list(scopes),
            created_at=now,
            expires_at=expires_at,
        )
    )


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A live token's owner and scopes, with the digest to compare the presented secret against."""

    account: Account
    secret_sha256: str
    scopes: list[str]


def live_token(connection: Connection, token_id: str, now: datetime) -> TokenGrant | None:
    token = connection.execute(
        select(
            ApiTokenRow.secret_sha256,
            ApiTokenRow.scopes,
            ApiTokenRow.expires_at,
            ApiTokenRow.revoked_at,
            UserRow.id,
            UserRow.username,
            UserRow.role,
            UserRow.password_hash,
        )
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.id == token_id)
    ).first()
    if token is None:
        return None
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    account = Account(token.id, token.username, token.role, token.password_hash)
    return TokenGrant(account, token.secret_sha256, list(token.scopes))


def revoke_token(connection: Connection, token_id: str, now: datetime) -> None:
    result = connection.execute(
        update(ApiTokenRow).where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now)
    )
    if result.rowcount == 0:
        raise NotFound("token", token_id)


def list_tokens(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(
            ApiTokenRow.id,
            UserRow.username,
            ApiTokenRow.name,
            ApiTokenRow.scopes,
            ApiTokenRow.created_at,
            ApiTokenRow.expires_at,
            ApiTokenRow.revoked_at,
        )
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .order_by(ApiTokenRow.created_at)
    ).all()
    return [dict(row._mapping) for row in rows]


def add_session(connection: Connection, id_sha256: str, user_id: int, now: datetime, expires_at: datetime) -> None:
    connection.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
    connection.execute(
        insert(SessionRow).values(
            id_sha256=id_sha256, user_id=user_id, created_at=now, expires_at=expires_at, last_seen_at=now
        )
    )


@dataclass(frozen=True, slots=True)
class LiveSession:
    account: Account
    last_seen_at: datetime


def session_account(connection: Connection, id_sha256: str, now: datetime, idle: timedelta) -> LiveSession | None:
    """The session's account, unless the session has expired or has been idle for ``idle`` or longer."""
    seen = func.coalesce(SessionRow.last_seen_at, SessionRow.created_at)
    row = connection.execute(
        select(UserRow.id, UserRow.username, UserRow.role, UserRow.password_hash, seen.label("seen"))
        .join(SessionRow, SessionRow.user_id == UserRow.id)
        .where(SessionRow.id_sha256 == id_sha256, SessionRow.expires_at > now)
    ).first()
    if row is None or row.seen + idle <= now:
        return None
    return LiveSession(Account(row.id, row.username, row.role, row.password_hash), row.seen)


def touch_session(connection: Connection, id_sha256: str, now: datetime) -> None:
    connection.execute(update(SessionRow).where(SessionRow.id_sha256 == id_sha256).values(last_seen_at=now))


def end_session(connection: Connection, id_sha256: str) -> None:
    connection.execute(delete(SessionRow).where(SessionRow.id_sha256 == id_sha256))


def audit(connection: Connection, keyring: Keyring, entry: AuditEntry) -> None:
    """Append ``entry`` to the chained audit log inside the caller's write transaction."""
    trail_for(keyring).append(connection, entry)


def list_audit(connection: Connection, *, username: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    query = select(AuditRow.__table__).order_by(AuditRow.id.desc()).limit(limit)
    if username:
        query = query.where(AuditRow.username == username)
    return [dict(row._mapping) for row in connection.execute(query).all()]
