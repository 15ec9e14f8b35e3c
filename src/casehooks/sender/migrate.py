"""The sandbox database's schema migrations (Alembic, its own tree and version table), run at start.

A database made before migrations existed (tables created at start) is recognised by its tables and stamped at
the first revision, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from casehooks.sender.tables import metadata

_SCRIPTS = Path(__file__).parent / "migrations"
VERSION_TABLE = "sandbox_alembic_version"
FIRST_REVISION = "s0001"
# Any fixed number, distinct from the receiver's: one sandbox process at a time migrates a shared database.
_MIGRATION_LOCK = 0x73616E64


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the sandbox database to ``revision`` (the latest by default)."""
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if VERSION_TABLE not in tables and "outbox" in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def pending_changes(engine: Engine) -> list[Any]:
    """Differences between the migrated database and the tables; empty when the two agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        return [diff for diff in compare_metadata(context, metadata) if not _is_version_table(diff)]


def _is_version_table(diff: Any) -> bool:
    return isinstance(diff, tuple) and len(diff) > 1 and getattr(diff[1], "name", None) == VERSION_TABLE
