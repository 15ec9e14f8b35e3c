"""The receiver's periodic sweep of files no row names (store/file_sweep.py), off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from casehooks.errors import StoreUnavailable
from casehooks.logs import get_logger
from casehooks.receiver.metrics import Metrics
from casehooks.store import Store
from casehooks.store.file_sweep import sweep_files

log = get_logger("casehooks.receiver")


async def sweep_periodically(
    store: Store, metrics: Metrics, every: float, grace: timedelta, stop: asyncio.Event
) -> None:
    """Sweep every ``every`` seconds until ``stop`` is set; a sweep that fails is logged, counted and tried again
    later."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            report = await anyio.to_thread.run_sync(
                lambda: sweep_files(store.engine, store.files.blobs, grace=grace, stopping=stop.is_set)
            )
        except (StoreUnavailable, SQLAlchemyError) as exc:
            log.warning("files_sweep_failed", error=type(exc).__name__)
            metrics.file_sweeps_failed.inc()
            continue
        metrics.files_swept.inc(report.unreferenced)
        metrics.files_swept_bytes.inc(report.unreferenced_bytes)
        if report.unreferenced or report.partials:
            log.info("files_swept", **report.as_dict())
        else:
            log.debug("files_sweep_clean", **report.as_dict())
