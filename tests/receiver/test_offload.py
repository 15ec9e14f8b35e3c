"""The thread that hashes and spools a large body beside the event loop: order, bound, errors, no blocked loop."""

from __future__ import annotations

import hashlib
import random
import threading
import time

import anyio
import pytest

from casehooks.receiver.offload import ChunkThread, Offload

CEILING_SECONDS = 60.0


def _chunks(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice((1, 7, 4096, 65536, 300_000))) for _ in range(200)]


@pytest.mark.parametrize("seed", range(5))
def test_every_consumer_sees_every_chunk_in_order(seed: int) -> None:
    chunks = _chunks(seed)
    digest = hashlib.sha256()
    seen: list[bytes] = []
    feed = ChunkThread((digest.update, seen.append), backlog=256 * 1024)

    async def write_all() -> None:
        for chunk in chunks:
            await feed.write(chunk)

    anyio.run(write_all)
    feed.close()
    feed.raise_error()
    assert seen == chunks
    assert digest.digest() == hashlib.sha256(b"".join(chunks)).digest()
    assert feed.pending == 0


def test_a_buffer_the_server_reuses_is_copied_before_it_is_handed_over() -> None:
    seen: list[bytes] = []
    gate = threading.Event()
    feed = ChunkThread((lambda chunk: gate.wait(CEILING_SECONDS), seen.append))
    buffer = bytearray(b"first")

    async def write() -> None:
        await feed.write(buffer)  # type: ignore[arg-type]  # what an ASGI server may pass
        buffer[:] = b"later"
        await feed.write(bytes(buffer))

    anyio.run(write)
    gate.set()
    feed.close()
    assert seen == [b"first", b"later"]


def test_the_bytes_waiting_for_the_thread_stay_near_the_backlog_and_the_loop_runs_meanwhile() -> None:
    backlog = 64 * 1024
    chunk = b"x" * 16 * 1024
    gate = threading.Event()
    feed = ChunkThread((lambda _: gate.wait(CEILING_SECONDS),), backlog=backlog)
    most = 0
    ticks = 0
    written = 0

    async def main() -> None:
        nonlocal written, ticks, most
        async with anyio.create_task_group() as tasks:

            async def writer() -> None:
                nonlocal written, most
                for _ in range(40):
                    await feed.write(chunk)
                    written += 1
                    most = max(most, feed.pending)

            tasks.start_soon(writer)
            # The writer is held at the backlog; the loop still runs other tasks.
            deadline = time.monotonic() + CEILING_SECONDS
            while feed.pending <= backlog and time.monotonic() < deadline:
                await anyio.sleep(0.01)
            before = written
            for _ in range(20):
                ticks += 1
                await anyio.sleep(0.001)
            assert written == before  # still waiting for room, not spinning ahead
            gate.set()

    anyio.run(main)
    feed.close()
    assert written == 40
    assert ticks == 20
    assert most <= backlog + len(chunk)
    assert feed.pending == 0


def test_a_consumer_error_reaches_the_writer_and_later_chunks_are_dropped() -> None:
    seen: list[bytes] = []

    def consume(chunk: bytes) -> None:
        if chunk == b"bad":
            raise OSError(28, "No space left on device")
        seen.append(chunk)

    feed = ChunkThread((consume,))

    async def main() -> None:
        await feed.write(b"good")
        await feed.write(b"bad")
        deadline = time.monotonic() + CEILING_SECONDS
        while feed.pending and time.monotonic() < deadline:
            await anyio.sleep(0.01)
        with pytest.raises(OSError, match="No space"):
            await feed.write(b"after")

    anyio.run(main)
    feed.close()
    with pytest.raises(OSError, match="No space"):
        feed.raise_error()
    assert seen == [b"good"]


def test_close_waits_for_what_was_handed_over_and_stops_the_thread() -> None:
    seen: list[bytes] = []

    def slow(chunk: bytes) -> None:
        time.sleep(0.01)
        seen.append(chunk)

    feed = ChunkThread((slow,))

    async def main() -> None:
        for index in range(10):
            await feed.write(b"%d" % index)

    anyio.run(main)
    feed.close()
    assert seen == [b"%d" % index for index in range(10)]
    assert not any(thread.name == "casehooks-body" and thread.is_alive() for thread in threading.enumerate())
    feed.close()  # twice is harmless


def _body_threads() -> int:
    return sum(thread.name == "casehooks-body" and thread.is_alive() for thread in threading.enumerate())


def test_many_bodies_at_once_use_no_more_threads_than_the_offload_has() -> None:
    offload = Offload(threads=2)
    most = 0
    digests = [hashlib.sha256() for _ in range(30)]
    chunks = _chunks(7)[:20]

    async def body(index: int) -> None:
        nonlocal most
        async with offload.feeding((digests[index].update,)) as feed:
            for chunk in chunks:
                await feed.write(chunk)
                most = max(most, _body_threads())
                await anyio.sleep(0)

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            for index in range(30):
                tasks.start_soon(body, index)

    anyio.run(main)
    assert 1 <= most <= 2
    assert offload.free == 2
    expected = hashlib.sha256(b"".join(chunks)).digest()
    assert all(digest.digest() == expected for digest in digests)  # inline or threaded, every body whole


def test_a_consumer_error_is_raised_on_leaving_the_feed_and_the_thread_is_given_back() -> None:
    offload = Offload(threads=1)

    def fail(_: bytes) -> None:
        raise OSError(5, "Input/output error")

    async def feed_one() -> None:
        async with offload.feeding((fail,)) as feed:
            await feed.write(b"one")

    async def main() -> None:
        with pytest.raises(OSError, match="Input/output"):
            await feed_one()
        assert offload.free == 1

    anyio.run(main)


def test_an_error_of_the_reader_is_not_replaced_by_the_feed_s() -> None:
    offload = Offload(threads=1)

    def fail(_: bytes) -> None:
        raise OSError(5, "Input/output error")

    async def feed_then_lose_the_client() -> None:
        async with offload.feeding((fail,)) as feed:
            await feed.write(b"one")
            raise ConnectionResetError

    async def main() -> None:
        with pytest.raises(ConnectionResetError):
            await feed_then_lose_the_client()
        assert offload.free == 1

    anyio.run(main)
