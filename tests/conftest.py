"""Fixtures that build real things: seed bodies, a data folder, a started receiver on a loopback port."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def seed(name: str) -> dict[str, Any]:
    """A seed example as a fresh dict (tests change copies, never the file)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@pytest.fixture
def comment_seed() -> dict[str, Any]:
    return seed("add_case_comment")


@pytest.fixture
def attachment_seed() -> dict[str, Any]:
    return seed("add_case_attachment")
