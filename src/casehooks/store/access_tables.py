"""Who may read the console: users with roles, API tokens with scopes, sign-in sessions and the audit log.

Secrets are never stored: passwords as argon2 hashes, tokens and session ids as sha256 digests of random values.
The audit log names who did what to which object, and when; never the PHI that was read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casehooks.store.tables import Base, BigId, Id, Stamp


class UserRow(Base):
    """Someone who signs in to the console; ``role`` decides what is shown (see ``console.access``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Stamp)


class ApiTokenRow(Base):
    """A bearer token for the JSON API, acting for a user with at most the user's role and its own scopes."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    expires_at: Mapped[datetime | None] = mapped_column(Stamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Stamp)
    last_used_at: Mapped[datetime | None] = mapped_column(Stamp)


class SessionRow(Base):
    """A signed-in browser: the cookie holds a random id, the table its sha256."""

    __tablename__ = "sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    expires_at: Mapped[datetime] = mapped_column(Stamp, index=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(Stamp)  # for the idle timeout


class AuditRow(Base):
    """One read of PHI or one action: who, through what, did what to which object, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Stamp, index=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    via: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(Id)
    client: Mapped[str | None] = mapped_column(String(100))  # the client address, or "cli@<host>"
    session: Mapped[str | None] = mapped_column(String(16))  # a short digest naming the session or token
    key_id: Mapped[str | None] = mapped_column(Id)  # the data key whose derived key made ``mac``
    mac: Mapped[str | None] = mapped_column(String(64))  # HMAC(key, previous row's mac || this row)


class AuditChainRow(Base):
    """The head of the audit chain, one row: appends lock it so that writers in several processes never fork."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(Id)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_mac: Mapped[str] = mapped_column(String(64))


class SignInThrottleRow(Base):
    """Wrong passwords per account (``user:<name>``) or per client address (``addr:<ip>``), shared by every
    process through the database; ``locked_until`` refuses sign-in before any password is hashed."""

    __tablename__ = "sign_in_throttle"

    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(Stamp)
    locked_until: Mapped[datetime | None] = mapped_column(Stamp)
