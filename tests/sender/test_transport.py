"""The delivery worker's HTTP/1.1 client against real servers on loopback, each answering as a receiver might:
kept connections, closed ones, chunked and oversized answers, malformed ones, silence, and TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from casehooks.sender.http1 import Target
from casehooks.sender.transport import MAX_DRAIN, Pool, TransportFailed

Answerer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


class Server:
    """A loopback server running ``answer`` for each connection; counts connections and requests."""

    def __init__(self, answer: Answerer, tls: ssl.SSLContext | None = None) -> None:
        self.answer, self.tls = answer, tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request

    def target(self, scheme: str = "http", tls_name: str = "") -> Target:
        return Target(scheme, "127.0.0.1", self.port, b"receiver.example", tls_name, b"/hooks?x=1")


def replies(*answers: bytes, then_close: bool = False) -> Callable[[Server], Answerer]:
    """An answerer that reads a request and writes the next answer, on the same connection, until they run out."""

    def make(server: Server) -> Answerer:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for data in answers:
                await server.read_request(reader)
                writer.write(data)
                await writer.drain()
            if not then_close:
                await reader.read()  # keep the connection until the client goes

        return answer

    return make


Runner = Callable[[Callable[[], Awaitable[None]]], None]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Each scenario on asyncio's own loop and on uvloop (the sandbox runs on it where installed): the order in
    which a loop hands out reads, writes and a lost connection decides what an early answer leaves readable."""
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        return lambda scenario: uvloop.run(scenario())
    return lambda scenario: asyncio.run(scenario())


async def failure(pool: Pool, target: Target, timeout: float = 30) -> str:
    """The kind of ``TransportFailed`` a POST to ``target`` meets (the test fails if it succeeds)."""
    with pytest.raises(TransportFailed) as failed:
        await pool.post(target, {}, b"{}", timeout=timeout, excerpt=4)
    return failed.value.kind


async def _serving(make: Callable[[Server], Answerer], tls: ssl.SSLContext | None = None) -> Server:
    server = Server(lambda r, w: asyncio.sleep(0), tls)
    server.answer = make(server)
    return server


def test_a_request_goes_out_whole_and_its_connection_is_kept_for_the_next(run: Runner) -> None:
    async def scenario() -> None:
        async with await _serving(replies(OK, OK, OK)) as server:
            pool = Pool()
            for _ in range(3):
                answer = await pool.post(
                    server.target(), {"x-cv-signature": "abc"}, b'{"a":1}', timeout=30, excerpt=256
                )
                assert (answer.status, answer.start) == (200, b"ok")
            await pool.close()
        assert server.connections == 1
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST /hooks?x=1 HTTP/1.1"
        assert b"host: receiver.example" in lines
        assert b"x-cv-signature: abc" in lines
        assert b"content-length: 7" in lines
        assert body == b'{"a":1}'

    run(scenario)


def test_a_connection_the_server_closed_while_idle_is_replaced_without_losing_the_request(run: Runner) -> None:
    async def scenario() -> None:
        async with await _serving(replies(OK, then_close=True)) as server:
            pool = Pool()
            for _ in range(4):
                answer = await pool.post(server.target(), {}, b"{}", timeout=30, excerpt=256)
                assert answer.status == 200
            await pool.close()
        assert server.connections == 4
        assert len(server.requests) == 4

    run(scenario)


def test_a_kept_connection_closed_as_the_request_went_out_is_replaced_and_the_request_sent_again(
    run: Runner,
) -> None:
    # The race the end-of-stream check cannot see: the server closes a kept connection only once the next
    # request is on it, without answering. The request goes again on a fresh connection (at-least-once).
    def answer_once_then_drop(server: Server) -> Answerer:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            writer.write(OK)
            await writer.drain()
            await server.read_request(reader)  # then closed, unanswered

        return answer

    async def scenario() -> None:
        async with await _serving(answer_once_then_drop) as server:
            pool = Pool()
            for _ in range(3):
                assert (await pool.post(server.target(), {}, b"{}", timeout=30, excerpt=4)).status == 200
            await pool.close()
        assert server.connections == 3
        assert len(server.requests) == 5  # the second and third requests went twice

    run(scenario)


def test_a_chunked_answer_gives_its_start_and_keeps_the_connection(run: Runner) -> None:
    chunked = (
        b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\nretry-after: 120\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\ntrailer: x\r\n\r\n"
    )

    async def scenario() -> None:
        async with await _serving(replies(chunked, OK)) as server:
            pool = Pool()
            answer = await pool.post(server.target(), {}, b"{}", timeout=30, excerpt=8)
            assert (answer.status, answer.start, answer.header(b"retry-after")) == (503, b"hello wo", "120")
            assert (await pool.post(server.target(), {}, b"{}", timeout=30, excerpt=8)).status == 200
            await pool.close()
        assert server.connections == 1

    run(scenario)


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (MAX_DRAIN + 1) + b"x" * (MAX_DRAIN + 1), False),
        (b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok", False),
        (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", False),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", True),
    ],
    ids=["past-the-drain-limit", "connection-close", "http-1.0", "interim-then-no-content", "plain"],
)
def test_a_connection_is_kept_only_when_its_answer_was_read_to_its_end(run: Runner, answer: bytes, kept: bool) -> None:
    async def scenario() -> None:
        async with await _serving(replies(answer, OK)) as server:
            pool = Pool()
            first = await pool.post(server.target(), {}, b"{}", timeout=30, excerpt=4)
            assert first.status in (200, 204)
            assert (await pool.post(server.target(), {}, b"{}", timeout=30, excerpt=4)).status == 200
            await pool.close()
        assert server.connections == (1 if kept else 2)

    run(scenario)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2xx OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!",
        b"HTTP/1.1 200 OK\r\ncontent-length: -2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1_0\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\n" + b"x-filler: " + b"y" * 70_000 + b"\r\n\r\n",
    ],
    ids=[
        "http-2",
        "status-not-digits",
        "two-lengths",
        "negative-length",
        "header-without-colon",
        "chunk-size-0x",
        "chunk-size-underscore",
        "chunk-without-crlf",
        "body-cut-short",
        "endless-head",
    ],
)
def test_a_malformed_answer_is_a_protocol_failure(run: Runner, answer: bytes) -> None:
    async def scenario() -> None:
        async with await _serving(replies(answer, then_close=True)) as server:
            pool = Pool()
            assert await failure(pool, server.target()) == "protocol"
            await pool.close()

    run(scenario)


def test_a_server_that_never_answers_is_a_timeout_and_one_that_is_not_there_a_connect_failure(run: Runner) -> None:
    def silent(server: Server) -> Answerer:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            await reader.read()

        return answer

    async def scenario() -> None:
        async with await _serving(silent) as server:
            pool = Pool()
            assert await failure(pool, server.target(), timeout=0.5) == "timeout"
            port = server.port
        assert await failure(pool, Target("http", "127.0.0.1", port, b"x", "", b"/")) == "connect"
        await pool.close()

    run(scenario)


def test_an_answer_sent_before_the_body_was_read_is_the_outcome_not_the_broken_write(run: Runner) -> None:
    # A receiver refusing a large body answers at once and closes without reading the rest (as casehooks does):
    # the attempt's status is that answer, whatever the write that was still going out met.
    def early(server: Server) -> Answerer:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 413 Content Too Large\r\nconnection: close\r\ncontent-length: 8\r\n\r\ntoo big!")
            await writer.drain()

        return answer

    async def scenario() -> None:
        async with await _serving(early) as server:
            pool = Pool()
            for _ in range(3):
                answer = await pool.post(server.target(), {}, b"x" * (64 * 1024 * 1024), timeout=60, excerpt=8)
                assert (answer.status, answer.start) == (413, b"too big!")
            await pool.close()
        assert server.connections == 3

    run(scenario)


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "receiver.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("receiver.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_tls_verifies_the_name_of_the_url_not_the_address_connected_to(run: Runner, tmp_path: Path) -> None:
    cert_path, key_path = _certificate(tmp_path)
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(cert_path, key_path)
    trusting = ssl.create_default_context(cafile=str(cert_path))

    async def scenario() -> None:
        async with await _serving(replies(OK, OK), tls=serving) as server:
            pool = Pool(tls=trusting)
            answer = await pool.post(server.target("https", "receiver.test"), {}, b"{}", timeout=30, excerpt=4)
            assert answer.status == 200
            # A name the certificate lacks; an untrusted issuer.
            assert await failure(Pool(tls=trusting), server.target("https", "elsewhere.test")) == "connect"
            assert await failure(Pool(), server.target("https", "receiver.test")) == "connect"
            await pool.close()

    run(scenario)
