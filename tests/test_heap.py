"""The start-up heap of a long-running process is frozen out of full collections (casehooks/heap.py)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
from pathlib import Path

from casehooks.heap import settle
from tests.processes import casehooks_env


class Node:
    def __init__(self) -> None:
        self.me = self


def test_settle_collects_start_up_garbage_and_freezes_the_rest() -> None:
    kept = Node()
    dropped = Node()  # a cycle: only a collection frees it
    gone = weakref.ref(dropped)
    del dropped
    try:
        settle()
        assert gone() is None  # collected first, never frozen
        assert gc.get_freeze_count() > 0
        assert not gc.is_tracked(kept) or kept not in gc.get_objects()  # frozen objects leave the generations
    finally:
        gc.unfreeze()


def test_a_receiver_process_starts_with_its_heap_frozen(tmp_path: Path) -> None:
    # The server's factory, in a process of its own as the server calls it: what it built is frozen, and the
    # collector is left with a small fraction of it.
    script = (
        "import gc, json\n"
        "from casehooks.receiver.asgi import create_app\n"
        "create_app()\n"
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects())}))\n"
    )
    env = casehooks_env(tmp_path / "data", webhook_secret="heap-secret", log_level="warning")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 50_000
    assert counts["tracked"] < counts["frozen"] // 4
