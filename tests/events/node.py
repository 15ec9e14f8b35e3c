"""Run JavaScript functions over many values in one real Node.js process, to compare with our output."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from typing import Any

import pytest

NODE = shutil.which("node")

# Reads a JSON array of inputs (ASCII only, so lone surrogates survive as escapes) and prints one line per
# result: the base64 of the result's UTF-8 bytes, so no output character is mangled on the way back.
_RUNNER = """
const fn = eval(process.argv[1]);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((value) => Buffer.from(String(fn(value)), "utf8").toString("base64"));
  process.stdout.write(out.join("\\n"));
});
"""


def run_node(function: str, values: list[Any]) -> list[str]:
    """``[String(function(v)) for v in values]`` computed by node; skips the test when node is not installed."""
    if NODE is None:
        pytest.skip("node is not installed: JavaScript reference outputs cannot be computed")
    completed = subprocess.run(
        [NODE, "-e", _RUNNER, function],
        input=json.dumps(values, ensure_ascii=True, allow_nan=False).encode("ascii"),
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = completed.stdout.decode("ascii").split("\n") if values else []
    return [base64.b64decode(line).decode("utf-8") for line in lines]
