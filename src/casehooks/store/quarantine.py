"""The quarantine: every refused request, with its reason, so that nothing genuine is lost.

The body and the original headers are sealed together (while the total kept stays under a cap), so that after
an operator fixes a secret, ``reprocess`` can authenticate and accept the genuine events.

A refusal costs the same whatever the quarantine holds: a totals row (``quarantine_totals``) is read and
updated in the recording transaction instead of summing held rows. Past ``max_rows`` rows a refusal is only
counted (``overflow``): the earliest refusals, which show when a misconfiguration began, stay; the platform
retries what it was refused, and dropping the oldest instead would let a flood evict genuine events and cost
a delete per refusal. Headers are bounded per row: names kept, values cut, the rest left out.

A request refused because the store did not commit in time carries its event's id. If that commit landed late
after all, the body is no longer needed (the event holds it) and must not linger as a second copy of PHI: the
commit of the event, or of a retry of it, deletes the held row (``purge_stored``), a refusal recorded after the
event was stored keeps no row, and ``purge_all_stored`` sweeps whatever a race between the two left behind.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, case, delete, func, insert, select, update

from casehooks.signing import SIGNATURE_HEADER
from casehooks.store.tables import EventRow, QuarantineRow, QuarantineTotalsRow
from casehooks.store.vault import Vault

# Headers whose values are credentials: shown masked, kept only inside the sealed record.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})

TOTALS_ID = 1
MAX_HEADERS = 100
MAX_NAME_CHARS = 100
DEFAULT_HEADER_BYTES = 16 * 1024
_SHOWN_VALUE_CHARS = 200
_SEALED_VALUE_CHARS = 4096  # a signature or a static credential fits; a padded value does not


def bound_headers(headers: Mapping[str, str], max_bytes: int, value_chars: int) -> dict[str, str]:
    """At most ``MAX_HEADERS`` headers, names cut to ``MAX_NAME_CHARS`` and values to ``value_chars``; once
    ``max_bytes`` are used, later headers keep their names with empty values."""
    kept: dict[str, str] = {}
    used = 0
    for name, value in headers.items():
        if len(kept) >= MAX_HEADERS:
            kept["…"] = f"{len(headers) - MAX_HEADERS} more left out"
            break
        short_name = name.lower()[:MAX_NAME_CHARS]
        short_value = value[:value_chars]
        used += len(short_name) + len(short_value)
        kept[short_name] = short_value if used <= max_bytes else ""
    return kept


def mask_headers(headers: Mapping[str, str], secret_names: frozenset[str] = frozenset()) -> dict[str, str]:
    """Headers fit to show: credentials replaced by ``***``, the signature cut to a prefix."""
    shown: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _SECRET_HEADERS or lower in secret_names:
            shown[lower] = "***"
        elif lower == SIGNATURE_HEADER:
            shown[lower] = value[:8] + "…" if len(value) > 8 else value
        else:
            shown[lower] = value[:_SHOWN_VALUE_CHARS]
    return shown


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused: a short ``reason`` code, a PHI-free ``detail`` and the status answered; the
    ``event_id`` when the event was read before it was refused (the store did not commit it in time)."""

    reason: str
    detail: str
    status_code: int
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class HeldRequest:
    """A quarantined request opened for reprocessing."""

    id: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class SealedRequest:
    """A refused request's body and headers, sealed before any transaction opens (sealing may write a key)."""

    record_id: str
    dek_id: str
    sealed: bytes
    size: int


def seal_request(
    vault: Vault, body: bytes, headers: Mapping[str, str], *, max_header_bytes: int = DEFAULT_HEADER_BYTES
) -> SealedRequest:
    record_id = uuid.uuid4().hex
    kept = bound_headers(headers, max_header_bytes, _SEALED_VALUE_CHARS)
    record = {"headers": kept, "body": base64.b64encode(body).decode()}
    dek_id, sealed = vault.seal(orjson.dumps(record), f"quarantine:{record_id}".encode())
    return SealedRequest(record_id, dek_id, sealed, len(body))


def hold(
    connection: Connection,
    refusal: Refusal,
    body: bytes | None,
    sealed: SealedRequest | None,
    size: int,
    headers: Mapping[str, str],
    received_at: datetime,
    *,
    body_cap: int,
    secret_names: frozenset[str] = frozenset(),
    max_rows: int | None = None,
    max_header_bytes: int = DEFAULT_HEADER_BYTES,
) -> str | None:
    """Record a refused request; its sealed body is kept while the quarantine holds less than ``body_cap``.

    Returns the record's id, or None when the quarantine already holds ``max_rows`` rows (only counted then).
    A constant number of statements, whatever the quarantine holds.
    """
    totals = _locked_totals(connection)
    if refusal.event_id is not None and _event_stored(connection, refusal.event_id):
        return None  # its commit landed after all: nothing to hold, and no second copy of its body
    if max_rows is not None and totals.row_count >= max_rows:
        connection.execute(
            update(QuarantineTotalsRow)
            .where(QuarantineTotalsRow.id == TOTALS_ID)
            .values(overflow=QuarantineTotalsRow.overflow + 1)
        )
        return None
    record_id = sealed.record_id if sealed is not None else uuid.uuid4().hex
    detail = refusal.detail
    if sealed is not None and totals.body_bytes + sealed.size > body_cap:
        sealed = None
        detail += " (body not kept: quarantine cap reached)"
    kept = sealed.size if sealed else 0
    shown = bound_headers(mask_headers(headers, secret_names), max_header_bytes, _SHOWN_VALUE_CHARS)
    connection.execute(
        insert(QuarantineRow).values(
            id=record_id,
            received_at=received_at,
            reason=refusal.reason,
            detail=detail,
            status_code=refusal.status_code,
            size=size,
            sha256=hashlib.sha256(body).hexdigest() if body is not None else None,
            headers=shown,
            body_sealed=sealed.sealed if sealed else None,
            body_kept_size=kept,
            dek_id=sealed.dek_id if sealed else None,
            status="held",
            event_id=refusal.event_id,
        )
    )
    connection.execute(
        update(QuarantineTotalsRow)
        .where(QuarantineTotalsRow.id == TOTALS_ID)
        .values(row_count=QuarantineTotalsRow.row_count + 1, body_bytes=QuarantineTotalsRow.body_bytes + kept)
    )
    return record_id


@dataclass(frozen=True, slots=True)
class Totals:
    """The quarantine's running totals."""

    row_count: int
    body_bytes: int
    overflow: int


def totals(connection: Connection) -> Totals:
    """The running totals as they stand (a read, no lock)."""
    row = connection.execute(select(*_TOTALS_COLUMNS).where(QuarantineTotalsRow.id == TOTALS_ID)).first()
    return Totals(*row) if row is not None else Totals(0, 0, 0)


def recount(connection: Connection) -> Totals:
    """Set the totals from the rows themselves: one scan, for whatever removes rows in bulk (a purge), never
    for the request path. The count of refusals not recorded is kept."""
    counted = connection.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((QuarantineRow.status == "held", QuarantineRow.body_kept_size), else_=0)), 0),
        ).select_from(QuarantineRow)
    ).one()
    row_count, body_bytes = int(counted[0]), int(counted[1])
    changed = connection.execute(
        update(QuarantineTotalsRow)
        .where(QuarantineTotalsRow.id == TOTALS_ID)
        .values(row_count=row_count, body_bytes=body_bytes)
    )
    if changed.rowcount == 0:
        connection.execute(
            insert(QuarantineTotalsRow).values(id=TOTALS_ID, row_count=row_count, body_bytes=body_bytes, overflow=0)
        )
    return totals(connection)


_TOTALS_COLUMNS = (QuarantineTotalsRow.row_count, QuarantineTotalsRow.body_bytes, QuarantineTotalsRow.overflow)


def _locked_totals(connection: Connection) -> Totals:
    # FOR UPDATE on PostgreSQL serialises refusals of every process on this row; SQLite's writer already holds
    # the database lock (BEGIN IMMEDIATE).
    row = connection.execute(
        select(*_TOTALS_COLUMNS).where(QuarantineTotalsRow.id == TOTALS_ID).with_for_update()
    ).first()
    if row is None:  # a schema made without the migration that seeds the row
        return recount(connection)
    return Totals(*row)


def open_held(connection: Connection, vault: Vault, record_id: str) -> HeldRequest | None:
    """The sealed body and headers of a held request, or None if its body was not kept."""
    row = connection.execute(
        select(QuarantineRow.body_sealed, QuarantineRow.dek_id).where(QuarantineRow.id == record_id)
    ).first()
    if row is None or row.body_sealed is None or row.dek_id is None:
        return None
    record: dict[str, Any] = orjson.loads(vault.open(row.dek_id, row.body_sealed, f"quarantine:{record_id}".encode()))
    return HeldRequest(record_id, base64.b64decode(record["body"]), dict(record["headers"]))


def resolve(
    connection: Connection, record_id: str, status: str, *, event_id: str | None = None, detail: str | None = None
) -> None:
    """Mark a held request ``reprocessed`` (with the event it became) or keep it held with a new detail."""
    values: dict[str, Any] = {"status": status, "event_id": event_id}
    if detail is not None:
        values["detail"] = detail
    released = 0
    if status != "held":
        values["body_kept_size"] = 0
        current = connection.execute(
            select(QuarantineRow.status, QuarantineRow.body_kept_size).where(QuarantineRow.id == record_id)
        ).first()
        if current is not None and current.status == "held":
            released = int(current.body_kept_size)
    connection.execute(update(QuarantineRow).where(QuarantineRow.id == record_id).values(**values))
    if released:
        connection.execute(
            update(QuarantineTotalsRow)
            .where(QuarantineTotalsRow.id == TOTALS_ID)
            .values(body_bytes=QuarantineTotalsRow.body_bytes - released)
        )


def purge_stored(connection: Connection, event_ids: Collection[str]) -> int:
    """Delete the held requests of events that are stored now, bodies and all; the count deleted.

    An indexed look-up by event id, cheap enough for every commit; the totals are decreased by what went.
    """
    if not event_ids:
        return 0
    rows = connection.execute(
        select(QuarantineRow.id, QuarantineRow.body_kept_size)
        .where(QuarantineRow.event_id.in_(list(event_ids)), QuarantineRow.status == "held")
        .with_for_update()
    ).all()
    if not rows:
        return 0
    connection.execute(delete(QuarantineRow).where(QuarantineRow.id.in_([row.id for row in rows])))
    released = sum(int(row.body_kept_size) for row in rows)
    connection.execute(
        update(QuarantineTotalsRow)
        .where(QuarantineTotalsRow.id == TOTALS_ID)
        .values(
            row_count=QuarantineTotalsRow.row_count - len(rows),
            body_bytes=QuarantineTotalsRow.body_bytes - released,
        )
    )
    return len(rows)


def purge_all_stored(connection: Connection) -> int:
    """Delete every held request whose event is stored (a sweep, then ``recount``); the count deleted."""
    stored = select(EventRow.id).where(EventRow.id == QuarantineRow.event_id).exists()
    deleted = connection.execute(
        delete(QuarantineRow).where(QuarantineRow.status == "held", QuarantineRow.event_id.is_not(None), stored)
    ).rowcount
    if deleted:
        recount(connection)
    return int(deleted)


def resolve_duplicate(connection: Connection, record_id: str, event_id: str) -> None:
    """Mark a held request whose event is stored already: done, its body deleted, pointing at the event."""
    resolve(connection, record_id, "reprocessed", event_id=event_id, detail=DUPLICATE_DETAIL)
    connection.execute(update(QuarantineRow).where(QuarantineRow.id == record_id).values(body_sealed=None, dek_id=None))


DUPLICATE_DETAIL = "duplicate: the event was stored already; body deleted"


def _event_stored(connection: Connection, event_id: str) -> bool:
    return connection.execute(select(EventRow.id).where(EventRow.id == event_id)).first() is not None
