"""``casehooks db upgrade`` and ``casehooks keys generate|rotate``."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError

from casehooks.cli.common import opened_store, progress_bar
from casehooks.crypto import Keyring
from casehooks.settings import Settings
from casehooks.store import keyring_from, migrate
from casehooks.store.engine import dispose, make_engine
from casehooks.store.keys import count_keys, rotate
from casehooks.store.location import sqlite_file

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Master keys: generate and rotate.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Create the store or apply pending migrations (``casehooks serve`` also does this at start)."""
    settings = Settings()
    before = _revision_before(settings)
    with opened_store(settings, create=True) as store:
        typer.echo(f"database at revision {migrate.current_revision(store.engine)} (was {before or 'empty'})")


def _revision_before(settings: Settings) -> str | None:
    database_file = sqlite_file(settings.resolved_database_url)
    if database_file is not None and not database_file.is_file():
        return None
    engine = make_engine(settings.resolved_database_url)
    try:
        return migrate.current_revision(engine)
    except OperationalError:
        return None  # opening the store next says why, naming the setting
    finally:
        dispose(engine)


@keys_app.command("generate")
def generate_command() -> None:
    """Print a new master key entry for CASEHOOKS_MASTER_KEY (put it first to make it the active key)."""
    typer.echo(Keyring.generate_entry())


@keys_app.command("rotate")
def rotate_command() -> None:
    """Re-wrap every data key under the active master key.

    With CASEHOOKS_MASTER_KEY set, the first entry is the active key: put a new one first, run this, then drop
    the old entry. In the embedded mode (key file), a new key is made, everything is re-wrapped under it, and
    the old key is removed from the file.
    """
    settings = Settings()
    with opened_store(settings):
        pass  # an existing store with its key: rotation never creates either
    key_file = settings.data_dir / "master.key"
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
        if settings.master_key is None:
            old = key_file.read_text().strip() if key_file.exists() else ""
            new_entry = Keyring.generate_entry()
            combined = ",".join(filter(None, [new_entry, old]))
            _write_private(key_file, combined)
            keyring = Keyring.parse(combined)
        else:
            keyring = keyring_from(settings)
        total = count_keys(engine)
        with progress_bar("re-wrapping keys", int(total)) as advance:
            changed = rotate(engine, keyring, lambda done, _total: advance(1))
        if settings.master_key is None:
            _write_private(key_file, combined.split(",")[0])
        typer.echo(f"re-wrapped {changed} key(s) under {keyring.active.key_id}")
    finally:
        dispose(engine)


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
