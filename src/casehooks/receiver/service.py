"""Assemble a running receiver from settings: store, authenticator, intake, HTTP app and in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette

from casehooks.console.app import build_console
from casehooks.console.policy import AccessPolicy
from casehooks.logs import get_logger
from casehooks.receiver.app import build_app
from casehooks.receiver.bodies import BodyLimits, UnverifiedBudget
from casehooks.receiver.documents import document_policy
from casehooks.receiver.handlers import Receiver
from casehooks.receiver.intake import Intake
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.readiness import Readiness
from casehooks.receiver.spool import SpoolPolicy
from casehooks.receiver.sweeper import sweep_periodically
from casehooks.receiver.worker import Worker
from casehooks.settings import Settings
from casehooks.signing import Authenticator, StaticHeader
from casehooks.store import Store
from casehooks.store import queue as jobs

log = get_logger("casehooks.receiver")


def authenticator_from(settings: Settings) -> Authenticator:
    static = None
    if settings.auth_header_name and settings.auth_header_value is not None:
        static = StaticHeader(settings.auth_header_name, settings.auth_header_value.get_secret_value())
    return Authenticator(secrets=settings.webhook_secrets, static_header=static)


def body_limits(settings: Settings) -> BodyLimits:
    return BodyLimits(settings.max_body_bytes, settings.body_timeout_seconds, settings.body_min_rate_bytes)


def read_depth(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return jobs.depth(connection)


@dataclass
class Service:
    """The parts of one receiver process."""

    settings: Settings
    store: Store
    metrics: Metrics
    intake: Intake
    worker: Worker | None
    app: Starlette


def build_service(settings: Settings, receiver: Receiver | None = None, *, run_worker: bool = True) -> Service:
    """Everything ``casehooks serve`` runs, built once from the settings and passed down."""
    receiver = receiver or Receiver(settings)
    store = Store.open(settings)
    metrics = Metrics(lambda: _safe_depth(store))
    authenticator = authenticator_from(settings)
    if not authenticator.required:
        log.warning(
            "webhook_unauthenticated",
            advice="no CASEHOOKS_WEBHOOK_SECRET or auth header is set: anyone who can reach this endpoint "
            "can post events. Set a secret before real data flows.",
        )
    worker = (
        Worker(
            store,
            receiver,
            metrics,
            max_attempts=settings.handler_max_attempts,
            retry_base=settings.handler_retry_base_seconds,
            documents=document_policy(settings),
            lease=timedelta(seconds=settings.job_lease_seconds),
        )
        if run_worker
        else None
    )
    store.start_writer(on_commit=worker.wake if worker else None)
    intake = Intake(store, authenticator, metrics)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop)) if worker else None
        sweeping = (
            asyncio.create_task(
                sweep_periodically(
                    store,
                    metrics,
                    settings.file_sweep_seconds,
                    timedelta(seconds=settings.file_sweep_grace_seconds),
                    stop,
                )
            )
            if settings.file_sweep_seconds
            else None
        )
        try:
            yield
        finally:
            stop.set()
            for running in (task, sweeping):
                if running is not None:
                    await running
            if worker is not None:
                worker.close()
            store.close()

    console = build_console(store, authenticator, AccessPolicy.from_settings(settings)) if settings.console else None
    readiness = Readiness.for_store(
        store, min_free_bytes=settings.ready_min_free_bytes, cache_seconds=settings.ready_cache_seconds
    )
    spool = SpoolPolicy(settings.data_dir / "spool", settings.stream_threshold_bytes)
    if spool.sweep():
        log.warning("spool_swept")  # bodies of requests a crash cut short: never answered, so resent
    app = build_app(
        intake,
        store,
        metrics,
        body_limits(settings),
        lifespan=lifespan(),
        console=console,
        budget=UnverifiedBudget(settings.unverified_budget_bytes),
        readiness=readiness,
        spool=spool,
    )
    return Service(settings, store, metrics, intake, worker, app)


def _safe_depth(store: Store) -> dict[str, int]:
    try:
        return read_depth(store)
    except SQLAlchemyError:
        return {}
