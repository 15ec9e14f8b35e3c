"""Large contents taken out of a body as it streams: decoded exactly as the whole-body path decodes them."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casehooks.errors import ContentError
from casehooks.events import Content
from casehooks.events.streaming import Split, split_contents


def _split(body: bytes, chunk: int, min_chars: int = 8) -> tuple[Split[int], list[bytes]]:
    files: list[bytes] = []

    def store(chunks: Iterator[bytes]) -> int:
        files.append(b"".join(chunks))
        return len(files) - 1

    parts = [body[start : start + chunk] for start in range(0, len(body), chunk)]
    return split_contents(parts, store, lambda index: f"placeholder-{index}", min_chars), files


def _escaped(text: str, *, unicode_a: bool, slash: bool) -> str:
    inner = orjson.dumps(text).decode()[1:-1]
    if slash:
        inner = inner.replace("/", "\\/")
    if unicode_a:
        inner = inner.replace("A", "\\u0041")
    return inner


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=300),
    chunk=st.integers(1, 40),
    unicode_a=st.booleans(),
    slash=st.booleans(),
    line_break=st.integers(0, 50),
)
def test_each_large_content_decodes_to_what_the_whole_body_path_decodes(
    data: bytes, chunk: int, unicode_a: bool, slash: bool, line_break: int
) -> None:
    text = base64.b64encode(data).decode()
    text = text[:line_break] + "\n" + text[line_break:] if line_break < len(text) else text
    inner = _escaped(text, unicode_a=unicode_a, slash=slash)
    body = ('{"x": "a\\"b\\\\", "payload": {"attachment": {"content": "' + inner + '", "id": "1"}}}').encode()
    split, files = _split(body, chunk)
    whole = orjson.loads(body)
    expected = Content(whole["payload"]["attachment"]["content"]).read()
    document = orjson.loads(split.document)
    # A content whose closing quote is in the chunk at hand is kept (at most a chunk); a longer one streams.
    assert files or len(inner) <= 8 + chunk
    if files:
        assert files == [expected]
        assert document["payload"]["attachment"]["content"] == "placeholder-0"
    else:
        assert document == whole
    assert document["x"] == whole["x"]


def test_a_key_spelled_with_escapes_is_the_content_key() -> None:
    body = b'{"cont\\u0065nt": "' + base64.b64encode(b"z" * 90) + b'"}'
    split, files = _split(body, 7)
    assert files == [b"z" * 90]
    assert orjson.loads(split.document) == {"content": "placeholder-0"}


def test_a_content_key_twice_takes_both_out_and_the_parser_keeps_the_last() -> None:
    body = b'{"content": "' + base64.b64encode(b"a" * 60) + b'", "content": "' + base64.b64encode(b"b" * 60) + b'"}'
    split, files = _split(body, 5)
    assert files == [b"a" * 60, b"b" * 60]
    assert orjson.loads(split.document) == {"content": "placeholder-1"}


def test_strings_that_are_not_content_values_are_copied_as_they_came() -> None:
    big = base64.b64encode(b"q" * 200).decode()
    value = {"name": big, "list": ["content", big], "content": 12, "deep": {"content": {"content": [big]}}}
    body = orjson.dumps(value)
    split, files = _split(body, 3)
    assert files == []
    assert split.document == body


def test_content_nested_deep_is_found_at_any_depth() -> None:
    body = b'{"a": [' * 300 + b'{"content": "' + base64.b64encode(b"d" * 100) + b'"}' + b"]}" * 300
    split, files = _split(body, 64)
    assert files == [b"d" * 100]
    assert split.document.count(b"placeholder-0") == 1


@pytest.mark.parametrize(
    "content",
    [
        b"@" * 100,  # not the alphabet
        b"QQ==" + b"QUJD" * 30,  # padding before the end
        b"QUJD" * 30 + b"Q",  # not whole quads
        b"QUJD" * 30 + b"Q===",  # three pads
        b"QUJD" * 30 + b"\\u00e9",  # an escape that is not base64
    ],
)
def test_a_large_content_that_is_not_base64_is_refused_to_the_caller(content: bytes) -> None:
    assert not Content(orjson.loads(b'"' + content + b'"')).is_base64()
    with pytest.raises(ContentError):
        _split(b'{"content": "' + content + b'"}', 9)


def test_a_body_that_ends_inside_a_content_is_refused() -> None:
    with pytest.raises(ContentError):
        _split(b'{"content": "' + base64.b64encode(b"x" * 300), 16)


def test_a_body_that_ends_inside_another_string_is_refused() -> None:
    with pytest.raises(ContentError):
        _split(b'{"name": "abc', 4)
