"""One settings object, read from ``CASEHOOKS_*`` environment variables (or flags), built once at the edge.

Each field ``name`` is read from ``CASEHOOKS_<NAME>``; a value given to the constructor wins over the
environment. The values are scalars validated by pydantic (``"1"``, ``"true"`` and ``"yes"`` are true), so
reading them is a dictionary lookup per field: a settings library would add a tenth of what a listing's start
costs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

PREFIX = "CASEHOOKS_"

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


class Settings(BaseModel):
    """Every knob of casehooks. The defaults run the embedded mode: SQLite and a folder under ``data_dir``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **values: Any) -> None:
        names = {f"{PREFIX}{name.upper()}": name for name in type(self).model_fields}
        from_environment = {names[key.upper()]: value for key, value in os.environ.items() if key.upper() in names}
        super().__init__(**{**from_environment, **values})

    data_dir: Path = Path("casehooks-data")
    database_url: str | None = None
    blob_url: str | None = None
    webhook_secret: SecretStr | None = None
    auth_header_name: str | None = None
    auth_header_value: SecretStr | None = None
    master_key: SecretStr | None = None
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    quarantine_body_cap_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    handler_max_attempts: int = Field(default=8, ge=1)
    handler_retry_base_seconds: float = Field(default=2.0, gt=0)
    # Handler jobs: a claim is a lease, renewed by the worker's heartbeat (a third of it) while handlers run;
    # after a worker dies its jobs run again within two leases.
    job_lease_seconds: float = Field(default=30.0, gt=0)
    document_hosts: str = ""
    document_url_ttl_seconds: int = Field(default=900, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = "info"
    console: bool = True

    # Hostile input: what an unauthenticated request may cost before its body is verified.
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    body_min_rate_bytes: int = Field(default=64 * 1024, gt=0)
    unverified_budget_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    limit_concurrency: int | None = Field(default=None, gt=0)
    quarantine_max_rows: int = Field(default=100_000, ge=1)
    quarantine_header_bytes: int = Field(default=16 * 1024, ge=0)
    document_allow_http: bool = False  # fetch document links over plain http (a test platform on loopback)
    # Large bodies: above this declared length a body is spooled to <data_dir>/spool and its files streamed out.
    stream_threshold_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    # Attachment files up to this size are sealed into the database row, not the blob store (0: none are).
    # At most 1 MiB: larger files always stream to the blob store.
    inline_file_bytes: int = Field(default=64 * 1024, ge=0, le=1024 * 1024)
    # Files no row names (store/file_sweep.py): ``serve`` removes them this often (0: never), once they are older
    # than the grace (at least five minutes: an object is written a moment before its row commits).
    file_sweep_seconds: float = Field(default=6 * 3600.0, ge=0)
    file_sweep_grace_seconds: float = Field(default=3600.0, ge=300)
    # Console sign-in, sessions and tokens (docs/security.md).
    console_session_minutes: int = Field(default=480, gt=0)
    console_idle_minutes: int = Field(default=30, gt=0)
    console_lockout_failures: int = Field(default=10, ge=1)
    console_address_failures: int = Field(default=50, ge=1)
    console_lockout_minutes: int = Field(default=15, gt=0)
    console_token_days: int = Field(default=90, gt=0)

    # The sandbox platform (``casehooks sandbox serve``): the sender side of the wire.
    sandbox_database_url: str | None = None
    sandbox_port: int = Field(default=8090, ge=0, le=65535)
    sandbox_public_url: str | None = None
    sandbox_worker: bool = True
    sandbox_lease_seconds: float = Field(default=60.0, gt=0)
    sandbox_delivery_timeout: float = Field(default=10.0, gt=0)
    sandbox_delivery_concurrency: int = Field(default=16, ge=1)
    sandbox_poll_seconds: float = Field(default=0.25, gt=0)
    sandbox_retry_base_seconds: float = Field(default=2.0, gt=0)
    sandbox_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    sandbox_max_attempts: int = Field(default=12, ge=1)
    sandbox_disable_after: int = Field(default=20, ge=1)
    # Sandbox endpoint secrets sealed at rest: master key entries (id:base64), else <data_dir>/sandbox.key.
    sandbox_master_key: SecretStr | None = None
    # Sandbox endpoint disabling: only after failing this long without a success (and disable_after attempts).
    sandbox_disable_after_seconds: float = Field(default=5 * 86400.0, ge=0)
    outbound_allow: str = ""
    outbound_allow_loopback: bool = True
    # Durability and readiness: /readyz fails below this much free disk; its checks are reused this long.
    ready_min_free_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    ready_cache_seconds: float = Field(default=1.5, ge=0)
    # Database timeouts: connecting, each statement, each lock wait and a request's wait for its commit; a hung
    # database answers 503 within a few of these instead of holding requests as long as it hangs.
    database_timeout_seconds: float = Field(default=5.0, gt=0)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        """The database URL; by default a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'casehooks.db').resolve()}"

    @property
    def resolved_blob_url(self) -> str:
        """The blob store URL; by default a ``blobs`` folder in the data folder."""
        return self.blob_url or (self.data_dir / "blobs").resolve().as_uri()

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """The active signing secrets, comma-separated in the environment (several during a rotation)."""
        if self.webhook_secret is None:
            return ()
        return tuple(part.strip() for part in self.webhook_secret.get_secret_value().split(",") if part.strip())

    @property
    def document_host_list(self) -> tuple[str, ...]:
        """``host:port`` entries (a bare ``host`` means the default port) the worker may download documents from."""
        return tuple(part.strip().lower() for part in self.document_hosts.split(",") if part.strip())

    @property
    def resolved_sandbox_database_url(self) -> str:
        """The sandbox's database URL; by default ``sandbox.db`` (SQLite, WAL) in the data folder."""
        return self.sandbox_database_url or f"sqlite:///{(self.data_dir / 'sandbox.db').resolve()}"

    @property
    def resolved_sandbox_public_url(self) -> str:
        """The sandbox's own base URL, used in signed document links."""
        return (self.sandbox_public_url or f"http://{self.host}:{self.sandbox_port}").rstrip("/")

    @property
    def outbound_allow_list(self) -> tuple[str, ...]:
        """Hosts and networks (comma-separated) the sandbox may deliver to; empty means any but the refused."""
        return tuple(part.strip() for part in self.outbound_allow.split(",") if part.strip())
