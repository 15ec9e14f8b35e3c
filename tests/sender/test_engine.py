"""The fast engine against real servers on loopback, among them a raw asyncio server that answers badly."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from casehooks.events import parse_event
from casehooks.sender import engine
from casehooks.sender.trigger import TriggerOptions, fast_engine_fits, run_trigger, uses_fast_engine
from casehooks.signing import sign
from tests.sender.sink import Sink, running_sink

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
# What the server does with request number n: the bytes to write, then whether to close the connection.
Behaviour = Callable[[int], tuple[bytes, bool]]


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[tuple[str, list[bytes]]]:
    """An HTTP/1.1 server written on bare streams, answering each request as ``behaviour`` says; yields its URL
    and the bodies it read."""
    bodies: list[bytes] = []
    counter = itertools.count()
    ready = threading.Event()
    holder: dict[str, object] = {}

    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                bodies.append(await reader.readexactly(length))
                answer, close = behaviour(next(counter))
                if answer:
                    writer.write(answer)
                    await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            writers.discard(writer)

    async def shut() -> None:
        # Close every connection and let the loop run their closing before it stops (no transport left half-shut).
        server = holder["server"]
        assert isinstance(server, asyncio.Server)
        server.close()
        for writer in list(writers):
            writer.close()
        for _ in range(10):
            await asyncio.sleep(0)
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()
        await asyncio.sleep(0.05)

    def serve() -> None:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        holder["loop"], holder["server"] = loop, server
        holder["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(shut())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(120)
    try:
        yield f"http://127.0.0.1:{holder['port']}/hook", bodies
    finally:
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=60)


def send(url: str, count: int, concurrency: int = 4, **extra: object) -> dict[str, object]:
    options = TriggerOptions(url=url, count=count, concurrency=concurrency, engine="fast", **extra)  # type: ignore[arg-type]
    return asyncio.run(run_trigger(options)).to_dict()


def test_a_server_closing_after_every_answer_gets_every_request_on_fresh_connections() -> None:
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok"
    with raw_server(lambda n: (close, True)) as (url, bodies):
        summary = send(url, 30)
    assert summary["statuses"] == {"200": 30}
    assert len(bodies) == 30


def test_chunked_answers_after_interim_ones_are_read_on_one_connection() -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    with raw_server(lambda n: (answer, False)) as (url, bodies):
        summary = send(url, 20, concurrency=1)
    assert summary["statuses"] == {"202": 20}
    assert len(bodies) == 20


def test_a_server_that_hangs_up_mid_answer_fails_that_request_and_the_run_goes_on() -> None:
    def behaviour(n: int) -> tuple[bytes, bool]:
        return (OK[:-1], True) if n % 5 == 2 else (OK, False)

    with raw_server(behaviour) as (url, bodies):
        summary = send(url, 50)
    assert summary["sent"] == 50
    assert summary["errors"] == {"protocol": 10}
    assert summary["statuses"] == {"200": 40}
    assert len(bodies) == 50


def test_a_server_that_hangs_up_without_answering_fails_that_request() -> None:
    with raw_server(lambda n: (b"", n == 0) if n == 0 else (OK, False)) as (url, _):
        summary = send(url, 10, concurrency=1)
    assert summary["errors"] == {"protocol": 1}
    assert summary["statuses"] == {"200": 9}


def test_garbage_instead_of_an_answer_is_a_protocol_error() -> None:
    with raw_server(lambda n: (b"SSH-2.0-nope\r\n\r\n", False) if n < 3 else (OK, False)) as (url, _):
        summary = send(url, 8, concurrency=1)
    assert summary["errors"] == {"protocol": 3}
    assert summary["statuses"] == {"200": 5}


def test_a_server_that_never_answers_times_out_every_request_and_the_run_ends() -> None:
    with raw_server(lambda n: (b"", False)) as (url, bodies):
        summary = send(url, 4, concurrency=2, timeout=0.5)
    assert summary["errors"] == {"timeout": 4}
    assert summary["sent"] == 4
    assert len(bodies) == 4


def test_an_answer_nobody_asked_for_drops_the_connection_not_the_count() -> None:
    # Two answers to one request: the second cannot belong to the next request, which was not yet written.
    with raw_server(lambda n: (OK + OK, False)) as (url, bodies):
        summary = send(url, 12, concurrency=2)
    assert summary["statuses"] == {"200": 12}
    assert len(bodies) == 12


@pytest.mark.parametrize("engine", ["fast", "httpx"])
def test_both_engines_send_bodies_the_receiver_verifies(sink: Sink, engine: str) -> None:
    options = TriggerOptions(url=sink.url, count=20, concurrency=4, secret="s3cret", engine=engine)  # type: ignore[arg-type]
    summary = asyncio.run(run_trigger(options))
    assert summary.statuses == {200: 20}
    assert sink.bad_signatures == 0
    for item in sink.received:
        assert item.headers["x-cv-signature"] == sign(item.body, "s3cret")
        assert item.headers["content-type"] == "application/json"
        assert int(item.headers["content-length"]) == len(item.body)
    assert len({parse_event(item.body).activity.id for item in sink.received}) == 20  # type: ignore[union-attr]


def test_the_fast_engine_is_chosen_only_where_it_can_go(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert fast_engine_fits("http://127.0.0.1:8080/hook")
    assert not fast_engine_fits("https://example.org/hook")
    assert not fast_engine_fits("http://user:pw@example.org/hook")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    assert not fast_engine_fits("http://example.org/hook")
    monkeypatch.setenv("NO_PROXY", "example.org")
    assert fast_engine_fits("http://example.org/hook")
    with pytest.raises(ValueError, match="plain http"):
        uses_fast_engine(TriggerOptions(url="https://example.org/hook", engine="fast"))
    assert not uses_fast_engine(TriggerOptions(url="http://127.0.0.1/hook", engine="httpx"))


def test_pacing_holds_with_the_fast_engine() -> None:
    with raw_server(lambda n: (OK, False)) as (url, _):
        summary = send(url, 6, concurrency=3, rate=20.0)
    assert summary["statuses"] == {"200": 6}
    assert float(summary["elapsed_seconds"]) >= 5 / 20 * 0.9  # type: ignore[arg-type]


def test_the_fast_engine_runs_on_uvloop_too() -> None:
    uvloop = pytest.importorskip("uvloop")
    with raw_server(lambda n: (OK, False)) as (url, bodies):
        options = TriggerOptions(url=url, count=10, concurrency=2, engine="fast")
        summary = uvloop.run(run_trigger(options))
    assert summary.statuses == {200: 10}
    assert len(bodies) == 10


def test_a_slow_server_is_waited_for_within_the_timeout() -> None:
    with running_sink(delay=0.3) as slow:
        summary = send(slow.url, 8, concurrency=4, timeout=120.0)
    assert summary["statuses"] == {"200": 8}


def test_requests_past_the_prebuilt_ones_are_built_as_they_go_and_stay_unique(
    sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PREBUILT_BYTES", 1)  # only the first request is built up front
    options = TriggerOptions(url=sink.url, count=15, concurrency=3, secret="s3cret", keep_accepted=True)
    summary = asyncio.run(run_trigger(options))
    assert summary.statuses == {200: 15}
    assert sink.bad_signatures == 0
    ids = {parse_event(item.body).activity.id for item in sink.received}  # type: ignore[union-attr]
    assert ids == set(summary.accepted)
    assert len(ids) == 15
