"""What every store command shares: settings from the environment, the store, progress bars."""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from casehooks.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from casehooks.store import Store

AsFlag = Annotated[
    str | None,
    typer.Option("--as", envvar="CASEHOOKS_AUDIT_AS", help="Who is reading, for the audit log (default: you)."),
]


@contextlib.contextmanager
def opened_store(settings: Settings | None = None, *, create: bool = False, upgrade: bool = False) -> Iterator[Store]:
    """The store the settings point at; by default an existing one (only serve, worker and db upgrade create)."""
    from casehooks.store import Store

    store = Store.open(settings or Settings(), upgrade=upgrade or create, create=create)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def opened_database(settings: Settings | None = None) -> Iterator[Engine]:
    """An existing store's database alone, for a listing of plain columns: neither its keys, nor its blob
    store, nor the event models load (each costs start-up time a listing does not need)."""
    from casehooks.store.database import open_database
    from casehooks.store.engine import dispose

    engine = open_database(settings or Settings(), upgrade=False, create=False)
    try:
        yield engine
    finally:
        dispose(engine)


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar; the yielded function advances it by the given count."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # standard output stays clean for --json
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda count: progress.advance(task, count)


def who_runs() -> str:
    """The operating-system user running the command, for the audit log; the uid where no name is known (a
    container whose user has no passwd entry and no LOGNAME), never an error."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid:{os.getuid()}"
