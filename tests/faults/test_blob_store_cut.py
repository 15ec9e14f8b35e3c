"""The blob store cut off while events with files arrive: those are answered 503, never 2xx without their file;
``/readyz`` names the blob store; once it is back the platform's retries bring every event in, none lost.

On S3 the server's port is closed (open connections reset); on a local folder, the SQLite deployment's analogue,
the folder's file system turns read-only, which stops even root.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.faults.stream import (
    RECOVERY_CEILING,
    SECRET,
    Receiving,
    Stream,
    assert_no_phi,
    assert_nothing_lost,
    receiving,
    record_figure,
)
from tests.processes import readiness, ready, wait_for
from tests.receiver.events import attachment_event, comment_event, signed
from tests.services import S3Server, TcpGate, capped_folder, remount

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

EVENTS = 150
# Small files are kept in the database by default: here every file must meet the blob store.
EVERY_FILE_TO_THE_BLOB_STORE = {"CASEHOOKS_INLINE_FILE_BYTES": "0"}


@contextmanager
def cuttable_receiver(
    tmp_path: Path, engine_name: str, deployment: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[tuple[Receiving, Callable[[], None], Callable[[], None]]]:
    """A receiver whose blob store can be cut off and restored: (receiver, cut, restore)."""
    if engine_name == "postgresql":
        s3: S3Server = request.getfixturevalue("s3")
        gate = TcpGate(int(s3.endpoint.rsplit(":", 1)[1]))
        try:
            env = {"AWS_ENDPOINT_URL": gate.endpoint, **EVERY_FILE_TO_THE_BLOB_STORE}
            with receiving(tmp_path, deployment, extra_env=env) as receiver:
                yield receiver, gate.cut, gate.restore
        finally:
            gate.cut()
        return
    blobs = tmp_path / "blobs"
    with (
        capped_folder(blobs, 64 * 1024 * 1024),
        receiving(
            tmp_path,
            deployment,
            blob_url=blobs.as_uri(),
            ready_min_free_bytes=str(1024 * 1024),
            extra_env=EVERY_FILE_TO_THE_BLOB_STORE,
        ) as receiver,
    ):
        yield receiver, lambda: remount(blobs, writable=False), lambda: remount(blobs, writable=True)


def test_a_cut_off_blob_store_refuses_files_with_503_and_loses_nothing(
    tmp_path: Path, engine_name: str, deployment: dict[str, str], request: pytest.FixtureRequest
) -> None:
    stream = Stream.make(EVENTS)
    with cuttable_receiver(tmp_path, engine_name, deployment, request) as (receiver, cut, restore):
        url = receiver.server.url
        stream.send(url, threads=4)
        wait_for(lambda: len(stream.acknowledged) >= EVENTS // 3 or not stream.running(), timeout=RECOVERY_CEILING)
        assert stream.running()
        cut()
        with httpx.Client(timeout=RECOVERY_CEILING) as client:
            # An event with a file cannot be taken now: 503, nothing stored (its retry below is accepted).
            with_file = attachment_event(b"%PDF cut-off " * 100)
            body, headers = signed(with_file, SECRET)
            started = time.monotonic()
            answer = client.post(f"{url}/webhooks/carevalidate", content=body, headers=headers)
            answered_in = time.monotonic() - started
            assert answer.status_code == 503
            assert answer.headers.get("retry-after")
            assert answer.json()["reason"] == "store_unavailable"
            wait_for(lambda: readiness(url).get("blobs") == "failed", timeout=RECOVERY_CEILING)
            # The cut lasts until the stream's own files have met it (a loaded machine may be slow to send one).
            wait_for(lambda: stream.statuses[503] >= 1 or not stream.running(), timeout=RECOVERY_CEILING)
            # An event without a file needs no blob store: still taken.
            without = comment_event()
            body_c, headers_c = signed(without, SECRET)
            assert client.post(f"{url}/webhooks/carevalidate", content=body_c, headers=headers_c).status_code == 200
            restored = time.monotonic()
            restore()
            wait_for(lambda: ready(url), timeout=RECOVERY_CEILING)
            ready_in = time.monotonic() - restored
            retried = client.post(f"{url}/webhooks/carevalidate", content=body, headers=headers)
            assert retried.status_code == 200
        stream.join()
        stream.events += [with_file, without]
        stream.files[str(with_file["payload"]["activity"]["id"])] = b"%PDF cut-off " * 100
        stream.acknowledged.update({retried.json()["id"], str(without["payload"]["activity"]["id"])})
        assert stream.statuses[503] >= 1  # the stream's own files met the cut too
        assert_nothing_lost(receiver, stream)
        assert_no_phi(receiver.server.output(), stream)
    record_figure(f"blob store cut ({engine_name}): 503 answered in s", round(answered_in, 2))
    record_figure(f"blob store cut ({engine_name}): ready after restore s", round(ready_in, 2))
    record_figure(f"blob store cut ({engine_name}): lost", len(stream.ids - stream.acknowledged))
