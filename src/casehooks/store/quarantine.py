"""The quarantine: every refused request, with its reason, so that nothing genuine is lost.

The body and the original headers are sealed together (while the total kept stays under a cap), so that after
an operator fixes a secret, ``reprocess`` can authenticate and accept the genuine events.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from casehooks.signing import SIGNATURE_HEADER
from casehooks.store.tables import QuarantineRow
from casehooks.store.vault import Vault

# Headers whose values are credentials: shown masked, kept only inside the sealed record.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


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
            shown[lower] = value[:200]
    return shown


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused: a short ``reason`` code, a PHI-free ``detail`` and the status answered."""

    reason: str
    detail: str
    status_code: int


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


def seal_request(vault: Vault, body: bytes, headers: Mapping[str, str]) -> SealedRequest:
    record_id = uuid.uuid4().hex
    record = {"headers": {k.lower(): v for k, v in headers.items()}, "body": base64.b64encode(body).decode()}
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
) -> str:
    """Record a refused request; its sealed body is kept while the quarantine holds less than ``body_cap``."""
    record_id = sealed.record_id if sealed is not None else uuid.uuid4().hex
    detail = refusal.detail
    if sealed is not None:
        held = connection.execute(
            select(func.coalesce(func.sum(QuarantineRow.body_kept_size), 0)).where(QuarantineRow.status == "held")
        ).scalar_one()
        if int(held) + sealed.size > body_cap:
            sealed = None
            detail += " (body not kept: quarantine cap reached)"
    connection.execute(
        insert(QuarantineRow).values(
            id=record_id,
            received_at=received_at,
            reason=refusal.reason,
            detail=detail,
            status_code=refusal.status_code,
            size=size,
            sha256=hashlib.sha256(body).hexdigest() if body is not None else None,
            headers=mask_headers(headers, secret_names),
            body_sealed=sealed.sealed if sealed else None,
            body_kept_size=sealed.size if sealed else 0,
            dek_id=sealed.dek_id if sealed else None,
            status="held",
        )
    )
    return record_id


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
    if status != "held":
        values["body_kept_size"] = 0
    connection.execute(update(QuarantineRow).where(QuarantineRow.id == record_id).values(**values))
