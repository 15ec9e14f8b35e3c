"""Schema migrations (Alembic), run programmatically on a given engine.

Alembic is imported only to migrate or compare: a command that only reads asks the revision with one plain
query, so it starts without loading the migration machinery and every script.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect, text

from casehooks.store.engine import is_postgresql, writer

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).parent / "migrations"
# Any fixed number: the advisory lock that lets one process at a time migrate a shared database.
_MIGRATION_LOCK = 0x63617365
VERSION_TABLE = "alembic_version"


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the latest by default)."""
    from alembic import command

    from casehooks.store import access_tables  # noqa: F401  (registers the console's tables on Base)

    config = _config()
    with writer(engine).begin() as connection:
        # Every receiver process upgrades on start; on a shared database they take turns (SQLite's BEGIN
        # IMMEDIATE already serialises them), so the second finds the schema current and does nothing.
        if is_postgresql(engine):
            # A migration may rewrite large tables, and waits for another process's: not bounded by the
            # per-statement timeout of the request path.
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated), read as Alembic records it."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:  # pragma: no cover - the scripts form one line of revisions
        raise RuntimeError("the database records more than one schema revision")
    return versions[0] if versions else None


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def pending_changes(engine: Engine) -> list[Any]:
    """Differences between the migrated database and the models; empty when the two agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from casehooks.store import access_tables  # noqa: F401  (registers the console's tables on Base)
    from casehooks.store.tables import Base

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))
