"""Seed bodies for the sender tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def comment_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "add_case_comment.json").read_text())
    return data


@pytest.fixture
def attachment_seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "add_case_attachment.json").read_text())
    return data
