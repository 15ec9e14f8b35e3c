"""Large bodies through a real server on loopback: spooled, verified, their files streamed into the blob store.

Every path leaves the spool folder empty: accepted, refused, cut short by the client.
"""

from __future__ import annotations

import base64
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from casehooks.crypto import Keyring
from casehooks.receiver.reprocess import reprocess
from casehooks.receiver.service import Service, authenticator_from, build_service
from casehooks.receiver.spool import SpoolPolicy, read_all
from casehooks.settings import Settings
from casehooks.signing import sign
from casehooks.store.tables import BlobRow, QuarantineRow
from tests.loopback import serve_in_thread
from tests.receiver.events import attachment_event, body_of, comment_event

pytestmark = pytest.mark.integration

SECRET = "whsec-spool"
MIB = 1024 * 1024
CEILING_SECONDS = 120.0


def _service(data_dir: Path, threshold: int) -> Service:
    settings = Settings(
        data_dir=data_dir,
        master_key=Keyring.generate_entry(),
        webhook_secret=SECRET,
        console=False,
        max_body_bytes=80 * MIB,
        unverified_budget_bytes=200 * MIB,
        stream_threshold_bytes=threshold,
    )
    return build_service(settings, run_worker=False)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Service, str]]:
    service = _service(tmp_path / "data", MIB)
    try:
        with serve_in_thread(service.app) as url:
            yield service, f"{url}/webhooks/carevalidate"
    finally:
        service.store.close()


def _post(url: str, body: bytes, signature: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", "x-cv-signature": signature or sign(body, SECRET)}
    return httpx.post(url, content=body, headers=headers, timeout=CEILING_SECONDS)


def _spools(service: Service) -> list[Path]:
    folder = service.settings.data_dir / "spool"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _stored_file(service: Service, sha256: str) -> bytes:
    return b"".join(service.store.files.open(sha256))


def test_a_50_mib_file_is_accepted_and_read_back_byte_identical(served: tuple[Service, str]) -> None:
    service, url = served
    content = os.urandom(50 * MIB)
    event = attachment_event(content)
    response = _post(url, body_of(event))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    with service.store.engine.connect() as connection:
        (sha256,) = connection.execute(select(BlobRow.sha256)).scalars().all()
    assert _stored_file(service, sha256) == content
    assert _spools(service) == []


def test_a_large_body_with_one_bad_signature_byte_is_refused_held_and_reprocessable(
    served: tuple[Service, str], capsys: pytest.CaptureFixture[str]
) -> None:
    service, url = served
    content = os.urandom(3 * MIB)
    body = body_of(attachment_event(content, file_name="Ada-Lovelace-dob-1815.pdf"))
    signature = sign(body, SECRET)
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    response = _post(url, body, forged)
    assert response.status_code == 401
    assert "Lovelace" not in response.text
    record_id = response.json()["quarantine_id"]
    assert record_id is not None
    assert _spools(service) == []
    with service.store.engine.connect() as connection:
        assert connection.execute(select(BlobRow.sha256)).first() is None  # nothing stored before verifying
        size = connection.execute(select(QuarantineRow.size).where(QuarantineRow.id == record_id)).scalar()
    assert size == len(body)
    outcome = reprocess(service.store, authenticator_from(service.settings), record_id, trust=True)
    assert outcome.outcome == "accepted"
    with service.store.engine.connect() as connection:
        (sha256,) = connection.execute(select(BlobRow.sha256)).scalars().all()
    assert _stored_file(service, sha256) == content
    logged = capsys.readouterr()
    assert "Lovelace" not in logged.out + logged.err  # no PHI in logs on either path


def test_a_large_content_that_is_not_base64_is_judged_as_the_whole_body_path_judges_it(
    served: tuple[Service, str],
) -> None:
    service, url = served
    event = attachment_event("@" * (2 * MIB))
    response = _post(url, body_of(event))
    assert response.status_code == 200, response.text
    with service.store.engine.connect() as connection:
        statuses = connection.execute(text("select content_status from attachments")).scalars().all()
    assert statuses == ["invalid"]
    assert _spools(service) == []


def test_a_body_that_stops_midway_leaves_no_spool(served: tuple[Service, str]) -> None:
    service, url = served
    port = int(url.split(":")[2].split("/")[0])
    head = (
        f"POST /webhooks/carevalidate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {10 * MIB}\r\nx-cv-signature: {'0' * 64}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=CEILING_SECONDS) as client:
        client.sendall(head + b'{"content": "' + b"A" * (2 * MIB))
        deadline = time.monotonic() + CEILING_SECONDS
        while not _spools(service) and time.monotonic() < deadline:
            time.sleep(0.05)
        (spool,) = _spools(service)
        assert spool.stat().st_mode & 0o777 == 0o600  # PHI on disk: the owner's only
    deadline = time.monotonic() + CEILING_SECONDS
    while _spools(service) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _spools(service) == []


def test_spools_a_crash_left_behind_are_removed_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "spool"
    folder.mkdir(parents=True)
    (folder / f"{uuid.uuid4().hex}.body").write_bytes(b'{"content": "patient file"}')
    service = _service(tmp_path / "data", MIB)
    try:
        assert _spools(service) == []
    finally:
        service.store.close()


def _rows(service: Service) -> dict[str, list[dict[str, Any]]]:
    # What the two paths must agree on: all but sealed bytes, times, sequence numbers, object names, headers
    # (where each file is kept is compared by ``_kept_where``).
    skip = {
        "seq",
        "object_key",
        "content_sealed",
        "dek_id",
        "headers_dek_id",
        "master_key_id",
        "wrapped_key",
        "headers",
    }  # headers: host port
    rows: dict[str, list[dict[str, Any]]] = {}
    with service.store.engine.connect() as connection:
        for table in ("events", "attachments", "blobs", "comments", "activities", "quarantine"):
            found = [
                {
                    key: value
                    for key, value in row._mapping.items()
                    if key not in skip and not isinstance(value, bytes) and not key.endswith("_at") and key != "id"
                }
                for row in connection.execute(text(f"select * from {table}"))
            ]
            rows[table] = sorted(found, key=repr)
    return rows


def _bodies() -> list[bytes]:
    files = [b"", b"tiny", os.urandom(100 * 1024), os.urandom(300 * 1024)]
    bodies = [body_of(attachment_event(content)) for content in files]
    bodies.append(body_of(attachment_event("@" * 200_000)))  # not base64: kept whole, judged invalid
    bodies.append(body_of(attachment_event("https://files.example/scan.pdf")))
    escaped = body_of(attachment_event(os.urandom(120 * 1024)))
    bodies.append(escaped.replace(b"/", b"\\/").replace(b'"content":"A', b'"content":"\\u0041'))
    comment = comment_event()
    comment["payload"]["comment"]["attachments"] = [
        {**attachment_event(os.urandom(90 * 1024))["payload"]["attachment"], "id": str(uuid.uuid4())} for _ in range(2)
    ]
    bodies.append(body_of(comment))
    bodies.append(body_of(attachment_event(os.urandom(100 * 1024)))[:-5])  # cut short: a schema refusal
    return bodies


def test_the_streaming_and_in_memory_paths_store_the_same_rows(tmp_path: Path) -> None:
    bodies = _bodies()
    results = []
    kept: list[dict[str, str]] = []
    for name, threshold in (("memory", 10**9), ("stream", 0)):
        service = _service(tmp_path / name, threshold)
        try:
            with serve_in_thread(service.app) as url:
                answers = [_post(f"{url}/webhooks/carevalidate", body) for body in bodies]
            results.append(([(a.status_code, a.json().get("status")) for a in answers], _rows(service)))
            kept.append(_kept_where(service))
            assert _spools(service) == []
        finally:
            service.store.close()
    (memory_answers, memory_rows), (stream_answers, stream_rows) = results
    assert stream_answers == memory_answers
    assert stream_rows == memory_rows
    assert len(stream_rows["blobs"]) == 7  # seven distinct files, empty and tiny among them
    assert kept[0] == kept[1]
    assert sorted(kept[0].values()).count("row") == 2  # the empty and the tiny file: the others pass 64 KiB


def test_a_spool_holds_no_plaintext_and_cannot_be_read_once_removed(tmp_path: Path) -> None:
    policy = SpoolPolicy(tmp_path / "spool", threshold=0)
    body = b'{"payload": {"patient": "GRUMBLEWORT"}}' * 5000
    with policy.open() as (path, writer):
        with writer:
            for start in range(0, len(body), 4096):
                writer.write(body[start : start + 4096])
        on_disk = path.read_bytes()
        assert len(on_disk) == len(body)
        assert b"GRUMBLEWORT" not in on_disk and b"payload" not in on_disk
        assert read_all(path) == body
    assert not path.exists()
    with pytest.raises(KeyError):  # its key went with it: a copy of the file would be noise
        read_all(path)


def _objects(service: Service) -> set[str]:
    root = service.settings.data_dir / "blobs"
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()} if root.is_dir() else set()


def _named_objects(service: Service) -> set[str]:
    with service.store.engine.connect() as connection:
        return set(connection.execute(select(BlobRow.object_key).where(BlobRow.object_key.is_not(None))).scalars())


def _kept_where(service: Service) -> dict[str, str]:
    """Where each file is kept: in its row (a small one) or in the blob store."""
    with service.store.engine.connect() as connection:
        found = connection.execute(select(BlobRow.sha256, BlobRow.object_key)).all()
    return {row.sha256: "row" if row.object_key is None else "blob store" for row in found}


def test_files_streamed_out_of_a_body_then_read_whole_leave_no_object_behind(served: tuple[Service, str]) -> None:
    # Each body streams a good file out first, then turns out to need reading whole (a later content that is not
    # base64, a large "content" outside any attachment) or is refused (cut short): whatever is stored in the end,
    # every object in the folder is named by a row.
    service, url = served
    good = base64.b64encode(os.urandom(2 * MIB)).decode()
    comment = comment_event()
    comment["payload"]["comment"]["attachments"] = [
        {**attachment_event(os.urandom(1))["payload"]["attachment"], "id": str(uuid.uuid4()), "content": content}
        for content in (good, "@" * 300_000)
    ]
    elsewhere = attachment_event(os.urandom(2 * MIB))
    elsewhere["payload"]["activity"]["values"] = {"content": good}
    cut = body_of(attachment_event(os.urandom(2 * MIB)))
    answers = [_post(url, body) for body in (body_of(comment), body_of(elsewhere), cut[: len(cut) - 3])]
    assert [answer.status_code for answer in answers] == [200, 200, 400], [a.text for a in answers]
    objects = _objects(service)
    assert objects, "no file was stored at all"
    assert objects == _named_objects(service)
    assert _spools(service) == []
