"""Seed bodies for the sender tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sender.sink import Sink, running_sink

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def comment_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "add_case_comment.json").read_text())
    return data


@pytest.fixture
def attachment_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "add_case_attachment.json").read_text())
    return data


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink(secret="s3cret") as started:
        yield started
