"""What the console reads and does, for the API and the pages alike: checks the reader's scopes, masks PHI and
writes every read of PHI and every action to the audit log before anything is returned."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from casehooks.console.access import Reader, Scope, mask_attachment, mask_case
from casehooks.errors import AccessDenied, CountChanged, NotFound
from casehooks.receiver.reprocess import Reprocessed, reprocess
from casehooks.signing import Authenticator
from casehooks.store import Store, accounts, event_list, reads, stats
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from casehooks.store.paging import Page
from casehooks.store.tables import JobRow, QuarantineRow
from casehooks.store.timeline import case_timeline


def require(reader: Reader, scope: Scope) -> None:
    if not reader.may(scope):
        raise AccessDenied(scope.value)


@dataclass(frozen=True, slots=True)
class Download:
    """An attachment's metadata and its decrypted bytes, streamed."""

    meta: dict[str, Any]
    chunks: Iterator[bytes]


class Console:
    """The console's operations over one store."""

    def __init__(self, store: Store, authenticator: Authenticator) -> None:
        self.store = store
        self._authenticator = authenticator

    def audit(self, reader: Reader, action: str, object_type: str, object_id: str | None) -> None:
        with writer(self.store.engine).begin() as connection:
            entry = reader.entry(action, object_type, object_id, self.store.clock())
            accounts.audit(connection, self.store.vault.keyring, entry)

    def overview(self, reader: Reader) -> dict[str, Any]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return {
                **stats.totals(connection),
                "queue": jobs.depth(connection),
                "events_per_minute": stats.events_per_minute(connection, self.store.clock()),
                "refusals_by_reason": stats.refusals_by_reason(connection),
            }

    def events(self, reader: Reader, where: event_list.EventFilter) -> list[dict[str, Any]]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return event_list.list_events(connection, where)

    def events_page(self, reader: Reader, where: event_list.EventFilter) -> Page:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return event_list.page_events(connection, where)

    def cases_page(self, reader: Reader, where: reads.CaseFilter) -> Page:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return reads.page_cases(connection, where)

    def quarantine_page(self, reader: Reader, status: str | None, limit: int, before: str | None) -> Page:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return reads.page_quarantine(connection, status=status, limit=limit, before=before)

    def audit_page(self, reader: Reader, username: str | None, limit: int, before: str | None) -> Page:
        require(reader, Scope.ADMIN)
        with self.store.engine.connect() as connection:
            return reads.page_audit(connection, username=username, limit=limit, before=before)

    def event(self, reader: Reader, event_id: str) -> dict[str, Any]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return reads.event_detail(connection, event_id)

    def cases(self, reader: Reader, **where: Any) -> list[dict[str, Any]]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return reads.list_cases(connection, **where)

    def case(
        self,
        reader: Reader,
        id_or_short_id: str,
        *,
        limit: int = 50,
        before: str | None = None,
        after: str | None = None,
    ) -> dict[str, Any]:
        """A case with one page of its timeline, masked for the reader; a read with PHI is audited (files are
        not read here: each is audited when it is opened)."""
        require(reader, Scope.READ)
        phi = reader.may(Scope.PHI)
        with self.store.engine.connect() as connection:
            case = case_timeline(
                connection,
                self.store.vault,
                id_or_short_id,
                reveal=phi,
                restricted=True,
                limit=limit,
                before=before,
                after=after,
            )
        if phi:
            self.audit(reader, "read_case", "case", case["id"])
        return mask_case(case, reader)

    def attachment(self, reader: Reader, attachment_id: str) -> dict[str, Any]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            meta = reads.attachment(connection, self.store.vault, attachment_id, reveal=reader.may(Scope.PHI))
        if meta["is_restricted"] and not reader.may(Scope.RESTRICTED):
            raise AccessDenied(Scope.RESTRICTED.value)
        if reader.may(Scope.PHI):
            self.audit(reader, "read_attachment", "attachment", attachment_id)
        return mask_attachment(meta, reader)

    def download(self, reader: Reader, attachment_id: str) -> Download:
        """The file of an attachment, decrypted; audited before the first byte leaves."""
        require(reader, Scope.PHI)
        with self.store.engine.connect() as connection:
            meta = reads.attachment(connection, self.store.vault, attachment_id, reveal=True)
        if meta["is_restricted"] and not reader.may(Scope.RESTRICTED):
            raise AccessDenied(Scope.RESTRICTED.value)
        if meta["content_status"] != "stored" or not meta["blob_sha256"]:
            raise NotFound("file of attachment", attachment_id)
        chunks = self.store.files.open(meta["blob_sha256"])
        self.audit(reader, "download_attachment", "attachment", attachment_id)
        return Download(meta, chunks)

    def quarantine(self, reader: Reader, status: str | None) -> list[dict[str, Any]]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return reads.list_quarantine(connection, status=status)

    def depth(self, reader: Reader) -> dict[str, int]:
        """How many jobs are in each state."""
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            return jobs.depth(connection)

    def queue(self, reader: Reader) -> dict[str, Any]:
        require(reader, Scope.READ)
        with self.store.engine.connect() as connection:
            depth = jobs.depth(connection)
            failed = [
                *event_list.list_events(connection, event_list.EventFilter(job_status="dead", limit=100)),
                *event_list.list_events(connection, event_list.EventFilter(job_status="failed", limit=100)),
            ]
        return {"depth": depth, "failed": failed}

    def replay(self, reader: Reader, event_id: str) -> int:
        require(reader, Scope.ACTIONS)
        with writer(self.store.engine).begin() as connection:
            reads.event_detail(connection, event_id)  # NotFound for an unknown id
            queued = jobs.requeue(connection, self.store.clock(), event_ids=[event_id])
        self.audit(reader, "replay", "event", event_id)
        return queued

    def retry_dead(self, reader: Reader, expected: int | None = None) -> int:
        """Queue every dead job again; with ``expected``, only if that is how many there are (else
        ``CountChanged``, and nothing is queued)."""
        require(reader, Scope.ACTIONS)
        with writer(self.store.engine).begin() as connection:
            job_ids = list(connection.execute(select(JobRow.id).where(JobRow.status == "dead")).scalars())
            if expected is not None and expected != len(job_ids):
                raise CountChanged("dead jobs", expected, len(job_ids))
            queued = jobs.requeue(connection, self.store.clock(), job_ids=job_ids)
        self.audit(reader, "retry_dead", "queue", None)
        return queued

    def reprocess(self, reader: Reader, record_id: str) -> Reprocessed:
        require(reader, Scope.ACTIONS)
        with self.store.engine.connect() as connection:
            known = connection.execute(select(QuarantineRow.id).where(QuarantineRow.id == record_id)).first()
        if known is None:
            raise NotFound("quarantined request", record_id)
        self.audit(reader, "reprocess", "quarantine", record_id)
        return reprocess(self.store, self._authenticator, record_id)

    def audit_log(self, reader: Reader, username: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        require(reader, Scope.ADMIN)
        with self.store.engine.connect() as connection:
            return accounts.list_audit(connection, username=username, limit=limit)
