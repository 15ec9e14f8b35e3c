"""Endpoint secrets at rest: sealed in the sandbox database, bound to their endpoint and column."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from casehooks.crypto import Keyring
from casehooks.errors import CryptoError
from casehooks.sender.db import open_engine
from casehooks.sender.sealing import sandbox_keyring, secret_box
from casehooks.sender.tables import endpoints
from casehooks.signing import sign
from tests.sender.sandbox_server import DOCTOR, new_case, register, running_sandbox
from tests.sender.sink import Sink

pytestmark = pytest.mark.integration


def test_secrets_are_sealed_in_the_database_and_still_sign(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        register(api, sink.url, secret="s3cret", authHeaderName="x-org-key", authHeaderValue="header-value-77")
        new_case(api)
        (received,) = sink.wait_for(1)
    assert received.headers["x-cv-signature"] == sign(received.body, "s3cret")
    assert received.headers["x-org-key"] == "header-value-77"
    for path in (tmp_path / "sandbox").glob("sandbox.db*"):
        data = path.read_bytes()
        assert b"s3cret" not in data and b"header-value-77" not in data
    assert (tmp_path / "sandbox" / "sandbox.key").stat().st_mode & 0o077 == 0


def test_a_sealed_secret_opens_only_for_its_endpoint_and_column(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    box = secret_box(engine, sandbox_keyring(None, tmp_path))
    sealed = box.seal("s3cret", "endpoint-a", "secret")
    assert box.open(sealed, "endpoint-a", "secret") == "s3cret"
    with pytest.raises(CryptoError):
        box.open(sealed, "endpoint-b", "secret")
    with pytest.raises(CryptoError):
        box.open(sealed, "endpoint-a", "auth_header_value")
    with pytest.raises(CryptoError):
        box.open("s3cret", "endpoint-a", "secret")  # a clear value is never taken for a sealed one


def test_another_master_key_opens_nothing(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    sealed = secret_box(engine, sandbox_keyring(None, tmp_path)).seal("s3cret", "e", "secret")
    with pytest.raises(CryptoError):
        secret_box(engine, Keyring.parse(Keyring.generate_entry())).open(sealed, "e", "secret")


def test_a_secret_swapped_between_endpoints_does_not_sign(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        first = register(api, sink.url, secret="s3cret", eventTypes=["ADD_CASE_COMMENT"])
        second = register(api, sink.url, secret="other", eventTypes=["ADD_CASE_COMMENT"])
        engine = open_engine(f"sqlite:///{tmp_path / 'sandbox' / 'sandbox.db'}")
        with engine.begin() as conn:
            stolen = conn.execute(select(endpoints.c.secret).where(endpoints.c.id == first)).scalar_one()
            conn.execute(update(endpoints).where(endpoints.c.id == second).values(secret=stolen))
        engine.dispose()
        case_id = new_case(api)
        comment = {"text": "hello", "author": DOCTOR}
        assert api.post(f"/cases/{case_id}/comments", json=comment).status_code == 201
        sink.wait_for(1)
        deadline = time.monotonic() + 120
        while not api.get(f"/endpoints/{second}/messages", params={"state": "dead"}).json():
            assert time.monotonic() < deadline, "the swapped secret was not refused"
            time.sleep(0.05)
        (attempt,) = api.get(f"/endpoints/{second}/attempts").json()
        assert attempt["responseExcerpt"] == "endpoint secret does not open"
    assert len(sink.received) == 1


def test_the_key_folder_is_made_owner_only_under_a_permissive_umask(tmp_path: Path) -> None:
    folder = tmp_path / "sandbox"
    before = os.umask(0o022)  # an app embedding the sandbox may run with it
    try:
        sandbox_keyring(None, folder)
    finally:
        os.umask(before)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "sandbox.key").stat().st_mode & 0o777 == 0o600
