"""A real store: a database (a SQLite file, or a fresh PostgreSQL database), a blob folder and a keyring."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casehooks.crypto import Keyring
from casehooks.settings import Settings
from casehooks.store import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 9, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, master_key=Keyring.generate_entry())


@pytest.fixture
def store(settings: Settings, clock: Clock) -> Iterator[Store]:
    opened = Store.open(settings, clock=clock)
    yield opened
    opened.close()
