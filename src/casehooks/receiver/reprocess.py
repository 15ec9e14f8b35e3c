"""Reprocessing the quarantine: run held requests through the intake checks again, with today's settings."""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass

from sqlalchemy import Connection, select

from casehooks.receiver.intake import check
from casehooks.signing import Authenticator
from casehooks.store import Store, accounts
from casehooks.store import quarantine as held
from casehooks.store.audit import AuditEntry
from casehooks.store.engine import writer
from casehooks.store.ingest import event_id_of
from casehooks.store.quarantine import Refusal
from casehooks.store.tables import EventRow, QuarantineRow


@dataclass(frozen=True, slots=True)
class Reprocessed:
    record_id: str
    outcome: str  # accepted, duplicate, refused, no_body
    event_id: str | None = None
    reason: str | None = None


UNVERIFIABLE = "auth_no_secret_configured"


def reprocess(
    store: Store, authenticator: Authenticator, record_id: str, *, trust: bool = False, operator: str = "cli"
) -> Reprocessed:
    """Try a held request again, verified with the configured secrets.

    A request refused for its authentication is never run without a secret to verify it against (a shell
    without ``CASEHOOKS_WEBHOOK_SECRET`` would otherwise accept a forgery); it stays held. With ``trust`` the
    operator vouches for the body: authentication is skipped and the audit log records who did it.
    """
    with store.engine.connect() as connection:
        request = held.open_held(connection, store.vault, record_id)
        reason = connection.execute(select(QuarantineRow.reason).where(QuarantineRow.id == record_id)).scalar()
    if request is None:
        return Reprocessed(record_id, "no_body")
    if trust:
        with writer(store.engine).begin() as connection:
            _audit(connection, store, operator, "reprocess_trusted", record_id)
        checked = check(Authenticator(), request.body, request.headers)
    elif not authenticator.required and str(reason).startswith("auth_"):
        return Reprocessed(record_id, "refused", reason=UNVERIFIABLE)
    else:
        checked = check(authenticator, request.body, request.headers)
    if isinstance(checked, Refusal):
        with writer(store.engine).begin() as connection:
            held.resolve(connection, record_id, "held", detail=checked.detail)
        return Reprocessed(record_id, "refused", reason=checked.reason)
    event_id = event_id_of(checked, hashlib.sha256(request.body).hexdigest())
    if _stored(store, event_id):
        # Refused while the store did not answer, yet its commit landed late (or a retry was stored since):
        # no second event and no second copy of its body.
        _resolve_duplicate(store, record_id, event_id, operator)
        return Reprocessed(record_id, "duplicate", event_id)
    prepared = store.with_headers(
        store.prepare(checked, request.body, source="reprocess"), request.headers, authenticator.secret_header_names
    )
    if not store.commit(prepared):
        _resolve_duplicate(store, record_id, prepared.event_id, operator)
        return Reprocessed(record_id, "duplicate", prepared.event_id)
    with writer(store.engine).begin() as connection:
        held.resolve(connection, record_id, "reprocessed", event_id=prepared.event_id)
    return Reprocessed(record_id, "accepted", prepared.event_id)


def _stored(store: Store, event_id: str) -> bool:
    with store.engine.connect() as connection:
        return connection.execute(select(EventRow.id).where(EventRow.id == event_id)).first() is not None


def _resolve_duplicate(store: Store, record_id: str, event_id: str, operator: str) -> None:
    with writer(store.engine).begin() as connection:
        held.resolve_duplicate(connection, record_id, event_id)
        _audit(connection, store, operator, "reprocess_duplicate", record_id)


def _audit(connection: Connection, store: Store, operator: str, action: str, record_id: str) -> None:
    accounts.audit(
        connection,
        store.vault.keyring,
        AuditEntry(
            at=store.clock(),
            username=operator,
            via="cli",
            action=action,
            object_type="quarantine",
            object_id=record_id,
            client=f"cli@{socket.gethostname()}",
        ),
    )
