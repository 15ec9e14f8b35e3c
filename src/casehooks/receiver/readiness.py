"""Readiness: whether this process can accept an event now, check by check, cached so probes stay cheap.

Accepting an event needs a database transaction that writes, free disk where the database and local blobs
live, and a reachable blob store. Each check answers True or False only: no reason text, so nothing a
failing store says (paths, hosts) reaches the probe's answer.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from casehooks.store import Store

Check = Callable[[], bool]

DEFAULT_MIN_FREE_BYTES = 256 * 1024 * 1024
DEFAULT_CACHE_SECONDS = 1.5


class Readiness:
    """Named checks, run together at most once per ``cache_seconds``; concurrent probes share one run."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._results: dict[str, bool] = {}

    @classmethod
    def for_store(
        cls,
        store: Store,
        *,
        min_free_bytes: int = DEFAULT_MIN_FREE_BYTES,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
    ) -> Readiness:
        """The checks accepting an event needs: ``database``, ``disk`` and ``blobs``."""
        folders = [folder for folder in (_sqlite_folder(store), store.blobs.local_root) if folder is not None]
        return cls(
            {
                "database": store.writable,
                "disk": lambda: all(_free_bytes(folder) >= min_free_bytes for folder in folders),
                "blobs": store.blobs.reachable,
            },
            cache_seconds=cache_seconds,
        )

    def check(self) -> dict[str, bool]:
        """Each check's result, from the cache when the last run is recent."""
        with self._lock:
            now = self._monotonic()
            if self._checked_at is None or now - self._checked_at >= self._cache_seconds:
                self._results = {name: _safely(check) for name, check in self._checks.items()}
                self._checked_at = self._monotonic()
            return dict(self._results)


def answer(results: Mapping[str, bool]) -> tuple[dict[str, object], int]:
    """The ``/readyz`` body and status: 200 when every check passed, else 503; each check named."""
    ready = all(results.values())
    body: dict[str, object] = {
        "status": "ready" if ready else "unavailable",
        "checks": {name: "ok" if passed else "failed" for name, passed in results.items()},
    }
    return body, 200 if ready else 503


def _safely(check: Check) -> bool:
    try:
        return check()
    except Exception:
        return False


def _sqlite_folder(store: Store) -> Path | None:
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve().parent


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free
