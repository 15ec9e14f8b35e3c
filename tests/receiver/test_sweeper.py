"""A running ``casehooks serve`` removes files no row names (receiver/sweeper.py), and only those."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from casehooks.crypto import Keyring
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.sweeper import sweep_periodically
from casehooks.settings import Settings
from casehooks.store import Store
from tests.conftest import SEED_PHI
from tests.processes import run_cli, start_server, wait_for
from tests.receiver.events import attachment_event, signed
from tests.services import PostgresCluster

pytestmark = pytest.mark.acceptance


def objects(root: Path) -> set[Path]:
    return {path for path in (root / "files").rglob("*") if path.is_file()}


def backdate(paths: set[Path], seconds: float) -> None:
    then = time.time() - seconds
    for path in paths:
        os.utime(path, (then, then))


def test_serve_sweeps_the_objects_of_lost_rows_and_keeps_every_file_a_row_names(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret="s", file_sweep_seconds="0.5", inline_file_bytes="0")
    try:
        # Eight events attach one new file at once: each request writes its object before any commits, and the
        # commit keeps one row for the file (the other objects are named by none).
        content = os.urandom(300_000)
        events = [attachment_event(content) for _ in range(8)]

        def post(event: dict[str, object]) -> int:
            body, headers = signed(event, "s")
            return httpx.post(server.webhook, content=body, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(post, events)) == [200] * 8
        root = tmp_path / "data" / "blobs"
        written = objects(root)
        assert written
        # And one a killed process left: a sealed object whose row never landed.
        planted = root / "files" / "ff" / ("f" * 32)
        planted.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(next(iter(written)), planted)

        # Two sweeps pass (its debug line, counted from now): every object is young, none is touched.
        swept = server.output().count("files_sweep_clean")
        wait_for(lambda: server.output().count("files_sweep_clean") >= swept + 2, timeout=120)
        assert objects(root) == written | {planted}
        backdate(written | {planted}, 2 * 3600)

        wait_for(lambda: len(objects(root)) == 1, timeout=120)
        assert planted not in objects(root)
        metrics = httpx.get(f"{server.url}/metrics").text
        assert f"casehooks_files_swept_total {float(len(written))}" in metrics  # the planted one and the race's
        assert "casehooks_file_sweeps_failed_total 0.0" in metrics
        for event in events:
            out = tmp_path / f"{event['payload']['activity']['id']}.bin"
            run_cli(server.env, "attachments", "get", event["payload"]["attachment"]["id"], "-o", str(out))
            assert out.read_bytes() == content
    finally:
        server.stop()
    output = server.output()
    assert "files_swept" in output
    assert not [value for value in SEED_PHI if value in output]


def test_serve_with_the_sweep_off_keeps_an_old_unnamed_object(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret="s", file_sweep_seconds="0")
    try:
        root = tmp_path / "data" / "blobs"
        planted = root / "files" / "ff" / ("f" * 32)
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.write_bytes(b"sealed bytes of a lost row")
        backdate({planted}, 2 * 3600)
        result = run_cli(server.env, "attachments", "sweep", "--dry-run", "--json")
        assert '"unreferenced": 1' in result.stdout
        assert planted.exists()
        too_soon = run_cli(server.env, "attachments", "sweep", "--grace-seconds", "10", check=False)
        assert too_soon.returncode == 2 and planted.exists()  # a grace shorter than a commit's wait is refused
        result = run_cli(server.env, "attachments", "sweep")
        assert "removed 1 no stored file names" in result.stdout
        assert not planted.exists()
    finally:
        server.stop()
    assert "files_swept" not in server.output()


def test_a_sweep_the_database_cuts_short_is_counted_and_tried_again(tmp_path: Path, postgres: PostgresCluster) -> None:
    url = postgres.create_database()
    store = Store.open(Settings(data_dir=tmp_path / "data", database_url=url, master_key=Keyring.generate_entry()))
    metrics = Metrics()
    store.files.blobs.put("files/ff/" + "f" * 32, [b"sealed bytes of a lost row"])
    postgres.drop_database(url)  # every connection of the store is cut, and the database is gone

    async def sweep_until_two_failures() -> None:
        stop = asyncio.Event()
        sweeping = asyncio.create_task(sweep_periodically(store, metrics, 0.05, timedelta(hours=1), stop))
        while (metrics.registry.get_sample_value("casehooks_file_sweeps_failed_total") or 0) < 2:
            assert not sweeping.done()
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(sweeping, 60)

    try:
        asyncio.run(asyncio.wait_for(sweep_until_two_failures(), 120))
    finally:
        store.close()
    assert metrics.registry.get_sample_value("casehooks_files_swept_total") == 0
    assert store.files.blobs.exists("files/ff/" + "f" * 32)
