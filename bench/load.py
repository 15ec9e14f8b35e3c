"""The load generator: autocannon (Node, from the npm registry) replaying pre-signed unique bodies, pinned to
its own core while the system under test is pinned to the other.

``casehooks trigger``'s Python engine tops out near the servers it measures, so on a small machine it would
measure itself. autocannon is installed once into a cache folder (``CASEHOOKS_BENCH_CACHE``, default
``~/.cache/casehooks-bench``) by the bench's own set-up; bodies are generated and signed before the clock starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.servers import LOAD_CPU, pinned
from casehooks.sender.trigger import EventBodies, TriggerOptions, request_headers

NATIVE = Path(__file__).resolve().parent / "native"
AUTOCANNON = "autocannon@8"


def cache() -> Path:
    return Path(os.environ.get("CASEHOOKS_BENCH_CACHE", Path.home() / ".cache" / "casehooks-bench"))


def install() -> Path:
    """The folder holding ``node_modules/autocannon``, installed with npm on first use."""
    prefix = cache() / "node"
    if not (prefix / "node_modules" / "autocannon").is_dir():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise RuntimeError("the bench needs node and npm (apt-get install nodejs npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(prefix), AUTOCANNON],
            check=True,
            timeout=600,
        )
    return prefix


def signed_requests(path: Path, options: TriggerOptions) -> None:
    """Write ``options.count`` unique signed requests as JSON lines, built as ``casehooks trigger`` builds them."""
    bodies = EventBodies(options)
    with path.open("w") as out:
        for index in range(options.count):
            body = bodies.body(index)
            out.write(json.dumps({"headers": request_headers(body, options), "body": body.decode()}) + "\n")


@dataclass(frozen=True)
class Load:
    """What autocannon saw: answered requests a second and latency percentiles."""

    requests_per_s: float
    ok: int
    failed: int
    p50_ms: float
    p99_ms: float


def run_autocannon(url: str, requests: Path, connections: int, amount: int | None = None) -> Load:
    """Send every request of the file once (or ``amount`` of them, cycling) over ``connections`` connections."""
    prefix = install()
    command = ["node", str(NATIVE / "run.js"), url, str(requests), str(connections)]
    if amount is not None:
        command.append(str(amount))
    env = {**os.environ, "NODE_PATH": str(prefix / "node_modules")}
    done = subprocess.run(pinned(command, LOAD_CPU), env=env, capture_output=True, check=True, timeout=1800)
    result = json.loads(done.stdout)
    ok = int(result["2xx"])
    seconds = float(result.get("elapsed") or result["duration"])
    return Load(
        requests_per_s=ok / seconds if seconds else 0.0,
        ok=ok,
        failed=int(result["non2xx"]) + int(result["errors"]) + int(result["timeouts"]),
        p50_ms=float(result["latency"]["p50"]),
        p99_ms=float(result["latency"]["p99"]),
    )


def request_file(options: TriggerOptions) -> Path:
    """A temporary JSON-lines file of ``options.count`` signed requests; the caller removes it."""
    handle, name = tempfile.mkstemp(prefix="casehooks-bench-", suffix=".jsonl")
    os.close(handle)
    path = Path(name)
    signed_requests(path, options)
    return path
