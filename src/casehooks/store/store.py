"""``Store``: the receiver's durable state behind one object (database, blob store, keys), passed in, never global."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from casehooks.blobs import BlobStore
from casehooks.crypto import Keyring, load_or_create_key_file, read_key_file
from casehooks.errors import ConfigurationError, MissingKeyFile, NotFound, StoreUnavailable
from casehooks.events import (
    Attachment,
    CaseAttachmentAdded,
    CaseCommentAdded,
    Deviation,
    DeviationKind,
    Event,
    parse_event,
)
from casehooks.logs import get_logger
from casehooks.settings import Settings
from casehooks.store import registry, request_headers
from casehooks.store.database import holds_sealed_data, open_database
from casehooks.store.engine import answers_within, dispose, writer
from casehooks.store.files import INLINE_FILE_BYTES, FileStore, StoredFile
from casehooks.store.ingest import FILE_MARKER, Prepared, commit_event, prepare
from casehooks.store.keys import LiveKeyring, Reload
from casehooks.store.location import (
    unreachable,
)
from casehooks.store.notify import notify_jobs
from casehooks.store.quarantine import DEFAULT_HEADER_BYTES, Refusal, hold, seal_request
from casehooks.store.reads import sealed_body
from casehooks.store.tables import AttachmentRow, BlobRow, EventRow
from casehooks.store.vault import Vault
from casehooks.store.writer import BatchWriter

log = get_logger("casehooks.store")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def keyring_from(settings: Settings, *, create: bool = True, holds_data: Callable[[], bool] | None = None) -> Keyring:
    """The master keyring: from ``CASEHOOKS_MASTER_KEY``, or for the embedded mode the key file.

    The key file is made on first run (``create``), and only while the store holds no data: a new key over
    existing data would leave both unreadable together, so a missing file then is ``MissingKeyFile``.
    """
    if settings.master_key is not None:
        return Keyring.parse(settings.master_key.get_secret_value())
    if settings.database_url is not None and not settings.database_url.startswith("sqlite"):
        raise ConfigurationError("CASEHOOKS_MASTER_KEY is required when the database is shared")
    path = settings.data_dir / "master.key"
    if not path.exists():
        if holds_data is not None and holds_data():
            raise MissingKeyFile(str(path))
        if not create:
            raise ConfigurationError(
                f"no master key file at {path}: run `casehooks serve` or `casehooks db upgrade` first, "
                "or set CASEHOOKS_MASTER_KEY"
            )
    key_text, created = load_or_create_key_file(path)
    if created:
        log.warning(
            "master_key_created",
            path=str(path),
            advice="back this file up: without it stored events and files cannot be read",
        )
    return Keyring.parse(key_text)


def key_file_reload(settings: Settings) -> Reload | None:
    """How a serving process reloads its master keys after a rotation: the key file; None with
    ``CASEHOOKS_MASTER_KEY``, whose list changes only with the process's environment."""
    if settings.master_key is not None:
        return None
    path = settings.data_dir / "master.key"
    return lambda: read_key_file(path)


class Store:
    """The database, the blob store and the keys that open what they hold."""

    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        keyring: Keyring,
        *,
        clock: Clock = utcnow,
        quarantine_cap: int = 1 << 30,
        quarantine_max_rows: int | None = None,
        quarantine_header_bytes: int = DEFAULT_HEADER_BYTES,
        inline_file_bytes: int = INLINE_FILE_BYTES,
    ) -> None:
        self.engine = engine
        self.blobs = blobs
        self.clock = clock
        if not isinstance(keyring, LiveKeyring):
            keyring = LiveKeyring(engine, keyring)
        self.vault = Vault(engine, keyring, clock)
        self.files = FileStore(engine, blobs, keyring, clock, inline_bytes=inline_file_bytes)
        self.quarantine_cap = quarantine_cap
        self.quarantine_max_rows = quarantine_max_rows
        self.quarantine_header_bytes = quarantine_header_bytes
        self._writer: BatchWriter | None = None

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utcnow, upgrade: bool = True, create: bool = True) -> Store:
        """Build the store the settings describe; by default bring its schema up to date.

        With ``create=False`` (every command that only reads or changes existing data) nothing is made (see
        ``open_database``).
        """
        engine = open_database(settings, upgrade=upgrade, create=create)
        try:
            try:
                keyring: Keyring = LiveKeyring(
                    engine,
                    keyring_from(settings, create=create, holds_data=lambda: holds_sealed_data(engine)),
                    reload=key_file_reload(settings),
                )
            except OperationalError as exc:
                raise unreachable(settings, exc) from exc
            blobs = BlobStore.from_url(settings.resolved_blob_url)
        except BaseException:
            dispose(engine)
            raise
        return cls(
            engine,
            blobs,
            keyring,
            clock=clock,
            quarantine_cap=settings.quarantine_body_cap_bytes,
            quarantine_max_rows=settings.quarantine_max_rows,
            quarantine_header_bytes=settings.quarantine_header_bytes,
            inline_file_bytes=settings.inline_file_bytes,
        )

    def start_writer(self, on_commit: Callable[[int], None] | None = None) -> BatchWriter:
        if self._writer is None:
            self._writer = BatchWriter(self.engine, self.clock, on_commit=on_commit)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        dispose(self.engine)

    def prepare(self, event: Event, body: bytes, *, source: str = "webhook") -> Prepared:
        """Seal the body and store its files; the database out of reach is ``StoreUnavailable`` (retry later),
        never a fault of the event."""
        try:
            return prepare(event, body, self.clock(), self.vault, self.files, source=source)
        except SQLAlchemyError as exc:
            raise StoreUnavailable("the store could not prepare the event") from exc

    def with_headers(self, prepared: Prepared, headers: Mapping[str, str], secret_names: frozenset[str]) -> Prepared:
        """``prepared`` carrying the request's headers, sealed, credentials left out (store/request_headers.py)."""
        dek_id, sealed = request_headers.seal(self.vault, prepared.event_id, headers, secret_names)
        return replace(prepared, headers_sealed=sealed, headers_dek_id=dek_id)

    def commit(self, prepared: Prepared) -> bool:
        """Commit one prepared event in its own transaction; False if it was a duplicate."""
        try:
            with writer(self.engine).begin() as connection:
                stored = commit_event(connection, prepared, self.clock())
                if stored:
                    notify_jobs(connection)
                return stored
        except SQLAlchemyError as exc:
            raise StoreUnavailable("the store could not commit") from exc

    def hold(
        self,
        refusal: Refusal,
        body: bytes | None,
        size: int,
        headers: Mapping[str, str],
        secret_names: frozenset[str] = frozenset(),
    ) -> str | None:
        """Record a refused request in the quarantine; None when it is full (the refusal is only counted)."""
        try:
            sealed = (
                seal_request(self.vault, body, headers, max_header_bytes=self.quarantine_header_bytes)
                if body is not None
                else None
            )
            with writer(self.engine).begin() as connection:
                return hold(
                    connection,
                    refusal,
                    body,
                    sealed,
                    size,
                    headers,
                    self.clock(),
                    body_cap=self.quarantine_cap,
                    secret_names=secret_names,
                    max_rows=self.quarantine_max_rows,
                    max_header_bytes=self.quarantine_header_bytes,
                )
        except SQLAlchemyError as exc:
            raise StoreUnavailable("the quarantine could not record a refusal") from exc

    def writable(self) -> bool:
        """Whether a write transaction can start now (readiness), answered within the database timeout."""
        return answers_within(self.engine, self._writes)

    def _writes(self) -> bool:
        try:
            with writer(self.engine).begin() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def handler_report(self, live_within: timedelta = timedelta(seconds=90)) -> dict[str, Any]:
        """How the handler sets of live workers compare with the registry (for readiness, logs and the CLI)."""
        with self.engine.connect() as connection:
            return registry.report(connection, self.clock(), live_within).to_dict()

    def load_event(self, event_id: str) -> Event:
        """A stored event as handlers see it: its files readable from the blob store, its deviations as recorded."""
        with self.engine.connect() as connection:
            body, deviations = sealed_body(connection, self.vault, event_id)
        event = self._with_stored_files(parse_event(body))
        # Read back, a stored file's reference is not base64: the deviations are the ones found on arrival.
        event._deviations = tuple(
            Deviation(item["path"], DeviationKind(item["kind"]), item["documented"], item["received"])
            for item in deviations
        )
        return event

    def received_at(self, event_id: str) -> datetime:
        with self.engine.connect() as connection:
            value = connection.execute(select(EventRow.received_at).where(EventRow.id == event_id)).scalar()
        if value is None:
            raise NotFound("event", event_id)
        return value

    def _with_stored_files(self, event: Event) -> Event:
        ids = [attachment.id for attachment in event.attachments()]
        if not ids:
            return event
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(AttachmentRow.id, BlobRow.sha256, BlobRow.size)
                .join(BlobRow, BlobRow.sha256 == AttachmentRow.blob_sha256)
                .where(AttachmentRow.id.in_(ids), AttachmentRow.content_status == "stored")
            ).all()
        stored = {row.id: (row.sha256, int(row.size)) for row in rows}

        def swap(attachment: Attachment) -> Attachment:
            if attachment.id not in stored:
                return attachment
            sha256, size = stored[attachment.id]
            content = StoredFile(FILE_MARKER + sha256, size, lambda: self.files.open(sha256))
            return attachment.model_copy(update={"content": content})

        payload: Any
        if isinstance(event, CaseAttachmentAdded):
            payload = event.payload.model_copy(update={"attachment": swap(event.attachment)})
        elif isinstance(event, CaseCommentAdded) and event.comment.attachments:
            comment = event.comment.model_copy(update={"attachments": [swap(a) for a in event.comment.attachments]})
            payload = event.payload.model_copy(update={"comment": comment})
        else:
            return event
        return event.model_copy(update={"payload": payload})
