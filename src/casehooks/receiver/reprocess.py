"""Reprocessing the quarantine: run held requests through the intake checks again, with today's settings."""

from __future__ import annotations

from dataclasses import dataclass

from casehooks.receiver.intake import check
from casehooks.signing import Authenticator
from casehooks.store import Store
from casehooks.store import quarantine as held
from casehooks.store.engine import writer
from casehooks.store.quarantine import Refusal


@dataclass(frozen=True, slots=True)
class Reprocessed:
    record_id: str
    outcome: str  # accepted, duplicate, refused, no_body
    event_id: str | None = None
    reason: str | None = None


def reprocess(store: Store, authenticator: Authenticator, record_id: str, *, trust: bool = False) -> Reprocessed:
    """Try a held request again. With ``trust``, skip authentication (an operator vouches for the body)."""
    with store.engine.connect() as connection:
        request = held.open_held(connection, store.vault, record_id)
    if request is None:
        return Reprocessed(record_id, "no_body")
    checked = check(Authenticator(), request.body, request.headers) if trust else None
    if checked is None:
        checked = check(authenticator, request.body, request.headers)
    if isinstance(checked, Refusal):
        with writer(store.engine).begin() as connection:
            held.resolve(connection, record_id, "held", detail=checked.detail)
        return Reprocessed(record_id, "refused", reason=checked.reason)
    prepared = store.prepare(checked, request.body, source="reprocess")
    accepted = store.commit(prepared)
    with writer(store.engine).begin() as connection:
        held.resolve(connection, record_id, "reprocessed", event_id=prepared.event_id)
    return Reprocessed(record_id, "accepted" if accepted else "duplicate", prepared.event_id)
