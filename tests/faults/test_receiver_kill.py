"""kill -9 of ``casehooks serve`` again and again during a stream: no event answered 2xx is lost, each is stored
once with its file, the platform's retries bring in the rest, and every handler job finishes."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from tests.faults.stream import Stream, assert_no_phi, assert_nothing_lost, full_stream_size, receiving, record_figure

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

KILLS = 4


def test_kill_9_of_the_receiver_in_a_stream_loses_no_acknowledged_event(
    tmp_path: Path, engine_name: str, deployment: dict[str, str]
) -> None:
    stream = Stream.make(full_stream_size(300))
    kills = KILLS if len(stream.events) < 1000 else 20
    recoveries: list[float] = []
    with receiving(tmp_path, deployment) as receiver:
        stream.send(receiver.server.url)
        for kill in range(kills):
            # Kill once a share of the stream is in, so each kill lands mid-stream, not before or after it.
            target = len(stream.events) * (kill + 1) // (kills + 2)
            deadline = time.monotonic() + 300
            while len(stream.acknowledged) < target and stream.running() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert stream.running(), "the stream ended before the kill"
            receiver.server.stop(kill=True)
            recoveries.append(receiver.restart())
        stream.join()
        assert_nothing_lost(receiver, stream)
        assert_no_phi(receiver.server.output(), stream)
    record_figure(f"receiver kill -9 ({engine_name}): kills", kills)
    record_figure(f"receiver kill -9 ({engine_name}): events", len(stream.events))
    record_figure(f"receiver kill -9 ({engine_name}): recovery median s", round(statistics.median(recoveries), 2))
    record_figure(f"receiver kill -9 ({engine_name}): recovery max s", round(max(recoveries), 2))
    record_figure(f"receiver kill -9 ({engine_name}): lost", len(stream.ids - stream.acknowledged))
