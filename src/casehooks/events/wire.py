"""Write JSON exactly as JavaScript's ``JSON.stringify`` does, since that is the text the platform signs."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from casehooks.errors import SchemaError

_escape = json.encoder.encode_basestring
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_MAX_ARRAY_INDEX = 2**32 - 2
_MAX_SAFE_INTEGER = 2**53
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def js_number(value: float) -> str:
    """Format a number as JavaScript's ``Number.prototype.toString`` does."""
    if not math.isfinite(value):
        return "null"  # JSON.stringify writes NaN and Infinity as null
    # Below 1e16 repr writes an integral float without an exponent, so its digits are the shortest ones; above,
    # int() would print every binary digit where JavaScript pads the shortest digits with zeros (2**64 is
    # 18446744073709552000 there).
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    digits, _, exponent = repr(abs(value)).partition("e")
    sign = "-" if value < 0 else ""
    if not exponent:
        return sign + digits
    mantissa = digits.replace(".", "")
    point = int(exponent) + (digits.index(".") if "." in digits else len(digits))
    if 0 < point <= 21:
        whole, frac = mantissa[:point].ljust(point, "0"), mantissa[point:]
        return sign + whole + ("." + frac if frac else "")
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + mantissa
    shown = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{sign}{shown}e{'+' if point - 1 >= 0 else '-'}{abs(point - 1)}"


def _string(value: str) -> str:
    text: str = _escape(value)
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def _big_int(value: int) -> str:
    # JavaScript has only doubles: an integer beyond 2**53 is written as the nearest one.
    try:
        return js_number(float(value))
    except OverflowError:
        return "null"


def _js_key_order(value: dict[Any, Any]) -> list[tuple[str, Any]]:
    """A JavaScript object lists integer-like keys first, ascending, then the others in insertion order."""
    items = [(str(key), item) for key, item in value.items()]
    indexes = [(k, v) for k, v in items if _ARRAY_INDEX.fullmatch(k) and int(k) <= _MAX_ARRAY_INDEX]
    if not indexes:
        return items
    others = [(k, v) for k, v in items if not (_ARRAY_INDEX.fullmatch(k) and int(k) <= _MAX_ARRAY_INDEX)]
    return sorted(indexes, key=lambda pair: int(pair[0])) + others


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value) if abs(value) <= _MAX_SAFE_INTEGER else _big_int(value))
    elif isinstance(value, float):
        out.append(js_number(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in _js_key_order(value):
            if not first:
                out.append(",")
            first = False
            out.append(_string(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise SchemaError("$", f"cannot write a {type(value).__name__} as JSON")


def stringify(value: Any) -> bytes:
    """The UTF-8 bytes of ``JSON.stringify(value)``: compact, non-ASCII as is, JavaScript's escapes and numbers."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(raw: bytes | bytearray | memoryview | str) -> Any:
    """Read JSON text. JavaScript writes a string cut mid-emoji with a lone surrogate escape (``"\\ud83d"``),
    which the fast reader refuses; such a text is read again by the standard library, which keeps it.

    Raises ``ValueError`` (``orjson.JSONDecodeError``) for text that is not JSON and ``RecursionError`` for
    text nested deeper than Python can read.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
        if not _SURROGATE_ESCAPE.search(text):
            raise
        return json.loads(text, parse_constant=_refuse_constant)


def dump_json(value: Any) -> bytes:
    """Write JSON for storage: fast, unless a string holds a lone surrogate, which is written as its escape."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate, or nesting past orjson's limit
        return stringify(value)
