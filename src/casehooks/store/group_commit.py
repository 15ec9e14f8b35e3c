"""A batch of prepared events written together: one statement per table for the whole batch.

The batch writer (store/writer.py) tries this first, in a savepoint. Each case, person and object the batch
names is read once under its row lock (all of them in one order, table then key, as every writer takes them),
merged in memory with every mention in event order, sealed once and written once. When anything fails (a row
another writer inserted meanwhile, a value the driver cannot bind) the savepoint is rolled back and the events
are committed one by one by ``commit_event``, so a bad event still fails alone. What this writes is what
``commit_event`` writes for the same events in the same order (tests/store/test_group_commit.py compares them).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from casehooks.events.wire import dump_json, load_json
from casehooks.store import search
from casehooks.store.ingest import (
    BOOKKEEPING,
    MERGED_MODELS,
    Prepared,
    event_row,
    job_row,
    statements_for,
    table_of,
)
from casehooks.store.merge import Mention, legacy_stamps, merge, stamps_for
from casehooks.store.vault import Vault


class RowTaken(Exception):
    """A row this batch meant to insert was inserted by another writer since the batch read it."""


@dataclass(slots=True)
class _Merging:
    """A case, person or object row as the batch has merged it so far."""

    key: tuple[str, str]
    stored: dict[str, Any] | None  # the row as read (None: the batch inserts it)
    stored_details: dict[str, Any] | None
    columns: dict[str, Any]  # the row's plain columns now
    details: dict[str, Any]
    stamps: dict[str, str | None]

    def changes(self, vault: Vault, aad: bytes) -> dict[str, Any]:
        """The columns to write: every column of a new row, the changed ones of a stored row."""
        if self.stored is None:
            dek_id, sealed = vault.seal(dump_json(self.details), aad)
            return {**self.columns, "id": self.key[1], "details_sealed": sealed, "dek_id": dek_id,
                    "field_stamps": self.stamps}  # fmt: skip
        values = {name: value for name, value in self.columns.items() if self.stored[name] != value}
        if self.details != self.stored_details:
            values["dek_id"], values["details_sealed"] = vault.seal(dump_json(self.details), aad)
        if self.stamps != self.stored["field_stamps"]:
            values["field_stamps"] = self.stamps
        return values


def commit_batch(connection: Connection, batch: Sequence[Prepared], run_at: datetime) -> list[bool]:
    """Write ``batch`` inside the caller's transaction; per event, True if stored now, False if a duplicate."""
    statements = statements_for(connection)
    first: dict[str, int] = {}
    for index, prepared in enumerate(batch):
        first.setdefault(prepared.event_id, index)
    rows = [event_row(batch[index]) for index in first.values()]
    inserted = set(connection.execute(statements["events"], rows).scalars())
    stored = [
        first[prepared.event_id] == index and prepared.event_id in inserted for index, prepared in enumerate(batch)
    ]
    fresh = [prepared for prepared, now in zip(batch, stored, strict=True) if now]
    if not fresh:
        return stored
    _execute(connection, statements["blobs"], [blob for prepared in fresh for blob in prepared.blobs])
    _merge_mentions(connection, statements, fresh)
    for table in ("activities", "comments", "attachments", "timeline_links"):
        _execute(connection, statements[table], [row for prepared in fresh for row in prepared.rows.get(table, ())])
    connection.execute(statements["jobs"], [job_row(prepared, run_at) for prepared in fresh])
    return stored


def _execute(connection: Connection, statement: Any, rows: list[dict[str, Any]]) -> int:
    """Run ``statement`` over ``rows``, one execution per set of columns; how many rows came back."""
    returned = 0
    keyed = sorted(rows, key=_columns)  # a stable sort keeps each set's own order
    for _names, group in itertools.groupby(keyed, key=_columns):
        result = connection.execute(statement, list(group))
        returned += len(result.all()) if result.returns_rows else 0
    return returned


def _columns(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(row)


def _merge_mentions(connection: Connection, statements: dict[str, Any], fresh: list[Prepared]) -> None:
    mentions = [(prepared, mention) for prepared in fresh for mention in prepared.mentions]
    if not mentions:
        return
    vault = _vault(fresh)
    merging = _read_locked(connection, vault, mentions)
    terms: dict[tuple[str, ...], dict[str, str]] = {}
    for prepared, mention in mentions:
        row = merging.get((mention.table, mention.key))
        if row is None:
            merging[(mention.table, mention.key)] = _new(mention, prepared)
        else:
            _merge_into(row, mention, prepared)
        if mention.table == "people":  # the blind index (store/search.py): digests only, no plaintext
            for term in search.term_rows(vault.keyring, mention.key, mention.details):
                terms.setdefault(tuple(term.values()), term)
    inserts: dict[str, list[dict[str, Any]]] = {}
    updates: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(merging):  # rows are written in the order they were locked
        row = merging[key]
        changes = row.changes(vault, f"{key[0]}:{key[1]}".encode())
        if row.stored is None:
            inserts.setdefault(key[0], []).append(changes)
        elif changes:
            updates.setdefault(key[0], []).append({**changes, "mention_key": key[1]})
    for table_name, rows in inserts.items():
        if _execute(connection, statements[table_name], rows) != len(rows):
            raise RowTaken(table_name)
    for table_name, rows in updates.items():
        _execute(connection, statements[f"update:{table_name}"], rows)
    search.insert_terms(connection, list(terms.values()))


def _vault(fresh: list[Prepared]) -> Vault:
    vault = next((prepared.vault for prepared in fresh if prepared.vault is not None), None)
    if vault is None:
        raise ValueError("prepared events with cases or people need their vault to commit")
    return vault


def _read_locked(
    connection: Connection, vault: Vault, mentions: list[tuple[Prepared, Mention]]
) -> dict[tuple[str, str], _Merging]:
    """Every stored row the batch names, read under its lock, tables and keys in one order."""
    keys: dict[str, set[str]] = {}
    for _, mention in mentions:
        keys.setdefault(mention.table, set()).add(mention.key)
    merging: dict[tuple[str, str], _Merging] = {}
    for table_name in sorted(keys):
        table = table_of(MERGED_MODELS[table_name])
        query = (
            select(table)
            .where(table.c.id.in_(bindparam("keys", expanding=True)))
            .order_by(table.c.id)
            .with_for_update()
        )
        for found in connection.execute(query, {"keys": sorted(keys[table_name])}):
            merging[(table_name, found.id)] = _stored(table_name, found, vault)
    return merging


def _stored(table_name: str, found: Row[Any], vault: Vault) -> _Merging:
    aad = f"{table_name}:{found.id}".encode()
    details = load_json(vault.open(found.dek_id, found.details_sealed, aad))
    plain = dict(found._mapping)
    columns = {name: value for name, value in plain.items() if name not in BOOKKEEPING}
    stamps = found.field_stamps
    if stamps is None:
        stamps = legacy_stamps(columns, details, found.updated_at if table_name == "cases" else found.seen_at)
    if table_name == "people":
        columns["seen_at"] = found.seen_at
    return _Merging((table_name, found.id), plain, details, columns, details, stamps)


def _new(mention: Mention, prepared: Prepared) -> _Merging:
    table = table_of(MERGED_MODELS[mention.table])
    columns: dict[str, Any] = {column.key: None for column in table.columns if column.key not in BOOKKEEPING}
    columns.update(mention.columns)
    if mention.table == "cases":
        columns["first_seen_at"] = prepared.received_at
    elif mention.table == "people":
        columns["seen_at"] = prepared.received_at
    return _Merging((mention.table, mention.key), None, None, columns, dict(mention.details), stamps_for(mention))


def _merge_into(row: _Merging, mention: Mention, prepared: Prepared) -> None:
    merged = merge(mention, row.details, row.stamps)
    row.columns.update(merged.columns)
    row.details = merged.details
    row.stamps = merged.stamps
    if mention.table == "people" and prepared.received_at > row.columns["seen_at"]:
        row.columns["seen_at"] = prepared.received_at
