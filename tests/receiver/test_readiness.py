from __future__ import annotations

import socket
from pathlib import Path

import pytest

from casehooks.blobs import BlobStore
from casehooks.crypto import Keyring
from casehooks.receiver.readiness import Readiness, answer
from casehooks.settings import Settings
from casehooks.store import Store
from tests.services import S3Server

pytestmark = pytest.mark.integration


def test_readiness_names_the_check_that_failed() -> None:
    readiness = Readiness({"database": lambda: True, "disk": lambda: False, "blobs": lambda: True})
    body, status = answer(readiness.check())
    assert status == 503
    assert body == {"status": "unavailable", "checks": {"database": "ok", "disk": "failed", "blobs": "ok"}}


def test_a_check_that_raises_is_a_failure_and_its_message_goes_nowhere() -> None:
    def broken() -> bool:
        raise OSError("/data/Jane Doe/file.pdf unreadable")

    body, status = answer(Readiness({"disk": broken}).check())
    assert status == 503
    assert "Jane" not in repr(body)


def test_checks_are_cached_between_probes_and_rerun_after_the_cache_time() -> None:
    now = [100.0]
    runs: list[int] = []

    def counted() -> bool:
        runs.append(1)
        return True

    readiness = Readiness({"database": counted}, cache_seconds=2.0, monotonic=lambda: now[0])
    readiness.check()
    readiness.check()
    assert len(runs) == 1
    now[0] += 2.0
    readiness.check()
    assert len(runs) == 2


def test_a_local_blob_store_is_reachable(tmp_path: Path) -> None:
    blobs = BlobStore.from_url((tmp_path / "blobs").as_uri())
    assert blobs.local_root == tmp_path / "blobs"
    assert blobs.reachable()


def test_an_s3_server_answers_reachable(s3_env: None, s3: S3Server) -> None:
    blobs = BlobStore.from_url(s3.url())
    assert blobs.reachable()
    assert blobs.local_root is None


def test_an_s3_endpoint_nothing_listens_on_is_unreachable(
    s3_env: None, s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    assert not BlobStore.from_url(s3.url()).reachable()


def test_readyz_fails_on_disk_when_free_space_is_under_the_threshold(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, master_key=Keyring.generate_entry())
    store = Store.open(settings)
    try:
        results = Readiness.for_store(store, min_free_bytes=1 << 62).check()
        assert results == {"database": True, "disk": False, "blobs": True}
        assert Readiness.for_store(store, min_free_bytes=0).check() == {"database": True, "disk": True, "blobs": True}
    finally:
        store.close()
