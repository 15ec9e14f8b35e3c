"""The store's live keyring and key file rotation, on a real database and key file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select
from structlog.testing import capture_logs

from casehooks.crypto import DataKey, Keyring, WrappedKey, read_key_file, write_key_file
from casehooks.errors import CryptoError
from casehooks.store import Store
from casehooks.store.engine import dispose, make_engine, writer
from casehooks.store.keys import LiveKeyring, record_active, recorded_active, references, rotate_key_file
from casehooks.store.migrate import upgrade
from casehooks.store.tables import BlobRow, DataKeyRow

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def entries(count: int) -> list[str]:
    return [Keyring.generate_entry() for _ in range(count)]


def key_id(entry: str) -> str:
    return entry.split(":")[0]


@pytest.fixture
def engine(store: Store) -> Engine:
    return store.engine


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    upgrade(made)
    yield made
    dispose(made)


def store_data_key(engine: Engine, keyring: Keyring, dek_id: str) -> None:
    wrapped = DataKey.generate(keyring).wrapped
    with writer(engine).begin() as connection:
        connection.execute(
            insert(DataKeyRow).values(
                id=dek_id, master_key_id=wrapped.key_id, wrapped=wrapped.to_bytes(), created_at=NOW
            )
        )


def test_new_keys_are_wrapped_under_the_key_the_database_records(engine: Engine) -> None:
    first, second = entries(2)
    ticks = Ticks()
    live = LiveKeyring(engine, Keyring.parse(f"{first},{second}"), monotonic=ticks)
    assert DataKey.generate(live).wrapped.key_id == key_id(first)

    record_active(engine, key_id(second), NOW)
    ticks.now += 1.5
    assert DataKey.generate(live).wrapped.key_id == key_id(second)
    record_active(engine, key_id(first), NOW)
    ticks.now += 1.5
    assert DataKey.generate(live).wrapped.key_id == key_id(first)


def test_the_recorded_key_is_read_again_only_after_the_recheck_interval(engine: Engine) -> None:
    first, second = entries(2)
    ticks = Ticks()
    live = LiveKeyring(engine, Keyring.parse(f"{first},{second}"), monotonic=ticks)
    assert live.active.key_id == key_id(first)
    record_active(engine, key_id(second), NOW)
    ticks.now += 0.5
    assert live.active.key_id == key_id(first)
    ticks.now += 0.6
    assert live.active.key_id == key_id(second)


def test_a_key_added_to_the_key_file_by_another_process_opens_without_a_restart(
    file_engine: Engine, tmp_path: Path
) -> None:
    old, new = entries(2)
    path = tmp_path / "master.key"
    write_key_file(path, Keyring.parse(old))
    live = LiveKeyring(file_engine, read_key_file(path), reload=lambda: read_key_file(path))
    rotated = Keyring.parse(f"{new},{old}")
    wrapped = DataKey.generate(rotated).wrapped

    write_key_file(path, rotated)
    assert DataKey.open(live, wrapped).wrapped.key_id == key_id(new)


def test_a_recorded_active_key_missing_here_is_loaded_from_the_key_file(file_engine: Engine, tmp_path: Path) -> None:
    old, new = entries(2)
    path = tmp_path / "master.key"
    write_key_file(path, Keyring.parse(old))
    live = LiveKeyring(file_engine, read_key_file(path), reload=lambda: read_key_file(path), recheck_seconds=0)
    write_key_file(path, Keyring.parse(f"{new},{old}"))
    record_active(file_engine, key_id(new), NOW)
    assert DataKey.generate(live).wrapped.key_id == key_id(new)


def test_a_key_missing_everywhere_is_still_a_crypto_error(file_engine: Engine, tmp_path: Path) -> None:
    old, lost = entries(2)
    path = tmp_path / "master.key"
    write_key_file(path, Keyring.parse(old))
    live = LiveKeyring(file_engine, read_key_file(path), reload=lambda: read_key_file(path))
    with pytest.raises(CryptoError, match="unknown master key id"):
        DataKey.open(live, DataKey.generate(Keyring.parse(lost)).wrapped)


def test_a_recorded_key_this_process_lacks_leaves_it_wrapping_under_its_own_and_says_so(engine: Engine) -> None:
    mine, elsewhere = entries(2)
    live = LiveKeyring(engine, Keyring.parse(mine), recheck_seconds=0)
    record_active(engine, key_id(elsewhere), NOW)
    with capture_logs() as logs:
        assert DataKey.generate(live).wrapped.key_id == key_id(mine)
        DataKey.generate(live)
    warnings = [entry for entry in logs if entry["event"] == "active_master_key_not_held"]
    assert len(warnings) == 1
    shown = repr(warnings)
    assert key_id(elsewhere) in shown
    assert mine.split(":")[1] not in shown and elsewhere.split(":")[1] not in shown


def test_a_file_streaming_in_across_a_rotation_is_stored_under_the_new_key(store: Store) -> None:
    first, second = entries(2)
    engine = store.engine
    live = LiveKeyring(engine, Keyring.parse(f"{first},{second}"), recheck_seconds=0)
    files = type(store.files)(engine, store.blobs, live, store.clock)
    content = b"streamed across a rotation" * 5000

    def chunks() -> Iterator[bytes]:
        yield content[:1000]
        record_active(engine, key_id(second), NOW)  # another process rotates while the file streams in
        yield content[1000:]

    _outcome, row = files.store_stream(chunks())
    assert row is not None
    assert row["master_key_id"] == key_id(second)
    with writer(engine).begin() as connection:
        connection.execute(insert(BlobRow).values(row))
    assert b"".join(files.open(row["sha256"])) == content


def test_key_file_rotation_removes_the_old_key_once_nothing_names_it(file_engine: Engine, tmp_path: Path) -> None:
    (old,) = entries(1)
    path = tmp_path / "master.key"
    write_key_file(path, Keyring.parse(old))
    store_data_key(file_engine, Keyring.parse(old), "dek-1")

    rotation = rotate_key_file(file_engine, path, NOW, grace_seconds=0)

    held = read_key_file(path)
    assert held.key_ids == (rotation.active,)
    assert rotation.removed == (key_id(old),)
    assert references(file_engine) == {rotation.active: 1}
    with file_engine.connect() as connection:
        wrapped = connection.execute(select(DataKeyRow.wrapped)).scalar_one()
    assert len(held.unwrap(WrappedKey.from_bytes(wrapped))) == 32
    assert path.stat().st_mode & 0o077 == 0


def test_a_key_still_named_after_the_walk_stays_in_the_file_until_a_later_rotation(
    file_engine: Engine, tmp_path: Path
) -> None:
    (old,) = entries(1)
    path = tmp_path / "master.key"
    write_key_file(path, Keyring.parse(old))
    store_data_key(file_engine, Keyring.parse(old), "dek-1")
    late: list[str] = []

    def progress(done: int, total: int) -> None:
        if done == total and not late:
            # A process that had not yet seen the new key commits a key wrapped under the old one.
            late.append("dek-late")
            store_data_key(file_engine, Keyring.parse(old), "dek-late")

    first = rotate_key_file(file_engine, path, NOW, grace_seconds=0, progress=progress)
    assert first.removed == ()
    assert first.still_referenced == {key_id(old): 1}
    assert set(read_key_file(path).key_ids) == {first.active, key_id(old)}

    second = rotate_key_file(file_engine, path, NOW, grace_seconds=0)
    assert set(second.removed) == {first.active, key_id(old)}
    assert read_key_file(path).key_ids == (second.active,)
    assert references(file_engine) == {second.active: 2}


def test_rotation_waits_the_grace_period_after_recording_before_it_walks(file_engine: Engine, tmp_path: Path) -> None:
    (old,) = entries(1)
    path = tmp_path / "master.key"
    write_key_file(path, Keyring.parse(old))
    seen: list[tuple[float, str | None]] = []

    def sleep(seconds: float) -> None:
        seen.append((seconds, recorded_active(file_engine)))
        store_data_key(file_engine, Keyring.parse(old), "dek-in-flight")  # lands during the grace period

    rotation = rotate_key_file(file_engine, path, NOW, grace_seconds=7.0, sleep=sleep)
    assert seen == [(7.0, rotation.active)]
    assert references(file_engine) == {rotation.active: 1}
    assert rotation.removed == (key_id(old),)
