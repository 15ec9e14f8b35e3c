"""Where the embedded store lives on disk: the data folder, created private and checked at every start.

PHI sits in the database, its WAL, the blobs and the key file, so the folder is 0700 and its files 0600.
A looser file found at start is reported (by path, never fixed silently: the operator may have a reason).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from casehooks.errors import ConfigurationError, StoreUnavailable
from casehooks.logs import get_logger
from casehooks.settings import Settings

log = get_logger("casehooks.store")

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a ``sqlite:`` URL; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(database_url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def describe(settings: Settings) -> str:
    """Where the settings point, for messages: a path, or the database URL with its password hidden."""
    path = sqlite_file(settings.resolved_database_url)
    if path is not None:
        return str(path)
    return hide_password(settings.resolved_database_url)


def hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True).replace("***", "(password hidden)")
    except ArgumentError:
        return "(an unreadable URL)"


def make_private_folder(path: Path, setting: str) -> None:
    """Create ``path`` (and parents) owner-only; name ``setting`` if it cannot be created or written."""
    try:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create the data folder {setting}={path}: {_reason(exc)}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigurationError(f"cannot write to the data folder {setting}={path}: permission denied")


def make_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only, if it does not exist yet."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)


def loose_paths(folder: Path) -> list[tuple[Path, int]]:
    """The folder itself, its files and its direct sub-folders that group or others may use, with their modes.

    Files inside private sub-folders are out of reach of other users whatever their own modes, so the walk
    stops at the first level: a start stays fast with millions of blobs.
    """
    found: list[tuple[Path, int]] = []
    if not folder.is_dir():
        return found
    for path in [folder, *sorted(folder.iterdir())]:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except FileNotFoundError:
            continue  # a WAL file checkpointed away meanwhile
        if mode & 0o077:
            found.append((path, mode))
    return found


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def warn_loose_permissions(settings: Settings) -> None:
    """Log one warning per path of the data folder that group or others may read (by path, never by content)."""
    for path, mode in loose_paths(settings.data_dir):
        log.warning(
            "loose_permissions",
            path=str(path),
            mode=f"{mode:04o}",
            advice=f"only the owner should have access: chmod {'700' if path.is_dir() else '600'} {path}",
        )


def unreachable(settings: Settings, exc: OperationalError) -> StoreUnavailable:
    """A start-up failure to open the database, as one line naming the setting (password hidden)."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "cannot connect"
    reason = reason.rsplit(": ", 1)[-1].strip().lower() or "cannot connect"
    if sqlite_file(settings.resolved_database_url) is not None:
        setting = "CASEHOOKS_DATABASE_URL" if settings.database_url else "CASEHOOKS_DATA_DIR"
        return StoreUnavailable(f"cannot open the database at {setting}={describe(settings)}: {reason}")
    return StoreUnavailable(f"cannot reach the database at CASEHOOKS_DATABASE_URL={describe(settings)}: {reason}")
