"""Merge a mention of a person or a case into what the store holds, field by field. Pure: no I/O, no keys.

Every field keeps the platform timestamp that set it (its "as of"). A mention carries the fields it names and
one rank: the activity's timestamp for a person, the snapshot's ``updatedAt`` for a case, or nothing (the lowest
rank). A field a mention lacks is never erased; a field it names replaces the stored one only when the mention
ranks at least as high as the value it replaces. The receive time never ranks: it is not the platform's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Mention:
    """What one event says about a person or a case: plain ``columns`` and sealed ``details`` it names."""

    table: str
    key: str
    columns: dict[str, Any]
    details: dict[str, Any]
    rank: datetime | None

    @property
    def aad(self) -> bytes:
        """Associated data binding the sealed details to their table and row."""
        return f"{self.table}:{self.key}".encode()


@dataclass(frozen=True, slots=True)
class Merged:
    """The outcome of a merge: columns that change, the whole details, the whole stamp map."""

    columns: dict[str, Any]
    details: dict[str, Any]
    stamps: dict[str, str | None]


def stamp_of(rank: datetime | None) -> str | None:
    return None if rank is None else rank.isoformat()


def _outranks(rank: datetime | None, stamp: str | None) -> bool:
    if rank is None:
        return stamp is None
    return stamp is None or rank >= datetime.fromisoformat(stamp)


def stamps_for(mention: Mention) -> dict[str, str | None]:
    """The stamp map of a row that only this mention has written."""
    stamp = stamp_of(mention.rank)
    return dict.fromkeys((*mention.columns, *(f"details.{key}" for key in mention.details)), stamp)


def merge(mention: Mention, details: dict[str, Any], stamps: dict[str, str | None]) -> Merged:
    """Merge ``mention`` into a stored row's opened ``details`` and ``stamps`` (a name without a stamp was
    never set)."""
    stamp = stamp_of(mention.rank)
    read: dict[str, datetime] = {}  # a row's fields mostly share a few stamps: each is read once

    def outranked(name: str) -> bool:
        if name not in stamps:
            return True
        held = stamps[name]
        if mention.rank is None or held is None:
            return _outranks(mention.rank, held)
        when = read.get(held)
        if when is None:
            when = read[held] = datetime.fromisoformat(held)
        return mention.rank >= when

    new_stamps = dict(stamps)
    changed: dict[str, Any] = {}
    new_details = dict(details)
    for name, value in mention.columns.items():
        if outranked(name):
            changed[name] = value
            new_stamps[name] = stamp
    for key, value in mention.details.items():
        name = f"details.{key}"
        if outranked(name):
            new_details[key] = value
            new_stamps[name] = stamp
    return Merged(changed, new_details, new_stamps)


def legacy_stamps(columns: dict[str, Any], details: dict[str, Any], rank: datetime | None) -> dict[str, str | None]:
    """Stamps for a row written before fields carried their own: every value as of the row's one stamp."""
    stamp = stamp_of(rank)
    named = {name: stamp for name, value in columns.items() if value is not None}
    named.update({f"details.{key}": stamp for key in details})
    return named
