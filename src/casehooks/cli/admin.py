"""``casehooks db upgrade`` and ``casehooks keys generate|rotate|status``."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError

from casehooks.cli.common import opened_store, progress_bar
from casehooks.crypto import Keyring
from casehooks.settings import Settings
from casehooks.store import keyring_from, migrate, utcnow
from casehooks.store.engine import dispose, make_engine
from casehooks.store.keys import count_keys
from casehooks.store.location import sqlite_file

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Master keys: generate, rotate and status.", no_args_is_help=True)


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
def rotate_command(
    grace_seconds: float = typer.Option(
        10.0, "--grace-seconds", min=0.0, help="Wait this long after recording the new key before re-wrapping."
    ),
) -> None:
    """Make a new master key active and re-wrap every data key under it, while serve and worker run.

    Embedded mode (key file): a new key is added to the file and recorded active in the database; running
    processes switch to it within a second; after the grace period every data key is re-wrapped and old keys
    no longer named by any data key leave the file. With CASEHOOKS_MASTER_KEY the first entry becomes active:
    every running process must already list it (docs/security.md).
    """
    from casehooks.store.keys import rotate_key_file, rotate_live

    settings = Settings()
    with opened_store(settings):
        pass  # an existing store with its key: rotation never creates either
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate.upgrade(engine)
        total = count_keys(engine)
        with progress_bar("re-wrapping keys", int(total)) as advance:

            def step(_done: int, _total: int) -> None:
                advance(1)

            if settings.master_key is None:
                rotation = rotate_key_file(
                    engine, settings.data_dir / "master.key", utcnow(), grace_seconds=grace_seconds, progress=step
                )
            else:
                keyring = keyring_from(settings)
                rotation = rotate_live(engine, keyring, utcnow(), grace_seconds=grace_seconds, progress=step)
        typer.echo(f"re-wrapped {rotation.rewrapped} key(s) under {rotation.active}")
        for key_id in rotation.removed:
            typer.echo(f"removed retired key {key_id} from the key file: nothing names it any more")
        for key_id, count in sorted(rotation.still_referenced.items()):
            typer.echo(f"key {key_id} still wraps {count} key(s): keep it; a later rotation re-wraps them")
        if settings.master_key is not None:
            listed = set(keyring.key_ids) - {rotation.active}
            for key_id in sorted(listed - set(rotation.still_referenced)):
                typer.echo(f"key {key_id} wraps nothing now: it may leave CASEHOOKS_MASTER_KEY")
    finally:
        dispose(engine)


@keys_app.command("status")
def status_command() -> None:
    """The active master key and how many data keys each master key wraps (no key material is shown)."""
    from casehooks.store.keys import recorded_active, references

    settings = Settings()
    with opened_store(settings) as store:
        held = store.vault.keyring
        recorded = recorded_active(store.engine)
        counts = references(store.engine)
    active = recorded or held.key_ids[0]
    for key_id in dict.fromkeys([active, *held.key_ids, *counts]):
        marks = [mark for mark, on in (("active", key_id == active), ("missing", key_id not in held.key_ids)) if on]
        typer.echo(f"{key_id}  wraps {counts.get(key_id, 0)}  {' '.join(marks)}".rstrip())
