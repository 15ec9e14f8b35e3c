"""PostgreSQL stopped and started again during a stream (on a private cluster, never the session's): the
receiver answers 503 meanwhile, ``/readyz`` names the database, and once it is back every event is taken, none
lost, every handler job finished."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from casehooks.crypto import Keyring
from tests.faults.stream import (
    RECOVERY_CEILING,
    Stream,
    assert_no_phi,
    assert_nothing_lost,
    receiving,
    record_figure,
)
from tests.processes import readiness, ready, wait_for
from tests.services import PostgresCluster, S3Server, start_postgres

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

EVENTS = 200


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    cluster = start_postgres()
    yield cluster
    cluster.discard()


def test_a_database_restart_mid_stream_loses_nothing(
    tmp_path: Path, private_postgres: PostgresCluster, s3: S3Server, s3_env: dict[str, str]
) -> None:
    deployment = {
        "CASEHOOKS_DATABASE_URL": private_postgres.create_database(),
        "CASEHOOKS_BLOB_URL": s3.url(),
        "CASEHOOKS_MASTER_KEY": Keyring.generate_entry(),
        **s3_env,
    }
    stream = Stream.make(EVENTS)
    with receiving(tmp_path, deployment) as receiver:
        url = receiver.server.url
        stream.send(url, threads=4)
        wait_for(lambda: len(stream.acknowledged) >= EVENTS // 3 or not stream.running(), timeout=RECOVERY_CEILING)
        assert stream.running()
        private_postgres.stop("fast")
        wait_for(lambda: readiness(url).get("database") == "failed", timeout=RECOVERY_CEILING)
        taken_while_down = len(stream.acknowledged)
        time.sleep(2)  # the stream keeps arriving; the platform retries every 503
        assert len(stream.acknowledged) == taken_while_down
        restarted = time.monotonic()
        private_postgres.start()
        wait_for(lambda: ready(url), timeout=RECOVERY_CEILING)
        ready_in = time.monotonic() - restarted
        stream.join()
        assert stream.statuses[503] >= 1
        assert_nothing_lost(receiver, stream)
        assert_no_phi(receiver.server.output(), stream)
    record_figure("database restart (postgresql): ready after start s", round(ready_in, 2))
    record_figure("database restart (postgresql): lost", len(stream.ids - stream.acknowledged))
