"""Unreferenced files: objects in the blob store that no ``blobs`` row names, found and removed.

A large file is written to the blob store before its event commits, under a fresh name. When the row never
lands the object stays behind, encrypted but unreadable (its data key was in the row) and never removed:
the process was killed between the two; the commit failed, or its answer was lost; two requests stored the same
new file at once and the commit kept the first row. A sweep removes such objects once they are older than any
request can take (``grace``: a request's commit is abandoned within seconds), and, in a local folder, the
staging files of puts a crash cut short. An object a row names is never touched, however old.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, select

from casehooks.blobs import BlobEntry, BlobStore
from casehooks.store.tables import BlobRow

FILES_FOLDER = "files"
# Long past any request: its commit is abandoned after the database timeout, its body after the body timeout.
DEFAULT_GRACE = timedelta(hours=1)
_BATCH = 500
_NAMED = select(BlobRow.object_key).where(BlobRow.object_key.in_(bindparam("keys", expanding=True)))


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep found: objects listed, those no row names (removed unless a dry run) and their bytes, those
    no row names yet but too young to remove, and staging files removed."""

    listed: int = 0
    unreferenced: int = 0
    unreferenced_bytes: int = 0
    young: int = 0
    partials: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def sweep_files(
    engine: Engine,
    blobs: BlobStore,
    *,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
    dry_run: bool = False,
    stopping: Callable[[], bool] = lambda: False,
) -> SweepReport:
    """Remove the files no row names, last written more than ``grace`` before ``now`` (the blob store's clock,
    not the platform's: the wall clock by default). ``dry_run`` counts them and removes nothing. ``stopping`` is
    asked between batches: once it says yes, the sweep ends where it is (and reports that far)."""
    before = (now or datetime.now(UTC)) - grace
    listed = unreferenced = unreferenced_bytes = young = 0
    for batch in _batches(blobs.entries(f"{FILES_FOLDER}/")):
        if stopping():
            return SweepReport(listed, unreferenced, unreferenced_bytes, young, 0, dry_run)
        listed += len(batch)
        for entry in _unnamed(engine, batch):
            if entry.modified >= before:
                young += 1
                continue
            unreferenced += 1
            unreferenced_bytes += entry.size
            if not dry_run:
                blobs.delete(entry.key)
    partials = 0 if dry_run else blobs.remove_partials(FILES_FOLDER, before)
    return SweepReport(listed, unreferenced, unreferenced_bytes, young, partials, dry_run)


def _batches(entries: Iterable[BlobEntry]) -> Iterator[list[BlobEntry]]:
    source = iter(entries)
    while batch := list(itertools.islice(source, _BATCH)):
        yield batch


def _unnamed(engine: Engine, batch: list[BlobEntry]) -> list[BlobEntry]:
    # Asked after listing: a row committed since the object was listed names it here (an object listed before its
    # row commits is young, and kept).
    with engine.connect() as connection:
        named = set(connection.execute(_NAMED, {"keys": [entry.key for entry in batch]}).scalars())
    return [entry for entry in batch if entry.key not in named]
