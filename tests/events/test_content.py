"""Content: base64 decoded lazily and in chunks, URLs recognised, data never shown."""

from __future__ import annotations

import base64
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casehooks import ContentError
from casehooks.events import Content

PAYLOAD = bytes(range(256)) * 5  # 1280 bytes, every byte value


def test_read_decodes_base64() -> None:
    assert Content(base64.b64encode(PAYLOAD).decode()).read() == PAYLOAD


@pytest.mark.parametrize("chunk_chars", [1, 3, 4, 5, 7, 8, 100, 1024, 1 << 20])
def test_iter_bytes_yields_the_file_in_order_for_any_chunk_size(chunk_chars: int) -> None:
    content = Content(base64.b64encode(PAYLOAD).decode())
    chunks = list(content.iter_bytes(chunk_chars))
    assert b"".join(chunks) == PAYLOAD
    assert all(len(chunk) <= max(3, chunk_chars // 4 * 3) for chunk in chunks)


def test_iter_bytes_is_lazy() -> None:
    content = Content(base64.b64encode(PAYLOAD).decode())
    chunks = content.iter_bytes(8)
    assert next(chunks) == PAYLOAD[:6]
    assert next(chunks) == PAYLOAD[6:12]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 1000, 1001, 1002])
def test_decoded_size_matches_the_decoded_length(size: int) -> None:
    content = Content(base64.b64encode(PAYLOAD[:size]).decode())
    assert content.decoded_size() == size


def test_decoded_size_does_not_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    import binascii

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded")

    monkeypatch.setattr(binascii, "a2b_base64", refuse)
    assert Content(base64.b64encode(b"hello world").decode()).decoded_size() == 11


@pytest.mark.parametrize(
    "wrap",
    [
        lambda text: "\n".join(textwrap.wrap(text, 76)),
        lambda text: "\r\n".join(textwrap.wrap(text, 64)) + "\r\n",
        lambda text: " ".join(text[i : i + 4] for i in range(0, len(text), 4)),
        lambda text: "\t" + text + "\n",
    ],
    ids=["mime-76", "pem-64-crlf", "spaces", "tab-and-newline"],
)
def test_whitespace_wrapped_base64_decodes(wrap: object) -> None:
    assert callable(wrap)
    content = Content(wrap(base64.b64encode(PAYLOAD).decode()))
    assert content.is_base64() is True
    assert content.read() == PAYLOAD
    assert content.decoded_size() == len(PAYLOAD)
    assert b"".join(content.iter_bytes(12)) == PAYLOAD


@pytest.mark.parametrize(("text", "data"), [("YQ==", b"a"), ("YWI=", b"ab"), ("YWJj", b"abc"), ("", b"")])
def test_padding_variants_decode(text: str, data: bytes) -> None:
    content = Content(text)
    assert content.read() == data
    assert content.decoded_size() == len(data)


@pytest.mark.parametrize(
    "text",
    ["base64 data", "base64 content", "YQ", "YQ=", "YQ===", "Y===", "YW=j", "****", "YWJj_-==", "\u00e9t\u00e9"],
)
def test_invalid_base64_raises_content_error(text: str) -> None:
    content = Content(text)
    assert content.is_base64() is False
    with pytest.raises(ContentError) as caught:
        content.read()
    assert caught.value.reason == "not valid base64"
    with pytest.raises(ContentError):
        content.decoded_size()


def test_invalid_base64_error_holds_no_data() -> None:
    with pytest.raises(ContentError) as caught:
        Content("Zebediah's scan!").read()
    assert "Zebediah" not in str(caught.value)


def test_iter_bytes_raises_before_yielding_anything_for_invalid_text() -> None:
    chunks = Content("YWJj" * 10 + "!").iter_bytes(4)
    with pytest.raises(ContentError):
        next(chunks)


@pytest.mark.parametrize("url", ["https://files.example/a.png?sig=x", "HTTP://files.example/a", "http://x"])
def test_url_content_is_recognised(url: str) -> None:
    content = Content(url)
    assert content.is_url is True
    assert content.url == url
    assert content.is_base64() is False


def test_url_content_refuses_to_decode() -> None:
    with pytest.raises(ContentError) as caught:
        Content("https://files.example/a.png").read()
    assert caught.value.reason == "a download URL, not base64"


def test_base64_content_has_no_url() -> None:
    content = Content("aHR0cHM6Ly8=")
    assert content.is_url is False
    assert content.url is None


@pytest.mark.parametrize(
    ("text", "shape"),
    [("c2VjcmV0LXBhdGllbnQtZGF0YQ==", "base64"), ("https://x.example/secret", "url"), ("secret text", "text")],
)
def test_repr_shows_the_shape_not_the_data(text: str, shape: str) -> None:
    assert repr(Content(text)) == f"Content({shape}, {len(text)} characters)"
    assert "secret" not in repr(Content(text))
    assert "c2VjcmV0" not in repr(Content(text))


def test_text_is_kept_exactly() -> None:
    text = "YWJj\nZGVm\n"
    assert Content(text).text == text
    assert len(Content(text)) == len(text)


def test_equality_and_hash_follow_the_text() -> None:
    assert Content("YWJj") == Content("YWJj")
    assert Content("YWJj") != Content("YWJj\n")
    assert Content("YWJj") != "YWJj"
    assert hash(Content("YWJj")) == hash(Content("YWJj"))


@given(data=st.binary(max_size=4096), chunk_chars=st.integers(min_value=1, max_value=5000), wrap=st.booleans())
def test_any_bytes_round_trip_through_base64(data: bytes, chunk_chars: int, wrap: bool) -> None:
    text = (base64.encodebytes(data) if wrap else base64.b64encode(data)).decode()
    content = Content(text)
    assert content.read() == data
    assert b"".join(content.iter_bytes(chunk_chars)) == data
    assert content.decoded_size() == len(data)


@given(text=st.text(max_size=64))
def test_any_text_either_decodes_like_the_standard_library_or_raises_content_error(text: str) -> None:
    content = Content(text)
    try:
        decoded = content.read()
    except ContentError:
        return
    assert decoded == base64.b64decode("".join(text.split()), validate=True)
    assert content.decoded_size() == len(decoded)
