"""A started signature-checking sink for the sender tests (the seed fixtures come from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sender.sink import Sink, running_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink(secret="s3cret") as started:
        yield started
