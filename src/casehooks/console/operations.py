"""What an operator reads to see why and acts on in bulk: failure detail, payloads, held requests, health, and
bulk actions by filter. Checks scopes, masks PHI and audits like ``reading.Console``, over the same store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from casehooks.console.access import Reader, Scope, redact_payload
from casehooks.console.reading import Console, require
from casehooks.errors import NotFound
from casehooks.receiver.reprocess import reprocess
from casehooks.signing import Authenticator
from casehooks.store import bulk, failures, reads, request_headers, stats
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from casehooks.store.quarantine import open_held
from casehooks.store.tables import QuarantineRow

SHOWN_BYTES = 256 * 1024  # a payload larger than this is cut on the page


@dataclass(frozen=True, slots=True)
class Payload:
    """A body as a page shows it: pretty JSON (redacted unless revealed), or a note why it cannot be shown."""

    text: str
    revealed: bool
    note: str = ""


def _shown(body: bytes, reveal: bool) -> Payload:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        if reveal:
            text = body[:SHOWN_BYTES].decode("utf-8", "replace")
            return Payload(text, True, "not JSON: shown as received")
        return Payload("", False, f"not JSON ({len(body)} bytes): shown only to roles with PHI access")
    text = orjson.dumps(parsed if reveal else redact_payload(parsed), option=orjson.OPT_INDENT_2).decode()
    cut = len(text) > SHOWN_BYTES
    return Payload(text[:SHOWN_BYTES], reveal, "cut at 256 KiB" if cut else "")


class Operations:
    """The console's detail pages and bulk actions."""

    def __init__(self, console: Console, authenticator: Authenticator) -> None:
        self.console = console
        self.store = console.store
        self._authenticator = authenticator

    def failures(self, reader: Reader, *, limit: int = 100, runs_before: int | None = None) -> dict[str, Any]:
        """Failures grouped by handler and error, and a page of the latest failed runs (``runs_next``: the id to
        pass as ``runs_before`` for the older ones, None on the last page)."""
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            groups = failures.failure_groups(connection)
            recent = failures.recent_failures(connection, limit=limit + 1, before=runs_before)
        more = len(recent) > limit
        recent = recent[:limit]
        return {"groups": groups, "recent": recent, "runs_next": recent[-1]["id"] if more else None}

    def failure(self, reader: Reader, attempt_id: int) -> dict[str, Any]:
        """A failed run; its message and traceback only for a reader with PHI access, and that read audited."""
        require(reader, Scope.READ)
        reveal = reader.may(Scope.PHI)
        with self.store.engine.connect() as connection:
            shown = failures.failure(connection, self.store.vault, attempt_id, reveal=reveal)
        if shown["detail"] is not None:
            self.console.audit(reader, "read_failure_detail", "job_attempt", str(attempt_id))
        return shown

    def payload(self, reader: Reader, event_id: str, *, reveal: bool) -> dict[str, Any]:
        """An event's stored body: redacted, or whole for a reader with PHI access who asks (audited)."""
        require(reader, Scope.READ)
        if reveal:
            require(reader, Scope.PHI)
        with self.store.engine.connect() as connection:
            event = reads.event_detail(connection, event_id)
            body, _ = reads.sealed_body(connection, self.store.vault, event_id)
            headers = reads.event_headers(connection, self.store.vault, event_id)
        if reveal:
            self.console.audit(reader, "read_payload", "event", event_id)
        if headers is not None and not reveal:
            headers = request_headers.masked(headers)
        return {"event": event, "payload": _shown(body, reveal), "headers": headers}

    def held(self, reader: Reader, record_id: str, *, reveal: bool) -> dict[str, Any]:
        """A refused request with its masked headers and its kept body (redacted unless revealed, audited)."""
        require(reader, Scope.READ)
        if reveal:
            require(reader, Scope.PHI)
        with self.store.engine.connect() as connection:
            row = connection.execute(select(QuarantineRow.__table__).where(QuarantineRow.id == record_id)).first()
            if row is None:
                raise NotFound("quarantined request", record_id)
            request = open_held(connection, self.store.vault, record_id)
        shown = {key: value for key, value in row._mapping.items() if not key.endswith("_sealed") and key != "dek_id"}
        shown["body_kept"] = request is not None
        shown["payload"] = _shown(request.body, reveal) if request is not None else None
        if reveal and request is not None:
            self.console.audit(reader, "read_held_request", "quarantine", record_id)
        return shown

    def activity(self, reader: Reader, span: stats.Span) -> dict[str, Any]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            now = self.store.clock()
            return {
                "series": stats.activity(connection, span, now),
                "refusals_by_reason": stats.refusals_by_reason(connection, since=span.start(now)),
            }

    def health(self, reader: Reader, span: stats.Span) -> dict[str, Any]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return stats.handler_health(connection, span, self.store.clock())

    # Bulk actions: ``matching`` is what a preview shows and a confirmation re-counts; ``apply`` acts.

    def matching(self, reader: Reader, selection: Selection) -> Sequence[str | int]:
        require(reader, Scope.ACTIONS)
        with self.store.engine.connect() as connection:
            if isinstance(selection, bulk.EventSelection):
                return bulk.matching_events(connection, selection)
            if isinstance(selection, bulk.HeldSelection):
                return bulk.matching_held(connection, selection)
            return bulk.matching_dead(connection, selection)

    def apply(self, reader: Reader, action: str, selection: Selection, matched: Sequence[str | int]) -> str:
        """Run a confirmed bulk action on ``matched`` (re-counted at confirmation); audited with the count."""
        require(reader, Scope.ACTIONS)
        self.console.audit(reader, f"bulk_{action}", "selection", f"{len(matched)} of {selection.describe()}"[:64])
        if isinstance(selection, bulk.HeldSelection):
            outcomes: dict[str, int] = {}
            for record_id in matched:
                done = reprocess(self.store, self._authenticator, str(record_id), operator=reader.username)
                outcomes[done.outcome] = outcomes.get(done.outcome, 0) + 1
            return ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items())) or "nothing"
        queued = 0
        for start in range(0, len(matched), 500):
            chunk = matched[start : start + 500]
            with writer(self.store.engine).begin() as connection:
                if isinstance(selection, bulk.EventSelection):
                    queued += jobs.requeue(connection, self.store.clock(), event_ids=[str(item) for item in chunk])
                else:
                    queued += jobs.requeue(connection, self.store.clock(), job_ids=[int(item) for item in chunk])
        return f"queued {queued}"


Selection = bulk.EventSelection | bulk.HeldSelection | bulk.DeadSelection
