"""Fixtures shared by every tier: the seed bodies exactly as the platform's documentation shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ATTACHMENT_SEED = FIXTURES / "add_case_attachment.json"
COMMENT_SEED = FIXTURES / "add_case_comment.json"

# Values of the seeds that are (or stand for) protected health information.
SEED_PHI = (
    "api_user6",
    "user_lastname6",
    "ritik.parikh01@carevalidate.com",
    "Ritik-2",
    "Parikh-2",
    "ritik.parikh+02@carevalidate.com",
    "2000-01-01",
    "1998-12-17",
    "+11235678111",
    "+12286475628",
    "1271 6th Avenue",
    "Please find my data",
    "Please Attach my documents",
)


def seed(name: str) -> dict[str, Any]:
    """A seed example as a fresh dict (tests change copies, never the file)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@pytest.fixture
def attachment_raw() -> bytes:
    return ATTACHMENT_SEED.read_bytes()


@pytest.fixture
def comment_raw() -> bytes:
    return COMMENT_SEED.read_bytes()


@pytest.fixture
def attachment_body() -> dict[str, Any]:
    return seed("add_case_attachment")


@pytest.fixture
def comment_body() -> dict[str, Any]:
    return seed("add_case_comment")
