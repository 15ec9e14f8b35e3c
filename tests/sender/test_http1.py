import pytest
from hypothesis import given
from hypothesis import strategies as st

from casehooks.errors import FramingError
from casehooks.sender.http1 import MAX_HEAD, ResponseReader, encode_request, request_target

OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'
CHUNKED = (
    b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: yes\r\n\r\n"
)


def feed_split(reader: ResponseReader, data: bytes, cuts: list[int]) -> list[tuple[int, bool]]:
    done: list[tuple[int, bool]] = []
    start = 0
    for cut in sorted(set(cuts)):
        done += reader.feed(data[start:cut])
        start = cut
    return done + reader.feed(data[start:])


def test_request_bytes_carry_host_target_headers_and_exact_body() -> None:
    host, port, target, host_header = request_target("http://127.0.0.1:8080/webhooks/carevalidate?x=1")
    assert (host, port, target, host_header) == ("127.0.0.1", 8080, b"/webhooks/carevalidate?x=1", b"127.0.0.1:8080")
    data = encode_request(target, host_header, {"x-cv-signature": "ab12"}, b'{"a":1}')
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"POST /webhooks/carevalidate?x=1 HTTP/1.1",
        b"host: 127.0.0.1:8080",
        b"x-cv-signature: ab12",
        b"content-length: 7",
    ]
    assert body == b'{"a":1}'


def test_a_header_value_with_a_line_break_is_refused_not_smuggled() -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_request(b"/", b"h", {"x-org-key": "a\r\nx-admin: 1"}, b"")
    with pytest.raises(ValueError, match="token"):
        encode_request(b"/", b"h", {"bad name": "a"}, b"")


def test_only_plain_http_urls_have_a_target() -> None:
    with pytest.raises(ValueError, match="http://"):
        request_target("https://example.org/hook")
    assert request_target("http://example.org")[1:3] == (80, b"/")


@given(st.lists(st.integers(min_value=0, max_value=len(OK + CHUNKED + OK)), max_size=8))
def test_responses_are_framed_however_the_bytes_are_cut(cuts: list[int]) -> None:
    reader = ResponseReader()
    assert feed_split(reader, OK + CHUNKED + OK, cuts) == [(200, True), (202, True), (200, True)]
    assert reader.idle


def test_interim_responses_are_skipped() -> None:
    reader = ResponseReader()
    assert reader.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" + OK) == [
        (200, True)
    ]


def test_connection_close_and_http_1_0_end_the_connection_and_later_bytes_are_ignored() -> None:
    reader = ResponseReader()
    close = b"HTTP/1.1 503 Busy\r\nConnection: close\r\ncontent-length: 0\r\n\r\n"
    assert reader.feed(close + OK) == [(503, False)]
    assert reader.feed(OK) == []
    old = ResponseReader()
    assert old.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") == [(200, False)]
    kept = ResponseReader()
    assert kept.feed(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok") == [(200, True)]


def test_a_body_without_length_is_read_to_the_close() -> None:
    reader = ResponseReader()
    assert reader.feed(b"HTTP/1.1 200 OK\r\n\r\npart of it") == []
    assert reader.feed(b" and more") == []
    assert reader.feed_eof() == (200, False)


def test_no_body_statuses_end_at_the_head() -> None:
    reader = ResponseReader()
    assert reader.feed(b"HTTP/1.1 204 No Content\r\n\r\n" + OK) == [(204, True), (200, True)]


def test_a_close_mid_response_is_a_framing_error_and_between_responses_is_not() -> None:
    reader = ResponseReader()
    reader.feed(OK[:-3])
    with pytest.raises(FramingError, match="mid-response"):
        reader.feed_eof()
    between = ResponseReader()
    between.feed(OK)
    assert between.feed_eof() is None


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2xx OK\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length : 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x5\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokXX",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
)
def test_malformed_framing_is_refused(data: bytes) -> None:
    with pytest.raises(FramingError):
        ResponseReader().feed(data)


def test_an_endless_head_is_refused_and_the_error_quotes_no_bytes() -> None:
    reader = ResponseReader()
    with pytest.raises(FramingError) as raised:
        reader.feed(b"HTTP/1.1 200 OK\r\nx-patient: Jane Doe" + b"a" * MAX_HEAD)
    assert "Jane" not in str(raised.value)


@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_cleanly(data: bytes) -> None:
    reader = ResponseReader()
    try:
        for status, _ in reader.feed(data):
            assert 200 <= status <= 999
    except FramingError:
        pass
