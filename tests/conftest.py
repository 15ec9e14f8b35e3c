"""Fixtures shared by every tier: the seed bodies exactly as the platform's documentation shows them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casehooks.crypto import Keyring
from tests.services import PostgresCluster, S3Server, start_postgres, start_s3

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

ENGINES = ["sqlite", "postgresql"]


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the session; tests take a fresh database each from ``database_url``."""
    cluster = start_postgres()
    yield cluster
    cluster.discard()


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One S3-compatible server for the session, with a bucket; tests take a fresh prefix each."""
    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """The database engine under test: every test that asks for it runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'casehooks.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
def s3_env(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point this process's S3 clients at the test server."""
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    return s3.env


@pytest.fixture
def deployment(engine_name: str, database_url: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of the deployment under test: embedded (SQLite and a folder), or shared (PostgreSQL and
    S3, with the master key from the environment as a shared database requires)."""
    if engine_name == "sqlite":
        return {}
    server: S3Server = request.getfixturevalue("s3")
    request.getfixturevalue("s3_env")  # so that the test itself can look into the bucket
    return {
        "CASEHOOKS_DATABASE_URL": database_url,
        "CASEHOOKS_BLOB_URL": server.url(),
        "CASEHOOKS_MASTER_KEY": Keyring.generate_entry(),
        **server.env,
    }
