"""Scenario: finding things at scale. The console's events page and ``casehooks events list`` over a store of a
million events, against the same over a store of a thousand, in the same run (alternating rounds)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.growth import fill
from bench.ingest import SECRET
from bench.report import Row, median
from bench.servers import start_casehooks
from casehooks.crypto import Keyring
from casehooks.settings import Settings
from casehooks.store import Store

PASSWORD = "a bench password, long enough"


def _env(data_dir: Path, key: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CASEHOOKS_")}
    env.update(CASEHOOKS_DATA_DIR=str(data_dir), CASEHOOKS_MASTER_KEY=key, CASEHOOKS_USER_PASSWORD=PASSWORD)
    return env


def _cli_seconds(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "casehooks", "events", "list", "--json"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - started


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    login = client.get("/console/login").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', login)
    if nonce is None:
        raise RuntimeError("no sign-in form")
    client.post("/console/login", data={"username": "bench", "password": PASSWORD, "nonce": nonce.group(1)})
    return client


def _page_seconds(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or "/console/login" in str(response.url):
        raise RuntimeError(f"{path} answered {response.status_code}")
    return elapsed


def run(stored: int = 1_000_000, baseline: int = 1000, rounds: int = 5) -> list[Row]:
    key = Keyring.generate_entry()
    with tempfile.TemporaryDirectory() as folder:
        dirs = {"full": Path(folder) / "full", "small": Path(folder) / "small"}
        started = time.perf_counter()
        for name, count in (("full", stored), ("small", baseline)):
            store = Store.open(Settings(data_dir=dirs[name], master_key=key))
            fill(store, count)
            store.close()
            subprocess.run(
                [sys.executable, "-m", "casehooks", "users", "add", "bench", "--role", "viewer"],
                env=_env(dirs[name], key),
                check=True,
                capture_output=True,
            )
        print(f"listing: filled {stored:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        samples: dict[str, dict[str, list[float]]] = {name: {"cli": [], "page": [], "filtered": []} for name in dirs}
        for round_number in range(rounds):
            order = ["full", "small"] if round_number % 2 == 0 else ["small", "full"]
            for name in order:
                samples[name]["cli"].append(_cli_seconds(_env(dirs[name], key)))
                process = start_casehooks(dirs[name], SECRET, master_key=key)
                try:
                    base = process.url.removesuffix("/webhooks/carevalidate")
                    client = _signed_in(base)
                    try:
                        _page_seconds(client, "/console/events")  # warm
                        samples[name]["page"].append(_page_seconds(client, "/console/events"))
                        samples[name]["filtered"].append(
                            _page_seconds(client, "/console/events?type=ADD_CASE_COMMENT&status=succeeded")
                        )
                    finally:
                        client.close()
                finally:
                    process.stop()
    label = f"{stored:,} stored"
    small = f"{baseline:,} stored"
    return [
        Row("listing", f"events page ms, {label}", median(samples["full"]["page"]) * 1000, small,
            median(samples["small"]["page"]) * 1000, "<= 1.5", False),
        Row("listing", f"events page filtered ms, {label}", median(samples["full"]["filtered"]) * 1000, small,
            median(samples["small"]["filtered"]) * 1000, "<= 1.5", False),
        Row("listing", f"`events list` s, {label}", median(samples["full"]["cli"]), small,
            median(samples["small"]["cli"]), "< 0.6 s", False),
    ]  # fmt: skip
