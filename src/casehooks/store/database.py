"""Opening the database the settings point at: made only when asked, its schema checked, failures as one line.

``Store.open`` builds on this with the keys and the blob store; a listing needs the database alone.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from casehooks.errors import MissingKeyFile, NoStore
from casehooks.settings import Settings
from casehooks.store import migrate
from casehooks.store.engine import dispose, make_engine
from casehooks.store.location import (
    describe,
    make_private_file,
    make_private_folder,
    sqlite_file,
    unreachable,
    warn_loose_permissions,
)


def open_database(settings: Settings, *, upgrade: bool = True, create: bool = True) -> Engine:
    """The database's engine; by default its schema brought up to date.

    With ``create=False`` nothing is made: no store where the settings point is ``NoStore``, naming where it
    looked, and a store whose key file is gone is ``MissingKeyFile`` (even for a listing that opens nothing
    sealed: the operator must hear of it before anything else runs). An unreachable database is
    ``StoreUnavailable`` naming the setting.
    """
    database_file = sqlite_file(settings.resolved_database_url)
    if create:
        if database_file is not None:
            make_private_folder(settings.data_dir, "CASEHOOKS_DATA_DIR")
            make_private_folder(database_file.parent, "CASEHOOKS_DATABASE_URL")
            make_private_file(database_file)
    elif database_file is not None and not database_file.is_file():
        raise NoStore(str(database_file))
    warn_loose_permissions(settings)
    engine = make_engine(settings.resolved_database_url, timeout=settings.database_timeout_seconds)
    try:
        if create and upgrade:
            migrate.upgrade(engine)
        elif not create and migrate.current_revision(engine) is None:
            raise NoStore(describe(settings))
        elif not create and (lost := lost_key_file(settings, engine)) is not None:
            raise MissingKeyFile(str(lost))
        elif upgrade:
            migrate.upgrade(engine)
    except OperationalError as exc:
        dispose(engine)
        raise unreachable(settings, exc) from exc
    except BaseException:
        dispose(engine)
        raise
    return engine


def holds_sealed_data(engine: Engine) -> bool:
    """Whether anything was sealed under a master key: a migrated database with data keys or blob keys."""
    if migrate.current_revision(engine) is None:
        return False
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT EXISTS (SELECT 1 FROM data_keys) OR EXISTS (SELECT 1 FROM blobs)")
        ).scalar()
    return bool(found)


def lost_key_file(settings: Settings, engine: Engine) -> Path | None:
    """The embedded mode's key file, when it is gone while the database holds what it sealed."""
    path = settings.data_dir / "master.key"
    if settings.master_key is not None or path.exists():
        return None
    return path if holds_sealed_data(engine) else None
