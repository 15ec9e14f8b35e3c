"""stringify and js_number against real JavaScript: the platform signs JSON.stringify's exact bytes."""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casehooks import SchemaError
from casehooks.events import parse_event, stringify
from casehooks.events.wire import js_number
from tests.events.node import run_node

FIXTURES = Path(__file__).parent.parent / "fixtures"
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")

# Python keeps a high and a low surrogate as two code points; JavaScript would read them as one character,
# so such neighbours have no single meaning to compare. Lone ones are compared.
characters = st.one_of(
    st.characters(),
    st.sampled_from(["\u2028", "\u2029", "\x00", "\x1f", "\x7f", '"', "\\", "/", "\b", "\f", "\n", "\r", "\t"]),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
    st.integers(0xD800, 0xDFFF).map(chr),
)
texts = st.text(characters, max_size=20).filter(lambda text: _SURROGATE_PAIR.search(text) is None)
keys = st.one_of(
    texts,
    st.integers(0, 2**33).map(str),
    st.sampled_from(["0", "01", "-1", "1.5", "4294967294", "4294967295", "__proto__", "constructor"]),
)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.integers(-(2**80), 2**80),
    finite_floats,
    texts,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)


def _node_stringify(values: list[Any]) -> list[bytes]:
    return [text.encode("utf-8") for text in run_node("JSON.stringify", values)]


@settings(max_examples=25, deadline=None)
@given(st.lists(json_values, min_size=1, max_size=60))
def test_stringify_matches_node_for_arbitrary_values(values: list[Any]) -> None:
    assert [stringify(value) for value in values] == _node_stringify(values)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "\u2028\u2029",
        "\ud800",
        "a\udfffb",
        "\udbff\ud800",
        "\U0001f600 \u00e9 \u4e2d",
        "".join(chr(c) for c in range(0x20)),
        "\x7f</script>",
        {"b": 1, "a": 2, "2": 3, "1": 4, "01": 5, "-1": 6, "4294967295": 7, "4294967294": 8},
        [1.0, -0.0, 0.1, 1e21, 1e-7, 123e-20, 5e-324, 1.7976931348623157e308, 2.0**64, 9007199254740993],
        [2**64, -(2**70), 10**400, True, False, None],
        {"nested": [{"deep": [[[]]]}, {}], "": ""},
    ],
)
def test_stringify_matches_node_for_edge_cases(value: Any) -> None:
    assert stringify(value) == _node_stringify([value])[0]


@pytest.mark.parametrize("name", ["add_case_attachment.json", "add_case_comment.json"])
def test_stringify_of_a_seed_matches_node(name: str) -> None:
    body = json.loads((FIXTURES / name).read_bytes())
    assert stringify(body) == _node_stringify([body])[0]


@pytest.mark.parametrize("name", ["add_case_attachment.json", "add_case_comment.json"])
def test_stringify_of_a_parsed_seed_is_the_compact_body(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    compact = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    assert stringify(parse_event(raw).to_wire()) == compact


def test_stringify_writes_tuples_as_arrays() -> None:
    assert stringify((1, "a")) == b'[1,"a"]'


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", Decimal("1.5"), object()])
def test_stringify_refuses_values_json_cannot_hold(value: object) -> None:
    with pytest.raises(SchemaError) as caught:
        stringify({"a": value})
    assert caught.value.path == "$"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_written_as_null(value: float) -> None:
    assert js_number(value) == "null"
    assert stringify([value]) == b"[null]"


NOTABLE_FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.5,
    0.1,
    0.2 + 0.1,
    1 / 3,
    1e21,
    1e-7,
    1e-6,
    1.5e-6,
    123e-20,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    1e16,
    1e20,
    9007199254740992.0,
    9007199254740994.0,
    2.0**64,
    1.2345678901234567e20,
    123456789012345680.0,
    999999999999999900000.0,
    1e100,
    -1e-100,
    4.35,
    0.000001234,
    100.0,
    1e15 + 0.3,
]


def test_js_number_matches_node_for_notable_floats() -> None:
    assert [js_number(x) for x in NOTABLE_FLOATS] == run_node("String", NOTABLE_FLOATS)


@settings(max_examples=20, deadline=None)
@given(st.lists(finite_floats, min_size=50, max_size=200))
def test_js_number_matches_node_for_arbitrary_floats(values: list[float]) -> None:
    assert [js_number(x) for x in values] == run_node("String", values)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(-52, 52).map(lambda exponent: 2.0**exponent * 1.000001), min_size=50, max_size=100))
def test_js_number_matches_node_around_every_power_of_two(values: list[float]) -> None:
    assert [js_number(x) for x in values] == run_node("String", values)


def test_float_info_bounds_match_node() -> None:
    values = [sys.float_info.max, sys.float_info.min, sys.float_info.epsilon, -sys.float_info.max]
    assert [js_number(x) for x in values] == run_node("String", values)
